"""A content-addressed cache of results: configurations already evaluated are not run again.

A trial's key is the SHA-256 of its canonical parameters (JSON, sorted keys,
floats written exactly) together with the objective's fingerprint (the import
path or the command and the contents of the files it names, plus the user's
``cache_key``). Completed results are stored as ``<folder>/<key[:2]>/<key>.json``;
studies that share the folder share results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ResultCache", "trial_key"]


def trial_key(params: Mapping[str, Any], fingerprint: str) -> str:
    """The cache key of ``params`` evaluated by the objective with ``fingerprint``."""
    canonical = json.dumps(
        {"objective": fingerprint, "params": dict(params)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResultCache:
    """Completed results keyed by :func:`trial_key`, one small JSON file each."""

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self._recent: dict[str, dict[str, Any]] = {}  # written this run, maybe not on disk yet

    def key(self, params: Mapping[str, Any]) -> str:
        return trial_key(params, self.fingerprint)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def remember(self, key: str, record: dict[str, Any]) -> None:
        """Make ``record`` a hit at once (its file is written in the background)."""
        self._recent[key] = record

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record of ``key``, or None (a missing or unreadable entry is a miss)."""
        if key in self._recent:
            return self._recent[key]
        try:
            record = json.loads(self.path(key).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key or "value" not in record:
            return None
        return record
