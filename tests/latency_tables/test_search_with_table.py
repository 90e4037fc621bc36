"""A search whose latencies come from a table: recorded in its log and outputs, resumable."""
import json

import pytest

from sparsevit.latency_tables import TableLatency
from sparsevit.search import SearchRequest, search_sparsity
from sparsevit.search.pipeline import LOG_NAME
from sparsevit.search_space import DEFAULT_CHOICES

from ..search.fakes import SETTINGS
from ..search.test_pipeline import PipelineTask
from .known import write_table


class TableTask(PipelineTask):
    """The pipeline's stand-in task, its latency predicted from a table (as TaskEvaluator's)."""

    def __init__(self, checkpoint, log_file, table, fail_after=None):
        super().__init__(checkpoint, log_file, fail_after)
        self.latency_source = TableLatency(table)

    def latency(self, sparsity):
        if self.fail_after is not None and len(self.latency_calls) >= self.fail_after:
            raise KeyboardInterrupt  # the process is killed here
        self.latency_calls.append(sparsity)
        return self.latency_source.latency(sparsity)


@pytest.fixture
def setup(tmp_path):
    checkpoint = tmp_path / 'saa.pth'
    checkpoint.write_bytes(b'weights of the SAA model')
    config = tmp_path / 'saa.py'
    config.write_text('model = dict()\n')
    table = write_table(tmp_path / 'table.json', depths=(2, 2, 6, 2), choices=DEFAULT_CHOICES,
                        shape=(672, 672))
    return checkpoint, SearchRequest(str(config), (150.0, 250.0), SETTINGS), table, tmp_path


def test_a_search_with_a_table_records_it_and_resumes_after_a_kill(setup):
    checkpoint, request, table, root = setup
    reference = search_sparsity(TableTask(checkpoint, root / 'a.log', table), request,
                                root / 'reference')
    header = json.loads((root / 'reference' / LOG_NAME).read_text().splitlines()[0])['settings']
    assert header['latency']['table'] == str(table.resolve())
    assert len(header['latency']['table_sha256']) == 64
    best = json.loads((root / 'reference' / 'best.json').read_text())
    assert best['latency_protocol']['table'] == str(table.resolve())
    assert best['latency_ms'] == TableLatency(table).latency(best['sparsity'])
    assert 'latency on the latency table table.json (pytorch runtime' in \
        (root / 'a.log').read_text()

    with pytest.raises(KeyboardInterrupt):
        search_sparsity(TableTask(checkpoint, root / 'b.log', table, fail_after=10), request,
                        root / 'killed')
    task = TableTask(checkpoint, root / 'c.log', table)
    resumed = search_sparsity(task, request, root / 'killed')
    assert resumed.result.candidates == reference.result.candidates
    assert len(task.latency_calls) < len(reference.result.candidates)  # the log's are reused

    table.write_text(table.read_text().replace('"fixed_ms": 7.0', '"fixed_ms": 8.0'))
    with pytest.raises(ValueError, match=r'other settings \(differing: latency\)'):
        search_sparsity(TableTask(checkpoint, root / 'd.log', table), request, root / 'killed')


def test_a_search_logs_what_makes_its_table_doubtful(setup):
    checkpoint, request, table, root = setup
    data = json.loads(table.read_text())
    data['protocol']['drift'] = dict(change=-0.07, configuration='uniform 0.8')
    table.write_text(json.dumps(data))
    search_sparsity(TableTask(checkpoint, root / 'a.log', table), request, root / 'search')
    assert 'WARNING: the machine changed while the table was timed: uniform 0.8 moved by -7.0%' \
        in (root / 'a.log').read_text()
