"""Why a search cannot run on what it was given: one error type per cause, each message naming
the input and what to change."""


class SearchInputError(ValueError):
    """A search cannot run on this input (band, checkpoint, metric or work dir)."""


class LatencyBandError(SearchInputError):
    """The latency band is empty, or no configuration of the search space can meet it."""


class NotSAACheckpoint(SearchInputError):
    """The checkpoint was not trained with sparsity-aware adaptation."""


class CheckpointMismatch(SearchInputError):
    """The checkpoint holds the weights of another model than the config's."""


class SearchLogMismatch(SearchInputError):
    """The work dir holds the log of a search with other settings."""


class MetricNotFound(SearchInputError, KeyError):
    """The evaluator does not produce the metric the search maximizes."""

    def __str__(self) -> str:  # the message as it is, not quoted as KeyError quotes its key
        return str(self.args[0]) if self.args else ''
