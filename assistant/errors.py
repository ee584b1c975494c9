"""Errors exoqa raises on purpose; each carries a message meant for the user."""


class ExoqaError(Exception):
    """Base class for every error exoqa explains to its user."""


class InvalidQuestionError(ExoqaError, ValueError):
    """The question is empty, too long or not text (CLI exit 2, HTTP 4xx)."""


class CorpusError(ExoqaError):
    """A corpus file is missing, unreadable or malformed."""


class IndexMissingError(ExoqaError):
    """No index has been built for this corpus and model."""


class IndexMismatchError(ExoqaError):
    """The index on disk was built from another corpus, model or format."""


class IndexCorruptError(ExoqaError):
    """Index files are unreadable, truncated or disagree with their manifest."""


class ModelUnavailableError(ExoqaError):
    """The embedding model cannot be loaded offline."""
