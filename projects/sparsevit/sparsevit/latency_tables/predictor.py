"""Backbone latency predicted from a table file: what a search uses instead of timing."""
import hashlib
from pathlib import Path
from typing import Union

from ..sparsity import SparsityLike
from .table import LatencyTable


class TableLatency:
    """The latency source of a search that predicts from ``path`` instead of timing.

    It offers what the search reads of a live protocol (:meth:`describe`,
    :meth:`to_dict`) and :meth:`latency`; the file is identified by its content,
    so a search resumes only with the table it started with.
    """

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path).resolve()
        self.table = LatencyTable.load(self.path)
        self.sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()

    def latency(self, sparsity: SparsityLike) -> float:
        """Predicted backbone latency (ms) of ``sparsity``."""
        return self.table.predict(sparsity)

    def describe(self) -> str:
        p = self.table.protocol
        return (f'the latency table {self.path.name} ({p["runtime"]} runtime, '
                f'{p["runtime_version"]}, '
                f'{p["device_name"]}, {p["threads"]} threads, {p["dtype"]}, batch {p["batch"]}, '
                f'{p["shape"][0]}x{p["shape"][1]}, measured {p["date"]})')

    def to_dict(self) -> dict:
        """The table file, its content hash and its protocol: what the search log and the
        outputs record."""
        return dict(table=str(self.path), table_sha256=self.sha256, **self.table.protocol)
