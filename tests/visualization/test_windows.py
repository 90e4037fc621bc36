import numpy as np
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.visualization import draw_windows, kept_window_ids


def test_backbone_records_the_windows_each_block_kept():
    backbone = SparseSwinTransformer(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8),
                                     window_size=4, sparsity=[0.5, [0.0, 0.5], 0, 0]).eval()
    with torch.no_grad(), backbone.recording_windows() as forwards:
        backbone(torch.randn(2, 3, 128, 128))
    stages = forwards[0]
    assert [len(s) for s in stages] == [2, 2, 2, 2]
    assert stages[0][0]['kept'].shape == (2, 32) and stages[0][0]['rows'] == 8
    assert stages[1][0]['kept'] is None and stages[1][1]['shifted']
    assert stages[1][1]['kept'].shape == (2, 8)
    with torch.no_grad():
        backbone(torch.randn(1, 3, 64, 64))  # recording off: nothing kept around
    assert len(forwards) == 1


def test_draw_windows_writes_a_png(tmp_path):
    backbone = SparseSwinTransformer(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8),
                                     window_size=4, sparsity=[0.75, 0.5, 0, 0]).eval()
    with torch.no_grad(), backbone.recording_windows() as forwards:
        backbone(torch.randn(1, 3, 128, 128))
    image = (np.random.rand(128, 128, 3) * 255).astype(np.uint8)
    draw_windows(image, forwards[0], 4, 4, tmp_path / 'w.png', 'title')
    assert (tmp_path / 'w.png').read_bytes()[:4] == b'\x89PNG'


def test_kept_window_ids_and_outlines(tmp_path):
    backbone = SparseSwinTransformer(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8),
                                     window_size=4, sparsity=[0.75, 0, 0, 0]).eval()
    with torch.no_grad(), backbone.recording_windows() as forwards:
        backbone(torch.randn(2, 3, 128, 128))
    stages = forwards[0]
    kept = kept_window_ids(stages[0], 1)
    assert len(kept) == 16 and kept == sorted(set(kept)) and max(kept) < 64
    assert kept == stages[0][0]['kept'][1].tolist()
    assert kept_window_ids(stages[1]) == list(range(16))  # nothing pruned: every window
    image = np.zeros((128, 128, 3), np.uint8)
    square = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]])
    draw_windows([image, image], stages, 4, 4, tmp_path / 'w.png', outlines=[[square], []])
    assert (tmp_path / 'w.png').read_bytes()[:4] == b'\x89PNG'
