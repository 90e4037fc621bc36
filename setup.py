"""Installs the ``sparsevit`` package; all metadata lives in setup.cfg."""
from setuptools import setup

setup()
