"""A slow, direct reference of window pruning, built from mmdet's dense Swin modules.

A block that keeps some windows equals the dense block on those windows and
the identity elsewhere, so the reference runs mmdet's dense block and keeps
its output only on the tokens of the kept windows. Window scores follow
docs/method.md, section 2 literally (pad, roll, partition, norms).
"""
import torch
import torch.nn.functional as F

from sparsevit.sparsity import kept_windows


def randomize_(module: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial norms, biases and relative position tables (their inits are constant)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if 'relative_position_bias_table' in name:
                p.normal_(std=1.0)
            elif p.dim() == 1 and name.endswith('weight'):
                p.uniform_(0.5, 1.5)
            elif p.dim() == 1:
                p.normal_(std=0.1)
    return module


def partition(spatial: torch.Tensor, window: int) -> torch.Tensor:
    """``(B, Hp, Wp)`` -> ``(B, nW, window * window)``."""
    b, hp, wp = spatial.shape
    x = spatial.view(b, hp // window, window, wp // window, window).permute(0, 1, 3, 2, 4)
    return x.reshape(b, -1, window * window)


def unpartition(windows: torch.Tensor, hp: int, wp: int, window: int) -> torch.Tensor:
    b = windows.shape[0]
    x = windows.view(b, hp // window, wp // window, window, window).permute(0, 1, 3, 2, 4)
    return x.reshape(b, hp, wp)


def window_ranking(magnitude: torch.Tensor, window: int, shift: int) -> torch.Tensor:
    """Windows of each image by descending L2 score, ``(B, nW)``."""
    b, h, w = magnitude.shape
    hp, wp = -(-h // window) * window, -(-w // window) * window
    padded = F.pad(magnitude, (0, wp - w, 0, hp - h))
    if shift:
        padded = torch.roll(padded, shifts=(-shift, -shift), dims=(1, 2))
    scores = partition(padded, window).norm(dim=-1)
    return torch.sort(scores, dim=1, descending=True, stable=True).indices


def kept_token_mask(ranking: torch.Tensor, k: int, h: int, w: int, window: int,
                    shift: int) -> torch.Tensor:
    """``(B, H, W)`` True on tokens of the first ``k`` windows of ``ranking``."""
    b, nw = ranking.shape
    hp, wp = -(-h // window) * window, -(-w // window) * window
    chosen = torch.zeros(b, nw, dtype=torch.bool)
    chosen.scatter_(1, ranking[:, :k], True)
    mask = unpartition(chosen[:, :, None].expand(b, nw, window * window).float(), hp, wp, window)
    if shift:
        mask = torch.roll(mask, shifts=(shift, shift), dims=(1, 2))
    return mask[:, :h, :w].bool()


def reference_stage(stage, ratios, x, hw_shape, scored=None):
    """Sparse forward of an mmdet ``SwinBlockSequence``'s blocks, done the slow way;
    ``scored`` replaces ``x`` as the features ranked when the first block is pruned."""
    h, w = hw_shape
    b, _, c = x.shape
    magnitude = None
    for index, (block, ratio) in enumerate(zip(stage.blocks, ratios)):
        dense = block(x, hw_shape)
        if ratio == 0:
            x = dense
            continue
        if magnitude is None:
            ranked = scored if index == 0 and scored is not None else x
            magnitude = ranked.abs().mean(-1).view(b, h, w)
        window, shift = block.attn.window_size, block.attn.shift_size
        num_windows = -(-h // window) * -(-w // window)
        ranking = window_ranking(magnitude, window, shift)
        keep = kept_token_mask(ranking, kept_windows(num_windows, ratio), h, w, window, shift)
        x = torch.where(keep.view(b, h * w, 1), dense, x)
    return x


def reference_forward(backbone, block_ratios, images, score_before_patch_norm=False):
    """Outputs of ``backbone`` (an mmdet-compatible Swin) under ``block_ratios``; stage 0
    ranks the patch embedding before its norm with ``score_before_patch_norm``."""
    x, hw_shape = backbone.patch_embed(images)
    scored = None
    if score_before_patch_norm:
        embed = backbone.patch_embed
        padded = embed.adap_padding(images) if embed.adap_padding else images
        scored = embed.projection(padded).flatten(2).transpose(1, 2)
    outs = []
    for i, (stage, ratios) in enumerate(zip(backbone.stages, block_ratios)):
        out = reference_stage(stage, ratios, x, hw_shape, scored if i == 0 else None)
        out_hw = hw_shape
        if stage.downsample is not None:
            x, hw_shape = stage.downsample(out, hw_shape)
        if i in backbone.out_indices:
            out = getattr(backbone, f'norm{i}')(out)
            outs.append(out.view(-1, *out_hw, backbone.num_features[i]).permute(0, 3, 1, 2))
    return outs
