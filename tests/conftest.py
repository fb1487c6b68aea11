from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "study"


def descendants() -> set[int]:
    """Pids of live processes whose parent chain leads to this test process."""
    import psutil

    me = psutil.Process(os.getpid())
    return {p.pid for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
