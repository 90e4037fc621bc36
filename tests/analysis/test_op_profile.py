import pytest
import torch
import torch.nn.functional as F

from sparsevit.analysis import profile_categories
from sparsevit.analysis.op_profile import REST, category_of


@pytest.mark.parametrize('op, category', [
    ('aten::addmm', 'matrix products'), ('aten::_scaled_dot_product_flash_attention_for_cpu',
                                         'attention'),
    ('aten::native_layer_norm', 'norms'), ('aten::index_select', 'copies and layout'),
    ('aten::index_copy_', 'copies and layout'), ('aten::copy_', 'copies and layout'),
    ('aten::linalg_vector_norm', 'selection and scoring'), ('aten::sort', 'selection and scoring'),
    ('aten::gelu', REST), ('aten::add', REST), ('my_op', REST)])
def test_operators_go_to_their_category(op, category):
    assert category_of(op) == category


def test_a_profile_splits_the_time_of_a_call_into_categories_that_add_up():
    x, w = torch.randn(256, 64), torch.randn(64, 64)

    def call():
        y = F.layer_norm(x @ w, (64, ))
        z = y.index_select(0, torch.arange(0, 256, 2))
        torch.linalg.vector_norm(z, dim=-1).sort()
        return F.gelu(z.t().contiguous())

    profiled = profile_categories(call, 3, torch.device('cpu'))
    c = profiled.categories
    assert profiled.calls == 3
    assert all(c[name] > 0 for name in ('matrix products', 'norms', 'copies and layout',
                                        'selection and scoring', REST))
    assert c['attention'] == 0.0
    assert profiled.total_ms == pytest.approx(sum(c.values()))
    assert 'aten::gelu' in profiled.rest_ops
    assert profiled.to_dict()['categories'] == c
