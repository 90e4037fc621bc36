"""Early, readable errors for missing or mismatched data files."""
import json
import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence, Union

COCO_KEYS = ('images', 'annotations', 'categories')
SHOWN_MISSING = 5


class DataFilesError(ValueError):
    """Data files that exist but do not fit the config: not COCO instance JSON, categories
    other than the config's classes, or no samples at all."""


def _load_coco(ann_file: Path) -> dict:
    """The parsed annotation file, or a :class:`DataFilesError` if it is not COCO instance
    JSON."""
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataFilesError(f'{ann_file} is not a JSON file: {err}') from err
    missing = [key for key in COCO_KEYS if not isinstance(coco, dict) or key not in coco]
    if missing:
        raise DataFilesError(f'{ann_file} is not a COCO instance annotation file: '
                             f'no {", ".join(repr(k) for k in missing)} '
                             f'(expected the keys {", ".join(COCO_KEYS)})')
    if not all(isinstance(image, dict) and 'file_name' in image for image in coco['images']):
        raise DataFilesError(f'{ann_file} is not a COCO instance annotation file: '
                             "an entry of 'images' has no 'file_name'")
    return coco


def missing_files(paths: Iterable[Union[str, Path]]) -> list[str]:
    """The ``paths`` that do not exist, listing each directory once (no per-file stat)."""
    listings: dict[str, set] = {}
    missing = []
    for path in map(str, paths):
        folder, name = os.path.split(path)
        if folder not in listings:
            listings[folder] = set(os.listdir(folder)) if os.path.isdir(folder) else set()
        if name not in listings[folder]:
            missing.append(path)
    return missing


def _data_files(info: dict) -> Iterator[tuple[str, str]]:
    """``(field, path)`` of the files one parsed sample of an mmdet / mmseg / mmdet3d dataset
    points to."""
    for key in ('img_path', 'seg_map_path'):
        if info.get(key):
            yield key, info[key]
    for camera, view in (info.get('images') or {}).items():  # multi-camera samples (mmdet3d)
        if isinstance(view, dict) and view.get('img_path'):
            yield f'images.{camera}.img_path', view['img_path']


def _sample_name(info: dict, index: int) -> str:
    """How an error names a sample: its nuScenes token where it has one, else its index."""
    return f"sample {info['token']}" if info.get('token') else f'sample {index}'


def check_dataset_files(dataset) -> None:
    """Raise if a built dataset lists missing files or classes its annotations lack.

    Raises:
        FileNotFoundError: images or label maps of the annotation file are missing.
        DataFilesError: the dataset is empty, or (COCO-style datasets) class names of
            the config are not categories of the annotation file, which would
            otherwise silently shift the labels.
    """
    if not hasattr(dataset, 'get_data_info'):
        return  # not an mmengine BaseDataset: it lists no files this check can read
    source = getattr(dataset, 'ann_file', None) or getattr(dataset, 'data_root', '?')
    name = type(dataset).__name__
    classes = tuple(dataset.metainfo.get('classes') or ())
    if classes and len(getattr(dataset, 'cat_ids', classes)) != len(classes):
        # a COCO-style dataset found fewer categories than classes: name the missing ones
        known = [cat['name'] for cat in _load_coco(Path(source))['categories']]
        unknown = [c for c in classes if c not in known]
        raise DataFilesError(f'{name}: the annotation file {source} has no categories named '
                             f'{unknown}; its categories are {known}')
    if len(dataset) == 0:
        raise DataFilesError(f'{name}: no samples in {source} (after filtering)')
    where = {}  # path -> the sample and field that list it
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        for field, path in _data_files(info):
            where.setdefault(str(path), f'{_sample_name(info, i)}, {field}')
    missing = missing_files(where)
    if missing:
        raise FileNotFoundError(f'{name}: {len(missing)} files listed by {source} are missing: '
                                + _shortened([f'{path} ({where[path]})' for path in missing]))


def _shortened(names: Sequence[str]) -> str:
    more = ', ...' if len(names) > SHOWN_MISSING else ''
    return ', '.join(names[:SHOWN_MISSING]) + more


def check_coco_files(ann_file: Union[str, Path], img_dir: Union[str, Path],
                     classes: Sequence[str]) -> None:
    """Check a COCO instance annotation file against its images and the wanted classes.

    Reads the annotation file once and lists the image directory once (once per
    sub-directory named in ``file_name``), so it stays quick on full COCO.

    Raises:
        FileNotFoundError: the annotation file or the image directory does not
            exist, or images that the annotation file lists are not on disk.
        DataFilesError: the annotation file is not COCO instance JSON, or names in
            ``classes`` are not among its categories.
    """
    ann_file, img_dir = Path(ann_file), Path(img_dir)
    if not ann_file.is_file():
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    if not img_dir.is_dir():
        raise FileNotFoundError(f'image directory not found: {img_dir} '
                                f'(the images of {ann_file})')
    coco = _load_coco(ann_file)
    categories = [category.get('name') for category in coco['categories']]
    classes = (classes,) if isinstance(classes, str) else tuple(classes)
    unknown = [name for name in classes if name not in categories]
    if unknown:
        raise DataFilesError(f'classes {unknown} are not among the categories of {ann_file}: '
                             f'{categories}')
    file_names = [image['file_name'] for image in coco['images']]
    missing = missing_files(img_dir / name for name in file_names)
    if missing:
        names = [os.path.relpath(path, img_dir) for path in missing]
        raise FileNotFoundError(f'{len(missing)} of {len(file_names)} images listed in '
                                f'{ann_file} are missing from {img_dir}: {_shortened(names)}')
