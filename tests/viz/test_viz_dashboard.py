"""`parabo dashboard`: a real server process, a real `parabo run` writing the study, a real browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from viz_browser import open_page, rendered_plots
from viz_support import ROOT

from parabo.dashboard import Dashboard, is_loopback

SLOW_OBJECTIVE = """
import os, pathlib, time

HERE = pathlib.Path(__file__).parent

def evaluate(params):
    # after 4 trials, wait for the test to open the gate: the run cannot end before the page loads
    calls = HERE / "calls"
    calls.mkdir(exist_ok=True)
    started = len(list(calls.iterdir()))
    (calls / f"{os.getpid()}-{time.time_ns()}").touch()
    while started >= 4 and not (HERE / "gate").exists():
        time.sleep(0.05)
    time.sleep(0.3)
    return (params["x"] - 0.3) ** 2 + params["y"]
"""

SLOW_STUDY = """
name: live
space:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 1}
objective:
  python: slow_objective:evaluate
sampler: random
seed: 0
run:
  trials: 40
  workers: 2
storage: run
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


@contextmanager
def dashboard(folder: Path, *args: str) -> Iterator[tuple[str, list[str]]]:
    """A `parabo dashboard` process on a free port; yields its URL and what it printed first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "dashboard", str(folder), "--port", "0", *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "http://" in line:
                break
        else:
            raise AssertionError(f"the dashboard did not start: {lines} {proc.stderr.read()}")  # type: ignore[union-attr]
        url = line.split(" at ", 1)[1].split()[0]
        yield url, lines
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_trial_count_grows_on_the_live_page(tmp_path: Path) -> None:
    (tmp_path / "slow_objective.py").write_text(SLOW_OBJECTIVE)
    (tmp_path / "live.yaml").write_text(SLOW_STUDY)
    run = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", "live.yaml", "--quiet"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        journal = tmp_path / "run" / "journal.jsonl"
        deadline = time.monotonic() + 60
        while not (journal.exists() and journal.stat().st_size > 0):
            assert run.poll() is None and time.monotonic() < deadline, "the run did not start"
            time.sleep(0.05)
        with dashboard(tmp_path / "run") as (url, _), open_page(url) as p:
            count = "Number(document.getElementById('n-trials').textContent)"
            try:
                p.page.wait_for_function(f"{count} > 0", timeout=30_000)
            except Exception:
                raise AssertionError(f"{p.errors} {p.requests} {p.page.content()[:3000]}") from None
            seen = [p.page.evaluate(count)]
            assert seen[0] < 40  # the gate holds the run
            (tmp_path / "gate").touch()
            for _ in range(2):  # the page follows the run: the count grows, twice
                p.page.wait_for_function(f"{count} > {seen[-1]}", timeout=30_000)
                seen.append(p.page.evaluate(count))
            assert seen == sorted(set(seen)), seen
            assert run.wait(timeout=120) == 0, run.stderr.read()  # type: ignore[union-attr]
            p.page.wait_for_function(
                "document.getElementById('n-complete').textContent === '40'", timeout=15_000
            )
            p.page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6",
                timeout=30_000,
            )
            assert rendered_plots(p.page) == 6
            assert p.page.locator("#trials tbody tr").count() == 40
            assert p.errors == []
            assert p.outside == []
            assert all(u.startswith(url) for u in p.requests)
    finally:
        if run.poll() is None:
            run.terminate()
            run.wait(timeout=60)


def test_serves_only_its_page_and_data_and_never_writes(quickstart_study: Path, copy_of) -> None:  # type: ignore[no-untyped-def]
    folder = copy_of(quickstart_study)
    before = _files(folder)
    with dashboard(folder) as (url, _):
        status, body = _get(url)
        assert status == 200 and b"parabo dashboard" in body
        deadline = time.monotonic() + 120
        while True:  # the importance fit runs on its own thread: until it is done, a note
            status, body = _get(url + "data.json")
            data = json.loads(body)
            assert status == 200 and data["summary"]["trials"] == 20
            if "importance" in data["figures"] or time.monotonic() > deadline:
                break
            assert data["not_drawn"]["importance"] == "being computed"
            time.sleep(0.2)
        assert set(data["figures"]) == {
            "history",
            "importance",
            "parallel",
            "slice",
            "contour",
            "timeline",
        }
        status, body = _get(f"{url}data.json?since={data['version']}")
        assert json.loads(body) == {"version": data["version"], "changed": False}
        assert _get(url + "plotly.js")[0] == 200
        for path in ("journal.jsonl", "../journal.jsonl", "trials/", "progress.json", "static/x"):
            assert _get(url + path)[0] == 404, path
        assert _get(url + "data.json", host="attacker.example:80")[0] == 400  # DNS rebinding
    assert _files(folder) == before


def test_reads_the_journal_incrementally(quickstart_study: Path) -> None:
    board = Dashboard(quickstart_study)
    size = (quickstart_study / "journal.jsonl").stat().st_size
    first = json.loads(board.data())
    assert board.view.bytes_read == size
    assert "importance" not in first["figures"]  # its fit started on a thread
    board.wait_for_importance(timeout=120)
    second = board.data()
    assert "importance" in json.loads(second)["figures"]
    assert board.data() == second  # nothing new: the same payload, not rebuilt
    assert board.rebuilds == 2 and board.refreshes == 3
    assert board.view.bytes_read == size
    version = json.loads(second)["version"]
    assert json.loads(board.data(since=version)) == {"version": version, "changed": False}


def test_warns_when_bound_beyond_loopback(quickstart_study: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    with dashboard(quickstart_study, "--host", "0.0.0.0") as (url, lines):
        assert _get(url.replace("0.0.0.0", "127.0.0.1"))[0] == 200
    assert "warning: the dashboard listens on 0.0.0.0" in lines[0]


def test_dashboard_errors(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "dashboard", str(tmp_path)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "not a study folder" in out.stderr


def test_a_damaged_journal_is_shown_on_the_page(quickstart_study: Path, copy_of) -> None:  # type: ignore[no-untyped-def]
    folder = copy_of(quickstart_study)
    with dashboard(folder) as (url, _), open_page(url) as p:
        count = "Number(document.getElementById('n-trials').textContent)"
        p.page.wait_for_function(f"{count} === 20", timeout=30_000)
        journal = folder / "journal.jsonl"
        journal.write_bytes(journal.read_bytes()[:200])  # cut behind the dashboard's back
        p.page.wait_for_function(
            "document.getElementById('status').textContent.includes('shorter')", timeout=30_000
        )
        assert _get(url + "data.json")[0] == 503
        assert p.page.evaluate(count) == 20  # the last good data stays on the page


def test_figures_draw_the_newest_trials_and_the_best() -> None:
    from parabo import Study
    from parabo.dashboard import newest
    from parabo.view import snapshot

    study = Study({"x": {"type": "float", "low": 0, "high": 1}}, seed=0)
    for k in range(30):
        study.tell(study.ask(), 0.0 if k == 3 else 1.0 + k)
    snap = snapshot(study)
    cut = newest(snap, 10)
    assert [t.id for t in cut.trials] == [3, *range(20, 30)]
    assert cut.best is not None and cut.best.id == 3
    assert [t.id for t in cut.history] == [3, *range(20, 30)]
    assert newest(snap, 100) is snap
