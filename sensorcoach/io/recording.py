"""Read, validate and write sensorcoach recording files (CONTRACT.md section 1).

A recording file is a CSV file with optional leading ``# key: value`` metadata lines, a
header row and one row per sample::

    # sensorcoach-recording: 1
    # mount: hip
    time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps
    4562.43000,0.01001,-0.91040,-0.38120,0.1377,0.0918,-0.0612

This module is where samples *enter* sensorcoach, so it is also where they are validated:
:func:`validate_samples` is the one place that checks shapes, finiteness, strictly increasing
time, a plausible sample rate and accelerometer units. :func:`read_recording`,
:func:`recording_from_arrays` and the foreign-format readers in
:mod:`sensorcoach.io.formats` all go through it. Every problem is reported as a
:class:`~sensorcoach.errors.RecordingError` whose message is one line naming what was
expected and what was found.

Units
-----
Accelerometer columns are specific force in g. Files whose accelerometer values are clearly
in m/s^2 (median magnitude near 9.81) or in mg (median magnitude near 1000) are converted
to g; the conversion is logged on the ``sensorcoach`` logger and recorded as
``meta["units_converted"]``. Gyroscope columns are *assumed* to be degrees per second:
rad/s cannot be told apart from a slowly turning sensor in dps, so no conversion is
attempted.

Writing
-------
:func:`write_recording` writes a whole recording at once (atomically, via a temporary file).
:class:`RecordingWriter` streams samples of a live session to disk and flushes every chunk,
so that a killed process loses at most the chunk being written; :func:`read_recording`
drops an incomplete final line (with a logged warning) instead of failing.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np

from ..consts import (
    ACC_COLS,
    ALL_COLS,
    FORMAT_KEY,
    FORMAT_VERSION,
    GYR_COLS,
    MAX_SAMPLE_RATE_HZ,
    MIN_SAMPLE_RATE_HZ,
    REQUIRED_COLS,
    STANDARD_GRAVITY_MPS2,
    TIME_COL,
)
from ..errors import RecordingError
from ..types import Recording, SampleChunk

__all__ = [
    "RecordingWriter",
    "read_recording",
    "recording_from_arrays",
    "validate_samples",
    "write_recording",
]

logger = logging.getLogger("sensorcoach")

#: Recordings shorter than this are accepted with a logged warning.
SHORT_RECORDING_WARN_S = 2.0

#: Median ``|acc|`` bands (inclusive) used to recognise the accelerometer unit.
#: A still or slowly moving sensor reads about 1 g, 9.81 m/s^2 or 1000 mg.
ACC_NORM_BAND_G = (0.5, 2.5)
ACC_NORM_BAND_MPS2 = (4.9, 25.0)
ACC_NORM_BAND_MG = (500.0, 2500.0)

#: Key recorded in the metadata when accelerometer values were converted to g.
UNITS_CONVERTED_KEY = "units_converted"

#: Decimal places written per column (CONTRACT.md section 1).
TIME_DECIMALS = 5
ACC_DECIMALS = 5
GYR_DECIMALS = 4

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"

#: How a row index is turned into words for a message, e.g. ``"line 17"``.
RowNamer = Callable[[int], str]


# --------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------
def _short(value: object, limit: int = 40) -> str:
    """One-line, printable, bounded rendering of a value found in the input."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _list(names: list[str] | tuple[str, ...], limit: int = 12) -> str:
    shown = [_short(n, 30) for n in names[:limit]]
    if len(names) > limit:
        shown.append(f"... ({len(names)} in all)")
    return ", ".join(shown) if shown else "(none)"


def _fail(source: str, message: str) -> RecordingError:
    """Build a one-line :class:`RecordingError` prefixed with the data source."""
    return RecordingError(f"{source}: {message}".replace("\n", " ").replace("\r", " "))


def _default_row_namer(i: int) -> str:
    return f"row {i + 1}"


# --------------------------------------------------------------------------------------
# validation: the one place
# --------------------------------------------------------------------------------------
def validate_samples(
    time_s: np.ndarray,
    acc_g: np.ndarray,
    gyr_dps: np.ndarray | None = None,
    meta: Mapping[str, str] | None = None,
    *,
    source: str = "samples",
    row_name: RowNamer | None = None,
    entering: bool = True,
) -> tuple[SampleChunk, dict[str, str]]:
    """Check samples where they enter sensorcoach and normalise their units.

    Parameters
    ----------
    time_s : array_like, shape (n,)
        Sensor clock in seconds; must be finite and strictly increasing.
    acc_g : array_like, shape (n, 3)
        Specific force, sensor frame. Expected in g; values clearly in m/s^2 or mg are
        converted to g when ``entering`` is true.
    gyr_dps : array_like, shape (n, 3), optional
        Angular rate, assumed degrees per second (never converted).
    meta : mapping of str to str, optional
        Metadata; copied, and ``units_converted`` is added when a conversion happened.
    source : str
        Name of the data source (file name) used as the prefix of error messages.
    row_name : callable, optional
        Turns a 0-based sample index into words for messages (``"line 17"``); defaults to
        ``"row <i+1>"``.
    entering : bool
        True where data enters the package (readers): recognise accelerometer units and
        warn about very short recordings. False when only checking before writing.

    Returns
    -------
    samples : SampleChunk
        float64 arrays (acc possibly converted to g).
    meta : dict of str to str
        Copy of ``meta``, possibly with ``units_converted`` set.

    Raises
    ------
    RecordingError
        On wrong shapes, fewer than 2 samples, NaN or infinite values, non-increasing time,
        an implausible sample rate (outside ``MIN_SAMPLE_RATE_HZ``..``MAX_SAMPLE_RATE_HZ``),
        or accelerometer values in no recognisable unit.
    """
    name_row = row_name or _default_row_namer
    out_meta = dict(meta or {})
    try:
        t = np.asarray(time_s, dtype=np.float64)
        acc = np.asarray(acc_g, dtype=np.float64)
        gyr = None if gyr_dps is None else np.asarray(gyr_dps, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _fail(source, f"expected numeric arrays, found {_short(exc, 80)}") from None

    if t.ndim != 1:
        raise _fail(source, f"expected {TIME_COL} of shape (n,), found shape {t.shape}")
    n = t.shape[0]
    if acc.shape != (n, 3):
        raise _fail(source, f"expected acceleration of shape ({n}, 3), found shape {acc.shape}")
    if gyr is not None and gyr.shape != (n, 3):
        raise _fail(source, f"expected angular rate of shape ({n}, 3), found shape {gyr.shape}")
    if n == 0:
        raise _fail(source, "expected samples after the header, found none")
    if n < 2:
        raise _fail(source, f"expected at least 2 samples, found {n}")

    # finite values ------------------------------------------------------------------
    blocks = [t[:, None], acc] if gyr is None else [t[:, None], acc, gyr]
    names = [TIME_COL, *ACC_COLS] if gyr is None else list(ALL_COLS)
    all_finite = all(bool(np.isfinite(b).all()) for b in blocks)
    finite = np.ones(n, dtype=bool)
    if not all_finite:
        for block in blocks:
            finite &= np.isfinite(block).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        row = np.concatenate([b[i] for b in blocks])
        j = int(np.flatnonzero(~np.isfinite(row))[0])
        found = "an empty cell or NaN" if np.isnan(row[j]) else f"{float(row[j])}"
        raise _fail(
            source,
            f"expected finite numbers, found {found} in column {names[j]} at {name_row(i)}",
        )

    # time ---------------------------------------------------------------------------
    with np.errstate(all="ignore"):
        dt = np.diff(t)
    bad = np.flatnonzero(~(dt > 0))
    if bad.size:
        i = int(bad[0])
        what = "duplicate" if t[i + 1] == t[i] else "decreasing"
        raise _fail(
            source,
            f"expected strictly increasing {TIME_COL}, found {what} time at {name_row(i + 1)}: "
            f"{float(t[i])!r} then {float(t[i + 1])!r}",
        )
    median_dt = float(np.median(dt[:: _stride(dt.size)]))
    rate_hz = 1.0 / median_dt if median_dt > 0 else math.inf
    if not (MIN_SAMPLE_RATE_HZ <= rate_hz <= MAX_SAMPLE_RATE_HZ):
        raise _fail(
            source,
            f"expected a sample rate between {MIN_SAMPLE_RATE_HZ:g} and "
            f"{MAX_SAMPLE_RATE_HZ:g} Hz, found {rate_hz:.4g} Hz "
            f"(median {TIME_COL} interval {median_dt:.6g} s; is {TIME_COL} in seconds?)",
        )

    if entering:
        duration_s = float(t[-1] - t[0])
        if duration_s < SHORT_RECORDING_WARN_S:
            logger.warning(
                "%s: only %.3g s of data (%d samples); results may be meaningless",
                source, duration_s, n,
            )
        acc = _normalise_acc_units(acc, out_meta, source)
    return SampleChunk(t, acc, gyr), out_meta


#: Medians for rate and unit checks use at most about this many evenly spaced values.
_MEDIAN_SAMPLES = 20000


def _stride(n: int) -> int:
    return max(1, n // _MEDIAN_SAMPLES)


def _normalise_acc_units(acc: np.ndarray, meta: dict[str, str], source: str) -> np.ndarray:
    """Return ``acc`` in g, converting from m/s^2 or mg when that is clearly the unit."""
    with np.errstate(all="ignore"):
        sub = acc[:: _stride(acc.shape[0])]
        norm = np.sqrt((sub * sub).sum(axis=1))
    median = float(np.median(norm))
    lo, hi = ACC_NORM_BAND_G
    if lo <= median <= hi:
        return acc
    for (lo, hi), factor, label in (
        (ACC_NORM_BAND_MPS2, 1.0 / STANDARD_GRAVITY_MPS2, "m/s^2->g"),
        (ACC_NORM_BAND_MG, 1e-3, "mg->g"),
    ):
        if lo <= median <= hi:
            logger.warning(
                "%s: median |acceleration| is %.4g, so the accelerometer columns look like %s, "
                "not g; converted to g",
                source, median, label.split("->")[0],
            )
            meta[UNITS_CONVERTED_KEY] = label
            return acc * factor
    raise _fail(
        source,
        f"expected accelerometer values in g (median |a| near 1; m/s^2 near 9.81 and mg near "
        f"1000 are converted), found median |a| = {median:.4g}",
    )


def recording_from_arrays(
    time_s: np.ndarray,
    acc_g: np.ndarray,
    gyr_dps: np.ndarray | None = None,
    meta: Mapping[str, str] | None = None,
) -> Recording:
    """Build a validated :class:`~sensorcoach.types.Recording` from arrays.

    Parameters
    ----------
    time_s : array_like, shape (n,)
        Sensor clock in seconds, strictly increasing.
    acc_g : array_like, shape (n, 3)
        Specific force in g (m/s^2 and mg are recognised and converted, see
        :func:`validate_samples`).
    gyr_dps : array_like, shape (n, 3), optional
        Angular rate in degrees per second.
    meta : mapping of str to str, optional
        Metadata (CONTRACT.md section 1 keys and any others).

    Returns
    -------
    Recording
        With ``path=None``.

    Raises
    ------
    RecordingError
        As :func:`validate_samples`.
    """
    samples, out_meta = validate_samples(time_s, acc_g, gyr_dps, meta, source="arrays")
    return Recording(samples=samples, meta=out_meta, path=None)


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
_HEAD_BYTES = 65536
_TAIL_BYTES = 4096


def _check_path(path: Path) -> None:
    if not path.exists():
        raise _fail(
            path.name, f"expected a recording file at {_short(str(path), 120)}, found nothing"
        )
    if path.is_dir():
        raise _fail(path.name, "expected a recording file, found a directory")


def _gunzip(name: str, raw: bytes, detail_limit: int = 80) -> bytes:
    """``raw`` decompressed if it is gzip data, else unchanged."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(name, f"expected valid gzip data, found {_short(exc, detail_limit)}"
                    ) from None


def _read_head(path: Path, limit: int = -1, detail_limit: int | None = None
               ) -> tuple[bytes, bool]:
    """File content (the first ``limit`` bytes if given; a gzip file whole), gunzipped if
    gzip-compressed, and whether that is the whole content. ``detail_limit``: characters of
    an error's detail in the message."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit)
            gz = raw.startswith(_GZIP_MAGIC)
            if gz and limit >= 0:
                raw += fh.read()
    except OSError as exc:
        raise _fail(path.name, "expected a readable file, found "
                    f"{_short(exc, detail_limit or 100)}") from None
    return (_gunzip(path.name, raw, detail_limit or 80),
            gz or limit < 0 or len(raw) < limit)


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    """File content (the first ``limit`` bytes if given), gunzipped if gzip-compressed."""
    return _read_head(path, limit)[0]


def _read_tail(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _TAIL_BYTES))
            return fh.read()
    except OSError as exc:
        raise _fail(path.name, f"expected a readable file, found {_short(exc, 100)}") from None


def _split_fields(line: str, sep: str) -> list[str]:
    return [f.strip().strip('"').strip("'").strip() for f in line.split(sep)]


def _guess_sep(header: str) -> str:
    for sep in (",", ";", "\t"):
        if sep in header:
            return sep
    return ","


class _NoHeader(Exception):
    """The preamble parser ran out of bytes before finding a header row."""

    def __init__(self, saw_lines: bool) -> None:
        super().__init__()
        self.saw_lines = saw_lines


def _parse_preamble(
    raw: bytes, name: str, partial: bool = False
) -> tuple[dict[str, str], str, int, int]:
    """Parse metadata lines and find the header row.

    ``partial`` means ``raw`` is only the head of the file.

    Returns
    -------
    meta : dict
        Metadata in file order (without the format line).
    header : str
        The header row, stripped.
    data_offset : int
        Byte offset of the first data line.
    header_line_no : int
        1-based line number of the header row (= number of lines before the data).

    Raises
    ------
    _NoHeader
        If ``raw`` ends before a header row.
    """
    meta: dict[str, str] = {}
    pos = 3 if raw.startswith(_UTF8_BOM) else 0
    line_no = 0
    size = len(raw)
    while pos < size:
        end = raw.find(b"\n", pos)
        complete = end >= 0
        end = size if end < 0 else end
        line = raw[pos:end].decode("utf-8", errors="replace").strip()
        line_no += 1
        pos = end + 1
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            key, colon, value = body.partition(":")
            key, value = key.strip(), value.strip()
            if not colon or not key:
                logger.debug("%s: ignoring comment line %d without 'key: value'", name, line_no)
                continue
            if key == FORMAT_KEY:
                if value != FORMAT_VERSION:
                    logger.warning(
                        "%s: format version %r, this sensorcoach reads version %s; trying anyway",
                        name, _short(value), FORMAT_VERSION,
                    )
                continue
            meta[key] = value
            continue
        if not complete and partial:
            break  # the header row may continue beyond the bytes we have
        return meta, line, min(pos, size), line_no
    raise _NoHeader(line_no > 0)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The metadata lines of a recording (as :func:`read_recording` finds them); ``{}`` if
    the file cannot be read or has none."""
    p = Path(path)
    try:
        return _parse_preamble(_read_bytes(p, _HEAD_BYTES), p.name, partial=True)[0]
    except (RecordingError, _NoHeader):
        return {}


def _field_is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _LineLocator:
    """Maps 0-based data-row indices to file line numbers (slow; used for messages only)."""

    def __init__(self, get_data: Callable[[], bytes], first_line_no: int) -> None:
        self._get_data = get_data
        self._first = first_line_no
        self._line_nos: list[int] | None = None

    def __call__(self, i: int) -> str:
        if self._line_nos is None:
            lines = self._get_data().split(b"\n")
            self._line_nos = [self._first + k for k, line in enumerate(lines) if line.strip()]
        if 0 <= i < len(self._line_nos):
            return f"line {self._line_nos[i]}"
        return f"data row {i + 1}"


def _describe_bad_rows(
    data: bytes, first_line_no: int, sep: str, needed: dict[str, int]
) -> str | None:
    """Describe the first malformed data row (slow; only runs to word an error message).

    Looks for a non-numeric cell in a needed column, a row with too few fields for the
    needed columns, or a row whose field count differs from the first data row.
    """
    width = max(needed.values()) + 1
    first_count: int | None = None
    for k, raw_line in enumerate(data.split(b"\n")):
        line = raw_line.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        where = f"line {first_line_no + k}"
        if line.startswith("#"):
            return f"expected comment lines only before the header row, found one at {where}"
        fields = [f.strip() for f in line.split(sep)]
        for col, idx in needed.items():
            if idx < len(fields) and fields[idx] and not _field_is_number(fields[idx]):
                return (
                    f"expected a number in column {col}, found {_short(fields[idx])!r} at {where}"
                )
        if len(fields) < width:
            return f"expected at least {width} fields per row, found {len(fields)} at {where}"
        if first_count is None:
            first_count = len(fields)
        elif len(fields) != first_count:
            return (
                f"expected {first_count} fields per row (as in the first row), "
                f"found {len(fields)} at {where}"
            )
    return None


def _incomplete_tail(data: bytes, sep: str, width: int) -> int | None:
    """Offset where an incomplete final line starts (cut off mid-write), else ``None``."""
    if not data or data.endswith(b"\n"):
        return None
    cut = data.rfind(b"\n") + 1
    tail = data[cut:].decode("utf-8", errors="replace").strip()
    if not tail:
        return None
    fields = [f.strip() for f in tail.split(sep)]
    if len(fields) >= width and all(_field_is_number(f) for f in fields[:width]):
        return None
    return cut


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a sensorcoach recording file (CONTRACT.md section 1).

    The metadata lines are parsed here; the samples are parsed by pandas' C parser in one
    call, so reading takes about as long as ``pandas.read_csv`` alone. Gzip-compressed files
    (``.csv.gz``) are read transparently. Column order may vary, extra columns are ignored,
    whitespace around values and Windows line endings are tolerated, and an incomplete final
    line (a recording cut off by a crash) is dropped with a logged warning.

    Parameters
    ----------
    path : str or path-like
        The CSV (or gzip-compressed CSV) file.

    Returns
    -------
    Recording
        Samples as float64 arrays, metadata in file order (without the
        ``sensorcoach-recording`` format line), and ``path``.

    Raises
    ------
    RecordingError
        With a one-line message naming the file, what was expected and what was found: the
        file is missing, empty or has no samples; required columns are missing; only some
        gyroscope columns are present; a cell is not a number; values are NaN or infinite;
        ``time_s`` is not strictly increasing; the sample rate is implausible; accelerometer
        values are in no recognisable unit.
    """
    p = Path(path)
    _check_path(p)
    return _read_recording(p, *_read_head(p, _HEAD_BYTES))


def _read_recording(p: Path, raw: bytes, whole: bool) -> Recording:
    """:func:`read_recording` of ``p`` whose (decompressed) head ``raw`` was read already;
    ``whole``: ``raw`` is the complete content."""
    name = p.name
    if not raw.strip():
        raise _fail(name, "expected a recording, found an empty file")
    try:
        meta, header, data_offset, header_line_no = _parse_preamble(raw, name, not whole)
    except _NoHeader:
        if not whole:
            raw, whole = _read_bytes(p), True
        try:
            meta, header, data_offset, header_line_no = _parse_preamble(raw, name)
        except _NoHeader as exc:
            raise _fail(
                name,
                f"expected a header row with {', '.join(REQUIRED_COLS)}, found "
                + ("only comment lines" if exc.saw_lines else "an empty file"),
            ) from None

    sep = _guess_sep(header)
    fields = [f.lower() for f in _split_fields(header, sep)]
    index: dict[str, int] = {}
    for i, field in enumerate(fields):
        if field in ALL_COLS:
            if field in index:
                raise _fail(name, f"expected each column once, found {field} twice in the header")
            index[field] = i
    missing = [c for c in REQUIRED_COLS if c not in index]
    if missing:
        raise _fail(
            name,
            f"missing required column(s) {', '.join(missing)}: expected "
            f"{', '.join(REQUIRED_COLS)} (optional {', '.join(GYR_COLS)}), "
            f"found {_list(fields)}",
        )
    gyr_present = [c for c in GYR_COLS if c in index]
    if gyr_present and len(gyr_present) < len(GYR_COLS):
        gyr_missing = [c for c in GYR_COLS if c not in index]
        raise _fail(
            name,
            f"expected all of {', '.join(GYR_COLS)} or none, found only "
            f"{', '.join(gyr_present)} (missing {', '.join(gyr_missing)})",
        )
    has_gyro = bool(gyr_present)
    needed = {c: index[c] for c in (ALL_COLS if has_gyro else REQUIRED_COLS)}
    width = max(needed.values()) + 1
    first_data_line = header_line_no + 1

    # Fast path: let pandas read the file itself (much faster than from a buffer). Use the
    # in-memory path when we have it all anyway, when the last line was cut off, when the
    # preamble has line breaks pandas would count differently from us, or when the fast
    # path fails (the file may be growing under a live writer: retry on a snapshot).
    preamble = raw[:data_offset]
    odd_preamble = b"\x00" in preamble or preamble.replace(b"\r\n", b"").count(b"\r") > 0
    if not whole and (odd_preamble or _incomplete_tail(_read_tail(p), sep, width) is not None):
        raw, whole = _read_bytes(p), True

    def load(source: io.BytesIO | Path, skiprows: int, get_data: Callable[[], bytes]):
        columns = _parse_numeric(source, skiprows, name, sep, needed, first_data_line, get_data)
        acc = np.column_stack([columns[c] for c in ACC_COLS])
        gyr = np.column_stack([columns[c] for c in GYR_COLS]) if has_gyro else None
        return validate_samples(
            columns[TIME_COL], acc, gyr, meta, source=name,
            row_name=_LineLocator(get_data, first_data_line),
        )

    if not whole:
        before = p.stat()
        try:
            samples, meta = load(p, header_line_no, lambda: _read_bytes(p)[data_offset:])
        except RecordingError:
            after = p.stat()
            if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
                raise  # not a growing file: the snapshot would fail the same way
            raw, whole = _read_bytes(p), True
        else:
            return Recording(samples=samples, meta=meta, path=str(p))

    data = raw[data_offset:]
    cut = _incomplete_tail(data, sep, width)
    if cut is not None:
        logger.warning(
            "%s: dropped incomplete last line %d (%r); the recording was probably cut off",
            name, first_data_line + data.count(b"\n"),
            _short(data[cut:].decode("utf-8", errors="replace").strip(), 60),
        )
        data = data[:cut]
    if not data.strip():
        raise _fail(name, "expected samples after the header row, found none")
    samples, meta = load(io.BytesIO(data), 0, lambda: data)
    return Recording(samples=samples, meta=meta, path=str(p))


def _parse_numeric(
    source: io.BytesIO | Path,
    skiprows: int,
    name: str,
    sep: str,
    needed: dict[str, int],
    first_line_no: int,
    get_data: Callable[[], bytes],
) -> dict[str, np.ndarray]:
    """Parse the data rows with pandas' C parser into one float64 array per needed column."""
    import csv
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # dtype per needed column, no ``usecols`` and no ``encoding="latin-1"``: both
            # make pandas' C parser about twice as slow.
            frame = pd.read_csv(
                source,
                sep=sep,
                header=None,
                skiprows=skiprows,
                dtype={idx: np.float64 for idx in needed.values()},
                engine="c",
                skip_blank_lines=True,
                quoting=csv.QUOTE_NONE,
                encoding="utf-8",
                encoding_errors="replace",
                comment=None,
            )
    except pd.errors.EmptyDataError:
        raise _fail(name, "expected samples after the header row, found none") from None
    except (ValueError, OverflowError, TypeError, IndexError, MemoryError) as exc:
        detail = _describe_bad_rows(get_data(), first_line_no, sep, needed)
        if detail is None:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            detail = f"expected rows of numbers, found unparseable data ({_short(first, 100)})"
        raise _fail(name, detail) from None
    if frame.shape[0] == 0:
        raise _fail(name, "expected samples after the header row, found none")
    if any(idx not in frame.columns for idx in needed.values()):
        detail = _describe_bad_rows(get_data(), first_line_no, sep, needed)
        raise _fail(name, detail or "expected a value in every required column, found none")
    return {
        col: frame[idx].to_numpy(dtype=np.float64) for col, idx in needed.items()
    }


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def _header_lines(meta: Mapping[str, str], has_gyro: bool) -> str:
    lines = [f"# {FORMAT_KEY}: {FORMAT_VERSION}"]
    for key, value in meta.items():
        key_text = " ".join(str(key).split()).replace(":", "_")
        if not key_text or key_text == FORMAT_KEY:
            continue
        # one line per entry: line breaks become spaces; other spacing is the user's
        value_text = " ".join(str(value).splitlines()).strip()
        lines.append(f"# {key_text}: {value_text}")
    cols = ALL_COLS if has_gyro else (TIME_COL, *ACC_COLS)
    lines.append(",".join(cols))
    return "\n".join(lines) + "\n"


def _row_format(has_gyro: bool) -> str:
    parts = [f"%.{TIME_DECIMALS}f"] + [f"%.{ACC_DECIMALS}f"] * 3
    if has_gyro:
        parts += [f"%.{GYR_DECIMALS}f"] * 3
    return ",".join(parts) + "\n"


def _format_rows(samples: SampleChunk, has_gyro: bool) -> str:
    """Format samples as CSV rows (C-level ``%`` formatting per row, no per-cell Python)."""
    blocks = [samples.time_s[:, None], samples.acc_g]
    if has_gyro:
        if samples.gyr_dps is None:
            raise RecordingError("expected gyroscope samples for a recording with gyro, found none")
        blocks.append(samples.gyr_dps)
    return _format_table(np.hstack(blocks), _row_format(has_gyro))


def _format_table(table: np.ndarray, row_format: str) -> str:
    """The rows of ``table`` as CSV lines (see :func:`_row_format`)."""
    return "".join(map(row_format.__mod__, map(tuple, table.tolist())))


def write_recording(path: str | os.PathLike[str], recording: Recording) -> None:
    """Write a recording in the contract format (CONTRACT.md section 1).

    First line ``# sensorcoach-recording: 1``, then ``recording.meta`` as ``# key: value``
    lines in order, the header row, and one row per sample: ``time_s`` and accelerometer
    with 5 decimals, gyroscope with 4. The file is written to a temporary file next to
    ``path`` and renamed into place, so readers never see half a file. A path ending in
    ``.gz`` is gzip-compressed.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    recording : Recording
        What to write. Its samples are checked (shapes, finite, strictly increasing time,
        plausible rate) but never converted.

    Raises
    ------
    RecordingError
        If the samples would not read back as a valid recording.
    """
    p = Path(path)
    samples, _ = validate_samples(
        recording.samples.time_s,
        recording.samples.acc_g,
        recording.samples.gyr_dps,
        source=p.name,
        entering=False,
    )
    has_gyro = samples.gyr_dps is not None
    text = _header_lines(recording.meta, has_gyro) + _format_rows(samples, has_gyro)
    payload = text.encode("utf-8")
    if p.name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class RecordingWriter:
    """Stream samples of a live session into a recording file.

    The metadata lines and header are written when the writer is created; every
    :meth:`write` formats its chunk and hands it to the operating system at once (the
    Python buffer is flushed on every write, no ``fsync``). After a crash or ``kill -9``
    the file therefore lacks at most the chunk being written, and :func:`read_recording`
    drops a half-written last line. Gaps in the data simply show as gaps in ``time_s``;
    comments are only written at the top.

    Samples that would make the file unreadable (non-finite values, ``time_s`` not
    strictly greater than the previous sample) are dropped with a logged warning rather
    than ending a live session; :attr:`dropped_samples` counts them.

    Parameters
    ----------
    path : str or path-like
        Destination file (plain CSV; overwritten).
    meta : mapping of str to str
        Metadata lines, written in order after ``# sensorcoach-recording: 1``.
    has_gyro : bool
        Whether to write the gyroscope columns. Chunks must then carry ``gyr_dps``.

    Examples
    --------
    >>> with RecordingWriter("session.csv", {"mount": "hip"}, True) as w:  # doctest: +SKIP
    ...     for chunk in source:
    ...         w.write(chunk)
    """

    def __init__(self, path: str | os.PathLike[str], meta: Mapping[str, str], has_gyro: bool):
        self.path = Path(path)
        self.has_gyro = bool(has_gyro)
        self.samples_written = 0
        self.dropped_samples = 0
        self._last_time_s = -math.inf
        self._row_format = _row_format(self.has_gyro)
        if self.path.name.endswith(".gz"):
            raise RecordingError(
                f"{self.path.name}: expected a plain .csv path for live recording "
                "(gzip cannot be read back after a crash), found .gz"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: io.TextIOWrapper | None = open(  # noqa: SIM115 - closed in close()
            self.path, "w", encoding="utf-8", newline="\n"
        )
        self._fh.write(_header_lines(dict(meta), self.has_gyro))
        self._fh.flush()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fh is None

    def write(self, chunk: SampleChunk) -> None:
        """Append a chunk of samples and flush it to the operating system.

        Parameters
        ----------
        chunk : SampleChunk
            Consecutive samples; ``gyr_dps`` is required when ``has_gyro`` is true and
            ignored otherwise.

        Raises
        ------
        RecordingError
            If the writer is closed, or gyro data is required but missing, or the chunk's
            arrays have inconsistent shapes.
        """
        if self._fh is None:
            raise RecordingError(f"{self.path.name}: expected an open writer, found it closed")
        n = len(chunk)
        if n == 0:
            return
        t = np.asarray(chunk.time_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(chunk.acc_g, dtype=np.float64)
        blocks = [t[:, None], acc]
        if self.has_gyro:
            if chunk.gyr_dps is None:
                raise RecordingError(
                    f"{self.path.name}: expected gyroscope samples (has_gyro=True), found none"
                )
            blocks.append(np.asarray(chunk.gyr_dps, dtype=np.float64))
        shapes_ok = acc.shape == (t.shape[0], 3) and (
            not self.has_gyro or blocks[2].shape == (t.shape[0], 3)
        )
        if not shapes_ok:
            raise RecordingError(
                f"{self.path.name}: expected chunk arrays of shapes (n,), (n, 3), found "
                + ", ".join(str(b.shape) for b in blocks)
            )
        table = np.hstack(blocks)
        keep = np.isfinite(table).all(axis=1)
        # strictly increasing against the previous sample and within the chunk
        previous = np.concatenate([[self._last_time_s], np.where(keep, t, -np.inf)])
        running = np.maximum.accumulate(previous)
        keep &= t > running[:-1]
        if not keep.all():
            dropped = int((~keep).sum())
            self.dropped_samples += dropped
            logger.warning(
                "%s: dropped %d sample(s) with non-finite values or non-increasing time_s",
                self.path.name, dropped,
            )
            table = table[keep]
        if table.shape[0] == 0:
            return
        self._last_time_s = float(table[-1, 0])
        self._fh.write(_format_table(table, self._row_format))
        self._fh.flush()
        self.samples_written += table.shape[0]

    def flush(self) -> None:
        """Flush the Python buffer to the operating system (``write`` already does)."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Flush and close the file; further calls do nothing."""
        if self._fh is not None:
            try:
                self._fh.flush()
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
