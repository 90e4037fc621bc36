"""The in-place part times of a sparse backbone's forward."""
import time

import torch

from sparsevit.models.backbones import SparseSwinTransformer
from sparsevit.models.backbones.part_clock import PartClock


def test_laps_are_charged_to_their_parts_and_add_up():
    start = time.perf_counter()
    clock = PartClock(torch.device('cpu'))
    clock.lap('a')
    time.sleep(0.01)
    clock.lap('b')
    clock.lap('a')
    elapsed = time.perf_counter() - start
    assert set(clock.parts) == {'a', 'b'} and clock.parts['b'] >= 0.01
    assert sum(clock.parts.values()) <= elapsed


def test_timing_parts_names_every_part_and_leaves_outputs_unchanged():
    torch.manual_seed(0)
    backbone = SparseSwinTransformer(embed_dims=16, depths=(2, 2), num_heads=(1, 2),
                                     strides=(4, 2), out_indices=(0, 1), window_size=4,
                                     sparsity=[0.5, 0.0]).eval()
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        plain = backbone(images)
        start = time.perf_counter()
        with backbone.timing_parts() as forwards:
            timed = backbone(images)
        elapsed = time.perf_counter() - start
        backbone(images)  # outside the block: nothing recorded
    assert all(torch.equal(a, b) for a, b in zip(plain, timed))
    assert len(forwards) == 1
    parts = forwards[0]
    assert set(parts) == {'embed', 'stage0 layout', 'stage0 scoring', 'stage0 block0',
                          'stage0 block1', 'stage0 output', 'stage1 layout', 'stage1 scoring',
                          'stage1 block0', 'stage1 block1', 'stage1 output'}
    assert all(seconds >= 0 for seconds in parts.values())
    assert sum(parts.values()) <= elapsed
