"""Host side of the sensorcoach BLE protocol: decode notifications, assemble sample chunks.

The wire format is specified in ``firmware_stub/PROTOCOL.md``; the firmware's encoder is
``firmware_stub/sensorcoach_fw/protocol.py``. Constants are repeated here on purpose (the
host package must not import firmware code); ``tests/test_ble_protocol.py`` checks that
both sides agree.

Data flow: bytes from a notification -> :func:`decode_packet` -> :class:`DecodedPacket`
-> :class:`PacketAssembler` -> :class:`~sensorcoach.types.SampleChunk` on the sensor clock.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from ..errors import PacketError
from ..types import SampleChunk

PROTOCOL_VERSION = 1

UUID_BASE_FMT = "5c0a{:04x}-6b1d-4c3e-9f2a-7e6d5c4b3a21"
SERVICE_UUID = UUID_BASE_FMT.format(0x0001)
DATA_UUID = UUID_BASE_FMT.format(0x0002)
CONTROL_UUID = UUID_BASE_FMT.format(0x0003)
STATUS_UUID = UUID_BASE_FMT.format(0x0004)
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"

HEADER = struct.Struct("<BBHIHBB")
HEADER_SIZE = HEADER.size  # 12
FLAG_GYRO = 0x01
KNOWN_FLAGS = FLAG_GYRO
SEQ_MOD = 1 << 16
CLOCK_MOD = 1 << 32
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (250, 500, 1000, 2000)
MAX_PAYLOAD = 244
MIN_RATE_HZ = 25
MAX_RATE_HZ = 400

CMD_START = 0x01
CMD_STOP = 0x02
CMD_SET_RATE = 0x03
CMD_SET_RANGE = 0x04
CMD_SET_BATCH = 0x05

STATUS = struct.Struct("<BBHBBH")
#: A packet this much earlier than the last sample means the sensor clock restarted.
CLOCK_RESET_US = 1_000_000


@dataclass(frozen=True)
class DecodedPacket:
    """One data notification, decoded.

    Attributes
    ----------
    seq : int
        Packet sequence number, 0..65535 (wraps).
    t0_us : int
        Sensor clock of the first sample, microseconds, 0..2**32-1 (wraps).
    interval_us : int
        Sample interval, microseconds.
    acc_range_g, gyr_range_dps : int
        Full-scale ranges; the int16 LSB is ``range / 32768``. ``gyr_range_dps`` is 0 when
        the packet has no gyroscope data.
    acc_counts : ndarray of int16, shape (n, 3)
    gyr_counts : ndarray of int16, shape (n, 3), or None
    """

    seq: int
    t0_us: int
    interval_us: int
    acc_range_g: int
    gyr_range_dps: int
    acc_counts: np.ndarray
    gyr_counts: np.ndarray | None

    @property
    def count(self) -> int:
        return int(self.acc_counts.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyr_counts is not None

    @property
    def acc_g(self) -> np.ndarray:
        return self.acc_counts.astype(np.float64) * (self.acc_range_g / 32768.0)

    @property
    def gyr_dps(self) -> np.ndarray | None:
        if self.gyr_counts is None:
            return None
        return self.gyr_counts.astype(np.float64) * (self.gyr_range_dps / 32768.0)


def decode_packet(data: bytes | bytearray | memoryview) -> DecodedPacket:
    """Decode one data notification.

    Parameters
    ----------
    data : bytes-like
        The notification payload.

    Returns
    -------
    DecodedPacket

    Raises
    ------
    PacketError
        On anything malformed: short, wrong version, unknown flags, zero count or interval,
        unknown range code, or a length that does not match the sample count.
    """
    try:
        raw = bytes(data)
    except Exception as exc:  # noqa: BLE001 - anything not bytes-like is a bad packet
        raise PacketError(f"packet is not bytes-like: {type(data).__name__}") from exc
    if len(raw) < HEADER_SIZE:
        raise PacketError(f"packet too short: {len(raw)} bytes, header needs {HEADER_SIZE}")
    version, flags, seq, t0_us, interval_us, count, ranges = HEADER.unpack_from(raw, 0)
    if version != PROTOCOL_VERSION:
        raise PacketError(f"unknown protocol version {version}, expected {PROTOCOL_VERSION}")
    if flags & ~KNOWN_FLAGS:
        raise PacketError(f"unknown flag bits 0x{flags & ~KNOWN_FLAGS:02x}")
    if count == 0:
        raise PacketError("packet holds no samples")
    if interval_us == 0:
        raise PacketError("sample interval is 0")
    has_gyro = bool(flags & FLAG_GYRO)
    acc_code, gyr_code = ranges & 0x0F, ranges >> 4
    if acc_code >= len(ACC_RANGES_G):
        raise PacketError(f"unknown accelerometer range code {acc_code}")
    if has_gyro and gyr_code >= len(GYR_RANGES_DPS):
        raise PacketError(f"unknown gyroscope range code {gyr_code}")
    if not has_gyro and gyr_code != 0:
        raise PacketError("gyroscope range set in a packet without gyroscope data")
    per = 6 if has_gyro else 3
    expected = HEADER_SIZE + 2 * per * count
    if len(raw) != expected:
        raise PacketError(
            f"packet length {len(raw)} does not match {count} samples "
            f"({'acc+gyro' if has_gyro else 'acc'}): expected {expected}")
    values = np.frombuffer(raw, dtype="<i2", offset=HEADER_SIZE).reshape(count, per)
    acc = values[:, :3].astype(np.int16)
    gyr = values[:, 3:].astype(np.int16) if has_gyro else None
    return DecodedPacket(seq, t0_us, interval_us, ACC_RANGES_G[acc_code],
                         GYR_RANGES_DPS[gyr_code] if has_gyro else 0, acc, gyr)


def quantise(values, full_scale: float) -> np.ndarray:
    """Vectorised copy of the firmware's ``to_counts`` (round half up, saturating)."""
    c = np.floor(np.asarray(values, dtype=np.float64) * 32768.0 / full_scale + 0.5)
    return np.clip(c, -32768, 32767).astype(np.int64)


# --- control commands ------------------------------------------------------------------

def cmd_start() -> bytes:
    """Control write: start streaming."""
    return bytes([CMD_START])


def cmd_stop() -> bytes:
    """Control write: stop streaming."""
    return bytes([CMD_STOP])


def cmd_set_rate(rate_hz: int) -> bytes:
    """Control write: sample rate in Hz (25..400)."""
    rate = int(rate_hz)
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise ValueError(f"rate {rate_hz} Hz outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")
    return struct.pack("<BH", CMD_SET_RATE, rate)


def cmd_set_range(acc_range_g: int, gyr_range_dps: int) -> bytes:
    """Control write: full-scale ranges (one of ``ACC_RANGES_G`` / ``GYR_RANGES_DPS``)."""
    if acc_range_g not in ACC_RANGES_G or gyr_range_dps not in GYR_RANGES_DPS:
        raise ValueError(f"ranges must be in {ACC_RANGES_G} g and {GYR_RANGES_DPS} dps")
    return bytes([CMD_SET_RANGE, ACC_RANGES_G.index(acc_range_g),
                  GYR_RANGES_DPS.index(gyr_range_dps)])


def cmd_set_batch(samples_per_packet: int) -> bytes:
    """Control write: samples per notification."""
    if not 1 <= samples_per_packet <= 255:
        raise ValueError("samples per packet must be 1..255")
    return bytes([CMD_SET_BATCH, samples_per_packet])


@dataclass(frozen=True)
class SensorStatus:
    """Decoded status characteristic."""

    version: int
    running: bool
    has_gyro: bool
    rate_hz: int
    acc_range_g: int
    gyr_range_dps: int
    batch: int
    commands_seen: int


def decode_status(data: bytes | bytearray) -> SensorStatus:
    """Decode the status characteristic; raise :class:`PacketError` if malformed."""
    raw = bytes(data)
    if len(raw) != STATUS.size:
        raise PacketError(f"status is {len(raw)} bytes, expected {STATUS.size}")
    version, state, rate, ranges, batch, seen = STATUS.unpack(raw)
    acc_code, gyr_code = ranges & 0x0F, ranges >> 4
    if acc_code >= len(ACC_RANGES_G) or gyr_code >= len(GYR_RANGES_DPS):
        raise PacketError("status has an unknown range code")
    return SensorStatus(version, bool(state & 1), bool(state & 2), rate,
                        ACC_RANGES_G[acc_code], GYR_RANGES_DPS[gyr_code], batch, seen)


# --- assembly --------------------------------------------------------------------------

@dataclass
class AssemblerStats:
    """Counters kept by :class:`PacketAssembler`."""

    packets: int = 0
    samples: int = 0
    duplicates: int = 0
    late: int = 0
    lost_packets: int = 0
    resyncs: int = 0
    reordered: int = 0
    dropped_samples: int = 0
    clock_resets: int = 0


@dataclass
class PacketAssembler:
    """Turns a stream of decoded packets into :class:`SampleChunk` on the sensor clock.

    Ordering is by sequence number within a small window:

    * a packet with the expected sequence number is emitted at once, followed by any held
      packets that now follow on;
    * a packet ahead of the expected one (``1 <= d <= reorder_window``) is held; once more
      than ``reorder_window`` packets are held, the earliest is emitted and the missing
      ones before it are counted lost (so a reorder window of W delays output by at most
      W packets, and only while something is missing);
    * a packet already emitted or already held is a duplicate and dropped; a packet behind
      the expected one by at most ``resync_threshold`` is late and dropped;
    * any larger jump in either direction (sensor restart, long outage, > 32767 packets
      lost) is a resync: held packets are flushed and counting restarts from that packet.

    Time: the 32-bit microsecond sensor clock is unwrapped by taking each emitted packet's
    ``t0`` as the nearest value to the previous one (so an outage longer than 2**31 us,
    35.8 min, is ambiguous). ``time_s = unwrapped_us / 1e6``. A packet more than
    ``CLOCK_RESET_US`` (1 s) *earlier* than the last emitted sample means the sensor clock
    restarted (reboot): the time axis continues one interval after the last sample.
    Samples that would not be strictly later than the previous emitted sample are dropped
    (counted in ``stats.dropped_samples``), which keeps ``SampleChunk.time_s`` strictly
    increasing. ``stats.late`` counts packets behind the expected one, which includes
    repeats of packets already emitted; ``stats.duplicates`` repeats of held packets.
    """

    reorder_window: int = 4
    resync_threshold: int = 64
    stats: AssemblerStats = field(default_factory=AssemblerStats)
    _expected: int | None = None
    _held: dict[int, DecodedPacket] = field(default_factory=dict)
    _last_raw_t0: int | None = None
    _last_ext_t0: int = 0
    _last_time_us: int | None = None
    _clock_offset_us: int = 0

    def push(self, packet: DecodedPacket) -> list[SampleChunk]:
        """Add one packet; return the chunks that became ready (possibly none)."""
        self.stats.packets += 1
        ready: list[DecodedPacket] = []
        if self._expected is None:
            self._expected = packet.seq
        d = (packet.seq - self._expected) % SEQ_MOD
        if d >= SEQ_MOD // 2:
            d -= SEQ_MOD
        if d < -self.resync_threshold or d > self.resync_threshold:
            self.stats.resyncs += 1
            ready.extend(self._drain_held())
            self._expected = packet.seq
            d = 0
        if d < 0:
            self.stats.late += 1
            return []
        if d == 0:
            ready.append(packet)
            self._expected = (packet.seq + 1) % SEQ_MOD
            ready.extend(self._release_following())
        else:
            if packet.seq in self._held:
                self.stats.duplicates += 1
                return []
            self._held[packet.seq] = packet
            self.stats.reordered += 1
            while len(self._held) > self.reorder_window:
                ready.extend(self._skip_to_earliest())
        return self._to_chunks(ready)

    def flush(self) -> list[SampleChunk]:
        """Emit every held packet (end of stream or a long pause)."""
        return self._to_chunks(self._drain_held())

    # --- internals -----------------------------------------------------------------
    def _offset(self, seq: int) -> int:
        assert self._expected is not None
        return (seq - self._expected) % SEQ_MOD

    def _release_following(self) -> list[DecodedPacket]:
        out = []
        while self._expected in self._held:
            p = self._held.pop(self._expected)
            out.append(p)
            self._expected = (p.seq + 1) % SEQ_MOD
        return out

    def _skip_to_earliest(self) -> list[DecodedPacket]:
        seq = min(self._held, key=self._offset)
        self.stats.lost_packets += self._offset(seq)
        self._expected = seq
        return self._release_following()

    def _drain_held(self) -> list[DecodedPacket]:
        out = []
        while self._held:
            out.extend(self._skip_to_earliest())
        return out

    def _unwrap(self, t0: int) -> int:
        if self._last_raw_t0 is None:
            ext = t0
        else:
            delta = (t0 - self._last_raw_t0) % CLOCK_MOD
            if delta >= CLOCK_MOD // 2:
                delta -= CLOCK_MOD
            ext = self._last_ext_t0 + delta
        self._last_raw_t0, self._last_ext_t0 = t0, ext
        return ext

    def _to_chunks(self, packets: list[DecodedPacket]) -> list[SampleChunk]:
        chunks: list[SampleChunk] = []
        run_t: list[np.ndarray] = []
        run_a: list[np.ndarray] = []
        run_g: list[np.ndarray] = []
        run_gyro: bool | None = None

        def close_run() -> None:
            if run_t:
                gyr = np.concatenate(run_g) if run_gyro else None
                chunks.append(SampleChunk(np.concatenate(run_t), np.concatenate(run_a), gyr))
            run_t.clear()
            run_a.clear()
            run_g.clear()

        for p in packets:
            t0 = self._unwrap(p.t0_us) + self._clock_offset_us
            if self._last_time_us is not None and t0 < self._last_time_us - CLOCK_RESET_US:
                # the sensor clock restarted (reboot): continue the time axis after the
                # last sample instead of dropping everything until it catches up
                self.stats.clock_resets += 1
                self._clock_offset_us += self._last_time_us + p.interval_us - t0
                t0 = self._last_time_us + p.interval_us
            t_us = t0 + p.interval_us * np.arange(p.count, dtype=np.int64)
            keep = slice(None)
            if self._last_time_us is not None and t_us[0] <= self._last_time_us:
                first = int(np.searchsorted(t_us, self._last_time_us, side="right"))
                self.stats.dropped_samples += first
                keep = slice(first, None)
                t_us = t_us[keep]
            if t_us.size == 0:
                continue
            if run_gyro is not None and run_gyro != p.has_gyro:
                close_run()
            run_gyro = p.has_gyro
            run_t.append(t_us / 1e6)
            run_a.append(p.acc_g[keep])
            if p.has_gyro:
                gyr = p.gyr_dps
                assert gyr is not None
                run_g.append(gyr[keep])
            self._last_time_us = int(t_us[-1])
            self.stats.samples += int(t_us.size)
        close_run()
        return chunks
