"""Object coverage of kept windows, on generated COCO data through a demo model."""
import numpy as np
import pytest
from pycocotools.coco import COCO

from sparsevit import set_sparsity
from sparsevit.analysis import WindowCoverage, object_coverage, object_polygons
from sparsevit.analysis.window_coverage import kept_pixel_mask
from sparsevit.apis import init_model
from sparsevit.demo.synthetic_coco import generate_coco
from sparsevit.sparsity import kept_windows

from ..helpers import REPO

CONFIG = REPO / 'configs' / 'demo' / 'mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py'


def test_kept_pixel_mask_marks_the_kept_windows():
    records = [dict(rows=2, cols=3, shifted=False, kept=np.array([[0, 4]]), ratio=0.6)]
    mask = kept_pixel_mask(records, (15, 25), window_pixels=10)
    expected = np.zeros((15, 25), bool)
    expected[:10, :10] = True  # window 0: row 0, column 0
    expected[10:, 10:20] = True  # window 4: row 1, column 1
    assert mask.shape == (15, 25) and (mask == expected).all()


def test_ratio_of_coverage_to_kept_fraction():
    cov = WindowCoverage(object_pixels=1000, covered_pixels=900, windows=100, kept_windows=40)
    assert cov.coverage == 0.9 and cov.kept_fraction == 0.4
    assert cov.ratio == pytest.approx(2.25)
    assert cov.to_dict()['ratio'] == cov.ratio


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return generate_coco(tmp_path_factory.mktemp('coverage'), num_train=0, num_val=3,
                         image_size=(256, 256), seed=2)


def test_coverage_of_a_demo_model(data):
    model = init_model(str(CONFIG), None)
    ann_file, img_dir = data['val_ann_file'], data['val_img_dir']
    dense = object_coverage(model, ann_file, img_dir)
    coco = COCO(ann_file)
    masks = sum(int(coco.annToMask(a).sum()) for a in coco.loadAnns(coco.getAnnIds()))
    # 256x256: 10x10, 5x5, 3x3 and 2x2 windows of 7x7 tokens per stage
    assert [c.windows for c in dense] == [3 * 100, 3 * 25, 3 * 9, 3 * 4]
    assert all(c.object_pixels == masks > 0 for c in dense)
    assert all(c.coverage == 1.0 and c.kept_fraction == 1.0 for c in dense)
    coverages = []
    for ratio in (0.3, 0.6, 0.9):
        set_sparsity(model, [ratio, 0, 0.5, 0])
        stages = object_coverage(model, ann_file, img_dir)
        assert stages[0].kept_windows == 3 * kept_windows(100, ratio)
        assert stages[2].kept_windows == 3 * kept_windows(9, 0.5)
        assert stages[1].kept_fraction == 1.0 and stages[3].kept_fraction == 1.0
        coverages.append(stages[0].coverage)
    # one ranking per image: a sparser configuration keeps a subset of the windows
    assert 1.0 >= coverages[0] >= coverages[1] >= coverages[2] >= 0.0


def test_object_polygons_scale(data):
    coco = COCO(data['val_ann_file'])
    image_id = coco.getImgIds()[0]
    polygons = object_polygons(coco, image_id)
    halved = object_polygons(coco, image_id, (0.5, 0.5))
    assert len(polygons) == len(coco.getAnnIds(imgIds=[image_id])) > 0
    assert all(np.allclose(p * 0.5, h) for p, h in zip(polygons, halved))
