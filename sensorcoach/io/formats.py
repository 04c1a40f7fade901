"""Readers for recordings in formats people already have, and the one loading entry point.

:func:`load_recording` is what the CLI calls. It sniffs the header of what it is given and
dispatches to one of:

sensorcoach recording CSV
    The contract format (CONTRACT.md section 1), plain or ``.csv.gz``; see
    :func:`sensorcoach.io.recording.read_recording`.
phyphox CSV export
    A file exported from the phyphox app's "Acceleration with g" experiment (columns
    ``Time (s)``, ``Acceleration x (m/s^2)``, ...), optionally with a gyroscope export
    (``Gyroscope x (rad/s)``, ...), or a phyphox export folder or ``.zip`` holding them
    (e.g. ``Accelerometer.csv`` and ``Gyroscope.csv``). "Acceleration with g" is specific
    force in m/s^2, converted to g by dividing by standard gravity; rad/s is converted to
    deg/s. Comma, semicolon and tab separators, decimal commas and quoted headers are
    understood. Columns are recognised by their unit and axis letter, so translated
    column names work too. "Acceleration without g" (linear acceleration) is refused: it
    has no gravity, and sensorcoach needs it to find "up".
MetaMotion / MetaBase export
    Separate accelerometer (``epoch (ms)``, ``time (...)``, ``elapsed (s)``,
    ``x-axis (g)``, ...) and gyroscope (``x-axis (deg/s)``, ...) CSV files, given as two
    paths or a folder holding them. Time is ``epoch (ms)`` relative to the first
    accelerometer sample (``elapsed (s)`` if there is no epoch column).

Whenever gyroscope samples come from a separate file they are resampled onto the
accelerometer's timestamps by linear interpolation, and the recording is trimmed to the
time both sensors cover. Foreign files sometimes repeat or reorder a timestamp; such
samples are sorted and de-duplicated with a logged warning (the contract format is
stricter and refuses them). Everything then goes through the same validation as the
contract reader (:func:`sensorcoach.io.recording.validate_samples`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..consts import ALL_COLS, FORMAT_KEY, STANDARD_GRAVITY_MPS2, TIME_COL
from ..errors import RecordingError
from ..types import Recording
from .recording import (
    _GZIP_MAGIC,
    _gunzip,
    _read_head,
    _read_recording,
    _short,
    validate_samples,
)

__all__ = ["KNOWN_FORMATS", "is_export_folder", "load_recording", "read_metamotion",
           "read_phyphox"]

logger = logging.getLogger("sensorcoach")

#: What :func:`load_recording` understands, for error messages and ``--help`` texts.
KNOWN_FORMATS = (
    "sensorcoach recording CSV (.csv or .csv.gz)",
    "phyphox CSV export (file, export folder or .zip)",
    "MetaMotion/MetaBase accelerometer + gyroscope CSV files (two paths or a folder)",
)

_SNIFF_BYTES = 65536

# kinds of input file
_CONTRACT = "sensorcoach"
_PHYPHOX_ACC = "phyphox accelerometer"
_PHYPHOX_GYR = "phyphox gyroscope"
_PHYPHOX_LINEAR = "phyphox linear acceleration"
_PHYPHOX_TIME = "phyphox time metadata"
_MM_ACC = "MetaMotion accelerometer"
_MM_GYR = "MetaMotion gyroscope"
#: Sensor tables of each foreign format (files that hold samples, not app metadata).
_PHYPHOX_TABLES = frozenset({_PHYPHOX_ACC, _PHYPHOX_GYR, _PHYPHOX_LINEAR})
_MM_TABLES = frozenset({_MM_ACC, _MM_GYR})
_EXPORT_FAMILIES = (_PHYPHOX_TABLES, _MM_TABLES)

#: ``<name> <axis> (<unit>)`` as in phyphox column names, e.g. ``Acceleration x (m/s^2)``.
_AXIS_RE = re.compile(r"^(?P<name>.*?)(?:^|\s+)(?P<axis>[xyzXYZ])\s*\((?P<unit>[^)]*)\)$")
_UNIT_RE = re.compile(r"\((?P<unit>[^)]*)\)\s*$")
_MPS2_UNITS = {"m/s^2", "m/s²", "m/s2", "m s^-2", "m/s**2"}


@dataclass
class _Source:
    """One input file (or zip member): its name, content and header fields."""

    name: str
    data: bytes
    kind: str | None = None
    header: list[str] | None = None
    sep: str = ","
    header_offset: int = 0
    #: The file on disk (``None`` for a zip member).
    path: Path | None = None


def _fail(source: str, message: str) -> RecordingError:
    text = f"{source}: {message}" if source else message
    return RecordingError(text.replace("\n", " ").replace("\r", " "))




# --------------------------------------------------------------------------------------
# collecting and sniffing
# --------------------------------------------------------------------------------------
def _read_file(path: Path) -> bytes:
    return _read_head(path, detail_limit=60)[0]


def _is_csv_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".csv", ".csv.gz", ".txt"))


def export_files(folder: Path) -> list[Path]:
    """The files of an export folder that the reader takes (CSV), in name order."""
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and _is_csv_name(p.name)]


def _collect(paths: Sequence[Path]) -> list[_Source]:
    """Expand folders and zip files into the CSV files they hold."""
    sources: list[_Source] = []
    for path in paths:
        if not path.exists():
            raise _fail(path.name, f"expected a file or folder at {_short(str(path), 120)}, "
                        "found nothing")
        if path.is_dir():
            for child in export_files(path):
                rel = child.relative_to(path).as_posix()
                sources.append(_Source(f"{path.name}/{rel}", _read_file(child), path=child))
        elif zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    for info in zf.infolist():
                        if not info.is_dir() and _is_csv_name(info.filename):
                            blob = _gunzip(info.filename, zf.read(info), 60)
                            sources.append(_Source(f"{path.name}/{info.filename}", blob))
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as exc:
                raise _fail(path.name, f"expected a readable zip file, found {_short(str(exc), 60)}"
                            ) from None
        else:
            sources.append(_Source(path.name, _read_file(path)))
    return sources


def _head_kind(path: Path) -> str | None:
    """The kind of one file, sniffed from its first bytes (gunzipped as far as they go);
    ``None`` for an unreadable or unknown file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _SNIFF_BYTES)
        except zlib.error:
            return None
    return _sniff(_Source(path.name, head)).kind


def is_export_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is one phyphox or MetaMotion export: a folder that holds (directly)
    the sensor tables of one recording and no sensorcoach recording.

    Such a folder is read as one recording by :func:`load_recording` (its subfolders, like
    phyphox's ``meta/``, belong to it). A folder of sensorcoach recordings, of several
    exports in subfolders, or of two accelerometer tables is not one export.
    """
    folder = Path(path)
    if not folder.is_dir():
        return False
    kinds = []
    for f in sorted(folder.iterdir()):
        if f.is_file() and _is_csv_name(f.name):
            kinds.append(_head_kind(f))
            if kinds[-1] == _CONTRACT:  # no need to sniff the rest
                return False
    tables = [k for k in kinds if any(k in family for family in _EXPORT_FAMILIES)]
    families = {i for i, family in enumerate(_EXPORT_FAMILIES) if family & set(tables)}
    # one format, at most one table of each kind (two accelerometers: two recordings)
    return len(families) == 1 and len(tables) == len(set(tables))


def _split_header(line: str) -> tuple[list[str], str]:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    try:
        fields = next(csv.reader([line], delimiter=sep))
    except (csv.Error, StopIteration):
        fields = line.split(sep)
    return [f.strip().strip('"').strip() for f in fields], sep


def _sniff(src: _Source) -> _Source:
    """Classify a source by its header row."""
    head = src.data[:_SNIFF_BYTES]
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    saw_comment = False
    while pos < len(head):
        end = head.find(b"\n", pos)
        end = len(head) if end < 0 else end
        line = head[pos:end].decode("utf-8", errors="replace").strip()
        line_start, pos = pos, end + 1
        if not line:
            continue
        if line.startswith("#"):
            if line[1:].strip().lower().startswith(FORMAT_KEY):
                src.kind = _CONTRACT
                return src
            saw_comment = True
            continue
        fields, sep = _split_header(line)
        src.header, src.sep, src.header_offset = fields, sep, line_start
        src.kind = _classify(fields, saw_comment)
        return src
    return src


def _classify(fields: list[str], saw_comment: bool) -> str | None:
    lower = [f.lower() for f in fields]
    if TIME_COL in lower and "ax_g" in lower:
        return _CONTRACT
    if saw_comment:
        return None
    if "event" in lower and "system time" in lower:
        return _PHYPHOX_TIME
    if any(f.startswith(("epoch (ms)", "epoc (ms)", "elapsed (s)")) for f in lower):
        if "x-axis (g)" in lower:
            return _MM_ACC
        if "x-axis (deg/s)" in lower:
            return _MM_GYR
        return None
    axes = _axis_columns(fields)
    has_time = _time_column(fields) is not None
    if not has_time:
        return None
    if "acc" in axes:
        return _PHYPHOX_ACC
    if "linear" in axes:
        return _PHYPHOX_LINEAR
    if "gyr" in axes:
        return _PHYPHOX_GYR
    return None


def _time_column(fields: list[str]) -> int | None:
    """Index of the first column whose unit is seconds (phyphox ``Time (s)``)."""
    for i, field in enumerate(fields):
        m = _UNIT_RE.search(field)
        if m and m.group("unit").strip().lower() == "s" and not _AXIS_RE.match(field):
            return i
    return None


def _axis_columns(fields: list[str]) -> dict[str, list[int]]:
    """Column indices of x, y, z triples, keyed ``acc``/``linear``/``gyr`` by unit."""
    found: dict[str, dict[str, int]] = {}
    for i, field in enumerate(fields):
        m = _AXIS_RE.match(field.strip())
        if not m:
            continue
        unit = m.group("unit").strip().lower().replace(" ", "")
        name = m.group("name").lower()
        if unit in _MPS2_UNITS:
            kind = "linear" if "linear" in name else "acc"
        elif unit == "rad/s":
            kind = "gyr"
        else:
            continue
        found.setdefault(kind, {}).setdefault(m.group("axis").lower(), i)
    return {k: [v[a] for a in "xyz"] for k, v in found.items() if set(v) == {"x", "y", "z"}}


# --------------------------------------------------------------------------------------
# parsing foreign tables
# --------------------------------------------------------------------------------------
def _parse_columns(src: _Source, columns: dict[str, int]) -> dict[str, np.ndarray]:
    """Parse the named columns of a foreign CSV as float64 with pandas' C parser."""
    import pandas as pd

    body = src.data[src.header_offset:]
    first_nl = body.find(b"\n")
    sample = body[first_nl + 1:first_nl + 4096] if first_nl >= 0 else b""
    decimal = "."
    if src.sep != ",":
        # decimal comma ("CSV (semicolon, decimal comma)" exports): digits,digits
        if re.search(rb"\d,\d", sample) and not re.search(rb"\d\.\d", sample):
            decimal = ","
    usecols = sorted(set(columns.values()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_csv(
                io.BytesIO(body),
                sep=src.sep,
                decimal=decimal,
                header=0,
                usecols=usecols,
                dtype=np.float64,
                engine="c",
                skipinitialspace=True,
                encoding="latin-1",
            )
    except (ValueError, OverflowError, TypeError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(src.name, f"expected rows of numbers, found {_short(first, 100)}") from None
    if frame.shape[0] == 0:
        raise _fail(src.name, "expected samples after the header row, found none")
    out = {}
    for key, idx in columns.items():
        values = frame.iloc[:, usecols.index(idx)].to_numpy(dtype=np.float64, copy=True)
        out[key] = values
    return out


def _repair_time(name: str, t: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort by time and drop repeated or non-finite timestamps (foreign formats only)."""
    finite = np.isfinite(t)
    n_valid = int(finite.sum())
    if n_valid < 2:
        raise _fail(name, f"expected at least 2 samples with a valid time, found {n_valid}")
    if finite.all() and bool((np.diff(t) > 0).all()):
        return (t, *arrays)
    idx = np.flatnonzero(finite)
    order = idx[np.argsort(t[idx], kind="stable")]
    ts = t[order]
    keep = np.ones(ts.size, dtype=bool)
    keep[1:] = np.diff(ts) > 0
    order = order[keep]
    logger.warning(
        "%s: %d sample(s) with repeated or missing timestamps dropped, %s",
        name, int(t.size - order.size),
        "out-of-order samples sorted" if (np.diff(t[idx]) < 0).any() else "none out of order",
    )
    return (t[order], *(a[order] for a in arrays))


def _merge_gyro(
    name: str, t_acc: np.ndarray, acc: np.ndarray, t_gyr: np.ndarray, gyr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample gyro onto accelerometer times; trim to the span both sensors cover."""
    if t_gyr.size < 2:
        raise _fail(name, f"expected at least 2 gyroscope samples, found {t_gyr.size}")
    start, stop = max(t_acc[0], t_gyr[0]), min(t_acc[-1], t_gyr[-1])
    inside = (t_acc >= start) & (t_acc <= stop)
    if not inside.any():
        raise _fail(
            name,
            f"expected accelerometer and gyroscope to overlap in time, found accelerometer "
            f"{t_acc[0]:.3f}..{t_acc[-1]:.3f} s and gyroscope {t_gyr[0]:.3f}..{t_gyr[-1]:.3f} s",
        )
    trimmed = int((~inside).sum())
    if trimmed:
        logger.info("%s: trimmed %d accelerometer sample(s) outside the gyroscope's time span",
                    name, trimmed)
    t_acc, acc = t_acc[inside], acc[inside]
    gyr_on_acc = np.column_stack([np.interp(t_acc, t_gyr, gyr[:, k]) for k in range(3)])
    return t_acc, acc, gyr_on_acc


def _finish(
    name: str, t: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray | None,
    meta: dict[str, str], path: str,
) -> Recording:
    samples, meta = validate_samples(t, acc_g, gyr_dps, meta, source=name)
    return Recording(samples=samples, meta=meta, path=path)


# --------------------------------------------------------------------------------------
# phyphox
# --------------------------------------------------------------------------------------
def _phyphox_started_at(sources: list[_Source]) -> str | None:
    """ISO 8601 start time from a phyphox ``meta/time.csv`` (first START event)."""
    for src in sources:
        if src.kind != _PHYPHOX_TIME or src.header is None:
            continue
        lower = [f.lower() for f in src.header]
        try:
            rows = list(csv.reader(io.StringIO(src.data.decode("utf-8", errors="replace")),
                                   delimiter=src.sep))
            i_event, i_sys = lower.index("event"), lower.index("system time")
            for row in rows[1:]:
                if len(row) > max(i_event, i_sys) and row[i_event].strip().upper() == "START":
                    seconds = float(row[i_sys].replace(",", ".") if src.sep != "," else row[i_sys])
                    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()
        except (ValueError, OverflowError, OSError, csv.Error):
            return None
    return None


def _from_phyphox(sources: list[_Source], label: str, path: str) -> Recording:
    acc_srcs = [s for s in sources if s.kind == _PHYPHOX_ACC]
    gyr_srcs = [s for s in sources if s.kind == _PHYPHOX_GYR]
    if not acc_srcs:
        if any(s.kind == _PHYPHOX_LINEAR for s in sources):
            raise _fail(
                label,
                "expected a phyphox 'Acceleration with g' export, found 'Acceleration without "
                "g' (linear acceleration has no gravity, which sensorcoach needs)",
            )
        raise _fail(
            label,
            "expected a phyphox accelerometer export (Time (s), Acceleration x (m/s^2), ...), "
            f"found only {', '.join(s.kind or '?' for s in sources)}",
        )
    if len(acc_srcs) > 1:
        raise _fail(label, "expected one phyphox accelerometer file, found "
                    f"{len(acc_srcs)}: {', '.join(s.name for s in acc_srcs)}")
    acc_src = acc_srcs[0]
    assert acc_src.header is not None
    t_idx = _time_column(acc_src.header)
    axes = _axis_columns(acc_src.header)
    assert t_idx is not None
    cols = {"t": t_idx, **{f"a{k}": i for k, i in enumerate(axes["acc"])}}
    if "gyr" in axes:
        cols.update({f"g{k}": i for k, i in enumerate(axes["gyr"])})
    parsed = _parse_columns(acc_src, cols)
    t = parsed["t"]
    acc = np.column_stack([parsed[f"a{k}"] for k in range(3)]) / STANDARD_GRAVITY_MPS2
    gyr = None
    if "gyr" in axes:
        gyr = np.degrees(np.column_stack([parsed[f"g{k}"] for k in range(3)]))
        t, acc, gyr = _repair_time(acc_src.name, t, acc, gyr)
    else:
        t, acc = _repair_time(acc_src.name, t, acc)
        if len(gyr_srcs) > 1:
            raise _fail(label, "expected at most one phyphox gyroscope file, found "
                        f"{len(gyr_srcs)}: {', '.join(s.name for s in gyr_srcs)}")
        if gyr_srcs:
            g_src = gyr_srcs[0]
            assert g_src.header is not None
            g_axes = _axis_columns(g_src.header)["gyr"]
            g_t = _time_column(g_src.header)
            assert g_t is not None
            g = _parse_columns(g_src, {"t": g_t, **{f"g{k}": i for k, i in enumerate(g_axes)}})
            t_g, gyr_rad = _repair_time(
                g_src.name, g["t"], np.column_stack([g[f"g{k}"] for k in range(3)])
            )
            t, acc, gyr = _merge_gyro(label, t, acc, t_g, np.degrees(gyr_rad))
    meta = {"sensor": "phyphox", "source_format": "phyphox"}
    started_at = _phyphox_started_at(sources)
    if started_at:
        meta["started_at"] = started_at
    return _finish(label, t, acc, gyr, meta, path)


def read_phyphox(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Recording:
    """Read a phyphox CSV export.

    Parameters
    ----------
    paths : path or list of paths
        An "Acceleration with g" CSV file (optionally with gyroscope columns), a list of an
        accelerometer and a gyroscope CSV file, or a phyphox export folder or ``.zip``.

    Returns
    -------
    Recording
        Accelerometer in g (m/s^2 divided by 9.80665), gyroscope in deg/s, ``time_s`` as
        exported (seconds from the start of the experiment); metadata ``sensor: phyphox``
        and, when the export holds ``meta/time.csv``, ``started_at``.

    Raises
    ------
    RecordingError
        If no phyphox accelerometer data is found, the export is linear acceleration
        ("Acceleration without g"), or the samples fail validation.
    """
    path_list = _as_paths(paths)
    sources = [_sniff(s) for s in _collect(path_list)]
    return _from_phyphox(sources, _label(path_list), str(path_list[0]))


# --------------------------------------------------------------------------------------
# MetaMotion / MetaBase
# --------------------------------------------------------------------------------------
def _mm_columns(src: _Source, unit: str) -> tuple[dict[str, int], str]:
    assert src.header is not None
    lower = [f.lower() for f in src.header]
    cols: dict[str, int] = {}
    time_kind = ""
    for i, f in enumerate(lower):
        if f.startswith(("epoch (ms)", "epoc (ms)")):
            cols["epoch_ms"] = i
            time_kind = "epoch"
            break
    for i, f in enumerate(lower):
        if f.startswith("elapsed (s)"):
            cols["elapsed_s"] = i
            time_kind = time_kind or "elapsed"
            break
    for k, axis in enumerate("xyz"):
        name = f"{axis}-axis ({unit})"
        if name not in lower:
            raise _fail(src.name, f"expected a column {name!r}, found {', '.join(src.header)}")
        cols[f"v{k}"] = lower.index(name)
    return cols, time_kind


def _from_metamotion(sources: list[_Source], label: str, path: str) -> Recording:
    acc_srcs = [s for s in sources if s.kind == _MM_ACC]
    gyr_srcs = [s for s in sources if s.kind == _MM_GYR]
    if len(acc_srcs) != 1:
        raise _fail(
            label,
            "expected one MetaMotion accelerometer file (x-axis (g)) and at most one gyroscope "
            f"file (x-axis (deg/s)), found {len(acc_srcs)} accelerometer and "
            f"{len(gyr_srcs)} gyroscope file(s)",
        )
    if len(gyr_srcs) > 1:
        raise _fail(label, f"expected at most one MetaMotion gyroscope file, found "
                    f"{len(gyr_srcs)}: {', '.join(s.name for s in gyr_srcs)}")
    acc_src = acc_srcs[0]
    a_cols, a_time = _mm_columns(acc_src, "g")
    a = _parse_columns(acc_src, a_cols)
    meta = {"sensor": "MetaMotion", "source_format": "metamotion"}
    g = g_time = None
    if gyr_srcs:
        g_cols, g_time = _mm_columns(gyr_srcs[0], "deg/s")
        g = _parse_columns(gyr_srcs[0], g_cols)
    use_epoch = a_time == "epoch" and (g is None or g_time == "epoch")
    if use_epoch:
        bad = ~np.isfinite(a["epoch_ms"])
        if bad.any():
            raise _fail(label, f"expected finite 'epoch (ms)' times, found "
                        f"{a['epoch_ms'][bad][0]} in row {int(np.flatnonzero(bad)[0]) + 1}")
        epoch0_ms = float(a["epoch_ms"][0])
        t_acc = (a["epoch_ms"] - epoch0_ms) / 1000.0
        try:
            meta["started_at"] = dt.datetime.fromtimestamp(epoch0_ms / 1000.0, tz=dt.UTC
                                                           ).isoformat(timespec="milliseconds")
        except (ValueError, OverflowError, OSError):
            pass
    else:
        if "elapsed_s" not in a_cols or (g is not None and "elapsed_s" not in g):
            raise _fail(label, "expected an 'epoch (ms)' or 'elapsed (s)' column in every "
                        "MetaMotion file, found neither")
        if g is not None:
            logger.warning("%s: no epoch (ms) column; aligning accelerometer and gyroscope "
                           "by elapsed (s), assuming they started together", label)
        t_acc = a["elapsed_s"]
    acc = np.column_stack([a[f"v{k}"] for k in range(3)])
    t_acc, acc = _repair_time(acc_src.name, t_acc, acc)
    gyr = None
    if g is not None:
        t_g = (g["epoch_ms"] - epoch0_ms) / 1000.0 if use_epoch else g["elapsed_s"]
        t_g, gyr_raw = _repair_time(
            gyr_srcs[0].name, t_g, np.column_stack([g[f"v{k}"] for k in range(3)])
        )
        t_acc, acc, gyr = _merge_gyro(label, t_acc, acc, t_g, gyr_raw)
    return _finish(label, t_acc, acc, gyr, meta, path)


def read_metamotion(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> Recording:
    """Read a MetaMotion / MetaBase CSV export.

    Parameters
    ----------
    paths : path or list of paths
        The accelerometer CSV file, both the accelerometer and gyroscope CSV files (in any
        order), or a folder holding them.

    Returns
    -------
    Recording
        ``time_s`` from ``epoch (ms)`` relative to the first accelerometer sample (or
        ``elapsed (s)``), accelerometer in g, gyroscope in deg/s resampled onto the
        accelerometer's timestamps; metadata ``sensor: MetaMotion`` and ``started_at``.

    Raises
    ------
    RecordingError
        If the files are not a MetaMotion accelerometer (and gyroscope) export or the
        samples fail validation.
    """
    path_list = _as_paths(paths)
    sources = [_sniff(s) for s in _collect(path_list)]
    return _from_metamotion(sources, _label(path_list), str(path_list[0]))


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def _as_paths(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise RecordingError("expected at least one recording path, found none")
    return path_list


def _label(paths: list[Path]) -> str:
    return " + ".join(p.name for p in paths)


def load_recording(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> Recording:
    """Load a recording in any supported format: the one entry point the CLI calls.

    Parameters
    ----------
    paths : path or list of paths
        A sensorcoach recording (``.csv`` / ``.csv.gz``); a phyphox export (file, folder or
        ``.zip``); MetaMotion accelerometer and gyroscope files (two paths, or a folder).

    Returns
    -------
    Recording
        Validated samples (see :func:`sensorcoach.io.recording.validate_samples`).

    Raises
    ------
    RecordingError
        If nothing given is in a known format (the message lists :data:`KNOWN_FORMATS`), the
        files mix formats, or reading or validation fails.
    """
    path_list = _as_paths(paths)
    label = _label(path_list)
    if len(path_list) == 1:
        only = path_list[0]
        if not only.exists():
            raise _fail(only.name, f"expected a recording file at {_short(str(only), 120)}, "
                        "found nothing")
        if only.is_file() and not zipfile.is_zipfile(only):
            data, whole = _read_head(only, _SNIFF_BYTES, detail_limit=60)  # gunzipped once
            src = _sniff(_Source(only.name, data))  # (it reads the head only)
            if src.kind == _CONTRACT or not data[:_SNIFF_BYTES].strip():
                return _read_recording(only, data, whole)  # the head read here, not again
            # not a recording: the file whole (read here: _collect would check and read
            # it again)
            if not whole:
                src.data = _read_file(only)
            return _dispatch([src], path_list, label)

    sources = [_sniff(s) for s in _collect(path_list)]
    return _dispatch(sources, path_list, label)


def _dispatch(sources: list[_Source], path_list: list[Path], label: str) -> Recording:
    kinds = {s.kind for s in sources}
    contract = [s for s in sources if s.kind == _CONTRACT]
    if contract:
        # (a single plain file was read above; here: a folder, a zip or several paths)
        if len(contract) == 1 and len(path_list) == 1 and path_list[0].is_dir():
            return _read_recording(contract[0].path, contract[0].data, True)  # read once
        if len(contract) == 1 and len(path_list) == 1:
            raise _fail(label, "expected a sensorcoach recording as a plain .csv or .csv.gz "
                        f"file, found it inside an archive ({contract[0].name}): unzip it")
        raise _fail(label, f"expected one sensorcoach recording, found {len(sources)} files "
                    f"({', '.join(s.name for s in sources)})")
    phyphox = kinds & _PHYPHOX_TABLES
    metamotion = kinds & _MM_TABLES
    if phyphox and metamotion:
        raise _fail(label, "expected files of one format, found both phyphox and MetaMotion files")
    if phyphox:
        return _from_phyphox(sources, label, str(path_list[0]))
    if metamotion:
        return _from_metamotion(sources, label, str(path_list[0]))
    found = "; ".join(
        f"{s.name}: {_short(', '.join(s.header), 60) if s.header else 'no header row'}"
        for s in sources[:4]
    ) or "no CSV files"
    raise _fail(
        label,
        f"expected one of: {'; '.join(KNOWN_FORMATS)} (contract columns "
        f"{', '.join(ALL_COLS[:4])}); found {found}",
    )
