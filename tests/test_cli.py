"""The command line as a user meets it: exit codes, output streams, messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import recordings_with_truth

RECS = recordings_with_truth()


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sensorcoach.cli", *args],
                          capture_output=True, text=True, **kw)


def test_help_does_not_import_heavy_libraries():
    code = ("import sys, sensorcoach.cli as c; p = c.build_parser(); "
            "heavy = [m for m in ('numpy', 'scipy', 'pandas', 'matplotlib', 'bleak') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_analyze_json_on_stdout_only():
    r = run("analyze", str(RECS[0]), "--json", "-")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # nothing but the document on stdout
    assert doc["schema"] == "sensorcoach.analysis/1"
    rep = doc["sets"][0]["reps"][0]
    for key in ("index", "start_s", "top_s", "descent_s", "end_s", "concentric_s",
                "top_pause_s", "eccentric_s", "bottom_pause_s", "rom_m", "mean_velocity_mps",
                "peak_velocity_mps", "partial", "flags"):
        assert key in rep
    assert abs(rep["concentric_s"] - (rep["top_s"] - rep["start_s"])) < 0.002
    for key in ("path", "mount", "sample_rate_hz", "start_s", "end_s", "samples", "gaps"):
        assert key in doc["recording"]


def test_analyze_table_shows_tempo():
    r = run("analyze", str(RECS[0]))
    assert r.returncode == 0, r.stderr
    assert "set 1:" in r.stdout and "E-B-C-T" in r.stdout


def test_analyze_plan_in_table_and_json():
    r = run("analyze", str(RECS[0]), "--plan", "barbell-5x5")
    assert r.returncode == 0, r.stderr
    assert "plan barbell-5x5: barbell hip thrust 5x5" in r.stdout
    assert "full reps" in r.stdout and "tempo on prescription" in r.stdout
    doc = json.loads(run("analyze", str(RECS[0]), "--plan", "barbell-5x5", "--json", "-").stdout)
    assert doc["plan_comparison"]["plan"]["name"] == "barbell-5x5"
    assert list(doc)[:3] == ["schema", "recording", "sets"]  # the contract fields first


def test_bad_file_one_line_error_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01garbage\xff\n")
    for target in (str(bad), str(tmp_path / "missing.csv")):
        r = run("analyze", target)
        assert r.returncode == 2
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_replay_events_match_analysis():
    path = str(RECS[0])
    r = run("replay", path, "--events", "-")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    reps = [(e["set"], e["rep"], e["top_s"]) for e in events if e["event"] == "rep"]
    doc = json.loads(run("analyze", path, "--json", "-").stdout)
    offline = [(s["index"], r["count"], r["top_s"]) for s in doc["sets"] for r in s["reps"]
               if not r["partial"]]
    assert reps == offline
    done = [e for e in events if e["event"] == "set_done"]
    assert [e["reps"] for e in done] == [sum(not r["partial"] for r in s["reps"])
                                         for s in doc["sets"]]


EXPORTS = Path(__file__).parent / "data"


@pytest.mark.parametrize("folder", ["metamotion", "phyphox_export"])
def test_analyze_export_folder_is_one_recording(folder):
    """A MetaMotion or phyphox export folder is one recording, as ``replay`` reads it."""
    from sensorcoach.io import load_recording

    path = EXPORTS / folder
    r = run("analyze", str(path), "--json", "-")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # one document, not a batch list
    assert doc["schema"] == "sensorcoach.analysis/1"
    assert doc["recording"]["path"] == str(path)
    assert doc["recording"]["samples"] == len(load_recording(path).samples)
    assert doc["recording"]["has_gyro"] is True  # the gyroscope file was merged in


def test_analyze_folder_of_recordings_and_exports_is_a_batch(tmp_path):
    shutil.copytree(EXPORTS / "metamotion", tmp_path / "mm")
    shutil.copytree(EXPORTS / "phyphox_export", tmp_path / "phone")
    shutil.copy(RECS[0], tmp_path / RECS[0].name)
    r = run("analyze", str(tmp_path), "--json", "-")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert sorted(Path(d["recording"]["path"]).name for d in docs) == sorted(
        ["mm", "phone", RECS[0].name])
    r = run("analyze", str(tmp_path), "--plan", "banded")
    assert r.returncode == 0, r.stderr
    table = r.stdout.splitlines()
    assert table[0].split()[:2] == ["recording", "mnt"] and table[0].endswith("plan")
    row = next(line for line in table if line.startswith(RECS[0].name))
    assert row.endswith("(banded)")


def test_log_export_folder_once(tmp_path):
    """``log`` takes a phyphox export folder like a file, and keeps one session for it."""
    db = tmp_path / "h.sqlite3"
    folder = EXPORTS / "phyphox_export"
    for expected in ("session 1 logged:", "session 1 updated (already logged):"):
        r = run("log", str(folder), "--db", str(db), "--athlete", "Ana")
        assert r.returncode == 0, r.stderr
        assert expected in r.stdout + r.stderr
    r = run("history", "--db", str(db))
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 1 and "Ana" in rows[0], r.stdout
