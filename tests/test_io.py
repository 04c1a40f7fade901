"""Tests for the contract recording file: reading, validation, writing, streaming."""

from __future__ import annotations

import gzip
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorcoach.consts import STANDARD_GRAVITY_MPS2
from sensorcoach.errors import RecordingError
from sensorcoach.io.recording import (
    RecordingWriter,
    read_recording,
    recording_from_arrays,
    validate_samples,
    write_recording,
)
from sensorcoach.types import Recording, SampleChunk

REPO = Path(__file__).resolve().parents[1]
HEADER6 = "time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"
HEADER3 = "time_s,ax_g,ay_g,az_g"


def make_arrays(n: int = 500, rate_hz: float = 100.0, gyro: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = 4562.43 + np.arange(n) / rate_hz
    acc = rng.normal(0.0, 0.05, (n, 3)) + np.array([0.01, -0.91, -0.38])
    gyr = rng.normal(0.0, 30.0, (n, 3)) if gyro else None
    return t, acc, gyr


def rows_text(n: int = 300, rate_hz: float = 100.0, gyro: bool = True) -> str:
    t, acc, gyr = make_arrays(n, rate_hz, gyro)
    lines = []
    for i in range(n):
        cells = [f"{t[i]:.5f}", *(f"{v:.5f}" for v in acc[i])]
        if gyr is not None:
            cells += [f"{v:.4f}" for v in gyr[i]]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def write_text(tmp_path: Path, text: str | bytes, name: str = "rec.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, str):
        text = text.encode()
    p.write_bytes(text)
    return p


def assert_one_line_error(exc: RecordingError, *words: str) -> None:
    msg = str(exc)
    assert "\n" not in msg and "\r" not in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in {msg!r}"


# ---------------------------------------------------------------------------------------
# round trip and format
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_round_trip_exact_to_written_precision(tmp_path, gyro, suffix):
    t, acc, gyr = make_arrays(gyro=gyro)
    meta = {"mount": "hip", "sample_rate_hz": "100", "sensor": "stub: v1", "zzz_custom": "x"}
    rec = recording_from_arrays(t, acc, gyr, meta)
    path = tmp_path / f"r{suffix}"
    write_recording(path, rec)
    back = read_recording(path)
    assert back.meta == meta
    assert list(back.meta) == list(meta)
    assert back.path == str(path)
    np.testing.assert_allclose(back.samples.time_s, np.round(t, 5), rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.samples.acc_g, np.round(acc, 5), rtol=0, atol=1e-12)
    if gyro:
        np.testing.assert_allclose(back.samples.gyr_dps, np.round(gyr, 4), rtol=0, atol=1e-12)
    else:
        assert back.samples.gyr_dps is None
    assert back.samples.time_s.dtype == np.float64
    # writing what was read gives the same file
    path2 = tmp_path / f"r2{suffix}"
    write_recording(path2, back)
    read = gzip.decompress if suffix.endswith(".gz") else (lambda b: b)
    assert read(path.read_bytes()) == read(path2.read_bytes())


def test_written_file_layout(tmp_path):
    t = np.array([4562.43, 4562.44])
    acc = np.array([[0.010011, -0.910404, -0.381204], [0.0, -0.9, -0.4]])
    gyr = np.array([[0.13771, 0.09182, -0.06121], [1.0, 2.0, -3.0]])
    rec = Recording(SampleChunk(t, acc, gyr), {"mount": "hip", "sample_rate_hz": "100"})
    path = tmp_path / "r.csv"
    write_recording(path, rec)
    assert path.read_text().splitlines() == [
        "# sensorcoach-recording: 1",
        "# mount: hip",
        "# sample_rate_hz: 100",
        HEADER6,
        "4562.43000,0.01001,-0.91040,-0.38120,0.1377,0.0918,-0.0612",
        "4562.44000,0.00000,-0.90000,-0.40000,1.0000,2.0000,-3.0000",
    ]


def test_write_sanitises_metadata_and_skips_format_key(tmp_path):
    t, acc, _ = make_arrays(gyro=False)
    rec = Recording(SampleChunk(t, acc), {"sensorcoach-recording": "7", "plan": "a\nb", "k:x": "v"})
    path = tmp_path / "r.csv"
    write_recording(path, rec)
    lines = path.read_text().splitlines()
    assert lines[:4] == ["# sensorcoach-recording: 1", "# plan: a b", "# k_x: v", HEADER3]


def test_write_refuses_invalid_samples(tmp_path):
    t, acc, _ = make_arrays(gyro=False)
    t[5] = t[4]
    with pytest.raises(RecordingError) as err:
        write_recording(tmp_path / "bad.csv", Recording(SampleChunk(t, acc)))
    assert_one_line_error(err.value, "bad.csv", "strictly increasing")
    assert not (tmp_path / "bad.csv").exists()


def test_contract_example_reads(tmp_path):
    text = textwrap.dedent(
        """\
        # sensorcoach-recording: 1
        # mount: hip
        # sample_rate_hz: 100
        # sensor: sensorcoach-stub 0.1 (any free text)
        """
    ) + HEADER6 + "\n" + rows_text(300)
    rec = read_recording(write_text(tmp_path, text))
    assert rec.meta == {
        "mount": "hip", "sample_rate_hz": "100", "sensor": "sensorcoach-stub 0.1 (any free text)"
    }
    assert rec.mount == "hip" and rec.has_gyro and len(rec.samples) == 300
    assert rec.samples.acc_g.shape == (300, 3) and rec.samples.gyr_dps.shape == (300, 3)


def test_tolerates_whitespace_crlf_bom_column_order_and_extra_columns(tmp_path):
    base = read_recording(write_text(tmp_path, HEADER6 + "\n" + rows_text(300), "base.csv"))
    lines = rows_text(300).splitlines()
    out = ["\ufeff# mount :  bar  ", "", "  note , az_g ,time_s, ax_g,ay_g , gz_dps,gx_dps,gy_dps"]
    for i, line in enumerate(lines):
        t, ax, ay, az, gx, gy, gz = line.split(",")
        out.append(f"hello {i}, {az} ,{t},  {ax},{ay} ,{gz},{gx},{gy}  ")
    rec = read_recording(write_text(tmp_path, "\r\n".join(out) + "\r\n"))
    assert rec.meta == {"mount": "bar"}
    np.testing.assert_array_equal(rec.samples.time_s, base.samples.time_s)
    np.testing.assert_array_equal(rec.samples.acc_g, base.samples.acc_g)
    np.testing.assert_array_equal(rec.samples.gyr_dps, base.samples.gyr_dps)


def test_blank_lines_and_comment_without_colon(tmp_path):
    text = "# sensorcoach-recording: 1\n# just a note\n\n" + HEADER3 + "\n\n" + rows_text(
        300, gyro=False
    ).replace("\n", "\n\n", 3)
    rec = read_recording(write_text(tmp_path, text))
    assert len(rec.samples) == 300 and not rec.has_gyro and rec.meta == {}


def test_large_file_fast_path_equals_in_memory_path(tmp_path):
    # > 64 KiB so the reader hands the path to pandas; gz copy goes through memory
    t, acc, gyr = make_arrays(n=3000)
    rec = recording_from_arrays(t, acc, gyr, {"mount": "hip"})
    write_recording(tmp_path / "big.csv", rec)
    write_recording(tmp_path / "big.csv.gz", rec)
    assert (tmp_path / "big.csv").stat().st_size > 65536
    a, b = read_recording(tmp_path / "big.csv"), read_recording(tmp_path / "big.csv.gz")
    np.testing.assert_array_equal(a.samples.acc_g, b.samples.acc_g)
    np.testing.assert_array_equal(a.samples.time_s, b.samples.time_s)


def test_short_recording_warns_but_reads(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="sensorcoach"):
        rec = read_recording(write_text(tmp_path, HEADER3 + "\n" + rows_text(50, gyro=False)))
    assert len(rec.samples) == 50
    assert any("only" in r.message and "s of data" in r.message for r in caplog.records)


# ---------------------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------------------
def test_mps2_converted_to_g_with_log_and_meta(tmp_path, caplog):
    t, acc, gyr = make_arrays()
    a = acc * STANDARD_GRAVITY_MPS2
    text = HEADER6 + "\n" + "".join(
        f"{t[i]:.5f},{a[i, 0]:.6f},{a[i, 1]:.6f},{a[i, 2]:.6f},1,2,3\n" for i in range(len(t))
    )
    with caplog.at_level(logging.WARNING, logger="sensorcoach"):
        rec = read_recording(write_text(tmp_path, text))
    assert rec.meta["units_converted"] == "m/s^2->g"
    np.testing.assert_allclose(rec.samples.acc_g, acc, atol=1e-6)
    np.testing.assert_array_equal(rec.samples.gyr_dps[0], [1, 2, 3])  # gyro never converted
    assert any("m/s^2" in r.message for r in caplog.records)


def test_mg_converted_to_g(caplog):
    t, acc, _ = make_arrays(gyro=False)
    with caplog.at_level(logging.WARNING, logger="sensorcoach"):
        rec = recording_from_arrays(t, acc * 1000.0)
    assert rec.meta["units_converted"] == "mg->g"
    np.testing.assert_allclose(rec.samples.acc_g, acc)


@pytest.mark.parametrize("scale", [0.0, 0.1, 100.0, 1e6])
def test_unrecognised_acc_units_refused(scale):
    t, acc, _ = make_arrays(gyro=False)
    with pytest.raises(RecordingError) as err:
        recording_from_arrays(t, acc * scale)
    assert_one_line_error(err.value, "expected accelerometer values in g", "found median |a|")


def test_g_values_untouched():
    t, acc, _ = make_arrays(gyro=False)
    rec = recording_from_arrays(t, acc, meta={"mount": "hip"})
    assert "units_converted" not in rec.meta
    np.testing.assert_array_equal(rec.samples.acc_g, acc)


# ---------------------------------------------------------------------------------------
# errors: one line, naming the file, what was expected and what was found
# ---------------------------------------------------------------------------------------
def _rows(n=300, gyro=True):
    return rows_text(n, gyro=gyro)


ERROR_CASES = {
    "empty": (b"", ["empty file"]),
    "whitespace_only": (b"  \n\r\n\n", ["empty file"]),
    "only_comments": (b"# mount: hip\n# sensor: x\n", ["header row", "only comment lines"]),
    "header_only": ((HEADER6 + "\n").encode(), ["expected samples", "found none"]),
    "header_only_no_newline": (HEADER6.encode(), ["expected samples", "found none"]),
    "missing_columns": (
        (b"time_s,ax_g,foo\n1,2,3\n"),
        ["missing required column(s) ay_g, az_g", "found time_s, ax_g, foo"],
    ),
    "no_header": (_rows(5).encode(), ["missing required column", "found 4562.43000"]),
    "partial_gyro": (
        ("time_s,ax_g,ay_g,az_g,gx_dps\n" + "1,0,0,1,0\n").encode(),
        ["expected all of gx_dps, gy_dps, gz_dps or none", "found only gx_dps",
         "missing gy_dps, gz_dps"],
    ),
    "duplicate_column": (
        (b"time_s,ax_g,ay_g,az_g,ax_g\n1,0,0,1,0\n"), ["each column once", "ax_g twice"]
    ),
    "non_numeric": (
        (HEADER6 + "\n" + _rows(10) + "4563.0,abc,0,1,0,0,0\n").encode(),
        ["expected a number in column ax_g", "found 'abc'", "line 12"],
    ),
    "nan": (
        (HEADER6 + "\n" + _rows(3) + "4563.0,nan,0,1,0,0,0\n" + "4563.01,0,0,1,0,0,0\n").encode(),
        ["expected finite numbers", "NaN", "ax_g", "line 5"],
    ),
    "empty_cell": (
        (HEADER6 + "\n" + _rows(3) + "4563.0,0,,1,0,0,0\n" + "4563.01,0,0,1,0,0,0\n").encode(),
        ["expected finite numbers", "empty cell", "ay_g", "line 5"],
    ),
    "inf": (
        (HEADER6 + "\n" + _rows(3) + "4563.0,0,0,1,0,inf,0\n" + "4563.01,0,0,1,0,0,0\n").encode(),
        ["expected finite numbers", "inf", "gy_dps", "line 5"],
    ),
    "duplicate_time": (
        (HEADER3 + "\n1.00,0,0,1\n1.01,0,0,1\n1.01,0,0,1\n1.02,0,0,1\n").encode(),
        ["strictly increasing time_s", "duplicate", "line 4", "1.01 then 1.01"],
    ),
    "decreasing_time": (
        (HEADER3 + "\n1.00,0,0,1\n1.01,0,0,1\n1.02,0,0,1\n1.015,0,0,1\n").encode(),
        ["strictly increasing time_s", "decreasing", "line 5", "1.02 then 1.015"],
    ),
    "rate_too_low": (
        (HEADER3 + "\n" + "".join(f"{i}.0,0,0,1\n" for i in range(30))).encode(),
        ["sample rate between 10 and 2000 Hz", "found 1 Hz"],
    ),
    "rate_too_high": (
        (HEADER3 + "\n" + "".join(f"{i * 1e-4:.4f},0,0,1\n" for i in range(30))).encode(),
        ["sample rate between 10 and 2000 Hz", "found 1e+04 Hz"],
    ),
    "one_sample": ((HEADER3 + "\n1.0,0,0,1\n").encode(), ["at least 2 samples", "found 1"]),
    "binary_garbage": (
        b"\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        ["missing required column"],
    ),
    "too_many_fields": (
        (HEADER3 + "\n1.00,0,0,1\n1.01,0,0,1,5,6\n1.02,0,0,1\n").encode(),
        ["expected 4 fields per row", "found 6", "line 3"],
    ),
    "too_few_fields_first_row": (
        (HEADER3 + "\n1.00,0,0\n1.01,0,0,1\n").encode(),
        ["expected at least 4 fields per row", "found 3", "line 2"],
    ),
    "comment_in_data": (
        (HEADER3 + "\n1.00,0,0,1\n# gap: 3 s\n1.02,0,0,1\n").encode(),
        ["comment lines only before the header row", "line 3"],
    ),
    "bad_gzip": (b"\x1f\x8b\x08\x00garbage", ["expected valid gzip data"]),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_cases_one_line_with_expected_and_found(tmp_path, case):
    content, words = ERROR_CASES[case]
    path = write_text(tmp_path, content, f"{case}.csv")
    with pytest.raises(RecordingError) as err:
        read_recording(path)
    assert_one_line_error(err.value, f"{case}.csv", *words)


def test_error_line_numbers_in_large_file(tmp_path):
    # the fast path (pandas reads the file itself) must still name the right line
    n = 3000
    text = "# mount: hip\n\n" + HEADER6 + "\n" + rows_text(n)
    lines = text.splitlines()
    lines[2000] = lines[2000].replace(lines[2000].split(",")[2], "nan")
    path = write_text(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size > 65536
    with pytest.raises(RecordingError) as err:
        read_recording(path)
    assert_one_line_error(err.value, "line 2001", "ay_g")
    lines[2000] = lines[2000].replace("nan", "x1")
    path = write_text(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(RecordingError) as err:
        read_recording(path)
    assert_one_line_error(err.value, "line 2001", "found 'x1'")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(RecordingError) as err:
        read_recording(tmp_path / "nope.csv")
    assert_one_line_error(err.value, "nope.csv", "expected a recording file", "found nothing")
    with pytest.raises(RecordingError) as err:
        read_recording(tmp_path)
    assert_one_line_error(err.value, "found a directory")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((np.arange(5.0), np.zeros((5, 2))), ["shape (5, 3)", "found shape (5, 2)"]),
        ((np.arange(5.0), np.zeros((5, 3)), np.zeros((4, 3))), ["angular rate", "(4, 3)"]),
        ((np.zeros((5, 1)), np.zeros((5, 3))), ["time_s of shape (n,)"]),
        ((np.array([]), np.zeros((0, 3))), ["found none"]),
        ((["a", "b"], np.zeros((2, 3))), ["numeric arrays"]),
    ],
)
def test_recording_from_arrays_shape_errors(args, words):
    with pytest.raises(RecordingError) as err:
        recording_from_arrays(*args)
    assert_one_line_error(err.value, "arrays", *words)


def test_validate_samples_is_shared_and_names_rows():
    t = np.array([0.0, 0.01, 0.02, 0.02])
    with pytest.raises(RecordingError) as err:
        validate_samples(t, np.tile([0, 0, 1.0], (4, 1)), source="src")
    assert_one_line_error(err.value, "src:", "row 4")


# ---------------------------------------------------------------------------------------
# truncated files
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_rows", [300, 3000])  # in-memory and fast (path) reading
def test_truncated_last_line_dropped_with_warning(tmp_path, caplog, n_rows):
    full = "# mount: hip\n" + HEADER6 + "\n" + rows_text(n_rows)
    whole = read_recording(write_text(tmp_path, full, "whole.csv"))
    cut = full[: len(full) - 30]  # cut inside the last row
    assert not cut.endswith("\n")
    with caplog.at_level(logging.WARNING, logger="sensorcoach"):
        rec = read_recording(write_text(tmp_path, cut, "cut.csv"))
    assert len(rec.samples) == n_rows - 1
    np.testing.assert_array_equal(rec.samples.acc_g, whole.samples.acc_g[:-1])
    assert any("incomplete last line" in r.message for r in caplog.records)


def test_complete_last_line_without_newline_kept(tmp_path):
    full = HEADER6 + "\n" + rows_text(300)
    rec = read_recording(write_text(tmp_path, full.rstrip("\n")))
    assert len(rec.samples) == 300


def test_truncated_inside_first_row_means_no_samples(tmp_path):
    with pytest.raises(RecordingError) as err:
        read_recording(write_text(tmp_path, HEADER6 + "\n4562.43,0.1"))
    assert_one_line_error(err.value, "expected samples", "found none")


# ---------------------------------------------------------------------------------------
# streaming writer
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("gyro", [True, False])
def test_streaming_writer_matches_write_recording(tmp_path, gyro):
    t, acc, gyr = make_arrays(n=1000, gyro=gyro)
    whole = SampleChunk(t, acc, gyr)
    meta = {"mount": "hip", "sample_rate_hz": "100"}
    rng = np.random.default_rng(1)
    with RecordingWriter(tmp_path / "live.csv", meta, has_gyro=gyro) as writer:
        i = 0
        while i < len(whole):
            k = int(rng.integers(0, 40))
            writer.write(whole.slice(i, i + k))
            i += k
    assert writer.closed and writer.samples_written == 1000 and writer.dropped_samples == 0
    write_recording(tmp_path / "batch.csv", Recording(whole, meta))
    assert (tmp_path / "live.csv").read_bytes() == (tmp_path / "batch.csv").read_bytes()
    back = read_recording(tmp_path / "live.csv")
    np.testing.assert_allclose(back.samples.acc_g, np.round(acc, 5), atol=1e-12)


def test_streaming_writer_is_readable_while_open(tmp_path):
    t, acc, gyr = make_arrays(n=400)
    writer = RecordingWriter(tmp_path / "live.csv", {"mount": "hip"}, has_gyro=True)
    try:
        writer.write(SampleChunk(t[:250], acc[:250], gyr[:250]))
        assert len(read_recording(tmp_path / "live.csv").samples) == 250  # no flush() needed
    finally:
        writer.close()
    writer.close()  # idempotent


def test_streaming_writer_drops_bad_samples(tmp_path, caplog):
    t, acc, gyr = make_arrays(n=400)
    acc[10, 1] = np.nan
    with caplog.at_level(logging.WARNING, logger="sensorcoach"):
        with RecordingWriter(tmp_path / "live.csv", {}, has_gyro=True) as writer:
            writer.write(SampleChunk(t[:200], acc[:200], gyr[:200]))
            writer.write(SampleChunk(t[150:400], acc[150:400], gyr[150:400]))  # overlap
    assert writer.dropped_samples == 1 + 50
    rec = read_recording(tmp_path / "live.csv")
    assert len(rec.samples) == 399
    assert any("dropped" in r.message for r in caplog.records)


def test_streaming_writer_errors(tmp_path):
    t, acc, _ = make_arrays(n=10, gyro=False)
    writer = RecordingWriter(tmp_path / "live.csv", {}, has_gyro=True)
    with pytest.raises(RecordingError, match="gyroscope"):
        writer.write(SampleChunk(t, acc))
    writer.close()
    with pytest.raises(RecordingError, match="closed"):
        writer.write(SampleChunk(t, acc, acc))
    with pytest.raises(RecordingError, match="plain .csv"):
        RecordingWriter(tmp_path / "live.csv.gz", {}, has_gyro=False)


CHILD = r"""
import sys, time
import numpy as np
from sensorcoach.io.recording import RecordingWriter
from sensorcoach.types import SampleChunk
path = sys.argv[1]
rate_hz = 200.0
chunk = 10
with RecordingWriter(path, {"mount": "hip", "sample_rate_hz": "200"}, has_gyro=True) as w:
    i = 0
    while True:
        idx = np.arange(i, i + chunk)
        t = 100.0 + idx / rate_hz
        acc = np.column_stack([np.sin(idx), np.cos(idx), np.full(chunk, 1.0)]) * 0.5
        gyr = np.column_stack([idx % 7, idx % 11, idx % 13]).astype(float)
        w.write(SampleChunk(t, acc, gyr))
        i += chunk
        print(f"{t[-1]:.5f}", flush=True)
        time.sleep(chunk / rate_hz)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writer_survives_sigkill(tmp_path):
    path = tmp_path / "killed.csv"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        reported = []
        deadline = time.monotonic() + 15
        while len(reported) < 40 and time.monotonic() < deadline:  # ~2 s of data
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(float(line))
        assert len(reported) >= 40, "child did not start writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        reported += [float(x) for x in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    rec = read_recording(path)
    t = rec.samples.time_s
    assert reported[-1] - t[-1] <= 1.0  # at most ~1 s missing
    n = len(t)
    idx = np.arange(n)
    np.testing.assert_allclose(t, np.round(100.0 + idx / 200.0, 5), atol=1e-9)
    expected_acc = np.column_stack([np.sin(idx), np.cos(idx), np.ones(n)]) * 0.5
    np.testing.assert_allclose(rec.samples.acc_g, np.round(expected_acc, 5), atol=1e-12)
    assert rec.meta == {"mount": "hip", "sample_rate_hz": "200"}


# ---------------------------------------------------------------------------------------
# property tests
# ---------------------------------------------------------------------------------------
FAST = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _read_or_clean_error(path: Path) -> None:
    try:
        rec = read_recording(path)
    except RecordingError as exc:
        assert "\n" not in str(exc)
        return
    n = len(rec.samples)
    assert n >= 2 and rec.samples.acc_g.shape == (n, 3)
    assert np.all(np.diff(rec.samples.time_s) > 0)
    assert np.isfinite(rec.samples.acc_g).all()


@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_give_recording_or_recording_error(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    _read_or_clean_error(path)


_ALPHABET = "0123456789.,-+eE#: \t\r\nnaifNAx_\"'\x00"


@FAST
@given(
    header=st.sampled_from(
        [HEADER3, HEADER6, "time_s,az_g,ay_g,ax_g,extra", "time_s;ax_g;ay_g;az_g"]
    ),
    body=st.text(alphabet=_ALPHABET, max_size=300),
    prefix=st.sampled_from(["", "# sensorcoach-recording: 1\n", "# mount: hip\n\n"]),
)
def test_near_valid_text_gives_recording_or_recording_error(tmp_path, header, body, prefix):
    path = tmp_path / "fuzz.csv"
    path.write_bytes((prefix + header + "\n" + body).encode("utf-8", errors="surrogatepass"))
    _read_or_clean_error(path)


_BIG_VALID = "# mount: hip\n" + HEADER6 + "\n" + rows_text(1500)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tail=st.text(alphabet=_ALPHABET, max_size=200),
    middle=st.text(alphabet=_ALPHABET, max_size=40),
    where=st.integers(0, 1499),
)
def test_large_file_with_garbage_gives_recording_or_recording_error(tmp_path, tail, middle, where):
    # > 64 KiB: exercises the fast path where pandas reads the file itself
    lines = _BIG_VALID.splitlines(keepends=True)
    lines.insert(2 + where, middle)
    path = tmp_path / "fuzz_big.csv"
    path.write_bytes(("".join(lines) + tail).encode("utf-8", errors="surrogatepass"))
    _read_or_clean_error(path)


@FAST
@given(
    n=st.integers(2, 60),
    rate_hz=st.floats(25.0, 400.0),
    t0=st.floats(-1e5, 1e5),
    gyro=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    meta=st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(
            lambda k: k != "sensorcoach-recording"
        ),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .:/_-]{0,20}[A-Za-z0-9]", fullmatch=True),
        max_size=4,
    ),
)
def test_valid_arrays_round_trip(tmp_path, n, rate_hz, t0, gyro, seed, meta):
    rng = np.random.default_rng(seed)
    t = t0 + np.cumsum(rng.uniform(0.6, 1.4, n)) / rate_hz
    acc = rng.uniform(-0.5, 0.5, (n, 3)) + np.array([0.0, 0.0, 1.0])
    gyr = rng.uniform(-2000, 2000, (n, 3)) if gyro else None
    logging.getLogger("sensorcoach").disabled = True  # short-recording warnings
    try:
        rec = recording_from_arrays(t, acc, gyr, meta)
        write_recording(tmp_path / "rt.csv", rec)
        back = read_recording(tmp_path / "rt.csv")
    finally:
        logging.getLogger("sensorcoach").disabled = False
    assert back.meta == meta
    np.testing.assert_allclose(back.samples.time_s, np.round(t, 5), rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.samples.acc_g, np.round(acc, 5), rtol=0, atol=1e-12)
    if gyro:
        np.testing.assert_allclose(back.samples.gyr_dps, np.round(gyr, 4), rtol=0, atol=1e-9)
