"""The errors of the deployment tools, and the check for their optional packages."""
import importlib.util

# the packages of the ``deploy`` extra: import name -> pip name
DEPLOY_PACKAGES = {'onnx': 'onnx', 'onnxruntime': 'onnxruntime'}


class DeploymentError(ValueError):
    """Deployment cannot go on: a file used for what it was not made for, bad input, or a
    missing package (then the :class:`MissingDeployPackageError` subclass)."""


class MissingDeployPackageError(DeploymentError, ImportError):
    """A package of the ``deploy`` extra is not installed: a :class:`DeploymentError` that is
    also an ``ImportError``, so that callers can tell it from bad input."""


def require_packages(*names: str) -> None:
    """Stop with one line naming the first missing package of the ``deploy`` extra.

    Raises:
        MissingDeployPackageError: a package is not installed.
    """
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise MissingDeployPackageError(
                f'{DEPLOY_PACKAGES.get(name, name)} is not installed; install the deployment '
                "extra: pip install -e '.[deploy]'")
