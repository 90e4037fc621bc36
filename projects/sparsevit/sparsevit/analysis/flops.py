"""Counted multiply-add FLOPs of a sparse Swin backbone: the ideal speedup of a configuration."""
from typing import Optional

from ..models.backbones import SparseSwinTransformer
from ..sparsity import BlockRatios, kept_windows


def _window_block_flops(channels: int, hidden: int, tokens: int) -> float:
    """FLOPs (2 per multiply-add) of one Swin block on one window."""
    linear = tokens * channels * (3 * channels + channels + 2 * hidden)  # qkv, proj, fc1, fc2
    attention = 2 * tokens * tokens * channels  # q @ k^T and attn @ v
    return 2.0 * (linear + attention)


def backbone_flops(backbone: SparseSwinTransformer, image_hw: tuple[int, int],
                   block_ratios: Optional[BlockRatios] = None) -> float:
    """FLOPs of one image through ``backbone`` at ``block_ratios`` (default: its own).

    Counts patch embedding, every block on its kept windows (padding
    included, as computed) and patch merging; norms and activations are left out.
    """
    ratios = backbone.block_ratios if block_ratios is None else block_ratios
    embed = backbone.patch_embed.projection
    patch = embed.kernel_size[0]
    h, w = -(-image_hw[0] // patch), -(-image_hw[1] // patch)
    total = 2.0 * embed.in_channels * patch * patch * embed.out_channels * h * w
    for stage, stage_ratios in zip(backbone.stages, ratios):
        attn = stage.blocks[0].attn
        channels = attn.w_msa.embed_dims
        window = attn.window_size
        num_windows = -(-h // window) * -(-w // window)
        per_window = _window_block_flops(channels, stage.blocks[0].ffn.feedforward_channels,
                                         window * window)
        total += sum(kept_windows(num_windows, r) for r in stage_ratios) * per_window
        if stage.downsample is not None:
            h, w = -(-h // 2), -(-w // 2)
            total += 2.0 * 4 * channels * stage.downsample.out_channels * h * w
    return total
