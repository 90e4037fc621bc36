"""search_sparsity, the one entry point of tools/search.py and the demo, over a stand-in task."""
import json
import logging
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from sparsevit.analysis import LatencyProtocol
from sparsevit.search import (EvolutionSettings, NoFeasibleConfiguration, SearchRequest,
                              search_sparsity)
from sparsevit.search.pipeline import LOG_NAME, SearchProgress

from .fakes import SETTINGS, SPACE, FakeTask


class PipelineTask(FakeTask):
    """The stand-in task with what the pipeline reads of a TaskEvaluator."""

    def __init__(self, checkpoint, log_file, fail_after=None):
        super().__init__(fail_after)
        self.checkpoint, self.metric_key, self.val_size = str(checkpoint), 'coco/bbox_mAP', None
        self.protocol = LatencyProtocol('cpu', 1, 64, 64, 'fp32', 0, 1)
        self.latency_source = self.protocol
        self.cfg = Config(dict(model=dict(backbone=dict(type='SparseSwinTransformer')),
                               custom_hooks=[dict(type='SparsityAdaptationHook')]))
        logger = MMLogger.get_instance(f'pipeline-{log_file}', log_file=str(log_file))
        self.runner = SimpleNamespace(logger=logger)

    def search_space(self, choices, grouping):
        assert (tuple(choices), grouping) == (SPACE.choices, SPACE.grouping)
        return SPACE


@pytest.fixture
def setup(tmp_path):
    checkpoint = tmp_path / 'saa.pth'
    checkpoint.write_bytes(b'weights of the SAA model')
    config = tmp_path / 'saa.py'
    config.write_text('model = dict()\n')
    request = SearchRequest(str(config), (55.0, 75.0), SETTINGS)
    (tmp_path / 'work').mkdir()
    return checkpoint, request, tmp_path / 'work'


def test_search_writes_log_outputs_and_reports_progress_to_the_work_dir_log(setup):
    checkpoint, request, work_dir = setup
    log_file = work_dir / 'run.log'
    outcome = search_sparsity(PipelineTask(checkpoint, log_file), request, work_dir)
    assert outcome.best == SPACE.to_sparsity(outcome.result.best.point)
    assert set(outcome.files) == {'best.json', 'pareto.json', 'search.png', 'config'}
    assert all(path.is_file() for path in outcome.files.values())
    header = json.loads((work_dir / LOG_NAME).read_text().splitlines()[0])['settings']
    assert header['checkpoint'] == str(checkpoint) and len(header['checkpoint_sha256']) == 64
    assert header['band'] == [55.0, 75.0] and header['population'] == SETTINGS.population
    logged = log_file.read_text()
    assert 'searching 6 genes' in logged
    assert f'search: {SETTINGS.budget}/{SETTINGS.budget} proposals' in logged
    assert f'best: {outcome.best}' in logged


def test_a_killed_search_resumes_and_a_retrained_checkpoint_is_refused(setup):
    checkpoint, request, work_dir = setup
    reference = search_sparsity(PipelineTask(checkpoint, work_dir / 'a.log'), request,
                                work_dir / 'reference')
    with pytest.raises(KeyboardInterrupt):
        search_sparsity(PipelineTask(checkpoint, work_dir / 'b.log', fail_after=10), request,
                        work_dir / 'killed')
    resumed = search_sparsity(PipelineTask(checkpoint, work_dir / 'c.log'), request,
                              work_dir / 'killed')
    assert resumed.result.candidates == reference.result.candidates
    assert 'resuming' in (work_dir / 'c.log').read_text()
    checkpoint.write_bytes(b'weights of a retrained SAA model')
    with pytest.raises(ValueError, match=r'other settings \(differing: checkpoint_sha256\)'):
        search_sparsity(PipelineTask(checkpoint, work_dir / 'd.log'), request,
                        work_dir / 'killed')


def test_no_configuration_in_the_band(setup):
    checkpoint, request, work_dir = setup
    narrow = SearchRequest(request.config, (60.0, 60.0001),
                           EvolutionSettings(population=4, parents=2, budget=6))
    with pytest.raises(NoFeasibleConfiguration, match='no candidate of 6 proposals met the band'):
        search_sparsity(PipelineTask(checkpoint, work_dir / 'e.log'), narrow, work_dir)


def test_progress_is_rate_limited_but_reports_new_bests_and_the_end(caplog):
    logger = logging.getLogger('progress-test')
    times = iter([0.0, 1.0, 2.0, 40.0, 41.0])
    progress = SearchProgress(logger, 'mIoU', lambda: 3, interval=30.0, clock=lambda: next(times))
    best = SimpleNamespace(metric=0.5, latency_ms=12.0)
    with caplog.at_level(logging.INFO, logger='progress-test'):
        progress(1, 10, None)      # first report
        progress(2, 10, None)      # nothing new, too soon
        progress(3, 10, best)      # a new best
        progress(4, 10, best)      # interval passed
        progress(10, 10, best)     # the end
    assert [r.getMessage() for r in caplog.records] == [
        'search: 1/10 proposals, 3 evaluated, none in the band yet',
        'search: 3/10 proposals, 3 evaluated, best mIoU 0.5000 at 12.00 ms',
        'search: 4/10 proposals, 3 evaluated, best mIoU 0.5000 at 12.00 ms',
        'search: 10/10 proposals, 3 evaluated, best mIoU 0.5000 at 12.00 ms']
