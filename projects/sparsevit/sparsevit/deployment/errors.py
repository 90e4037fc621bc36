"""The one error type of the deployment tools, and the check for their optional packages."""
import importlib.util

# the packages of the ``deploy`` extra: import name -> pip name
DEPLOY_PACKAGES = {'onnx': 'onnx', 'onnxruntime': 'onnxruntime'}


class DeploymentError(ValueError):
    """Deployment cannot go on: a missing package, or a file used for what it was not made for."""


def require_packages(*names: str) -> None:
    """Stop with one line naming the first missing package of the ``deploy`` extra."""
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise DeploymentError(f'{DEPLOY_PACKAGES.get(name, name)} is not installed; install '
                                  "the deployment extra: pip install -e '.[deploy]'")
