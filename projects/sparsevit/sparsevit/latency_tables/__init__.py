"""Latency tables: backbone latency measured on the target runtime and device, then predicted
for any configuration, so that a search runs elsewhere without timing anything.

``table`` and ``predictor`` are what a search needs (no torch); ``runtimes`` and
``measure`` measure and check a table on the target.
"""
from .predictor import TableLatency
from .table import FORMAT_VERSION, LatencyTable, LatencyTableError, architecture_of

__all__ = ['FORMAT_VERSION', 'LatencyTable', 'LatencyTableError', 'TableLatency',
           'architecture_of']
