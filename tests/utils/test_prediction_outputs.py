"""How tools/test.py sets up --out, --show/--show-dir and --tta for each task's config."""
import pytest
from mmengine.config import Config

from sparsevit.utils.prediction_outputs import (dump_predictions, show_predictions,
                                                use_test_time_augmentation)


def config(scope: str, **extra) -> Config:
    return Config(dict(dict(default_scope=scope, model=dict(type='Model'),
                            test_dataloader=dict(dataset=dict(pipeline=['test'])),
                            test_evaluator=dict(type='Metric'),
                            visualizer=dict(type='Visualizer'),
                            default_hooks=dict(visualization=dict(type='Hook'))), **extra))


def test_out_per_task(tmp_path):
    assert type(dump_predictions(config('mmdet'), str(tmp_path / 'r.pkl'))).__name__ == \
        'DumpDetResults'
    seg = config('mmseg')
    assert dump_predictions(seg, 'maps') is None and seg.test_evaluator.output_dir == 'maps'
    det3d = config('mmdet3d', test_evaluator=[dict(type='NuScenesMetric')])
    dump_predictions(det3d, 'results')
    assert det3d.test_evaluator[0].jsonfile_prefix == 'results'
    with pytest.raises(ValueError, match='default_scope=None'):
        dump_predictions(Config(dict(test_evaluator=dict())), 'x')


def test_show_turns_on_the_visualization_hook():
    det = config('mmdet')
    show_predictions(det, True, 'pictures', 0.5)
    assert det.default_hooks.visualization == dict(type='Hook', draw=True, show=True,
                                                   wait_time=0.5, test_out_dir='pictures')
    seg = config('mmseg')
    show_predictions(seg, False, '/tmp/pictures', 2)
    assert seg.default_hooks.visualization == dict(type='Hook', draw=True, interval=1)
    assert seg.visualizer.save_dir == '/tmp/pictures'
    assert seg.visualizer.name == 'visualizer:/tmp/pictures'
    with pytest.raises(ValueError, match='need a visualization hook'):
        show_predictions(Config(dict(default_scope='mmdet')), True, None, 1)


def test_tta_wraps_the_model_in_the_configs_tta_model():
    cfg = config('mmseg', tta_model=dict(type='SegTTAModel'), tta_pipeline=['tta'])
    use_test_time_augmentation(cfg)
    assert cfg.model == dict(type='SegTTAModel', module=dict(type='Model'))
    assert cfg.test_dataloader.dataset.pipeline == ['tta']
    with pytest.raises(ValueError, match='lacks tta_model and tta_pipeline'):
        use_test_time_augmentation(config('mmdet'))
