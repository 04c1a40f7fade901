"""Tests for foreign-format readers (phyphox, MetaMotion) and the ``load_recording`` entry."""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorcoach.consts import STANDARD_GRAVITY_MPS2
from sensorcoach.errors import RecordingError
from sensorcoach.io import (
    load_recording,
    read_metamotion,
    read_phyphox,
    recording_from_arrays,
    write_recording,
)

DATA = Path(__file__).parent / "data"
PHYPHOX = DATA / "phyphox_export"
PHY_ACC = PHYPHOX / "Accelerometer.csv"
PHY_GYR = PHYPHOX / "Gyroscope.csv"
MM = DATA / "metamotion"
MM_ACC = next(MM.glob("*_Accelerometer.csv"))
MM_GYR = next(MM.glob("*_Gyroscope.csv"))


@pytest.fixture(autouse=True)
def _quiet_sensorcoach_log(caplog):
    caplog.set_level(logging.INFO, logger="sensorcoach")


def phyphox_table(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1)


def one_line(exc: RecordingError, *words: str) -> None:
    msg = str(exc)
    assert "\n" not in msg
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in {msg!r}"


# ---------------------------------------------------------------------------------------
# phyphox
# ---------------------------------------------------------------------------------------
def test_phyphox_accelerometer_file():
    rec = load_recording(str(PHY_ACC))
    raw = phyphox_table(PHY_ACC)
    np.testing.assert_allclose(rec.samples.time_s, raw[:, 0])
    np.testing.assert_allclose(rec.samples.acc_g, raw[:, 1:4] / STANDARD_GRAVITY_MPS2)
    assert rec.samples.gyr_dps is None
    assert rec.meta["sensor"] == "phyphox"
    assert "units_converted" not in rec.meta  # an expected conversion, not a surprise
    assert abs(np.median(np.linalg.norm(rec.samples.acc_g, axis=1)) - 1.0) < 0.05


def test_phyphox_folder_merges_gyro_by_interpolation():
    rec = load_recording(PHYPHOX)
    gyr_raw = phyphox_table(PHY_GYR)
    t = rec.samples.time_s
    # trimmed to the time both sensors cover
    assert t[0] >= gyr_raw[0, 0] and t[-1] <= gyr_raw[-1, 0]
    assert len(t) == 139
    # fixture gyro is linear in time (0.1 t, -0.2 t, 0.05 rad/s): interpolation is exact
    expected = np.degrees(np.column_stack([0.1 * t, -0.2 * t, np.full_like(t, 0.05)]))
    np.testing.assert_allclose(rec.samples.gyr_dps, expected, rtol=1e-6, atol=1e-6)
    assert rec.meta["started_at"].startswith("2023-11-14T22:13:20")
    assert rec.path == str(PHYPHOX)


def test_phyphox_zip_and_two_paths_equal_folder(tmp_path):
    folder = load_recording(PHYPHOX)
    zpath = tmp_path / "Acceleration with g 2023-11-14 22-13-20.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in PHYPHOX.rglob("*"):
            if f.is_file():
                zf.write(f, f.relative_to(PHYPHOX).as_posix())
    for rec in (load_recording(zpath), load_recording([PHY_GYR, PHY_ACC]), read_phyphox(zpath)):
        np.testing.assert_array_equal(rec.samples.time_s, folder.samples.time_s)
        np.testing.assert_array_equal(rec.samples.gyr_dps, folder.samples.gyr_dps)


@pytest.mark.parametrize(
    ("sep", "decimal"), [(";", ","), ("\t", "."), ("\t", ","), (";", ".")]
)
def test_phyphox_separators_and_decimal_comma(tmp_path, sep, decimal):
    lines = PHY_ACC.read_text().splitlines()
    out = []
    for line in lines:
        cells = line.split(",")
        if decimal == ",":
            cells = [c.replace(".", ",") for c in cells]
        out.append(sep.join(cells))
    path = tmp_path / "Raw Data.csv"
    path.write_text("\n".join(out) + "\n")
    rec = load_recording(path)
    base = load_recording(PHY_ACC)
    np.testing.assert_allclose(rec.samples.acc_g, base.samples.acc_g)
    np.testing.assert_allclose(rec.samples.time_s, base.samples.time_s)


def test_phyphox_combined_file_with_gyro_columns(tmp_path):
    t = np.arange(300) * 0.01
    cols = [
        t, 0.1 + 0 * t, 0.2 + 0 * t, 9.7 + 0 * t, 9.7 + 0 * t,
        0.5 + 0 * t, -0.5 + 0 * t, 0 * t, 0.7 + 0 * t,
    ]
    header = (
        "Time (s)\tAcceleration x (m/s^2)\tAcceleration y (m/s^2)\tAcceleration z (m/s^2)\t"
        "Absolute acceleration (m/s^2)\tGyroscope x (rad/s)\tGyroscope y (rad/s)\t"
        "Gyroscope z (rad/s)\tGyroscope magnitude (rad/s)"
    )
    path = tmp_path / "combined.csv"
    np.savetxt(path, np.column_stack(cols), delimiter="\t", header=header, comments="")
    rec = load_recording(path)
    np.testing.assert_allclose(rec.samples.gyr_dps[0], np.degrees([0.5, -0.5, 0.0]))
    np.testing.assert_allclose(rec.samples.acc_g[0], np.array([0.1, 0.2, 9.7]) / 9.80665)


def test_phyphox_translated_column_names(tmp_path):
    text = PHY_ACC.read_text().replace("Time", "Zeit").replace("Acceleration", "Beschleunigung")
    path = tmp_path / "Rohdaten.csv"
    path.write_text(text)
    np.testing.assert_allclose(
        load_recording(path).samples.acc_g, load_recording(PHY_ACC).samples.acc_g
    )


def test_phyphox_linear_acceleration_refused(tmp_path):
    text = PHY_ACC.read_text().replace("Acceleration x", "Linear Acceleration x")
    text = text.replace("Acceleration y", "Linear Acceleration y")
    text = text.replace("Acceleration z", "Linear Acceleration z")
    path = tmp_path / "Raw Data.csv"
    path.write_text(text)
    with pytest.raises(RecordingError) as err:
        load_recording(path)
    one_line(err.value, "Raw Data.csv", "Acceleration with g", "Acceleration without g")


def test_phyphox_duplicate_timestamp_repaired_with_warning(tmp_path, caplog):
    lines = PHY_ACC.read_text().splitlines()
    lines.insert(20, lines[19])  # a repeated sample
    lines[30], lines[31] = lines[31], lines[30]  # two samples out of order
    path = tmp_path / "Raw Data.csv"
    path.write_text("\n".join(lines) + "\n")
    rec = load_recording(path)
    assert len(rec.samples) == 150
    assert np.all(np.diff(rec.samples.time_s) > 0)
    assert any("repeated" in r.message for r in caplog.records)


def test_phyphox_gyro_only_refused():
    with pytest.raises(RecordingError) as err:
        load_recording(PHY_GYR)
    one_line(err.value, "Gyroscope.csv", "expected a phyphox accelerometer export")


def test_phyphox_non_numeric_cell(tmp_path):
    lines = PHY_ACC.read_text().splitlines()
    lines[5] = lines[5].replace("E", "Q", 2)
    path = tmp_path / "Raw Data.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError) as err:
        load_recording(path)
    one_line(err.value, "Raw Data.csv", "expected rows of numbers")


# ---------------------------------------------------------------------------------------
# MetaMotion
# ---------------------------------------------------------------------------------------
def _mm_table(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 2, 3, 4, 5))


@pytest.mark.parametrize("how", ["pair", "reversed", "folder", "read_metamotion"])
def test_metamotion_pair(how):
    if how == "pair":
        rec = load_recording([str(MM_ACC), str(MM_GYR)])
    elif how == "reversed":
        rec = load_recording([MM_GYR, MM_ACC])
    elif how == "folder":
        rec = load_recording(MM)
    else:
        rec = read_metamotion([MM_ACC, MM_GYR])
    acc = _mm_table(MM_ACC)
    t_acc = (acc[:, 0] - acc[0, 0]) / 1000.0
    keep = (t_acc >= 0.004 - 1e-9) & (t_acc <= 0.004 + 2.39 + 1e-9)
    np.testing.assert_allclose(rec.samples.time_s, t_acc[keep])
    np.testing.assert_allclose(rec.samples.acc_g, acc[keep, 2:5])
    # fixture gyro is linear in epoch time: x = 10 s, y = -5 s, z = 1.5 deg/s
    s = rec.samples.time_s
    np.testing.assert_allclose(
        rec.samples.gyr_dps, np.column_stack([10 * s, -5 * s, np.full_like(s, 1.5)]), atol=1e-9
    )
    assert rec.meta["sensor"] == "MetaMotion"
    assert rec.meta["started_at"].startswith("2023-11-14T22:13:20")


def test_metamotion_accelerometer_only():
    rec = load_recording(MM_ACC)
    assert len(rec.samples) == 250 and rec.samples.gyr_dps is None
    assert rec.samples.time_s[0] == 0.0


def test_metamotion_elapsed_only(tmp_path):
    for src in (MM_ACC, MM_GYR):
        lines = src.read_text().splitlines()
        (tmp_path / src.name).write_text(
            "\n".join(",".join(line.split(",")[2:]) for line in lines) + "\n"
        )
    rec = load_recording(tmp_path)
    assert rec.has_gyro and len(rec.samples) > 200


def test_metamotion_two_accelerometers_refused(tmp_path):
    shutil.copy(MM_ACC, tmp_path / "a_Accelerometer.csv")
    shutil.copy(MM_ACC, tmp_path / "b_Accelerometer.csv")
    with pytest.raises(RecordingError) as err:
        load_recording(tmp_path)
    one_line(err.value, "expected one MetaMotion accelerometer file", "found 2")


def test_metamotion_no_overlap_refused(tmp_path):
    lines = MM_GYR.read_text().splitlines()
    shifted = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[0] = str(int(cells[0]) + 100_000)
        shifted.append(",".join(cells))
    gyr = tmp_path / "g_Gyroscope.csv"
    gyr.write_text("\n".join(shifted) + "\n")
    with pytest.raises(RecordingError) as err:
        load_recording([MM_ACC, gyr])
    one_line(err.value, "overlap")


# ---------------------------------------------------------------------------------------
# load_recording dispatch
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["rec.csv", "rec.csv.gz", "rec.txt"])
def test_load_recording_contract(tmp_path, name):
    t = np.arange(300) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (300, 1))
    path = tmp_path / name
    write_recording(path, recording_from_arrays(t, acc, meta={"mount": "bar"}))
    rec = load_recording(path)
    assert rec.mount == "bar" and len(rec.samples) == 300 and rec.path == str(path)


def test_load_recording_contract_in_folder(tmp_path):
    t = np.arange(300) / 100.0
    write_recording(
        tmp_path / "session.csv", recording_from_arrays(t, np.tile([0, 0, 1.0], (300, 1)))
    )
    assert len(load_recording(tmp_path).samples) == 300


def test_load_recording_contract_without_format_line(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("time_s,ax_g,ay_g,az_g\n" + "".join(f"{i / 50},0,0,1\n" for i in range(200)))
    assert len(load_recording(path).samples) == 200


def test_load_recording_unknown_format_names_known_ones(tmp_path):
    path = tmp_path / "weird.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(RecordingError) as err:
        load_recording(path)
    one_line(err.value, "weird.csv", "sensorcoach recording CSV", "phyphox", "MetaMotion",
             "found weird.csv: a, b, c")


def test_load_recording_mixed_formats_refused():
    with pytest.raises(RecordingError) as err:
        load_recording([PHY_ACC, MM_GYR])
    one_line(err.value, "one format", "phyphox and MetaMotion")


def test_load_recording_errors(tmp_path):
    with pytest.raises(RecordingError) as err:
        load_recording(tmp_path / "missing.csv")
    one_line(err.value, "missing.csv", "found nothing")
    with pytest.raises(RecordingError) as err:
        load_recording([])
    one_line(err.value, "at least one")
    with pytest.raises(RecordingError) as err:
        load_recording(tmp_path)  # empty folder
    one_line(err.value, "expected one of", "no CSV files")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError) as err:
        load_recording(empty)
    one_line(err.value, "empty file")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(RecordingError):
        load_recording(bad_zip)


# ---------------------------------------------------------------------------------------
# property: any bytes under a foreign header give a Recording or a RecordingError
# ---------------------------------------------------------------------------------------
_HEADERS = [
    PHY_ACC.read_text().splitlines()[0],
    PHY_ACC.read_text().splitlines()[0].replace(",", ";"),
    MM_ACC.read_text().splitlines()[0],
    MM_GYR.read_text().splitlines()[0],
    "a,b,c",
]
_ALPHABET = "0123456789.,;-+eE: \t\r\n\"naifx\x00"


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.sampled_from(_HEADERS),
    body=st.one_of(st.binary(max_size=300), st.text(alphabet=_ALPHABET, max_size=300)),
    with_gyro=st.booleans(),
)
def test_foreign_garbage_gives_recording_or_recording_error(tmp_path, header, body, with_gyro):
    folder = tmp_path / "export"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    if isinstance(body, str):
        body = body.encode("utf-8", errors="surrogatepass")
    (folder / "Accelerometer.csv").write_bytes(header.encode() + b"\n" + body)
    if with_gyro:
        shutil.copy(PHY_GYR if "Time" in header else MM_GYR, folder / "Gyroscope.csv")
    try:
        rec = load_recording(folder)
    except RecordingError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(rec.samples) >= 2 and np.isfinite(rec.samples.acc_g).all()
