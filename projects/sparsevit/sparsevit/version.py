"""The package version, read by setup.cfg and shown by ``sparsevit.__version__``."""
__version__ = '0.1.0'
