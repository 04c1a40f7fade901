"""The analysis/ scripts run on small inputs, so they cannot rot unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_benchmark_prints_its_tables_for_one_session():
    text = _run("analysis/benchmark.py", "--n", "1", "--seed-base", "1", "--skip-speed")
    assert text.startswith("corpus: 1 sessions, seeds 1..1")
    for heading in ("### all sessions", "### hip mount", "### bar mount", "### live latency"):
        assert heading in text
    assert "| sets with exact full-rep count |" in text


def test_devset_runs_and_compares(tmp_path):
    out = tmp_path / "run.json"
    _run("analysis/devset.py", "run", str(out), "--seeds", "1-2", "--jobs", "1")
    rows = json.loads(out.read_text())
    assert [r["seed"] for r in rows] == [1, 2]
    for r in rows:
        assert r["sets_true"] == len(r["sets"]) > 0
        assert r["group"] in ("hip_gyro", "hip_acc", "bar")
    text = _run("analysis/devset.py", "compare", str(out), str(out))
    assert "ALL" in text and "sessions that differ" in text
    # a run compared with itself differs nowhere: the list of differing sessions is empty
    assert text.rstrip().splitlines()[-1].startswith("== sessions that differ")
