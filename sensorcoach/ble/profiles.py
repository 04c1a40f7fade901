"""Sensor profiles: which characteristics to use, how to start streaming, how to decode.

A :class:`SensorProfile` hides what differs between sensors from the client:

* ``stub``: the sensorcoach firmware (``firmware_stub/PROTOCOL.md``): sequence numbers and a
  32-bit microsecond sensor clock; decoded by :func:`~sensorcoach.ble.protocol.decode_packet`
  and ordered by :class:`~sensorcoach.ble.protocol.PacketAssembler`.
* ``polar``: Polar H10 accelerometer over the Polar Measurement Data (PMD) service
  (:mod:`sensorcoach.ble.polar`); 64-bit nanosecond sensor timestamps, no gyroscope.
* ``witmotion``: WitMotion BWT901BLE / WT901BLE family, BLE 5.0 protocol
  (:mod:`sensorcoach.ble.witmotion`); no timestamps: times come from the host's arrival
  clock, smoothed onto the nominal rate.

Every decoder has ``push(data, arrival_s) -> list[SampleChunk]`` (raising
:class:`~sensorcoach.errors.PacketError` on a malformed notification), ``flush()`` and a
``stats`` (:class:`~sensorcoach.ble.protocol.AssemblerStats`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..consts import SENSOR_KINDS
from ..types import SampleChunk
from . import protocol as H

NotifyCallback = Callable[[Any, bytearray], None]


class Decoder(Protocol):
    stats: H.AssemblerStats
    #: the nominal sample rate when the decoder knows it (None: only the samples' times tell)
    rate_hz: int | None

    def push(self, data: bytes, arrival_s: float) -> list[SampleChunk]: ...

    def flush(self) -> list[SampleChunk]: ...


@dataclass(frozen=True)
class SensorProfile:
    """What the client needs to know about one kind of sensor.

    Attributes
    ----------
    key : str
        ``stub``, ``polar`` or ``witmotion`` (the CLI's ``--sensor``).
    label : str
        Written to the recording's ``sensor`` metadata.
    service_uuid, data_uuid : str
        The streaming service and its notifying characteristic.
    name_prefixes : tuple of str
        Lower-case advertised-name prefixes that identify the sensor when scanning.
    make_decoder : callable
        ``make_decoder(rate_hz or None) -> Decoder``, one per stream (kept across
        reconnects).
    start : callable
        ``await start(client, rate_hz, on_data, notify_kwargs)``: subscribe (passing
        ``notify_kwargs`` to bleak's ``start_notify`` for the data characteristic) and start
        streaming on a fresh connection.
    stop : callable
        ``await stop(client)``: stop streaming (best effort).
    """

    key: str
    label: str
    service_uuid: str
    data_uuid: str
    make_decoder: Callable[[int | None], Decoder]
    start: Callable[[Any, int | None, NotifyCallback, dict[str, Any]], Awaitable[None]]
    stop: Callable[[Any], Awaitable[None]]
    name_prefixes: tuple[str, ...] = ()


class StubDecoder:
    """sensorcoach firmware packets: decode, then order and time them by the assembler."""

    def __init__(self, rate_hz: int | None = None) -> None:
        from ..errors import DeviceError

        if rate_hz is not None and not H.MIN_RATE_HZ <= rate_hz <= H.MAX_RATE_HZ:
            raise DeviceError(f"sensorcoach sensor rates are {H.MIN_RATE_HZ}..{H.MAX_RATE_HZ} "
                              f"Hz, not {rate_hz}")
        self.assembler = H.PacketAssembler()
        self.stats = self.assembler.stats
        self.rate_hz = None  # the packets' own sensor-clock times tell

    def push(self, data: bytes, arrival_s: float) -> list[SampleChunk]:
        return self.assembler.push(H.decode_packet(data))

    def flush(self) -> list[SampleChunk]:
        return self.assembler.flush()


async def _stub_start(client: Any, rate_hz: int | None, on_data: NotifyCallback,
                      notify_kwargs: dict[str, Any]) -> None:
    if rate_hz is not None:
        await client.write_gatt_char(H.CONTROL_UUID, H.cmd_set_rate(rate_hz), response=True)
    await client.start_notify(H.DATA_UUID, on_data, **notify_kwargs)
    await client.write_gatt_char(H.CONTROL_UUID, H.cmd_start(), response=True)


async def _stub_stop(client: Any) -> None:
    await client.write_gatt_char(H.CONTROL_UUID, H.cmd_stop(), response=True)


STUB = SensorProfile("stub", "sensorcoach-stub 0.1", H.SERVICE_UUID, H.DATA_UUID,
                     StubDecoder, _stub_start, _stub_stop, ("sensorcoach",))


def get_profile(key: str) -> SensorProfile:
    """The profile for ``--sensor KEY``."""
    from ..errors import DeviceError

    if key == "stub":
        return STUB
    if key == "polar":
        from .polar import POLAR

        return POLAR
    if key == "witmotion":
        from .witmotion import WITMOTION

        return WITMOTION
    raise DeviceError(f"unknown sensor {key!r}: use {', '.join(SENSOR_KINDS)}")


def kind_of(name: str | None, uuids: list[str]) -> str | None:
    """The profile a scanned device looks like (by advertised service or name), or None."""
    low = (name or "").lower()
    for key in SENSOR_KINDS:
        p = get_profile(key)
        if p.service_uuid in uuids or low.startswith(p.name_prefixes):
            return key
    return None
