import pytest

from sparsevit.apis import select_from_search


def test_select_from_search(search_dir):
    assert select_from_search(search_dir, 15.0)['sparsity'] == [0.6, 0.5, 0.4, 0.0]
    assert select_from_search(search_dir, 15.0, prefer='speed')['sparsity'] == [0.8] * 4
    assert select_from_search(search_dir, 100.0)['metric'] == 0.80
    with pytest.raises(ValueError, match=r'no searched configuration fits 5.0 ms; the fastest'):
        select_from_search(search_dir, 5.0)
    with pytest.raises(FileNotFoundError, match='give the work dir of tools/search.py'):
        select_from_search(search_dir / 'nowhere', 15.0)
