"""Stop a run early, with the file named, when the data a loader reads is missing or mismatched."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...datasets.file_checks import check_dataset_files


@HOOKS.register_module()
class DataFilesCheckHook(Hook):
    """Check the datasets of a run before it trains, validates or tests.

    Missing annotation files already stop the dataset itself; this adds the
    images and label maps it lists (one directory listing per folder, fast on
    full COCO) and, for COCO-style datasets, class names that the annotation
    file does not have. Works for mmdet, mmseg and mmdet3d datasets.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._checked: set[int] = set()

    def _check(self, loader) -> None:
        dataset = loader.dataset
        if id(dataset) not in self._checked:
            check_dataset_files(dataset)
            self._checked.add(id(dataset))

    def before_train(self, runner) -> None:
        self._check(runner.train_dataloader)

    def before_val(self, runner) -> None:
        self._check(runner.val_dataloader)

    def before_test(self, runner) -> None:
        self._check(runner.test_dataloader)
