"""What a finished search writes: best.json, pareto.json, search.png, the fine-tune config."""
import json

from mmengine.config import Config

from sparsevit.search.outputs import SearchContext, finetune_config_text, write_outputs
from sparsevit.search.resumable_search import run_search
from sparsevit.search.search_log import SearchLog
from sparsevit.sparsity import normalize_sparsity, sparsity_to_genes

from .fakes import SETTINGS, SPACE, FakeTask, settings_dict


def test_outputs(tmp_path):
    result = run_search(FakeTask(), SPACE, SETTINGS, (55.0, 75.0),
                        SearchLog(tmp_path / 'log.jsonl', settings_dict()))
    cfg = Config(dict(model=dict(backbone=dict(type='SparseSwinTransformer')),
                      custom_hooks=[dict(type='DataFilesCheckHook'),
                                    dict(type='SparsityAdaptationHook')]))
    (tmp_path / 'saa.py').write_text('model = dict()\n')
    context = SearchContext(str(tmp_path / 'saa.py'), cfg, str(tmp_path / 'saa.pth'),
                            'coco/bbox_mAP', (55.0, 75.0), {'device': 'cpu'})
    files = write_outputs(result, SPACE, tmp_path, context)
    best = json.loads(files['best.json'].read_text())
    assert best['sparsity'] == SPACE.to_sparsity(result.best.point)
    assert best['metric'] == result.best.metric and 55.0 <= best['latency_ms'] <= 75.0
    assert set(best['genes']) == {g.name for g in SPACE.genes}
    assert best['genes'] == sparsity_to_genes(normalize_sparsity(best['sparsity'], SPACE.depths),
                                              SPACE.depths, SPACE.grouping)
    front = json.loads(files['pareto.json'].read_text())
    assert [p['latency_ms'] for p in front] == sorted(p['latency_ms'] for p in front)
    assert all(a['metric'] < b['metric'] for a, b in zip(front, front[1:]))
    assert files['search.png'].read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    finetune = Config.fromfile(str(files['config']))
    assert finetune.model.backbone.sparsity == best['sparsity']
    assert finetune.load_from == str(tmp_path / 'saa.pth')
    assert [h['type'] for h in finetune.custom_hooks] == ['DataFilesCheckHook']


def test_finetune_config_on_a_given_base_uses_img_backbone_for_mmdet3d(tmp_path):
    text = finetune_config_text('/cfg/ft.py', '/ckpt/saa.pth', 'img_backbone', [0.5, 0, 0, 0],
                                None, 'note')
    assert "model = dict(img_backbone=dict(sparsity=[0.5, 0, 0, 0]))" in text
    assert "custom_hooks" not in text and "_base_ = '/cfg/ft.py'" in text
