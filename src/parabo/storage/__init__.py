"""Journal backends and the study-folder lock."""

from parabo.storage.journal import FileJournal, Journal, MemoryJournal, ReadResult
from parabo.storage.lock import StudyLock

__all__ = ["FileJournal", "Journal", "MemoryJournal", "ReadResult", "StudyLock"]
