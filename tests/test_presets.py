"""Named configurations and the ``--sparsity`` argument of the deployment tools."""
import json

import pytest

from sparsevit import SparsityError
from sparsevit.presets import REFERENCE_CONFIGS, resolve_sparsity, sparsity_argument


def test_names_and_json():
    assert resolve_sparsity('uniform-0.6', 4) == ('uniform-0.6', [0.6] * 4)
    assert resolve_sparsity('mine=[0.5, 0, 0, 0]', 4) == ('mine', [0.5, 0, 0, 0])
    assert sparsity_argument('searched-0.6', 4) == REFERENCE_CONFIGS['searched-0.6']
    assert sparsity_argument(' [0.5, 0, [0.1, 0.2], 0]', 4) == [0.5, 0, [0.1, 0.2], 0]
    assert sparsity_argument('{"stage0.pair0": 0.5}', 4) == {'stage0.pair0': 0.5}


def test_json_files(tmp_path):
    plain, best = tmp_path / 'config.json', tmp_path / 'best.json'
    plain.write_text('[0.6, 0, 0.2, 0]')
    best.write_text(json.dumps(dict(sparsity=[0.4, 0, 0, 0], latency_ms=12.0, metric=0.5)))
    assert sparsity_argument(str(plain), 4) == [0.6, 0, 0.2, 0]
    assert sparsity_argument(str(best), 4) == [0.4, 0, 0, 0]


def test_bad_arguments_name_the_problem(tmp_path):
    with pytest.raises(SparsityError, match='not valid JSON'):
        sparsity_argument('[0.5, 0', 4)
    with pytest.raises(SparsityError, match='missing.json: cannot be read as JSON'):
        sparsity_argument(str(tmp_path / 'missing.json'), 4)
    number = tmp_path / 'number.json'
    number.write_text('0.5')
    with pytest.raises(SparsityError, match='number.json holds no configuration'):
        sparsity_argument(str(number), 4)
    with pytest.raises(SparsityError, match='unknown name'):
        sparsity_argument('fastest', 4)
