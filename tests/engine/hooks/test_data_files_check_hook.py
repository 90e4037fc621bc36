import pytest
from mmdet.datasets import CocoDataset
from mmengine.registry import init_default_scope

from sparsevit import DataFilesCheckHook
from sparsevit.datasets import check_dataset_files
from sparsevit.demo.synthetic_coco import DEMO_CLASSES, generate_coco


@pytest.fixture
def coco(tmp_path):
    generate_coco(tmp_path, num_train=6, num_val=2, image_size=(64, 64))
    init_default_scope('mmdet')
    return tmp_path


def dataset(root, classes=DEMO_CLASSES, min_size=0):
    return CocoDataset(data_root=str(root), ann_file='annotations/instances_train2017.json',
                       data_prefix=dict(img='train2017/'), metainfo=dict(classes=classes),
                       filter_cfg=dict(filter_empty_gt=True, min_size=min_size), pipeline=[],
                       serialize_data=False)  # mmengine cannot serialize an empty list


def test_complete_dataset_passes(coco):
    check_dataset_files(dataset(coco))


def test_missing_images_are_named(coco):
    images = sorted((coco / 'train2017').iterdir())
    images[0].unlink()
    images[3].unlink()
    with pytest.raises(FileNotFoundError, match=rf'CocoDataset: 2 files listed by .*instances_'
                       rf'train2017.json are missing: .*{images[0].name} \(sample 0, img_path\), '
                       rf'.*{images[3].name} \(sample 3, img_path\)'):
        check_dataset_files(dataset(coco))


def test_classes_the_annotation_file_lacks_are_named(coco):
    with pytest.raises(ValueError, match=r"no categories named \['circle'\]; its categories are"):
        check_dataset_files(dataset(coco, classes=('square', 'circle')))


def test_empty_dataset_is_reported(coco):
    with pytest.raises(ValueError, match=r'no samples in .*instances_train2017.json'):
        check_dataset_files(dataset(coco, min_size=1000))  # every image filtered out


class _Loader:

    def __init__(self, dataset):
        self.dataset = dataset


class _Runner:

    def __init__(self, dataset):
        self.train_dataloader = self.val_dataloader = self.test_dataloader = _Loader(dataset)


def test_hook_checks_each_dataset_once(coco, monkeypatch):
    hook = DataFilesCheckHook()
    runner = _Runner(dataset(coco))
    calls = []
    monkeypatch.setattr('sparsevit.engine.hooks.data_files_check_hook.check_dataset_files',
                        calls.append)
    hook.before_train(runner)
    hook.before_val(runner)
    hook.before_test(runner)
    assert calls == [runner.train_dataloader.dataset]
