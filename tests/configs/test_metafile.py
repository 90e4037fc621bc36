"""The model-zoo metafile lists every task config with its sparsity."""
import json
from pathlib import Path

import yaml
from mmengine.config import Config

repo = Path(__file__).parents[2]


def test_metafile_points_at_existing_configs_with_their_sparsity():
    meta = yaml.safe_load((repo / 'projects' / 'sparsevit' / 'metafile.yml').read_text())
    names = {m['Name'] for m in meta['Models']}
    # the fine-tune base: its children set the sparsity
    base_only = {'mask-rcnn_sparse-swin-t-p4-w7_fpn_ft-3x_coco'}
    task_configs = [p for task in ('mask_rcnn', 'upernet', 'mask2former', 'bevdet')
                    for p in (repo / 'configs' / task).glob('*.py')]
    assert names == {p.stem for p in task_configs} - base_only
    for model in meta['Models']:
        cfg = Config.fromfile(str(repo / model['Config']))
        assert model['Config'].endswith(model['Name'] + '.py')
        backbone = cfg.model.get('backbone') or cfg.model.img_backbone
        if 'Sparsity' in model['Metadata']:  # a JSON string: mim's search reads strings
            sparsity = json.loads(model['Metadata']['Sparsity'])
            assert (backbone.get('sparsity') or [0.0] * 4) == sparsity
