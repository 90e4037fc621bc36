"""Named Swin architectures and sparsity configurations, as the analysis tools name them.

The reference configurations are those of docs/method.md, section 7.
"""
import json

from .sparsity import SparsityError

SWIN_ARCHS = {
    'swin-t': dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
    'swin-s': dict(embed_dims=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
    'swin-b': dict(embed_dims=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)),
}

# docs/method.md, section 7: configurations found by the authors' search for Swin-T Mask R-CNN
# (stage0, stage1, stage2 block pairs, stage3).
REFERENCE_CONFIGS = {
    'searched-0.3': [0.3, 0.0, [0.1, 0.1, 0.2, 0.2, 0.2, 0.2], 0.0],
    'searched-0.6': [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0],
    'searched-0.7': [0.7, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0],
}


def uniform(ratio: float, num_stages: int = 4) -> list[float]:
    """Every block of every stage at ``ratio``."""
    return [float(ratio)] * num_stages


def resolve_sparsity(spec: str, num_stages: int) -> tuple:
    """``(name, configuration)`` of ``dense``, ``uniform-R``, a reference name or ``NAME=JSON``.

    Raises:
        SparsityError: an unknown name, a bad ratio or invalid JSON.
    """
    if '=' in spec:
        name, text = spec.split('=', 1)
        try:
            return name, json.loads(text)
        except json.JSONDecodeError as err:
            raise SparsityError(f'sparsity {spec}: not valid JSON ({err})') from err
    if spec == 'dense':
        return spec, uniform(0.0, num_stages)
    if spec.startswith('uniform-'):
        try:
            return spec, uniform(float(spec[len('uniform-'):]), num_stages)
        except ValueError:
            raise SparsityError(f'sparsity {spec}: expected uniform-<ratio>, e.g. uniform-0.6')
    if spec in REFERENCE_CONFIGS:
        return spec, REFERENCE_CONFIGS[spec]
    raise SparsityError(f'sparsity {spec}: unknown name; use dense, uniform-<ratio>, '
                        f'{", ".join(REFERENCE_CONFIGS)} or NAME=JSON')


def sparsity_argument(text: str, num_stages: int):
    """A ``--sparsity`` value: JSON (``[0.6, 0, [0.2, ...], 0]``), a name of
    :func:`resolve_sparsity`, or a JSON file (a configuration, or ``best.json`` of a search).

    Raises:
        SparsityError: none of these, or a file that holds no configuration.
    """
    if text.lstrip().startswith(('[', '{')):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise SparsityError(f'sparsity {text}: not valid JSON ({err})') from err
    if text.endswith('.json'):
        try:
            with open(text) as f:
                found = json.load(f)
        except (OSError, json.JSONDecodeError) as err:
            raise SparsityError(f'sparsity file {text}: cannot be read as JSON ({err})') from err
        if isinstance(found, dict) and 'sparsity' in found:  # best.json of tools/search.py
            found = found['sparsity']
        if not isinstance(found, (list, dict)):
            raise SparsityError(f'sparsity file {text} holds no configuration')
        return found
    return resolve_sparsity(text, num_stages)[1]
