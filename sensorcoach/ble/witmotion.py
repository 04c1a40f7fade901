"""WitMotion BWT901BLE / WT901BLE (BLE 5.0 protocol): accelerometer and gyroscope.

Service ``0000ffe5-0000-1000-8000-00805f9a34fb`` (note WitMotion's ``...9a34fb`` base),
notify ``...ffe4``, write ``...ffe9``. The sensor streams as soon as notifications are on.

A data packet is 20 bytes: ``55 61`` then nine int16 little-endian: acceleration x, y, z
(``raw / 32768 * 16`` g), angular rate x, y, z (``raw / 32768 * 2000`` dps) and angles
(``raw / 32768 * 180`` degrees, ignored here). A notification may hold several packets
back to back; other packets (``55 71`` register replies) are skipped.

Commands are ``FF AA register low high``: unlock ``FF AA 69 88 B5``; output rate register
``03`` with codes 0x06 = 10 Hz (default), 0x07 = 20, 0x08 = 50, 0x09 = 100, 0x0B = 200 Hz.

The packets carry **no timestamp and no counter**. Times are the host's arrival clock put
on the nominal rate: each sample is one interval after the previous one, unless that
drifts more than ``resync_s`` (0.25 s) from the arrival time, in which case the time is
re-anchored to the arrival (a link gap, or a rate that differs from the nominal one). Lost
packets therefore cannot be detected exactly; gaps longer than ``resync_s`` show.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ..errors import DeviceError, PacketError
from ..types import SampleChunk
from . import protocol as H
from .profiles import NotifyCallback, SensorProfile

WIT_SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
WIT_NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WIT_WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET = struct.Struct("<BB9h")  # 20 bytes
FLAG_IMU = 0x61
ACC_FS_G = 16.0
GYR_FS_DPS = 2000.0
RATE_CODES = {10: 0x06, 20: 0x07, 50: 0x08, 100: 0x09, 200: 0x0B}
UNLOCK = bytes([0xFF, 0xAA, 0x69, 0x88, 0xB5])
#: Rate the client sets when none is asked for (the decoder must know the nominal rate).
DEFAULT_RATE_HZ = 100


def cmd_set_rate(rate_hz: int) -> bytes:
    if rate_hz not in RATE_CODES:
        raise DeviceError(f"WitMotion rates are {sorted(RATE_CODES)} Hz, not {rate_hz}")
    return bytes([0xFF, 0xAA, 0x03, RATE_CODES[rate_hz], 0x00])


def decode_notification(data: bytes) -> np.ndarray:
    """All IMU packets of a notification as raw int16 ``(n, 6)`` (acc xyz, gyro xyz).

    Raises :class:`PacketError` if it holds no complete IMU packet.
    """
    raw = bytes(data)
    rows = []
    i = 0
    while i + PACKET.size <= len(raw):
        if raw[i] == 0x55 and raw[i + 1] == FLAG_IMU:
            vals = PACKET.unpack_from(raw, i)[2:]
            rows.append(vals[:6])
            i += PACKET.size
        elif raw[i] == 0x55:
            i += PACKET.size  # another packet kind (register reply): skip it
        else:
            i += 1
    if not rows:
        raise PacketError(f"no WitMotion IMU packet in {len(raw)} bytes")
    return np.array(rows, dtype=np.int64)


def encode_packets(acc_g: Any, gyr_dps: Any, angles_deg: Any = (0.0, 0.0, 0.0)) -> bytes:
    """IMU packets for ``(n, 3)`` rows, 20 bytes each, back to back (what the sensor
    sends; the emulator slices one packet per sample out of it)."""
    acc = np.atleast_2d(np.asarray(acc_g, dtype=np.float64))
    n = acc.shape[0]
    out = np.empty((n, PACKET.size), dtype=np.uint8)
    out[:, 0], out[:, 1] = 0x55, FLAG_IMU
    vals = np.concatenate([H.quantise(acc, ACC_FS_G),
                           H.quantise(np.broadcast_to(gyr_dps, (n, 3)), GYR_FS_DPS),
                           H.quantise(np.broadcast_to(angles_deg, (n, 3)), 180.0)], axis=1)
    out[:, 2:] = vals.astype("<i2").view(np.uint8)
    return out.tobytes()


def encode_packet(acc_g: Any, gyr_dps: Any, angles_deg: Any = (0.0, 0.0, 0.0)) -> bytes:
    """One 20-byte IMU packet (what the sensor sends; used by the tests)."""
    return encode_packets(acc_g, gyr_dps, angles_deg)


class WitMotionDecoder:
    """IMU packets -> :class:`SampleChunk` with host-clock times on the nominal rate."""

    def __init__(self, rate_hz: int | None = None, resync_s: float = 0.25) -> None:
        if rate_hz is not None and rate_hz not in RATE_CODES:
            raise DeviceError(f"WitMotion rates are {sorted(RATE_CODES)} Hz, not {rate_hz}")
        self.rate_hz = rate_hz or DEFAULT_RATE_HZ
        self.resync_s = resync_s
        self.stats = H.AssemblerStats()
        self._next_t: float | None = None

    def push(self, data: bytes, arrival_s: float) -> list[SampleChunk]:
        rows = decode_notification(data)
        self.stats.packets += 1
        n = rows.shape[0]
        dt = 1.0 / self.rate_hz
        # the last sample of the notification arrived at arrival_s
        t_last_expected = None if self._next_t is None else self._next_t + (n - 1) * dt
        if t_last_expected is None or abs(t_last_expected - arrival_s) > self.resync_s:
            start = arrival_s - (n - 1) * dt
            if self._next_t is not None:
                if start > self._next_t:
                    self.stats.resyncs += 1  # a gap (or a slower rate): re-anchored
                start = max(start, self._next_t)
        else:
            start = self._next_t
        t = start + dt * np.arange(n)
        self._next_t = float(t[-1] + dt)
        self.stats.samples += n
        acc = rows[:, :3].astype(np.float64) * (ACC_FS_G / 32768.0)
        gyr = rows[:, 3:].astype(np.float64) * (GYR_FS_DPS / 32768.0)
        return [SampleChunk(t, acc, gyr)]

    def flush(self) -> list[SampleChunk]:
        return []


async def _start(client: Any, rate_hz: int | None, on_data: NotifyCallback,
                 notify_kwargs: dict[str, Any]) -> None:
    await client.write_gatt_char(WIT_WRITE_UUID, UNLOCK, response=True)
    await client.write_gatt_char(WIT_WRITE_UUID, cmd_set_rate(rate_hz or DEFAULT_RATE_HZ),
                                 response=True)
    await client.start_notify(WIT_NOTIFY_UUID, on_data, **notify_kwargs)


async def _stop(client: Any) -> None:
    await client.stop_notify(WIT_NOTIFY_UUID)


WITMOTION = SensorProfile("witmotion", "WitMotion BWT901BLE", WIT_SERVICE_UUID,
                          WIT_NOTIFY_UUID, WitMotionDecoder, _start, _stop, ("wt901", "bwt901"))
