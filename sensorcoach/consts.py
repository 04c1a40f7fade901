"""Column names, units, frames and physical constants: defined here once.

Frames and sign conventions
---------------------------
Sensor frame
    The sensor's own x, y, z axes, whatever way it is mounted. Accelerometer columns are
    *specific force* in g: a sensor lying still reads about +1 g on its upward axis.
    Gyroscope columns are angular rate in degrees per second, right-handed about the same axes.
World frame
    z points up (against gravity); x and y are horizontal. "Vertical" quantities
    (``rom_m``, velocities) are along world z, positive upward.

Time
    ``time_s`` is the sensor's own clock in seconds (arbitrary origin, strictly increasing).
    Every event time is on that axis. Intervals are half-open ``[start, end)``.
"""

from __future__ import annotations

#: Standard gravity, m/s^2 (converts g to m/s^2).
STANDARD_GRAVITY_MPS2 = 9.80665

# --- recording columns (CONTRACT.md section 1) -------------------------------------------
TIME_COL = "time_s"
ACC_COLS = ("ax_g", "ay_g", "az_g")
GYR_COLS = ("gx_dps", "gy_dps", "gz_dps")
REQUIRED_COLS = (TIME_COL, *ACC_COLS)
ALL_COLS = (TIME_COL, *ACC_COLS, *GYR_COLS)

#: First line of every recording written by sensorcoach.
FORMAT_KEY = "sensorcoach-recording"
FORMAT_VERSION = "1"

MOUNTS = ("hip", "bar")
#: Sensor kinds of the live BLE path (``--sensor``; see sensorcoach.ble.profiles).
SENSOR_KINDS = ("stub", "polar", "witmotion")

# --- plausibility limits where data enters ---------------------------------------------
MIN_SAMPLE_RATE_HZ = 10.0
MAX_SAMPLE_RATE_HZ = 2000.0
#: Gaps longer than this break the stream: the detector resets its integrators there.
MAX_BRIDGED_GAP_S = 0.6

# --- analysis JSON (CONTRACT.md section 2) ----------------------------------------------
ANALYSIS_SCHEMA = "sensorcoach.analysis/1"

#: Fault flags a rep can carry (CONTRACT.md section 2 names the first four).
FLAG_NO_TOP_PAUSE = "no_top_pause"
FLAG_FAST_ECCENTRIC = "fast_eccentric"
FLAG_BOUNCE = "bounce"
FLAG_PARTIAL_RANGE = "partial_range"
