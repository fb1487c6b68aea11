"""Summary tables written twice, as CSV (for tools) and Markdown (for the README)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_table(rows: Sequence[dict[str, Any]], stem: Path) -> str:
    """Write ``stem.csv`` and ``stem.md`` from rows (dicts with the same keys); return the Markdown."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0])
    with stem.with_suffix(".csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r[k]) for k in cols})
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(r[k]) for k in cols) + " |" for r in rows]
    md = "\n".join(lines) + "\n"
    stem.with_suffix(".md").write_text(md)
    return md
