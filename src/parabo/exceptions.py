"""Exceptions raised by parabo.

Every error a user can act on is a :class:`ParaboError`::

    ParaboError
    ├── ConfigError      a study file, flag or argument is invalid (names the field)
    │   └── SpaceError   a search space or a parameter value is invalid
    ├── TrialError       a trial cannot be told or found (unknown id, already finished)
    ├── ExecutorError    a backend cannot start or lost its workers
    └── StorageError     the study folder or its journal cannot be used
        └── StudyLockedError   another live coordinator holds the study folder

    TrialPruned          raised *by an objective* to end its trial early (not an error)

Failures *of an objective* are never raised: they fail that trial and are
recorded in the journal, and the study goes on.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ExecutorError",
    "ParaboError",
    "SpaceError",
    "StorageError",
    "StudyLockedError",
    "TrialError",
    "TrialPruned",
]


class ParaboError(Exception):
    """Base class of every error parabo raises on purpose."""


class ConfigError(ParaboError, ValueError):
    """A study file, command-line flag or argument is invalid.

    ``field`` is the dotted path of the offending entry (``"run.workers"``), or
    ``None`` when the error is about the whole input.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class SpaceError(ConfigError):
    """A search space, a parameter definition or a parameter value is invalid."""


class TrialError(ParaboError):
    """A trial cannot be told, found or run as asked."""


class ExecutorError(ParaboError):
    """A backend could not start, or lost every worker."""


class StorageError(ParaboError):
    """The study folder or its journal cannot be read or written."""


class StudyLockedError(StorageError):
    """Another live coordinator holds the study folder."""


class TrialPruned(Exception):
    """Raise it in an objective to end the trial early: it is recorded PRUNED, its last report kept.

    ``if trial.should_prune(): raise parabo.TrialPruned()`` is how an objective obeys
    the study's early-stopping rule.
    """
