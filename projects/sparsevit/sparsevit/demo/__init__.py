"""The demo: its pipeline and the generators of its COCO, Cityscapes and nuScenes data.

Not imported by ``import sparsevit``; the generators are for demos and tests only.
"""
