# Whole-model latency of UperNet (benchmarks/latency.md) on generated Cityscapes-format street
# scenes at the full 1024x2048 test resolution. Random weights: UperNet's heads do the same
# dense work whatever the weights, so no training is needed for their cost.
_base_ = '../../configs/upernet/upernet_sparse-swin-t-p4-w7_4xb2-80k_cityscapes-512x1024.py'

data_root = 'data/bench_cityscapes/'
model = dict(backbone=dict(init_cfg=None))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
