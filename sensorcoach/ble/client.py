"""BLE client: find the sensor, stream its samples, survive link drops.

Uses bleak (BlueZ on Linux). :func:`scan` lists sensors; :class:`SensorStream` connects,
writes START (after SET RATE), subscribes to the data characteristic and turns notifications
into :class:`~sensorcoach.types.SampleChunk` on the sensor clock.

* The notification callback only enqueues the payload (bleak's
  ``async_callback_with_queue`` pattern); one consumer task decodes (bad packets are counted
  and skipped) and assembles chunks (:class:`~sensorcoach.ble.protocol.PacketAssembler`).
* A watchdog treats ``watchdog_s`` without data as a lost link and disconnects.
* After any drop it reconnects (short backoff; a pending ``Connect`` completes as soon as
  the sensor advertises again) and keeps the session: the queue, the assembler and the
  time axis carry on, and the missing stretch is a time gap.

Heavy imports (bleak) happen inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import DeviceError, PacketError
from ..types import SampleChunk
from . import protocol as H
from .profiles import STUB, SensorProfile, kind_of

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


@dataclass(frozen=True)
class FoundDevice:
    """A sensor seen while scanning.

    ``kind`` is the ``--sensor`` profile it looks like (``stub``, ``polar``, ``witmotion``)
    or ``None``.
    """

    name: str | None
    address: str
    rssi: int | None
    kind: str | None = None
    #: bleak's ``BLEDevice``: connecting to it needs no second scan
    ble_device: Any = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``name (address)``, as messages show it."""
        return f"{self.name or '-'} ({self.address})"

    @property
    def is_sensorcoach(self) -> bool:
        return self.kind == "stub"


async def scan(timeout_s: float = 5.0, *, all_devices: bool = False) -> list[FoundDevice]:
    """Scan for ``timeout_s`` seconds; return known sensors (or every device).

    Known: the sensorcoach sensor (its service, or a name starting with ``sensorcoach``), a
    Polar H10 (PMD service or name) and a WitMotion BWT901BLE (its service or name).
    """
    from bleak import BleakScanner

    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True)
    except Exception as exc:  # bleak raises several types for "no Bluetooth"
        raise DeviceError(f"cannot scan for BLE devices ({exc}); is Bluetooth (BlueZ) "
                          "available and on?") from exc
    out = []
    for dev, adv in found.values():
        uuids = [u.lower() for u in (adv.service_uuids or [])]
        kind = kind_of(dev.name or adv.local_name, uuids)
        if kind or all_devices:
            out.append(FoundDevice(dev.name, dev.address, adv.rssi, kind, dev))
    out.sort(key=lambda d: (d.kind is None, d.kind != "stub", -(d.rssi or -999)))
    return out


async def pick_sensor(kind: str, timeout_s: float = 3.0) -> FoundDevice:
    """The one sensor of ``kind`` (a ``--sensor`` profile) in range; a
    :class:`DeviceError` names what was found when there is none or several."""
    found = [d for d in await scan(timeout_s) if d.kind == kind]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DeviceError(f"no {kind} sensor found: switch it on, or use --device NAME|ADDRESS")
    names = ", ".join(d.label for d in found)
    raise DeviceError(f"several {kind} sensors in range ({names}): choose one with --device")


async def find_device(device: str, timeout_s: float = 10.0) -> Any:
    """Find a device by address (``AA:BB:...``) or by name (exact, else prefix).

    Returns a bleak ``BLEDevice``; raises :class:`DeviceError` if none is seen in time.
    """
    from bleak import BleakScanner

    want = device.strip()
    try:
        if _ADDRESS.match(want):
            dev = await BleakScanner.find_device_by_address(want.replace("-", ":"),
                                                            timeout=timeout_s)
        else:
            dev = await _find_by_name(want, timeout_s)
    except DeviceError:
        raise
    except Exception as exc:
        raise DeviceError(f"cannot scan for {device!r} ({exc}); is Bluetooth (BlueZ) "
                          "available and on?") from exc
    if dev is None:
        raise DeviceError(f"no BLE device named or addressed {device!r} found in {timeout_s:g} s")
    return dev


async def _find_by_name(name: str, timeout_s: float, prefix_wait_s: float = 1.0) -> Any:
    """Scan for a device named ``name`` (case-insensitive); a name that merely starts with
    it is accepted after ``prefix_wait_s`` if no exact match showed up."""
    from bleak import BleakScanner

    low = name.lower()
    exact: list[Any] = []
    prefix: list[Any] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_adv(dev: Any, adv: Any) -> None:
        seen = (dev.name or adv.local_name or "").lower()
        if seen == low:
            exact.append(dev)
            done.set()
        elif seen.startswith(low):
            if not prefix:  # the first partial match: wait a little for an exact one
                loop.call_later(prefix_wait_s, done.set)
            prefix.append(dev)

    async with BleakScanner(detection_callback=on_adv):
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), timeout_s)
    return (exact or prefix or [None])[0]


@dataclass
class StreamStats:
    """What happened during a stream."""

    notifications: int = 0
    bad_packets: int = 0
    chunks: int = 0
    samples: int = 0
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    watchdog_trips: int = 0
    #: wall seconds from a lost link to data flowing again, per reconnect
    reconnect_s: list[float] = field(default_factory=list)
    assembler: H.AssemblerStats = field(default_factory=H.AssemblerStats)
    last_error: str | None = None


class SensorStream:
    """Streams one sensor into ``on_chunk`` until ``stop`` is set.

    Parameters
    ----------
    device : str or None
        Name or address of the sensor; ``None``: the one sensor of ``profile``'s kind in
        range (:func:`pick_sensor`, reported to ``on_found``).
    on_chunk : callable
        Called with each :class:`SampleChunk` (in the event loop; keep it quick).
    rate_hz : int or None
        Written as SET RATE before START; ``None`` keeps the sensor's rate.
    watchdog_s : float
        Seconds without data after which the link counts as lost.
    reconnect : bool
        Reconnect after a drop (else :meth:`run` returns).
    scan_timeout_s : float or None
        Limit of the first scan: for ``device`` (``None``: 10 s), or the scan that picks the
        sensor without one (``None``: 3 s, see :func:`pick_sensor`).
    connect_timeout_s : float
        Limit of each connection attempt.
    give_up_s : float or None
        Stop with :class:`DeviceError` after this long without any data (``None``: never).
    on_state : callable or None
        Called with short state words: ``connecting``, ``connected``, ``streaming``,
        ``lost``, ``watchdog``, ``reconnecting``, ``stopped``.
    profile : SensorProfile
        The kind of sensor (:mod:`sensorcoach.ble.profiles`); the sensorcoach firmware by
        default.
    acquire_notify : bool
        BlueZ only: receive notifications through ``AcquireNotify`` (a socket per
        characteristic, no D-Bus message per notification) instead of ``StartNotify``.
        Cheaper at high rates; some devices/BlueZ versions misbehave with it, hence off.
    on_found : callable or None
        Called with the :class:`FoundDevice` chosen when ``device`` is ``None``.
    """

    def __init__(self, device: str | None, on_chunk: Callable[[SampleChunk], None], *,
                 rate_hz: int | None = None, watchdog_s: float = 2.0, reconnect: bool = True,
                 scan_timeout_s: float | None = None, connect_timeout_s: float = 10.0,
                 give_up_s: float | None = None,
                 on_state: Callable[[str], None] | None = None,
                 profile: SensorProfile = STUB, acquire_notify: bool = False,
                 on_found: Callable[[FoundDevice], None] | None = None) -> None:
        self.device = device
        self.on_found = on_found or (lambda _d: None)
        self.on_chunk = on_chunk
        self.rate_hz = rate_hz
        self.watchdog_s = watchdog_s
        self.reconnect = reconnect
        #: the first scan's limit as arguments (none: the scanning function's default)
        self._scan_limit = () if scan_timeout_s is None else (scan_timeout_s,)
        self.connect_timeout_s = connect_timeout_s
        self.give_up_s = give_up_s
        self.on_state = on_state or (lambda _s: None)
        self.profile = profile
        self.acquire_notify = acquire_notify
        self.stats = StreamStats()
        self.decoder = profile.make_decoder(rate_hz)
        self.stats.assembler = self.decoder.stats
        self.client: Any = None
        self._queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        self._last_rx = 0.0
        self._lost_at: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- notification path ---------------------------------------------------------
    def _on_notify(self, _char: Any, data: bytearray) -> None:
        # only enqueue: decoding happens in the consumer task
        self._last_rx = now = time.monotonic()
        self._queue.put_nowait((now, bytes(data)))

    async def _consume(self) -> None:
        n = 0
        while True:
            item = await self._queue.get()
            if item is None:
                break
            n += 1
            if n % 4 == 0:
                # Queue.get() does not yield while items are waiting: let the D-Bus reader
                # and the watchdog run even when a slow consumer falls behind
                await asyncio.sleep(0)
            arrival, data = item
            self.stats.notifications += 1
            try:
                chunks = self.decoder.push(data, arrival)
            except PacketError as exc:
                self.stats.bad_packets += 1
                logger.debug("bad packet skipped: %s", exc)
                continue
            if self._lost_at is not None:
                self.stats.reconnect_s.append(time.monotonic() - self._lost_at)
                self._lost_at = None
                self.on_state("streaming")
            self._deliver(chunks)

    def _deliver(self, chunks: list[SampleChunk]) -> None:
        for c in chunks:
            self.stats.chunks += 1
            self.stats.samples += len(c)
            try:
                self.on_chunk(c)
            except Exception:  # a consumer bug must not kill the BLE session
                logger.exception("on_chunk failed")

    # --- connection loop -----------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None) -> StreamStats:
        """Stream until ``stop`` is set (or the link is lost with ``reconnect=False``)."""
        from bleak import BleakClient
        from bleak.exc import BleakDeviceNotFoundError

        stop = stop or asyncio.Event()
        if self.device is None:
            # no name or address: the one sensor of this kind in range, connected to as
            # scanned (no second scan)
            found = await pick_sensor(self.profile.key, *self._scan_limit)
            self.device = found.address
            self.on_found(found)
            ble_device: Any = found.ble_device
        else:
            ble_device = await find_device(self.device, *self._scan_limit)
        consumer = asyncio.create_task(self._consume())
        self._tasks.add(consumer)
        backoff = 0.05
        started = time.monotonic()
        first = True
        try:
            while not stop.is_set():
                if ble_device is None:
                    # BlueZ forgot the device (absent too long): it must be seen again
                    try:
                        ble_device = await find_device(self.device, 2.0)
                    except DeviceError:
                        self.stats.connect_failures += 1
                        await _sleep_or_stop(backoff, stop)
                        backoff = min(backoff * 2, 1.0)
                        continue
                disconnected = asyncio.Event()
                client = BleakClient(ble_device, timeout=self.connect_timeout_s,
                                     disconnected_callback=lambda _c, ev=disconnected: ev.set())
                self.client = client
                self.on_state("connecting" if first else "reconnecting")
                try:
                    await client.connect()
                    self.stats.connects += 1
                    self.on_state("connected")
                    await self.profile.start(client, self.rate_hz, self._on_notify,
                                             self._notify_kwargs())
                    self._last_rx = time.monotonic()
                    first = False
                    backoff = 0.05
                    reason = await self._watch(client, disconnected, stop)
                except DeviceError:
                    if first:  # the sensor refused the request: retrying will not help
                        await self._teardown(client, False)
                        raise
                    reason = "connect-failed"
                    self.stats.connect_failures += 1
                except BleakDeviceNotFoundError as exc:
                    reason = "not-found"
                    self.stats.connect_failures += 1
                    self.stats.last_error = str(exc)
                    ble_device = None
                except (TimeoutError, Exception) as exc:  # noqa: BLE001
                    if "not found" in str(exc):  # bleak: "device '...' not found"
                        ble_device = None
                    if first and not self.reconnect:
                        raise DeviceError(f"cannot connect to {self.device!r}: {exc}") from exc
                    reason = "connect-failed"
                    self.stats.connect_failures += 1
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    logger.debug("connection attempt failed: %r", exc)
                await self._teardown(client, stop.is_set())
                if stop.is_set():
                    break
                if reason in ("lost", "watchdog"):
                    self.stats.disconnects += 1
                    if self._lost_at is None:
                        self._lost_at = time.monotonic()
                    # release held packets now: the link gap is a time gap anyway
                    self._deliver(self.decoder.flush())
                    self.on_state(reason)
                if not self.reconnect:
                    break
                since = time.monotonic() - max(self._last_rx, started)
                if self.give_up_s is not None and since > self.give_up_s:
                    raise DeviceError(f"no data from {self.device!r} for {since:.0f} s")
                if reason == "connect-failed":
                    await _sleep_or_stop(backoff, stop)
                    backoff = min(backoff * 2, 1.0)
        finally:
            self._deliver(self.decoder.flush())
            self._queue.put_nowait(None)
            await consumer
            self._tasks.discard(consumer)
            self.on_state("stopped")
        return self.stats

    def _notify_kwargs(self) -> dict[str, Any]:
        import sys

        if sys.platform != "linux":
            return {}
        return {"bluez": {"use_start_notify": not self.acquire_notify}}

    async def _watch(self, client: Any, disconnected: asyncio.Event,
                     stop: asyncio.Event) -> str:
        while True:
            if stop.is_set():
                return "stopped"
            if disconnected.is_set() or not client.is_connected:
                return "lost"
            if time.monotonic() - self._last_rx > self.watchdog_s and self._queue.empty():
                self.stats.watchdog_trips += 1
                logger.info("no data for %.1f s: treating the link as lost", self.watchdog_s)
                return "watchdog"
            await _wait_any((disconnected, stop), 0.1)

    async def _teardown(self, client: Any, stopping: bool) -> None:
        if not client.is_connected:
            with contextlib.suppress(Exception):
                await client.disconnect()  # releases bleak's bus even when already down
            return
        with contextlib.suppress(Exception):
            if stopping:
                await asyncio.wait_for(self.profile.stop(client), 2.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 5.0)


async def _sleep_or_stop(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(events: tuple[asyncio.Event, ...], timeout: float) -> None:
    tasks = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
