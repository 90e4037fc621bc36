"""Named Swin architectures and the reference sparsity configurations.

The reference configurations are those of docs/method.md, section 7.
"""
SWIN_ARCHS = {
    'swin-t': dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
    'swin-s': dict(embed_dims=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
    'swin-b': dict(embed_dims=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)),
}

# docs/method.md, section 7: configurations found by the authors' search for Swin-T Mask R-CNN
# (stage0, stage1, stage2 block pairs, stage3).
REFERENCE_CONFIGS = {
    'searched-0.3': [0.3, 0.0, [0.1, 0.1, 0.2, 0.2, 0.2, 0.2], 0.0],
    'searched-0.6': [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0],
    'searched-0.7': [0.7, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0],
}


def uniform(ratio: float, num_stages: int = 4) -> list[float]:
    """Every block of every stage at ``ratio``."""
    return [float(ratio)] * num_stages
