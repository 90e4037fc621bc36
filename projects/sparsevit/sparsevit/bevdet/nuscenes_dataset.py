"""mmdet3d's NuScenesDataset with an error that names an info file of the wrong version."""
from mmdet3d.datasets import NuScenesDataset
from mmdet3d.registry import DATASETS


@DATASETS.register_module()
class NuScenesV2Dataset(NuScenesDataset):
    """``NuScenesDataset``, unchanged, except that an info file that is not in mmdet3d's v2
    format (``data_list`` + ``metainfo``: written by ``create_data.py`` of mmdet3d >= 1.0 or
    ``update_infos_to_v2.py``) stops with an error that says so and names the file."""

    def load_data_list(self) -> list:
        try:
            return super().load_data_list()
        except ValueError as err:
            if 'data_list and metainfo' not in str(err):
                raise
            raise ValueError(
                f'{self.ann_file} is not a v2 info file of mmdet3d >= 1.0 (it has no '
                f"'data_list' and 'metainfo'; v1 files have 'infos' and 'metadata'): convert it "
                f'with mmdet3d\'s tools/dataset_converters/update_infos_to_v2.py') from err
