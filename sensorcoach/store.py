"""Training history in SQLite: athletes, sessions, sets, reps and results against the plan.

The default database is ``$XDG_DATA_HOME/sensorcoach/history.sqlite3`` (``XDG_DATA_HOME``
defaults to ``~/.local/share``); every function takes the database path explicitly, the CLI's
``--db PATH`` overrides the default.

A session is identified by the SHA-256 of its recording file's content: logging the same
recording again (even from another path) replaces that session's data instead of adding a
second session, so importing is idempotent.

Tables
------
``athletes(id, name)``
``sessions(id, athlete_id, recording_sha256 UNIQUE, recording_path, started_at, logged_at,
mount, variant, load_kg, sets, full_reps, partial_reps, analysis_json)``
``sets(id, session_id, set_index, start_s, end_s, full_reps, partial_reps)``
``reps(id, set_id, rep_index, count, partial, start_s, top_s, descent_s, end_s,
concentric_s, top_pause_s, eccentric_s, bottom_pause_s, rom_m, mean_velocity_mps,
peak_velocity_mps, flags)``
``plan_results(session_id, plan_name, plan_toml, planned_sets, planned_reps_per_set,
planned_reps, done_reps, sets_met, tempo_compliance, rest_ok, met, first_velocity_mps,
comparison_json)``

``started_at`` is an ISO 8601 UTC timestamp: the recording's ``started_at`` metadata, else
the file's modification time. A session's load is ``sessions.load_kg`` (the load the
comparison used); its volume is that load times ``sessions.full_reps``.

The schema version is SQLite's ``user_version`` (:data:`SCHEMA_VERSION`). Writing
(:func:`log_session`) creates the database or brings an older one up to date; reading
never writes: an older database is read as it is, a missing one as an empty history.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StoreError
from .results import Analysis, FaultTally, by_frequency

if TYPE_CHECKING:
    from .compare import PlanComparison
    from .plans import Plan

#: 1: first schema. 2: ``plan_results`` without ``load_kg`` and ``volume_kg`` (copies of
#: the session's load and of load x full reps, never read).
SCHEMA_VERSION = 2
DEFAULT_ATHLETE = "me"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS athletes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    recording_sha256 TEXT NOT NULL UNIQUE,
    recording_path TEXT,
    started_at TEXT NOT NULL,
    logged_at TEXT NOT NULL,
    mount TEXT,
    variant TEXT,
    load_kg REAL,
    sets INTEGER NOT NULL,
    full_reps INTEGER NOT NULL,
    partial_reps INTEGER NOT NULL,
    analysis_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_athlete ON sessions(athlete_id, started_at);
CREATE TABLE IF NOT EXISTS sets (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    set_index INTEGER NOT NULL,
    start_s REAL, end_s REAL,
    full_reps INTEGER NOT NULL,
    partial_reps INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reps (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
    rep_index INTEGER NOT NULL,
    count INTEGER,
    partial INTEGER NOT NULL,
    start_s REAL, top_s REAL, descent_s REAL, end_s REAL,
    concentric_s REAL, top_pause_s REAL, eccentric_s REAL, bottom_pause_s REAL,
    rom_m REAL, mean_velocity_mps REAL, peak_velocity_mps REAL,
    flags TEXT NOT NULL
);
"""
_PLAN_RESULTS = """
CREATE TABLE IF NOT EXISTS {name} (
    session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    plan_name TEXT NOT NULL,
    plan_toml TEXT NOT NULL,
    planned_sets INTEGER, planned_reps_per_set INTEGER, planned_reps INTEGER,
    done_reps INTEGER, sets_met INTEGER,
    tempo_compliance REAL,
    rest_ok INTEGER, met INTEGER NOT NULL,
    first_velocity_mps REAL,
    comparison_json TEXT NOT NULL
);
"""
_PLAN_RESULT_COLS = ("session_id, plan_name, plan_toml, planned_sets, planned_reps_per_set, "
                     "planned_reps, done_reps, sets_met, tempo_compliance, rest_ok, met, "
                     "first_velocity_mps, comparison_json")
_SCHEMA += _PLAN_RESULTS.format(name="plan_results")

#: The script that takes a database from the version before to each version (one
#: transaction each). SQLite drops a column by rebuilding the table (``DROP COLUMN`` needs
#: SQLite 3.35).
_MIGRATIONS = {
    2: "BEGIN;" + _PLAN_RESULTS.format(name="plan_results_v2")
       + f"INSERT INTO plan_results_v2 ({_PLAN_RESULT_COLS}) SELECT {_PLAN_RESULT_COLS} "
         "FROM plan_results;"
       + "DROP TABLE plan_results; ALTER TABLE plan_results_v2 RENAME TO plan_results;"
       + "COMMIT;",
}


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/sensorcoach/history.sqlite3`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "sensorcoach" / "history.sqlite3"


@contextmanager
def connect(db: str | os.PathLike[str], *, readonly: bool = False
            ) -> Iterator[sqlite3.Connection]:
    """Open the database; commit on success, roll back on error, then close.

    A writer creates the database or brings an older schema up to date (only then: a
    current database is not touched). A reader (``readonly=True``) writes nothing: it opens
    the file read-only and reads an older schema as it is; a missing database reads as an
    empty one (nothing is created).
    """
    path = Path(db)
    missing = not path.exists()
    try:
        if readonly and missing:
            con = sqlite3.connect(":memory:")
        elif readonly:
            con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: cannot open history database: {exc}") from None
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA foreign_keys = ON")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{path}: history database schema {version} is newer than this "
                             f"sensorcoach (expected {SCHEMA_VERSION})")
        if version < SCHEMA_VERSION and (missing or not readonly):
            _upgrade(con, version)
        yield con
        con.commit()
    except sqlite3.DatabaseError as exc:
        con.rollback()
        raise StoreError(f"{path}: history database error: {exc}") from None
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


def _upgrade(con: sqlite3.Connection, version: int) -> None:
    """Create the schema (version 0: a new database) or migrate it to :data:`SCHEMA_VERSION`."""
    if version == 0:
        con.executescript(_SCHEMA)
    else:
        for v in range(version + 1, SCHEMA_VERSION + 1):
            con.executescript(_MIGRATIONS[v])
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    con.commit()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's content (hex); of an export folder (phyphox, MetaMotion), of
    the relative names and contents of the files the reader takes, in name order (a
    stray file beside them does not make it a new session)."""
    h = hashlib.sha256()
    root = Path(path)
    files = [(root, b"")]  # a file: its content; a folder: each file's name, then content
    if root.is_dir():
        from .io.formats import export_files

        files = [(f, f.relative_to(root).as_posix().encode() + b"\0")
                 for f in export_files(root)]
    for file, name in files:
        h.update(name)
        with open(file, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _iso_utc(text: str | None, fallback_path: str | os.PathLike[str] | None) -> str:
    if text:
        try:
            dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            return dt.astimezone(UTC).isoformat(timespec="seconds")
        except ValueError:
            pass
    if fallback_path is not None:
        try:
            ts = os.path.getmtime(fallback_path)
            return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
        except OSError:
            pass
    return datetime.now(UTC).isoformat(timespec="seconds")


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class LoggedSession:
    """What :func:`log_session` did: the session's id, and whether it was new."""

    session_id: int
    created: bool
    sha256: str


def log_session(db: str | os.PathLike[str], analysis: Analysis, plan: Plan | None,
                athlete: str | None, recording_path: str | os.PathLike[str], *,
                comparison: PlanComparison | None = None, load_kg: float | None = None,
                started_at: str | None = None,
                meta: dict[str, str] | None = None) -> LoggedSession:
    """Store one analysed session (idempotent per recording content).

    Parameters
    ----------
    db : path
        The history database (created if missing).
    analysis : Analysis
        The detector's result for the recording.
    plan : Plan or None
        The plan the session followed; its comparison is stored in ``plan_results``.
    athlete : str or None
        Defaults to the recording's ``athlete`` metadata, else ``"me"``.
    recording_path : path
        The recording file; its content hash identifies the session.
    comparison : PlanComparison, optional
        Already computed comparison (computed here from ``plan`` otherwise).
    load_kg : float, optional
        Load used; defaults to the recording's ``load_kg`` metadata, else the plan's. With a
        comparison, the load it used.
    started_at : str, optional
        ISO 8601 start; defaults to the recording's ``started_at``, else the file's mtime.
    meta : dict, optional
        The recording's metadata as its reader found it (any format); read from the file's
        ``#`` lines when not given.
    """
    sha = file_sha256(recording_path)
    if meta is None:  # callers that loaded the recording pass what the reader found
        from .io.recording import read_metadata  # numpy: not on `history`'s start-up path

        meta = read_metadata(recording_path)
    athlete = (athlete or meta.get("athlete") or DEFAULT_ATHLETE).strip() or DEFAULT_ATHLETE
    if load_kg is None:
        load_kg = _float_or_none(meta.get("load_kg"))
    if plan is not None and comparison is None:
        from .compare import compare

        comparison = compare(analysis, plan, load_kg=load_kg)
    if comparison is not None:
        load_kg = comparison.load_kg  # the load the comparison used (the plan's by default)
    started = _iso_utc(started_at or meta.get("started_at"), recording_path)
    logged = datetime.now(UTC).isoformat(timespec="seconds")
    sets = [s for s in analysis.sets if s.reps]
    full = sum(len(s.full_reps) for s in sets)
    partial = sum(len(s.partial_reps) for s in sets)
    doc = json.dumps(analysis.to_dict())
    variant = plan.variant if plan is not None else None

    with connect(db) as con:
        con.execute("INSERT OR IGNORE INTO athletes(name) VALUES (?)", (athlete,))
        athlete_id = con.execute("SELECT id FROM athletes WHERE name = ?",
                                 (athlete,)).fetchone()[0]
        row = con.execute("SELECT id FROM sessions WHERE recording_sha256 = ?",
                          (sha,)).fetchone()
        values = (athlete_id, os.fspath(recording_path), started, logged,
                  analysis.recording.mount, variant, load_kg, len(sets), full, partial, doc)
        if row is not None:
            sid = int(row[0])
            con.execute("DELETE FROM sets WHERE session_id = ?", (sid,))
            con.execute("DELETE FROM plan_results WHERE session_id = ?", (sid,))
            con.execute(
                "UPDATE sessions SET athlete_id=?, recording_path=?, started_at=?, logged_at=?,"
                " mount=?, variant=?, load_kg=?, sets=?, full_reps=?, partial_reps=?,"
                " analysis_json=? WHERE id=?", (*values, sid))
            created = False
        else:
            cur = con.execute(
                "INSERT INTO sessions(athlete_id, recording_path, started_at, logged_at, mount,"
                " variant, load_kg, sets, full_reps, partial_reps, analysis_json,"
                " recording_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (*values, sha))
            sid = int(cur.lastrowid)
            created = True
        for s in sets:
            cur = con.execute(
                "INSERT INTO sets(session_id, set_index, start_s, end_s, full_reps,"
                " partial_reps) VALUES (?,?,?,?,?,?)",
                (sid, s.index, s.start_s, s.end_s, len(s.full_reps), len(s.partial_reps)))
            set_id = cur.lastrowid
            con.executemany(
                "INSERT INTO reps(set_id, rep_index, count, partial, start_s, top_s, descent_s,"
                " end_s, concentric_s, top_pause_s, eccentric_s, bottom_pause_s, rom_m,"
                " mean_velocity_mps, peak_velocity_mps, flags)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(set_id, r.index, r.count, int(r.partial), r.start_s, r.top_s, r.descent_s,
                  r.end_s, r.concentric_s, r.top_pause_s, r.eccentric_s, r.bottom_pause_s,
                  r.rom_m, r.mean_velocity_mps, r.peak_velocity_mps, json.dumps(r.flags))
                 for r in s.reps])
        if plan is not None and comparison is not None:
            firsts = [c.first_velocity_mps for c in comparison.sets
                      if c.first_velocity_mps is not None]
            con.execute(
                f"INSERT INTO plan_results({_PLAN_RESULT_COLS})"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (sid, plan.name, plan.to_toml(), plan.sets, plan.reps,
                 comparison.planned_reps, comparison.done_reps, comparison.sets_met,
                 comparison.tempo_compliance, int(comparison.rest_ok), int(comparison.met),
                 sum(firsts) / len(firsts) if firsts else None,
                 json.dumps(comparison.to_dict())))
    return LoggedSession(session_id=sid, created=created, sha256=sha)


@dataclass
class SessionRow:
    """One logged session as :func:`history` lists it (plan fields ``None`` without a plan).

    ``faults`` counts each fault of the comparison; ``cues`` are the comparison's plan-level
    cues, then each fault's cue, the most frequent fault first.
    """

    id: int
    athlete: str
    started_at: str
    recording_path: str | None
    recording_sha256: str
    mount: str | None
    variant: str | None
    load_kg: float | None
    sets: int
    full_reps: int
    partial_reps: int
    plan_name: str | None = None
    plan_toml: str | None = None
    planned_sets: int | None = None
    planned_reps_per_set: int | None = None
    planned_reps: int | None = None
    done_reps: int | None = None
    sets_met: int | None = None
    tempo_compliance: float | None = None
    rest_ok: bool | None = None
    met: bool | None = None
    first_velocity_mps: float | None = None
    faults: dict[str, int] = field(default_factory=dict)
    cues: list[str] = field(default_factory=list)

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    @property
    def volume_kg(self) -> float:
        """Load x full reps (0 without load)."""
        return (self.load_kg or 0.0) * self.full_reps

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "plan_toml"}
        d["volume_kg"] = self.volume_kg
        return d


_HISTORY_SQL = """
SELECT s.id, a.name AS athlete, s.started_at, s.recording_path, s.recording_sha256, s.mount,
       s.variant, s.load_kg, s.sets, s.full_reps, s.partial_reps,
       p.plan_name, p.plan_toml, p.planned_sets, p.planned_reps_per_set, p.planned_reps,
       p.done_reps, p.sets_met, p.tempo_compliance, p.rest_ok, p.met, p.first_velocity_mps,
       p.comparison_json
FROM sessions s JOIN athletes a ON a.id = s.athlete_id
LEFT JOIN plan_results p ON p.session_id = s.id
"""


def history(db: str | os.PathLike[str], athlete: str | None = None, *,
            plan_name: str | None = None) -> list[SessionRow]:
    """Logged sessions, oldest first, optionally of one athlete and/or one plan."""
    where, args = [], []
    if athlete is not None:
        where.append("a.name = ?")
        args.append(athlete)
    if plan_name is not None:
        where.append("p.plan_name = ?")
        args.append(plan_name)
    sql = _HISTORY_SQL + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY s.started_at, s.id"
    with connect(db, readonly=True) as con:
        rows = con.execute(sql, args).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        cmp_json = d.pop("comparison_json")
        faults, cues = {}, []
        if cmp_json:
            doc = json.loads(cmp_json)
            tally = [FaultTally(f["fault"], f["count"], f.get("cue") or "")
                     for f in doc.get("faults", [])]
            faults = {f.fault: f.count for f in tally}
            # the plan's cues, then the faults' cues most frequent first
            cues = [*doc.get("cues", []), *(f.cue for f in by_frequency(tally) if f.cue)]
        for k in ("rest_ok", "met"):
            if d[k] is not None:
                d[k] = bool(d[k])
        out.append(SessionRow(**d, faults=faults, cues=cues))
    return out


def athletes(db: str | os.PathLike[str]) -> list[str]:
    """Names of the athletes in the database."""
    with connect(db, readonly=True) as con:
        return [r[0] for r in con.execute("SELECT name FROM athletes ORDER BY name")]


def session_reps(db: str | os.PathLike[str], session_id: int) -> list[dict[str, Any]]:
    """Every stored rep of a session (with its set index), in order."""
    with connect(db, readonly=True) as con:
        rows = con.execute(
            "SELECT st.set_index, r.* FROM reps r JOIN sets st ON st.id = r.set_id"
            " WHERE st.session_id = ? ORDER BY st.set_index, r.rep_index", (session_id,))
        out = []
        for r in rows:
            d = dict(r)
            d["flags"] = json.loads(d["flags"])
            d["partial"] = bool(d["partial"])
            out.append(d)
        return out
