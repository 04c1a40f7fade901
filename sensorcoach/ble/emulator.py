"""An emulated sensorcoach sensor: plays a recording through the firmware logic.

The peripheral model is transport independent: :class:`EmulatedSensor` owns the firmware
:class:`Sampler` (``firmware_stub/sensorcoach_fw``), plays a recording's samples in real
time (or ``speed`` times faster) once the first START arrives, and hands each notification
to ``notify(bytes)``. Faults from a spec string (:func:`parse_faults`) are applied to the
packets and to the link. The stand-in BlueZ (:mod:`sensorcoach.ble.fakebluez`) wires
``notify`` to GATT notifications and the link callbacks to ``Device1.Connected``.

Fault spec: comma-separated items; times are recording seconds since its first sample.

=================  =========================================================================
``loss:P``         drop each packet with probability P
``burst:D@T``      drop every packet for D seconds from T (the link stays up)
``drop:D@T``       link drop at T: disconnect, the sensor is gone for D seconds, then
                   advertises again (sampling goes on, so the gap is real time)
``dup:P``          send a packet twice with probability P
``reorder:P``      hold a packet back and send it after the next one, probability P
``garbage:P``      send an extra malformed notification (random bytes or a truncated
                   packet) before a packet, probability P
``silent@T``       from T on stay connected but send nothing (``silent:D@T``: for D s)
=================  =========================================================================

A recording whose time stamps jitter (a phone's clock) is put on the sensor's uniform grid:
each step becomes the nearest whole number of sample intervals (at least one), so jitter
goes and gaps stay gaps. A recording already on a grid keeps its exact times.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..consts import SENSOR_KINDS as KINDS
from ..errors import SensorcoachError
from . import _fw

INF = math.inf


@dataclass
class FaultSpec:
    """Parsed fault spec (see the module docstring)."""

    loss: float = 0.0
    dup: float = 0.0
    reorder: float = 0.0
    garbage: float = 0.0
    bursts: list[tuple[float, float]] = field(default_factory=list)  # (start_s, duration_s)
    drops: list[tuple[float, float]] = field(default_factory=list)
    silents: list[tuple[float, float]] = field(default_factory=list)

    def in_window(self, windows: list[tuple[float, float]], t_rel: float) -> bool:
        return any(s <= t_rel < s + d for s, d in windows)


_ITEM = re.compile(r"^(?P<kind>[a-z]+)(?::(?P<value>[0-9.eE+-]+))?(?:@(?P<at>[0-9.eE+-]+))?$")


def parse_faults(spec: str | None) -> FaultSpec:
    """Parse a fault spec such as ``"loss:0.05,drop:3@20,silent@40"``.

    Raises
    ------
    SensorcoachError
        On an unknown fault or a malformed item (the message names the item).
    """
    out = FaultSpec()
    if not spec:
        return out
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        m = _ITEM.match(item)
        if not m:
            raise SensorcoachError(f"bad fault {item!r}: expected KIND:VALUE or KIND:D@T")
        kind, value, at = m["kind"], m["value"], m["at"]
        try:
            v = float(value) if value is not None else None
            t = float(at) if at is not None else None
        except ValueError:
            raise SensorcoachError(f"bad number in fault {item!r}") from None
        if kind in ("loss", "dup", "reorder", "garbage"):
            if v is None or t is not None or not 0.0 <= v <= 1.0:
                raise SensorcoachError(f"fault {item!r}: expected {kind}:P with 0 <= P <= 1")
            setattr(out, kind, v)
        elif kind in ("burst", "drop"):
            if v is None or t is None or v <= 0 or t < 0:
                raise SensorcoachError(f"fault {item!r}: expected {kind}:SECONDS@AT_S")
            (out.bursts if kind == "burst" else out.drops).append((t, v))
        elif kind == "silent":
            if t is None or t < 0 or (v is not None and v <= 0):
                raise SensorcoachError(f"fault {item!r}: expected silent@AT_S or silent:D@AT_S")
            out.silents.append((t, INF if v is None else v))
        else:
            raise SensorcoachError(
                f"unknown fault {kind!r} in {item!r}: use loss, burst, drop, dup, reorder, "
                "garbage, silent")
    return out


@dataclass
class SourceSamples:
    """What the emulator plays: sensor time and physical samples."""

    time_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray | None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def has_gyro(self) -> bool:
        return self.gyr_dps is not None


def load_source(path: str | Path) -> SourceSamples:
    """Read a recording (any format :func:`sensorcoach.io.formats.load_recording` reads)."""
    from ..io.formats import load_recording

    rec = load_recording(str(path))
    s = rec.samples
    return SourceSamples(np.asarray(s.time_s, float), np.asarray(s.acc_g, float),
                         None if s.gyr_dps is None else np.asarray(s.gyr_dps, float),
                         dict(rec.meta))



@dataclass
class EmulatorStats:
    samples_played: int = 0
    samples_sent: int = 0
    packets_sent: int = 0
    packets_dropped: int = 0
    duplicates_sent: int = 0
    reordered: int = 0
    garbage_sent: int = 0
    link_drops: int = 0
    control_writes: int = 0


class EmulatedSensor:
    """A sensor that streams ``source`` through the firmware sampler.

    Parameters
    ----------
    source : SourceSamples
        The recording to play.
    speed : float
        Playback speed (1 = real time).
    faults : FaultSpec or None
        Faults to inject.
    seed : int
        Seed of the fault random generator.
    batch : int
        Samples per packet at start (the firmware default is 10).
    tick_s : float
        Wall-clock period of the playback loop.
    kind : {"stub", "polar", "witmotion"}
        What the sensor speaks: the sensorcoach firmware (default), a Polar H10's PMD
        accelerometer stream, or a WitMotion BWT901BLE.

    The transport sets ``notify`` (called with each data notification payload),
    ``indicate(uuid, payload)`` (other characteristics, e.g. the Polar control point),
    ``on_link_down`` and ``on_link_up`` (called when a ``drop`` fault starts and ends), and
    forwards writes (:meth:`handle_write`) and subscriptions (:meth:`notify_changed`).
    """

    def __init__(self, source: SourceSamples, *, speed: float = 1.0,
                 faults: FaultSpec | None = None, seed: int = 0, batch: int = 10,
                 tick_s: float = 0.01, kind: str = "stub") -> None:
        if kind not in KINDS:
            raise SensorcoachError(f"unknown sensor kind {kind!r}: use {', '.join(KINDS)}")
        self.kind = kind
        self.batch = batch
        self.source = source
        self.speed = float(speed)
        self.faults = faults or FaultSpec()
        self.tick_s = tick_s
        self.stats = EmulatorStats()
        self.notify: Callable[[bytes], None] = lambda _b: None
        self.indicate: Callable[[str, bytes], None] = lambda _u, _b: None
        self.on_link_down: Callable[[], None] = lambda: None
        self.on_link_up: Callable[[], None] = lambda: None
        self.connected = False
        self.available = True
        self.finished = asyncio.Event()
        self._rng = random.Random(seed)
        self._held: bytes | None = None
        self._started = asyncio.Event()
        self._t_first = float(source.time_s[0])
        fp, fimu, fsamp = _fw.load()
        self._fp = fp
        dt = np.diff(source.time_s)
        self.native_rate_hz = float(1.0 / np.median(dt)) if len(dt) else 100.0
        self._native_interval_us = int(round(float(np.median(dt)) * 1e6)) if len(dt) else 10000
        self._imu = fimu.FakeIMU([], source.has_gyro)
        rate = int(round(self.native_rate_hz))
        rate = min(max(rate, fp.MIN_RATE_HZ), fp.MAX_RATE_HZ)
        self.sampler = fsamp.Sampler(self._imu, self._on_packet, rate_hz=rate, batch=batch)
        self.model: Any = _MODELS[kind](self)
        self._set_grid(None)
        self._idx = 0
        self._last_rel = -INF

    # --- recording grid (native, or resampled after SET RATE) ----------------------
    def _set_grid(self, rate_hz: int | None) -> None:
        s = self.source
        if rate_hz is None:
            # the sensor's clock is uniform: each step of the recording becomes the nearest
            # whole number of intervals (at least one), so jitter goes and gaps stay gaps;
            # a recording already on a grid keeps its exact times
            iv = self._native_interval_us
            t_us = np.round(s.time_s * 1e6).astype(np.int64)
            steps = np.maximum(1, np.round(np.diff(t_us) / iv).astype(np.int64))
            t = (t_us[0] + iv * np.concatenate([[0], np.cumsum(steps)])) / 1e6
            acc, gyr = s.acc_g, s.gyr_dps
            self.sampler.interval_us = iv
        else:
            step_us = self._fp.interval_us_for_rate(rate_hz)
            first_us = int(round(self._t_first * 1e6))
            n = int((s.time_s[-1] - self._t_first) * 1e6 // step_us) + 1
            t = (first_us + step_us * np.arange(n, dtype=np.int64)) / 1e6
            acc = np.column_stack([np.interp(t, s.time_s, s.acc_g[:, k]) for k in range(3)])
            gyr = (None if s.gyr_dps is None else
                   np.column_stack([np.interp(t, s.time_s, s.gyr_dps[:, k]) for k in range(3)]))
        self._grid_t = t
        self.model.on_grid(t, np.asarray(acc, float), gyr)

    # --- control (from the transport) ----------------------------------------------
    def handle_control(self, data: bytes) -> bool:
        """A write to the control characteristic."""
        self.stats.control_writes += 1
        before = (self.sampler.rate_hz, self.sampler.acc_code, self.sampler.gyr_code)
        ok = bool(self.sampler.handle_control(bytes(data)))
        after = (self.sampler.rate_hz, self.sampler.acc_code, self.sampler.gyr_code)
        if ok and after != before:
            self.regrid(self.sampler.rate_hz)
        if ok and self.sampler.running:
            self._started.set()
        return ok

    def regrid(self, rate_hz: int) -> None:
        """Play at ``rate_hz`` from now on (the native grid if that is the file's rate)."""
        native = abs(rate_hz - self.native_rate_hz) < 0.5
        now = self._grid_t[self._idx - 1] if self._idx else self._t_first - 1
        self._set_grid(None if native else rate_hz)
        self._idx = int(np.searchsorted(self._grid_t, now, side="right"))

    def start_playback(self) -> None:
        """Streaming was switched on for the first time: the recording starts to play."""
        self._started.set()

    def handle_write(self, uuid: str, data: bytes) -> bool:
        """A write to characteristic ``uuid``; True if the sensor understood it."""
        return bool(self.model.write(uuid, bytes(data)))

    def notify_changed(self, uuid: str, on: bool) -> None:
        """The central subscribed to (or left) characteristic ``uuid``."""
        self.model.notify_changed(uuid, on)

    @property
    def running(self) -> bool:
        return self.model.running

    def status(self) -> bytes:
        return bytes(self.sampler.status())

    def link_connected(self) -> None:
        self.connected = True

    def link_disconnected(self) -> None:
        """The central went away: the firmware stops streaming."""
        self.connected = False
        self.model.stop()

    # --- playback ------------------------------------------------------------------
    @property
    def recording_time_s(self) -> float:
        """Recording time (since the first sample) of the newest sample played."""
        return self._last_rel

    async def run(self) -> None:
        """Wait for the first START, then play the whole recording; set ``finished``."""
        await self._started.wait()
        loop = asyncio.get_running_loop()
        wall0 = loop.time()
        drops = sorted(self.faults.drops)
        drop_i = 0
        down_until = -INF
        while self._idx < len(self._grid_t):
            now_rel = (loop.time() - wall0) * self.speed
            while self._idx < len(self._grid_t):
                rel = float(self._grid_t[self._idx] - self._t_first)
                if rel > now_rel:
                    break
                if drop_i < len(drops) and rel >= drops[drop_i][0]:
                    down_until = drops[drop_i][0] + drops[drop_i][1]
                    drop_i += 1
                    self._link_down()
                if not self.available and rel >= down_until:
                    self._link_up()
                self._last_rel = rel
                self.stats.samples_played += 1
                if self.connected and self.running:
                    self.model.tick(self._idx)
                self._idx += 1
            await asyncio.sleep(self.tick_s)
        self.model.flush()
        if self._held is not None:
            self._emit(self._held)
            self._held = None
        if not self.available:
            self._link_up()
        self.finished.set()

    def _link_down(self) -> None:
        self.stats.link_drops += 1
        self.available = False
        if self.connected:
            self.link_disconnected()
        self.on_link_down()

    def _link_up(self) -> None:
        self.available = True
        self.on_link_up()

    def _on_packet(self, pkt: bytes) -> None:
        f = self.faults
        rel = self._last_rel
        rng = self._rng
        if (f.in_window(f.bursts, rel) or f.in_window(f.silents, rel)
                or (f.loss and rng.random() < f.loss)):
            self.stats.packets_dropped += 1
            return
        if f.garbage and rng.random() < f.garbage:
            self.stats.garbage_sent += 1
            if rng.random() < 0.5:
                self.notify(pkt[: rng.randrange(0, len(pkt))])
            else:
                self.notify(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))))
        if f.reorder and self._held is None and rng.random() < f.reorder:
            self._held = pkt
            self.stats.reordered += 1
            return
        self._emit(pkt)
        if f.dup and rng.random() < f.dup:
            self.stats.duplicates_sent += 1
            self.notify(pkt)
        if self._held is not None:
            held, self._held = self._held, None
            self._emit(held)

    def _emit(self, pkt: bytes) -> None:
        self.stats.packets_sent += 1
        self.stats.samples_sent += self.model.sample_count(pkt)
        self.notify(pkt)


class _StubModel:
    """The sensorcoach firmware itself: its Sampler does the work."""

    def __init__(self, emu: EmulatedSensor) -> None:
        self.emu = emu

    @property
    def running(self) -> bool:
        return bool(self.emu.sampler.running)

    def write(self, uuid: str, data: bytes) -> bool:
        from . import protocol as H

        return self.emu.handle_control(data) if uuid == H.CONTROL_UUID else False

    def notify_changed(self, uuid: str, on: bool) -> None:
        pass

    def stop(self) -> None:
        self.emu.sampler.stop()

    def on_grid(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        from .protocol import quantise

        e = self.emu
        counts = quantise(acc, e._fp.ACC_RANGES_G[e.sampler.acc_code])
        if gyr is not None:
            fg = e._fp.GYR_RANGES_DPS[e.sampler.gyr_code]
            counts = np.column_stack([counts, quantise(gyr, fg)])
        self._t_us = (np.round(t * 1e6).astype(np.int64) % e._fp.CLOCK_MOD).tolist()
        self._counts = list(map(tuple, counts.tolist()))

    def tick(self, i: int) -> None:
        self.emu.sampler.tick(self._t_us[i], self._counts[i])

    def flush(self) -> None:
        self.emu.sampler.flush()

    def sample_count(self, pkt: bytes) -> int:
        return int(pkt[10])


class _PolarModel:
    """A Polar H10's PMD accelerometer stream (see :mod:`sensorcoach.ble.polar`)."""

    def __init__(self, emu: EmulatedSensor) -> None:
        self.emu = emu
        self.running = False
        self.range_g = 8
        self.batch = max(1, min(emu.batch, 39))
        self._buf: list[tuple[float, np.ndarray]] = []

    def sample_count(self, pkt: bytes) -> int:
        return (len(pkt) - 10) // 6

    def write(self, uuid: str, data: bytes) -> bool:
        from . import polar as PL

        self.emu.stats.control_writes += 1
        if uuid != PL.PMD_CONTROL_UUID or len(data) < 2:
            return False
        op, meas = data[0], data[1]
        status = 0
        if meas != PL.MEAS_ACC:
            status = 1  # measurement type not supported
        elif op == PL.OP_START:
            settings = {}
            i = 2
            while i + 2 <= len(data):
                sid, count = data[i], data[i + 1]
                vals = [int.from_bytes(data[i + 2 + 2 * k:i + 4 + 2 * k], "little")
                        for k in range(count)]
                settings[sid] = vals[0] if vals else None
                i += 2 + 2 * count
            rate = settings.get(0, 200)
            rng = settings.get(2, 8)
            if rate not in PL.H10_RATES_HZ or rng not in PL.H10_RANGES_G:
                status = 5  # invalid parameter
            elif self.running:
                status = PL.STATUS_ALREADY_IN_STATE
            else:
                self.range_g = rng
                self.emu.regrid(rate)
                self.running = True
                self.emu.start_playback()
        elif op == PL.OP_STOP:
            self.stop()
        else:
            status = 1
        self.emu.indicate(uuid, bytes([PL.RESPONSE, op, meas, status, 0]))
        return status in (0, PL.STATUS_ALREADY_IN_STATE)

    def notify_changed(self, uuid: str, on: bool) -> None:
        pass

    def stop(self) -> None:
        self.flush()
        self.running = False

    def on_grid(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        lim = self.range_g * 1000  # the range is set just before a new grid (OP_START)
        self._t = t
        self._mg = np.clip(np.floor(acc * 1000.0 + 0.5), -lim, lim)  # milli-g

    def tick(self, i: int) -> None:
        self._buf.append((float(self._t[i]), self._mg[i]))
        if len(self._buf) >= self.batch:
            self.flush()

    def flush(self) -> None:
        from . import polar as PL

        if not self._buf:
            return
        ts_ns = int(round(self._buf[-1][0] * 1e9))
        pkt = PL.encode_frame(ts_ns, np.array([m for _, m in self._buf]))
        self._buf = []
        self.emu._on_packet(pkt)


class _WitMotionModel:
    """A WitMotion BWT901BLE (see :mod:`sensorcoach.ble.witmotion`): streams while subscribed,
    one IMU packet per notification."""

    def __init__(self, emu: EmulatedSensor) -> None:
        self.emu = emu
        self.running = False
        self._unlocked = False

    def sample_count(self, pkt: bytes) -> int:
        return len(pkt) // 20

    def write(self, uuid: str, data: bytes) -> bool:
        from . import witmotion as W

        self.emu.stats.control_writes += 1
        if uuid != W.WIT_WRITE_UUID:
            return False
        if data == W.UNLOCK:
            self._unlocked = True
            return True
        if len(data) == 5 and data[:3] == bytes([0xFF, 0xAA, 0x03]) and self._unlocked:
            rates = {code: hz for hz, code in W.RATE_CODES.items()}
            if data[3] in rates:
                self.emu.regrid(rates[data[3]])
                return True
        return False

    def notify_changed(self, uuid: str, on: bool) -> None:
        from . import witmotion as W

        if uuid == W.WIT_NOTIFY_UUID:
            self.running = on
            if on:
                self.emu.start_playback()

    def stop(self) -> None:
        self.running = False
        self._unlocked = False

    def on_grid(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        from . import witmotion as W

        self._packets = W.encode_packets(acc, 0.0 if gyr is None else gyr)

    def tick(self, i: int) -> None:
        self.emu._on_packet(self._packets[20 * i:20 * i + 20])

    def flush(self) -> None:
        pass


_MODELS = {"stub": _StubModel, "polar": _PolarModel, "witmotion": _WitMotionModel}
