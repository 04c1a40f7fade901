"""Polar H10 accelerometer over the Polar Measurement Data (PMD) service.

PMD (``fb005c80-02e7-f387-1cad-8acd2d8df0c8``) has a control point (``...5c81``, write and
indicate) and a data characteristic (``...5c82``, notify).

Start the accelerometer (measurement type 2) with the settings sample rate (id 0), resolution
(id 1) and range (id 2), each ``id, count=1, value u16``::

    02 02 | 00 01 C8 00 | 01 01 10 00 | 02 01 08 00      (200 Hz, 16 bit, 8 g)

The control point answers by indication ``F0 op type status ...`` (status 0: success;
6: already in that state, which is fine after a reconnect). Stop: ``03 02``.

Data frame: ``type u8 (2 = ACC) | timestamp u64 ns | frame type u8 | samples``. The
timestamp is the sensor time of the *last* sample of the frame (nanoseconds since
2000-01-01 on a set clock, any origin otherwise). Frame types 0, 1, 2 (uncompressed) carry
signed x, y, z of 1, 2 or 3 bytes each, in milli-g; the H10 sends type 1. Bit 7 marks a
compressed (delta-coded) frame, which the H10 does not send for ACC and is rejected here.

Sample times: spread evenly between the previous frame's timestamp and this one when that
span is consistent with the sample count (0.5-2 nominal intervals per sample), otherwise
``timestamp - (n - 1 - i) / rate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import Any

import numpy as np

from ..errors import DeviceError, PacketError
from ..types import SampleChunk
from . import protocol as H
from .profiles import NotifyCallback, SensorProfile

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

MEAS_ACC = 0x02
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
STATUS_OK = 0
STATUS_ALREADY_IN_STATE = 6
H10_RATES_HZ = (25, 50, 100, 200)
H10_RANGES_G = (2, 4, 8)
HEADER = struct.Struct("<BQB")  # type, timestamp ns, frame type
COMPRESSED = 0x80


def cmd_start_acc(rate_hz: int = 200, range_g: int = 8, resolution_bits: int = 16) -> bytes:
    """Control point request: start the accelerometer stream."""
    if rate_hz not in H10_RATES_HZ:
        raise DeviceError(f"Polar H10 accelerometer rates are {H10_RATES_HZ} Hz, not {rate_hz}")
    if range_g not in H10_RANGES_G:
        raise DeviceError(f"Polar H10 accelerometer ranges are {H10_RANGES_G} g, not {range_g}")
    return struct.pack("<BB BBH BBH BBH", OP_START, MEAS_ACC, 0x00, 1, rate_hz,
                       0x01, 1, resolution_bits, 0x02, 1, range_g)


def cmd_stop_acc() -> bytes:
    return bytes([OP_STOP, MEAS_ACC])


def parse_response(data: bytes) -> tuple[int, int, int]:
    """``(op, measurement type, status)`` of a control point indication."""
    if len(data) < 4 or data[0] != RESPONSE:
        raise PacketError(f"not a PMD control point response: {bytes(data).hex()}")
    return data[1], data[2], data[3]


def decode_frame(data: bytes) -> tuple[int, np.ndarray]:
    """Decode one ACC frame into ``(timestamp_ns, samples_mg (n, 3) int)``.

    Raises :class:`PacketError` on anything malformed.
    """
    raw = bytes(data)
    if len(raw) < HEADER.size:
        raise PacketError(f"PMD frame too short: {len(raw)} bytes")
    meas, ts, ftype = HEADER.unpack_from(raw, 0)
    if meas != MEAS_ACC:
        raise PacketError(f"PMD measurement type {meas} is not ACC ({MEAS_ACC})")
    if ftype & COMPRESSED:
        raise PacketError("compressed PMD ACC frames are not supported")
    if ftype > 2:
        raise PacketError(f"unknown PMD ACC frame type {ftype}")
    width = ftype + 1
    body = raw[HEADER.size:]
    if not body or len(body) % (3 * width):
        raise PacketError(f"PMD ACC frame of {len(body)} data bytes is not whole "
                          f"{3 * width}-byte samples")
    if width == 2:
        vals = np.frombuffer(body, dtype="<i2").astype(np.int64)
    elif width == 1:
        vals = np.frombuffer(body, dtype="i1").astype(np.int64)
    else:
        b = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
        vals = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        vals = np.where(vals >= 1 << 23, vals - (1 << 24), vals)
    return ts, vals.reshape(-1, 3)


def encode_frame(timestamp_ns: int, samples_mg: Any, frame_type: int = 1) -> bytes:
    """Pack an ACC frame (what an H10 sends; used by the emulator and the tests)."""
    arr = np.asarray(samples_mg, dtype=np.int64).reshape(-1, 3)
    if frame_type == 1:
        body = np.clip(arr, -32768, 32767).astype("<i2").tobytes()
    elif frame_type == 0:
        body = np.clip(arr, -128, 127).astype("i1").tobytes()
    else:
        v = np.clip(arr, -(1 << 23), (1 << 23) - 1).reshape(-1) & 0xFFFFFF
        body = np.column_stack([v & 0xFF, (v >> 8) & 0xFF, v >> 16]).astype(np.uint8).tobytes()
    return HEADER.pack(MEAS_ACC, timestamp_ns, frame_type) + body


class PolarDecoder:
    """PMD ACC frames -> :class:`SampleChunk` (g, no gyroscope) on the sensor clock."""

    def __init__(self, rate_hz: int | None = None) -> None:
        if rate_hz is not None and rate_hz not in H10_RATES_HZ:
            raise DeviceError(f"Polar H10 accelerometer rates are {H10_RATES_HZ} Hz, "
                              f"not {rate_hz}")
        self.rate_hz = rate_hz or 200
        self.stats = H.AssemblerStats()
        self._prev_ts: int | None = None
        self._last_t: float | None = None

    def push(self, data: bytes, arrival_s: float) -> list[SampleChunk]:
        ts, mg = decode_frame(data)
        self.stats.packets += 1
        n = mg.shape[0]
        nominal_ns = 1e9 / self.rate_hz
        span = None if self._prev_ts is None else ts - self._prev_ts
        if span is not None and 0.5 * n * nominal_ns <= span <= 2.0 * n * nominal_ns:
            t_ns = self._prev_ts + span * (np.arange(1, n + 1) / n)
        else:
            if span is not None and span <= 0:
                self.stats.late += 1
                return []
            if span is not None:
                self.stats.lost_packets += 1
            t_ns = ts - nominal_ns * np.arange(n - 1, -1, -1)
        self._prev_ts = ts
        t = t_ns / 1e9
        keep = np.ones(n, bool) if self._last_t is None else t > self._last_t
        self.stats.dropped_samples += int(n - keep.sum())
        if not keep.any():
            return []
        t = t[keep]
        self._last_t = float(t[-1])
        self.stats.samples += int(t.size)
        return [SampleChunk(t, mg[keep].astype(np.float64) / 1000.0, None)]

    def flush(self) -> list[SampleChunk]:
        return []


async def _start(client: Any, rate_hz: int | None, on_data: NotifyCallback,
                 notify_kwargs: dict[str, Any]) -> None:
    responses: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(PMD_CONTROL_UUID, lambda _c, d: responses.put_nowait(bytes(d)))
    await client.start_notify(PMD_DATA_UUID, on_data, **notify_kwargs)
    await client.write_gatt_char(PMD_CONTROL_UUID, cmd_start_acc(rate_hz or 200), response=True)
    while True:
        try:
            resp = await asyncio.wait_for(responses.get(), 3.0)
        except TimeoutError:
            raise DeviceError("Polar PMD: no answer to the start request") from None
        with contextlib.suppress(PacketError):
            op, meas, status = parse_response(resp)
            if op == OP_START and meas == MEAS_ACC:
                if status not in (STATUS_OK, STATUS_ALREADY_IN_STATE):
                    raise DeviceError(f"Polar PMD refused to start ACC (status {status})")
                return


async def _stop(client: Any) -> None:
    await client.write_gatt_char(PMD_CONTROL_UUID, cmd_stop_acc(), response=True)


POLAR = SensorProfile("polar", "Polar H10 (PMD accelerometer)", PMD_SERVICE_UUID,
                      PMD_DATA_UUID, PolarDecoder, _start, _stop, ("polar h10",))
