"""History database: round trip, idempotent import, weekly progress and progression rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_compare import good_set, make_analysis

from sensorcoach.compare import compare
from sensorcoach.errors import PlanError
from sensorcoach.plans import load_plan, parse_plan
from sensorcoach.progress import next_session, plot_progress, week_offsets, weekly_progress
from sensorcoach.store import (
    athletes,
    default_db_path,
    file_sha256,
    history,
    log_session,
    session_reps,
)


def fake_recording(tmp_path, name, *, started_at, load_kg=None, athlete=None, salt=""):
    """A small file in the recording format (its content identifies the session)."""
    lines = ["# sensorcoach-recording: 1", "# mount: bar", f"# started_at: {started_at}"]
    if load_kg is not None:
        lines.append(f"# load_kg: {load_kg}")
    if athlete:
        lines.append(f"# athlete: {athlete}")
    lines += ["time_s,ax_g,ay_g,az_g", f"0.0,0,0,1 {salt}".strip(), "0.01,0,0,1"]
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_default_db_path(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "sensorcoach" / "history.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home/.local/share/sensorcoach/history.sqlite3"


def test_round_trip_and_idempotent(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    sets = [good_set(5, v=0.5) for _ in range(5)]
    sets[1][1] = dict(top=0.05, flags=["no_top_pause"], v=0.45)
    sets[3].insert(2, dict(partial=True))
    a = make_analysis(sets, mount="bar")
    rec = fake_recording(tmp_path, "s1.csv", started_at="2026-11-02T18:00:00Z", load_kg=100,
                         athlete="Ana")
    first = log_session(db, a, plan, None, rec)
    assert first.created and first.sha256 == file_sha256(rec)
    rows = history(db)
    assert len(rows) == 1
    r = rows[0]
    assert (r.athlete, r.plan_name, r.load_kg, r.sets, r.full_reps, r.partial_reps) == (
        "Ana", "barbell-5x5", 100.0, 5, 25, 1)
    assert r.started_at == "2026-11-02T18:00:00+00:00"
    assert (r.planned_sets, r.planned_reps_per_set, r.sets_met) == (5, 5, 5)
    assert r.met is False and r.tempo_compliance == pytest.approx(24 / 25)
    assert r.faults == {"partial_range": 1, "no_top_pause": 1}
    assert r.first_velocity_mps == pytest.approx(0.5)
    assert r.volume_kg == 2500
    reps = session_reps(db, r.id)
    assert len(reps) == 26 and reps[6]["flags"] == ["no_top_pause"]
    assert [x["partial"] for x in reps].count(True) == 1

    # the same recording again (even copied elsewhere, under another athlete): one session
    copy = tmp_path / "elsewhere.csv"
    shutil.copy(rec, copy)
    again = log_session(db, a, plan, "Ana", copy)
    assert not again.created and again.session_id == first.session_id
    assert len(history(db)) == 1
    # re-logging without a plan drops the plan result but keeps the single session
    log_session(db, a, None, "Ana", rec)
    rows = history(db)
    assert len(rows) == 1 and rows[0].plan_name is None and rows[0].load_kg == 100
    assert athletes(db) == ["Ana"]


def test_history_filters(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("banded")
    for i, who in enumerate(["Ana", "Ben", "Ana"]):
        rec = fake_recording(tmp_path, f"r{i}.csv", started_at=f"2026-11-0{i + 1}T10:00:00",
                             salt=str(i))
        log_session(db, make_analysis([good_set(15)] * 3, rest_s=60), plan, who, rec)
    assert [r.athlete for r in history(db)] == ["Ana", "Ben", "Ana"]
    assert len(history(db, "Ana")) == 2
    assert len(history(db, plan_name="banded")) == 3
    assert history(db, "Nobody") == []


def _log(db, tmp_path, name, plan, analysis, *, day, load_kg=None, athlete="Ana"):
    rec = fake_recording(tmp_path, name, started_at=f"2026-11-{day:02d}T18:00:00Z",
                         load_kg=load_kg, salt=name)
    log_session(db, analysis, plan, athlete, rec)


def test_next_session_load_progression(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    p = next_session(db, "Ana", plan)
    assert p.action == "start" and p.plan.load_kg == 60
    with pytest.raises(PlanError, match="give --plan"):
        next_session(db, "Ana", None)

    _log(db, tmp_path, "a.csv", plan, make_analysis([good_set(5)] * 5), day=2, load_kg=100)
    p = next_session(db, "Ana", plan)
    assert p.action == "add_load" and p.plan.load_kg == 102.5 and p.cues == []
    assert next_session(db, "Ana", None).plan.load_kg == 102.5  # plan of the last session

    sets = [good_set(5) for _ in range(5)]
    sets[4] = good_set(3)
    sets[0][0] = dict(ecc=0.5, flags=["fast_eccentric"])
    _log(db, tmp_path, "b.csv", plan, make_analysis(sets), day=5, load_kg=102.5)
    p = next_session(db, "Ana", plan)
    assert p.action == "repeat" and p.plan.load_kg == 102.5
    assert "4 of 5 sets met" in p.reason
    assert any(c.startswith("Missed reps in set 5") for c in p.cues)
    assert "Lower under control" in p.cues
    d = p.to_dict()
    assert d["plan"]["load_kg"] == 102.5 and d["action"] == "repeat"


def test_next_session_tempo_missed_repeats(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    sets = [good_set(5) for _ in range(5)]
    sets[2][4] = dict(top=0.0, flags=["no_top_pause"])
    _log(db, tmp_path, "a.csv", plan, make_analysis(sets), day=2, load_kg=80)
    p = next_session(db, "Ana", plan)
    assert p.action == "repeat" and p.plan.load_kg == 80
    assert "96% of reps on tempo" in p.reason
    assert p.cues[0] == "Pause and squeeze at the top for a one-count"


def test_next_session_cues_most_frequent_fault_first(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    sets = [good_set(5) for _ in range(5)]
    sets[0][1] = dict(top=0.0, flags=["no_top_pause"])  # once; listed first by importance
    for i in range(3):
        sets[i + 1][2] = dict(ecc=0.5, flags=["fast_eccentric"])  # three times
    _log(db, tmp_path, "a.csv", plan, make_analysis(sets), day=2, load_kg=80)
    assert [f.fault for f in compare(make_analysis(sets), plan).faults] == [
        "no_top_pause", "fast_eccentric"]
    p = next_session(db, "Ana", plan)
    assert p.cues == ["Lower under control", "Pause and squeeze at the top for a one-count"]


def test_next_session_moves_on(tmp_path):
    db = tmp_path / "h.sqlite3"
    bw = load_plan("bodyweight-3x20")
    _log(db, tmp_path, "a.csv", bw, make_analysis([good_set(20)] * 3, rest_s=60), day=2)
    p = next_session(db, "Ana", bw)
    assert p.action == "next_plan" and p.plan.name == "dumbbell"
    db_plan = load_plan("dumbbell")
    _log(db, tmp_path, "b.csv", db_plan, make_analysis([good_set(12)] * 3, rest_s=90), day=3,
         load_kg=40)
    p = next_session(db, "Ana", db_plan)
    assert p.action == "next_plan" and p.plan.name == "barbell-5x5"
    _log(db, tmp_path, "c.csv", db_plan, make_analysis([good_set(12)] * 3, rest_s=90), day=4,
         load_kg=30)
    assert next_session(db, "Ana", db_plan).plan.load_kg == 32.5


def test_next_session_reps_progression(tmp_path):
    db = tmp_path / "h.sqlite3"
    sl = parse_plan(load_plan("single-leg").to_toml().replace("reps = 12", "reps = 14"))
    six_sides = [good_set(14) for _ in range(6)]
    _log(db, tmp_path, "a.csv", sl, make_analysis(six_sides, rest_s=[20, 60, 20, 60, 20]),
         day=2)
    p = next_session(db, "Ana", None)
    assert p.action == "add_reps" and p.plan.reps == 15 and p.plan.name == "single-leg"
    fifteen = parse_plan(p.plan.to_toml())
    _log(db, tmp_path, "b.csv", fifteen, make_analysis([good_set(15)] * 6, rest_s=30), day=3)
    p = next_session(db, "Ana", None)
    assert p.action == "repeat" and "target" in p.reason  # no next plan after single-leg


def test_weekly_progress_and_plots(tmp_path):
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    for day, load, v in [(2, 100, 0.50), (4, 100, 0.52), (9, 102.5, 0.47), (11, 100, 0.56),
                         (16, 105, 0.45)]:
        _log(db, tmp_path, f"d{day}.csv", plan,
             make_analysis([good_set(5, v=v)] * 5, mount="bar"), day=day, load_kg=load)
    rows = history(db, "Ana")
    weeks = weekly_progress(rows)
    assert [w.week_start for w in weeks] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert [w.sessions for w in weeks] == [2, 2, 1]
    assert weeks[0].volume_kg == 5000 and weeks[1].top_load_kg == 102.5
    assert weeks[0].tempo_compliance == 1.0
    # velocity is tracked at the most used load (100 kg) only
    assert weeks[0].velocity_mps == pytest.approx(0.51)
    assert weeks[1].velocity_mps == pytest.approx(0.56)
    assert weeks[2].velocity_mps is None
    png = plot_progress(db, tmp_path / "p.png", athlete="Ana")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = plot_progress(db, tmp_path / "p.html", athlete="Ana").read_text()
    assert 'src="data:image/png;base64,' in page and "2026-11-16" in page


def test_compare_stored_matches(tmp_path):
    """The stored comparison is the one computed with the recording's load."""
    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    a = make_analysis([good_set(5)] * 5)
    rec = fake_recording(tmp_path, "x.csv", started_at="2026-11-02T18:00:00Z", load_kg=90)
    log_session(db, a, plan, "Ana", rec)
    row = history(db)[0]
    assert row.load_kg == 90
    assert compare(a, plan, load_kg=90).met is row.met is True


@pytest.fixture(scope="module")
def sim_recording(tmp_path_factory):
    sim = pytest.importorskip("sensorcoach.sim")
    pytest.importorskip("sensorcoach.pipeline")
    spec = sim.preset("bodyweight", sets=2, reps_per_set=6, rest_s=30.0, lead_in_s=8.0,
                      lead_out_s=5.0)
    out = tmp_path_factory.mktemp("sim")
    csv_path, _ = sim.write_sim(sim.simulate(spec, 5), str(out), "bw")
    return csv_path


def test_cli_log_history_next_progress(sim_recording, tmp_path, capsys):
    import json

    from sensorcoach.cli import main

    db = str(tmp_path / "h.sqlite3")
    week2 = tmp_path / "week2.csv"
    text = Path(sim_recording).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines = [ln if not ln.startswith("# started_at:") else "# started_at: 2026-03-09T18:00:00Z\n"
             for ln in lines]
    week2.write_text("".join(lines), encoding="utf-8")

    assert main(["log", sim_recording, "--db", db, "--athlete", "Ana"]) == 0
    assert "logged" in capsys.readouterr().out
    assert main(["log", sim_recording, str(week2), "--db", db, "--athlete", "Ana"]) == 0
    out = capsys.readouterr().out
    assert "already logged" in out and out.count("session") == 2
    assert main(["history", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and {r["athlete"] for r in rows} == {"Ana"}
    assert rows[1]["started_at"] == "2026-03-09T18:00:00+00:00"
    assert rows[0]["plan_name"] == "bodyweight-2x6"  # from the recording's plan line
    assert main(["history", "--db", db]) == 0
    assert "bodyweight-2x6" in capsys.readouterr().out

    assert main(["next", "--db", db, "--athlete", "Ana", "--json",
                 "--save", str(tmp_path / "next.toml")]) == 0
    prop = json.loads(capsys.readouterr().out)
    assert prop["action"] in ("add_reps", "next_plan", "repeat")
    assert load_plan(tmp_path / "next.toml").name == prop["plan"]["name"]
    assert main(["progress", "--db", db, "--out", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["plans"]) == 0
    assert "barbell-5x5" in capsys.readouterr().out


def test_next_session_needs_athlete_when_several(tmp_path):
    from sensorcoach.store import StoreError

    db = tmp_path / "h.sqlite3"
    plan = load_plan("banded")
    _log(db, tmp_path, "a.csv", plan, make_analysis([good_set(15)] * 3), day=2, athlete="Ana")
    assert next_session(db, None, plan).action == "add_reps"
    _log(db, tmp_path, "b.csv", plan, make_analysis([good_set(15)] * 3), day=3, athlete="Ben")
    with pytest.raises(StoreError, match=r"several athletes \(Ana, Ben\)"):
        next_session(db, None, plan)
    assert next_session(db, "Ben", plan).plan.reps == 16


_V1_PLAN_RESULTS = """
CREATE TABLE athletes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    recording_sha256 TEXT NOT NULL UNIQUE, recording_path TEXT, started_at TEXT NOT NULL,
    logged_at TEXT NOT NULL, mount TEXT, variant TEXT, load_kg REAL, sets INTEGER NOT NULL,
    full_reps INTEGER NOT NULL, partial_reps INTEGER NOT NULL, analysis_json TEXT NOT NULL);
CREATE INDEX sessions_athlete ON sessions(athlete_id, started_at);
CREATE TABLE sets (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    set_index INTEGER NOT NULL, start_s REAL, end_s REAL, full_reps INTEGER NOT NULL,
    partial_reps INTEGER NOT NULL);
CREATE TABLE reps (
    id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
    rep_index INTEGER NOT NULL, count INTEGER, partial INTEGER NOT NULL,
    start_s REAL, top_s REAL, descent_s REAL, end_s REAL,
    concentric_s REAL, top_pause_s REAL, eccentric_s REAL, bottom_pause_s REAL,
    rom_m REAL, mean_velocity_mps REAL, peak_velocity_mps REAL, flags TEXT NOT NULL);
CREATE TABLE plan_results (
    session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    plan_name TEXT NOT NULL, plan_toml TEXT NOT NULL, load_kg REAL,
    planned_sets INTEGER, planned_reps_per_set INTEGER, planned_reps INTEGER,
    done_reps INTEGER, sets_met INTEGER, tempo_compliance REAL,
    rest_ok INTEGER, met INTEGER NOT NULL, volume_kg REAL, first_velocity_mps REAL,
    comparison_json TEXT NOT NULL);
INSERT INTO athletes VALUES (1, 'Ana');
INSERT INTO sessions VALUES (1, 1, 'abc', 'old.csv', '2026-10-05T18:00:00+00:00',
    '2026-10-05T19:00:00+00:00', 'bar', 'barbell', 95.0, 5, 25, 0, '{}');
INSERT INTO plan_results VALUES (1, 'barbell-5x5', '', 95.0, 5, 5, 25, 25, 5, 1.0, 1, 1,
    2375.0, 0.5, '{"faults": [], "cues": []}');
PRAGMA user_version = 1;
"""


def test_schema_1_database_is_read_as_is_and_migrated_on_write(tmp_path):
    import sqlite3

    from sensorcoach.store import SCHEMA_VERSION

    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as con:
        con.executescript(_V1_PLAN_RESULTS)
        con.execute("UPDATE plan_results SET plan_toml = ?", (load_plan("barbell-5x5").to_toml(),))
    before = db.read_bytes()
    old = history(db)  # a read: the old schema as it is, the file untouched
    assert db.read_bytes() == before
    assert [(r.plan_name, r.load_kg, r.done_reps, r.met, r.volume_kg) for r in old] == [
        ("barbell-5x5", 95.0, 25, True, 2375.0)]
    assert next_session(db, "Ana", None).plan.load_kg == 97.5
    assert db.read_bytes() == before

    _log(db, tmp_path, "new.csv", load_plan("barbell-5x5"), make_analysis([good_set(5)] * 5),
         day=2, load_kg=97.5)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        cols = [r[1] for r in con.execute("PRAGMA table_info(plan_results)")]
    assert "volume_kg" not in cols and "load_kg" not in cols and "done_reps" in cols
    rows = history(db)
    assert [(r.load_kg, r.done_reps, r.volume_kg) for r in rows] == [
        (95.0, 25, 2375.0), (97.5, 25, 2437.5)]


def test_reads_do_not_write(tmp_path):
    db = tmp_path / "h.sqlite3"
    assert history(db) == [] and athletes(db) == []  # a missing database reads as empty
    assert not db.exists()
    _log(db, tmp_path, "a.csv", load_plan("banded"), make_analysis([good_set(15)] * 3), day=2)
    before, mtime = db.read_bytes(), db.stat().st_mtime_ns
    history(db)
    athletes(db)
    session_reps(db, 1)
    next_session(db, "Ana", None)
    plot_progress(db, tmp_path / "p.png")
    assert db.read_bytes() == before and db.stat().st_mtime_ns == mtime


def test_progress_needs_athlete_when_several_and_keeps_gap_weeks(tmp_path):
    from sensorcoach.store import StoreError

    db = tmp_path / "h.sqlite3"
    plan = load_plan("barbell-5x5")
    for day, who in [(2, "Ana"), (23, "Ana"), (3, "Ben")]:  # Ana: week 1, then week 4
        _log(db, tmp_path, f"{who}{day}.csv", plan, make_analysis([good_set(5)] * 5), day=day,
             load_kg=80, athlete=who)
    with pytest.raises(StoreError, match=r"several athletes \(Ana, Ben\)"):
        plot_progress(db, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()
    png = plot_progress(db, tmp_path / "p.png", athlete="Ana")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Ana trained in the weeks of 2 and 23 November: plotted three weeks apart, not side by side
    weeks = weekly_progress(history(db, "Ana"))
    assert [w.week_start for w in weeks] == ["2026-11-02", "2026-11-23"]
    assert week_offsets(weeks) == [0, 3]
