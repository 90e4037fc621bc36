"""check_coco_files: one clear error per kind of broken dataset."""
import builtins
import json
import os
import re
from pathlib import Path

import pytest

from sparsevit.datasets import check_coco_files
from sparsevit.demo.synthetic_coco import DEMO_CLASSES, generate_coco


@pytest.fixture
def demo(tmp_path) -> dict:
    return generate_coco(tmp_path / 'demo', num_train=4, num_val=0, image_size=(32, 32))


def test_passes_on_generated_dataset(demo):
    assert check_coco_files(demo['train_ann_file'], demo['train_img_dir'], DEMO_CLASSES) is None
    check_coco_files(demo['val_ann_file'], demo['val_img_dir'], ['disk'])  # no images
    check_coco_files(Path(demo['train_ann_file']), Path(demo['train_img_dir']), 'triangle')


def test_missing_annotation_file(demo, tmp_path):
    missing = tmp_path / 'nowhere.json'
    with pytest.raises(FileNotFoundError, match=re.escape(f'annotation file not found: {missing}')):
        check_coco_files(missing, demo['train_img_dir'], DEMO_CLASSES)


def test_missing_image_directory(demo, tmp_path):
    missing = tmp_path / 'no_images'
    with pytest.raises(FileNotFoundError, match=re.escape(f'image directory not found: {missing}')):
        check_coco_files(demo['train_ann_file'], missing, DEMO_CLASSES)


def test_missing_images_are_named_and_counted(demo):
    img_dir = Path(demo['train_img_dir'])
    for name in ('000000000002.jpg', '000000000004.jpg'):
        (img_dir / name).unlink()
    with pytest.raises(FileNotFoundError,
                       match=r'2 of 4 images listed in .*instances_train2017\.json are missing '
                       r'from .*train2017: 000000000002\.jpg, 000000000004\.jpg$'):
        check_coco_files(demo['train_ann_file'], img_dir, DEMO_CLASSES)


def test_many_missing_images_are_shortened(demo, tmp_path):
    ann_file = tmp_path / 'many.json'
    images = [dict(id=i, file_name=f'sub/{i}.jpg') for i in range(100)]
    ann_file.write_text(json.dumps(dict(images=images, annotations=[], categories=[])))
    with pytest.raises(FileNotFoundError, match=r'100 of 100 images .*: sub/0\.jpg, '
                       r'sub/1\.jpg, sub/2\.jpg, sub/3\.jpg, sub/4\.jpg, \.\.\.$'):
        check_coco_files(ann_file, demo['train_img_dir'], [])


@pytest.mark.parametrize('content, problem', [
    ('not json {', 'is not a JSON file'),
    ('[1, 2]', "not a COCO instance annotation file: no 'images', 'annotations', 'categories'"),
    ('{"images": [], "annotations": []}', "not a COCO instance annotation file: no 'categories'"),
    ('{"images": [{"id": 1}], "annotations": [], "categories": []}', "has no 'file_name'"),
])
def test_not_coco_instance_json(demo, tmp_path, content, problem):
    ann_file = tmp_path / 'wrong.json'
    ann_file.write_text(content)
    with pytest.raises(ValueError, match=f'{re.escape(str(ann_file))} .*{re.escape(problem)}'):
        check_coco_files(ann_file, demo['train_img_dir'], DEMO_CLASSES)


def test_unknown_classes_are_named(demo):
    with pytest.raises(ValueError, match=r"classes \['cat', 'dog'\] are not among the categories "
                       r".*instances_train2017\.json: \['square', 'disk', 'triangle'\]"):
        check_coco_files(demo['train_ann_file'], demo['train_img_dir'], ('disk', 'cat', 'dog'))


def test_lists_the_directory_once_and_opens_only_the_annotation_file(tmp_path, monkeypatch):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    names = [f'{i:012d}.jpg' for i in range(2000)]
    for name in names:
        (img_dir / name).touch()
    ann_file = tmp_path / 'instances.json'
    ann_file.write_text(json.dumps(dict(
        images=[dict(id=i, file_name=name) for i, name in enumerate(names)],
        annotations=[], categories=[dict(id=1, name='thing')])))
    calls = {'scandir': 0, 'listdir': 0, 'open': []}

    def spy(name, function):
        def wrapper(*args, **kwargs):
            if name == 'open':
                calls['open'].append(args[0])
            else:
                calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(os, 'scandir', spy('scandir', os.scandir))
    monkeypatch.setattr(os, 'listdir', spy('listdir', os.listdir))
    monkeypatch.setattr(builtins, 'open', spy('open', builtins.open))
    check_coco_files(ann_file, img_dir, ['thing'])
    assert calls['scandir'] + calls['listdir'] == 1
    assert [Path(path) for path in calls['open']] == [ann_file]
