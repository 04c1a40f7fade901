"""A stand-in BlueZ on a private D-Bus, serving an emulated sensor to unmodified bleak.

Three pieces:

* :class:`PrivateBus` starts a private ``dbus-daemon`` (own config: one unix socket in a
  temporary folder, everything allowed) and gives its address. Point bleak at it with
  ``DBUS_SYSTEM_BUS_ADDRESS=unix:path=...`` (:meth:`PrivateBus.activate`).
* :class:`FakeBlueZ` owns ``org.bluez`` on that bus (dbus-fast, low-level message handler)
  and serves what bleak's BlueZ backend uses, with BlueZ's object layout:

  - ``/``: ``org.freedesktop.DBus.ObjectManager`` (``GetManagedObjects``,
    ``InterfacesAdded``, ``InterfacesRemoved``);
  - ``/org/bluez/hci0``: ``org.bluez.Adapter1`` (``StartDiscovery``, ``StopDiscovery``,
    ``SetDiscoveryFilter``, ``GetDiscoveryFilters``, ``RemoveDevice``; ``Powered``,
    ``Discovering``, ``Roles`` ...);
  - ``/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF``: ``org.bluez.Device1`` (``Connect``,
    ``Disconnect``, ``Pair``; ``Connected``, ``ServicesResolved``, ``Name``, ``Alias``,
    ``Address``, ``RSSI``, ``UUIDs`` ...);
  - ``.../service0010/char0011/desc0013`` ...: ``org.bluez.GattService1``,
    ``org.bluez.GattCharacteristic1`` (``ReadValue``, ``WriteValue``, ``StartNotify``,
    ``StopNotify``; ``UUID``, ``Service``, ``Flags``, ``Value``, ``Notifying``, ``MTU``),
    ``org.bluez.GattDescriptor1``. Notifications are ``PropertiesChanged`` on ``Value``.
  - ``org.freedesktop.DBus.Properties`` (``Get``, ``GetAll``, ``Set``) and
    ``Introspectable`` on every object.

  Devices appear (``InterfacesAdded``) on the first ``StartDiscovery`` and are re-announced
  (``PropertiesChanged`` of ``RSSI``) while discovery runs, like advertisements. GATT
  objects exist only while connected (added on connect, removed on disconnect).
* ``python -m sensorcoach.ble.fakebluez --bus ADDRESS --recording FILE ...`` runs the
  stand-in BlueZ with an :class:`~sensorcoach.ble.emulator.EmulatedSensor` in its own
  process and reports JSON lines on standard output (``ready``, ``link_down``,
  ``link_up``, ``end``, ``stats``); :class:`SimulatedSensor` starts and reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import DeviceError

BLUEZ = "org.bluez"
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
SERVICE = "org.bluez.GattService1"
CHAR = "org.bluez.GattCharacteristic1"
DESC = "org.bluez.GattDescriptor1"

DEFAULT_NAME = "sensorcoach-emu"
#: Advertised name per emulated sensor kind.
DEFAULT_NAMES = {"stub": DEFAULT_NAME, "polar": "Polar H10 0A1B2C3D", "witmotion": "WT901BLE68"}
DEFAULT_ADDRESS = "AA:BB:CC:DD:EE:FF"


def _uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


def _layout(kind: str) -> tuple[list[str], list[tuple[int, str, list]], str]:
    """``(advertised UUIDs, services, data UUID)`` of an emulated sensor kind; a service is
    ``(handle, uuid, [(char uuid, flags, initial value)])``."""
    from . import polar as PL
    from . import protocol as H
    from . import witmotion as W
    from .profiles import get_profile

    dis = (0x0018, H.DEVICE_INFO_SERVICE_UUID, [
        (H.MANUFACTURER_NAME_UUID, ["read"], b"sensorcoach"),
        (H.MODEL_NUMBER_UUID, ["read"], b"sensorcoach-emulator"),
        (H.FIRMWARE_REVISION_UUID, ["read"], b"0.1")])
    battery = (0x001f, H.BATTERY_SERVICE_UUID,
               [(H.BATTERY_LEVEL_UUID, ["read", "notify"], b"\x5a")])
    layouts = {
        "stub": ([H.SERVICE_UUID, H.DEVICE_INFO_SERVICE_UUID, H.BATTERY_SERVICE_UUID], [
            (0x0010, H.SERVICE_UUID, [
                (H.DATA_UUID, ["notify"], b""),
                (H.CONTROL_UUID, ["write", "write-without-response"], b""),
                (H.STATUS_UUID, ["read"], b"")]), dis, battery]),
        "polar": ([_uuid16(0x180D), PL.PMD_SERVICE_UUID, H.BATTERY_SERVICE_UUID], [
            (0x0010, PL.PMD_SERVICE_UUID, [
                # features read: ECG and ACC
                (PL.PMD_CONTROL_UUID, ["read", "write", "indicate"], b"\x0f\x05"),
                (PL.PMD_DATA_UUID, ["notify"], b"")]), dis, battery]),
        "witmotion": ([W.WIT_SERVICE_UUID], [
            (0x0010, W.WIT_SERVICE_UUID, [
                (W.WIT_NOTIFY_UUID, ["notify"], b""),
                (W.WIT_WRITE_UUID, ["write", "write-without-response"], b"")])]),
    }
    advertised, services = layouts[kind]
    return advertised, services, get_profile(kind).data_uuid


# --- private bus -----------------------------------------------------------------------

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000</limit>
  <limit name="max_replies_per_connection">100000</limit>
  <limit name="reply_timeout">60000</limit>
</busconfig>
"""


class PrivateBus:
    """A private ``dbus-daemon`` in a temporary folder (a context manager).

    Attributes
    ----------
    address : str
        ``unix:path=...`` of the bus once started.
    """

    def __init__(self) -> None:
        self.address = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateBus:
        exe = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
        if not os.path.exists(exe):
            raise DeviceError("dbus-daemon not found: install dbus (the dbus-daemon binary)")
        self._tmp = tempfile.TemporaryDirectory(prefix="sensorcoach-bus-")
        sock = Path(self._tmp.name) / "system_bus_socket"
        cfg = Path(self._tmp.name) / "bus.conf"
        cfg.write_text(_BUS_CONFIG.format(socket=sock))
        self._proc = subprocess.Popen(
            [exe, f"--config-file={cfg}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            err = self._proc.stderr.read().decode() if self._proc.stderr else ""
            raise DeviceError(f"dbus-daemon did not start: {err.strip()}")
        self.address = line.split(",")[0] if line.startswith("unix:path=") else f"unix:path={sock}"
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            for s in (self._proc.stdout, self._proc.stderr):
                if s is not None:
                    s.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @contextlib.contextmanager
    def activate(self):
        """Point ``DBUS_SYSTEM_BUS_ADDRESS`` (what bleak uses) at this bus while inside."""
        old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        try:
            yield self.address
        finally:
            if old is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old

    def __enter__(self) -> PrivateBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the BlueZ object tree ----------------------------------------------------------------

class _Obj:
    """One D-Bus object: interface -> property name -> (signature, value)."""

    def __init__(self, path: str, ifaces: dict[str, dict[str, tuple[str, Any]]]) -> None:
        self.path = path
        self.ifaces = ifaces

    def variants(self, iface: str) -> dict[str, Any]:
        from dbus_fast import Variant

        return {k: Variant(sig, v) for k, (sig, v) in self.ifaces[iface].items()}

    def all_variants(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {INTROSPECTABLE: {}, PROPS: {}}
        for iface in self.ifaces:
            out[iface] = self.variants(iface)
        return out


class FakeBlueZ:
    """Serves ``org.bluez`` for one emulated sensor (see the module docstring).

    Parameters
    ----------
    bus_address : str
        The private bus.
    sensor : EmulatedSensor
        The peripheral model; its ``notify`` and link callbacks are wired here.
    name, address : str
        Advertised name and BLE address.
    announce_s : float
        Period of re-announcements (``RSSI`` changes) while discovering.
    connect_wait_s : float
        How long ``Connect`` waits for an absent device before failing.
    forget_after_s : float or None
        Remove a device that has been absent this long (BlueZ drops devices it no longer
        sees; a client must scan again before it can connect). ``None``: keep it.
    report : callable or None
        Called with a dict for each link event.
    """

    def __init__(self, bus_address: str, sensor: Any, *, name: str = DEFAULT_NAME,
                 address: str = DEFAULT_ADDRESS, announce_s: float = 0.2,
                 connect_wait_s: float = 2.0, forget_after_s: float | None = None,
                 report: Any = None) -> None:
        self.bus_address = bus_address
        self.sensor = sensor
        self.name = name
        self.address = address.upper()
        self.announce_s = announce_s
        self.connect_wait_s = connect_wait_s
        self.forget_after_s = forget_after_s
        self.report = report or (lambda _d: None)
        self.adapter_path = "/org/bluez/hci0"
        self.dev_path = f"{self.adapter_path}/dev_{self.address.replace(':', '_')}"
        self.objects: dict[str, _Obj] = {}
        self.bus: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._discovering = False
        self._device_exported = False
        self._gatt_paths: list[str] = []
        self._char_by_uuid: dict[str, str] = {}
        self._rssi = -58
        self.method_calls: dict[str, int] = {}
        #: characteristic path -> our end of an AcquireNotify socket
        self._acquired: dict[str, socket.socket] = {}
        self.acquired_dropped = 0
        self.notifications_sent = 0
        self._available = asyncio.Event()
        self._available.set()
        #: this kind's advertised service UUIDs, GATT services, and data characteristic
        self._adv_uuids, self._services, self._data_char_uuid = _layout(self.kind)

    # --- setup ---------------------------------------------------------------------
    async def start(self) -> None:
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        self.bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM,
                                    negotiate_unix_fd=True).connect()
        self.bus.add_message_handler(self._handle)
        await self.bus.request_name(BLUEZ)

        self.objects[self.adapter_path] = _Obj(self.adapter_path, {ADAPTER: {
            "Address": ("s", "00:1A:7D:DA:71:13"), "AddressType": ("s", "public"),
            "Name": ("s", "fakebluez"), "Alias": ("s", "fakebluez"), "Class": ("u", 0),
            "Powered": ("b", True), "PowerState": ("s", "on"), "Discoverable": ("b", False),
            "DiscoverableTimeout": ("u", 180), "Pairable": ("b", True),
            "PairableTimeout": ("u", 0), "Discovering": ("b", False),
            "UUIDs": ("as", []), "Modalias": ("s", "usb:v1D6Bp0246d0548"),
            "Roles": ("as", ["central", "peripheral"]), "ExperimentalFeatures": ("as", []),
        }})
        self._emit_added(self.adapter_path)
        self._device_obj = _Obj(self.dev_path, {DEVICE: {
            "Address": ("s", self.address), "AddressType": ("s", "random"),
            "Name": ("s", self.name), "Alias": ("s", self.name),
            "Paired": ("b", False), "Bonded": ("b", False), "Trusted": ("b", False),
            "Blocked": ("b", False), "LegacyPairing": ("b", False),
            "RSSI": ("n", self._rssi), "TxPower": ("n", 0), "Connected": ("b", False),
            "UUIDs": ("as", self._adv_uuids),
            "Adapter": ("o", self.adapter_path), "ServicesResolved": ("b", False),
            "ManufacturerData": ("a{qv}", {}), "ServiceData": ("a{sv}", {}),
            "AdvertisingFlags": ("ay", b"\x06"),
        }})
        self.sensor.notify = self._notify_data
        self.sensor.indicate = self._indicate
        self.sensor.on_link_down = self._on_link_down
        self.sensor.on_link_up = self._on_link_up
        self._spawn(self._announcer())

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self.bus is not None:
            self.bus.disconnect()
            with contextlib.suppress(Exception):
                await self.bus.wait_for_disconnect()

    @property
    def kind(self) -> str:
        return getattr(self.sensor, "kind", "stub")

    def _gatt_tree(self) -> list[_Obj]:
        """The GATT objects, with BlueZ's handle-numbered paths: a service at its handle,
        then each characteristic (declaration + value) and its CCCD in turn."""
        d = self.dev_path
        objs: list[_Obj] = []
        for s_handle, s_uuid, chars in self._services:
            svc = f"{d}/service{s_handle:04x}"
            objs.append(_Obj(svc, {SERVICE: {"UUID": ("s", s_uuid), "Primary": ("b", True),
                                             "Device": ("o", d), "Includes": ("ao", [])}}))
            h = s_handle + 1
            for uuid, flags, value in chars:
                p = f"{svc}/char{h:04x}"
                props: dict[str, tuple[str, Any]] = {
                    "UUID": ("s", uuid), "Service": ("o", svc), "Value": ("ay", value),
                    "Flags": ("as", list(flags)), "MTU": ("q", 247)}
                cccd = "notify" in flags or "indicate" in flags
                if cccd:
                    props["Notifying"] = ("b", False)
                if "notify" in flags:
                    props["NotifyAcquired"] = ("b", False)
                objs.append(_Obj(p, {CHAR: props}))
                self._char_by_uuid[uuid] = p
                h += 2
                if cccd:
                    objs.append(_Obj(f"{p}/desc{h:04x}", {DESC: {
                        "UUID": ("s", _uuid16(0x2902)), "Characteristic": ("o", p),
                        "Value": ("ay", b""), "Flags": ("as", [])}}))
                    h += 1
        return objs

    # --- signals -------------------------------------------------------------------
    def _send_signal(self, path: str, iface: str, member: str, sig: str, body: list) -> None:
        from dbus_fast import Message

        if self.bus is None or not self.bus.connected:
            return
        self.bus.send(Message.new_signal(path, iface, member, sig, body))

    def _emit_added(self, path: str) -> None:
        self._send_signal("/", OM, "InterfacesAdded", "oa{sa{sv}}",
                          [path, self.objects[path].all_variants()])

    def _emit_removed(self, path: str, ifaces: list[str]) -> None:
        self._send_signal("/", OM, "InterfacesRemoved", "oas", [path, ifaces])

    def _set(self, path: str, iface: str, invalidate: tuple[str, ...] = (),
             **changes: Any) -> None:
        from dbus_fast import Variant

        obj = self.objects.get(path)
        if obj is None:
            return
        props = obj.ifaces[iface]
        out = {}
        for k, v in changes.items():
            sig = props[k][0]
            props[k] = (sig, v)
            out[k] = Variant(sig, v)
        for k in invalidate:
            props.pop(k, None)
        self._send_signal(path, PROPS, "PropertiesChanged", "sa{sv}as",
                          [iface, out, list(invalidate)])

    # --- device state --------------------------------------------------------------
    @property
    def connected(self) -> bool:
        obj = self.objects.get(self.dev_path)
        return bool(obj and obj.ifaces[DEVICE]["Connected"][1])

    def _export_device(self) -> None:
        if not self._device_exported:
            self.objects[self.dev_path] = self._device_obj
            self._device_exported = True
            self._emit_added(self.dev_path)

    async def _announcer(self) -> None:
        k = 0
        while True:
            await asyncio.sleep(self.announce_s)
            if self._discovering and self.sensor.available and not self.connected:
                self._export_device()
                k += 1
                self._rssi = -58 - (k % 5)
                self._set(self.dev_path, DEVICE, RSSI=self._rssi)

    def _do_connect(self) -> None:
        self._set(self.dev_path, DEVICE, Connected=True)
        self.sensor.link_connected()
        self._gatt_paths = []
        for obj in self._gatt_tree():
            self.objects[obj.path] = obj
            self._gatt_paths.append(obj.path)
            self._emit_added(obj.path)
        self._set(self.dev_path, DEVICE, ServicesResolved=True)
        self.report({"event": "connected", "wall": time.time()})

    def _do_disconnect(self, reason: str) -> None:
        if not self.connected:
            return
        self.sensor.link_disconnected()
        self._set(self.dev_path, DEVICE, ServicesResolved=False)
        for p in reversed(self._gatt_paths):
            obj = self.objects.pop(p, None)
            if obj is not None:
                self._emit_removed(p, list(obj.ifaces))
        for path in list(self._acquired):
            self._release_acquired(path, announce=False)
        self._gatt_paths = []
        self._char_by_uuid = {}
        self._set(self.dev_path, DEVICE, Connected=False)
        self.report({"event": "disconnected", "reason": reason, "wall": time.time()})

    def _on_link_down(self) -> None:
        self._available.clear()
        self.report({"event": "link_down", "wall": time.time(),
                     "at_s": self.sensor.recording_time_s})
        self._do_disconnect("link-loss")
        if self.dev_path in self.objects:
            self._set(self.dev_path, DEVICE, invalidate=("RSSI",))
        if self.forget_after_s is not None:
            self._spawn(self._forget_later(self.forget_after_s))

    async def _forget_later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        if not self._available.is_set() and self._device_exported and not self.connected:
            self.objects.pop(self.dev_path, None)
            self._device_exported = False
            self._emit_removed(self.dev_path, [DEVICE])
            self.report({"event": "forgotten", "wall": time.time()})

    def _on_link_up(self) -> None:
        self._available.set()
        self.report({"event": "link_up", "wall": time.time(),
                     "at_s": self.sensor.recording_time_s})
        if self.dev_path in self.objects:
            props = self.objects[self.dev_path].ifaces[DEVICE]
            props["RSSI"] = ("n", self._rssi)
            self._set(self.dev_path, DEVICE, RSSI=self._rssi)

    def _indicate(self, uuid: str, payload: bytes) -> None:
        """A notification/indication on another characteristic (Polar control point)."""
        path = self._char_by_uuid.get(uuid)
        if path is None or not self.connected:
            return
        props = self.objects[path].ifaces[CHAR]
        if props.get("Notifying", ("b", False))[1]:
            self._set(path, CHAR, Value=bytes(payload))

    def _notify_data(self, payload: bytes) -> None:
        path = self._char_by_uuid.get(self._data_char_uuid)
        if path is None or not self.connected:
            return
        sock = self._acquired.get(path)
        if sock is not None:
            try:
                sock.send(bytes(payload))
                self.notifications_sent += 1
            except (BlockingIOError, InterruptedError):
                self.acquired_dropped += 1  # the client does not read: the packet is lost
            except OSError:
                self._release_acquired(path)
            return
        props = self.objects[path].ifaces[CHAR]
        if not props["Notifying"][1]:
            return
        self.notifications_sent += 1
        self._set(path, CHAR, Value=bytes(payload))

    # --- method calls --------------------------------------------------------------
    def _handle(self, msg: Any) -> Any:
        from dbus_fast import Message, MessageType

        if msg.message_type != MessageType.METHOD_CALL:
            return False
        iface, member, path = msg.interface, msg.member, msg.path
        key = f"{iface}.{member}"
        self.method_calls[key] = self.method_calls.get(key, 0) + 1
        if iface == OM and member == "GetManagedObjects":
            body = {p: o.all_variants() for p, o in self.objects.items()
                    if path == "/" or p.startswith(path.rstrip("/") + "/")}
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [body])
        if iface == INTROSPECTABLE and member == "Introspect":
            return Message.new_method_return(msg, "s", [self._introspect(path)])
        obj = self.objects.get(path)
        if obj is None:
            if iface in (PROPS, ADAPTER, DEVICE, SERVICE, CHAR, DESC):
                return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownObject",
                                         f"Method \"{member}\" with signature "
                                         f"\"{msg.signature}\" on interface \"{iface}\" "
                                         f"doesn't exist")
            return False
        if iface == PROPS:
            return self._props_call(msg, obj)
        if iface not in obj.ifaces:
            return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod",
                                     f"{iface}.{member} not on {path}")
        if iface == ADAPTER:
            return self._adapter_call(msg)
        if iface == DEVICE:
            return self._device_call(msg)
        if iface == CHAR:
            return self._char_call(msg, obj)
        if iface == DESC:
            return self._desc_call(msg, obj)
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", member)

    def _props_call(self, msg: Any, obj: _Obj) -> Any:
        from dbus_fast import Message

        m = msg.member
        if m == "GetAll":
            (iface,) = msg.body
            if iface not in obj.ifaces:
                return Message.new_method_return(msg, "a{sv}", [{}])
            return Message.new_method_return(msg, "a{sv}", [obj.variants(iface)])
        if m == "Get":
            iface, name = msg.body
            try:
                return Message.new_method_return(msg, "v", [obj.variants(iface)[name]])
            except KeyError:
                return Message.new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs",
                                         f"No such property '{name}'")
        if m == "Set":
            iface, name, value = msg.body
            props = obj.ifaces.get(iface, {})
            if name not in props or name not in ("Trusted", "Blocked", "Alias", "Powered",
                                                 "Pairable", "Discoverable"):
                return Message.new_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly",
                                         f"Property '{name}' is not writable")
            self._set(obj.path, iface, **{name: value.value})
            return Message.new_method_return(msg)
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", m)

    def _adapter_call(self, msg: Any) -> Any:
        from dbus_fast import Message

        m = msg.member
        if m == "StartDiscovery":
            if not self._discovering:
                self._discovering = True
                self._set(self.adapter_path, ADAPTER, Discovering=True)
            if self.sensor.available and not self.connected:
                if self._device_exported:
                    self._set(self.dev_path, DEVICE, RSSI=self._rssi)
                else:
                    self._export_device()
            return Message.new_method_return(msg)
        if m == "StopDiscovery":
            if not self._discovering:
                return Message.new_error(msg, "org.bluez.Error.Failed", "No discovery started")
            self._discovering = False
            self._set(self.adapter_path, ADAPTER, Discovering=False)
            return Message.new_method_return(msg)
        if m == "SetDiscoveryFilter":
            return Message.new_method_return(msg)
        if m == "GetDiscoveryFilters":
            return Message.new_method_return(
                msg, "as", [["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData",
                             "Discoverable", "Pattern"]])
        if m == "RemoveDevice":
            (dev,) = msg.body
            if dev != self.dev_path or not self._device_exported:
                return Message.new_error(msg, "org.bluez.Error.DoesNotExist", "Does Not Exist")
            self._do_disconnect("removed")
            self.objects.pop(self.dev_path, None)
            self._device_exported = False
            self._emit_removed(self.dev_path, [DEVICE])
            return Message.new_method_return(msg)
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", m)

    def _device_call(self, msg: Any) -> Any:
        from dbus_fast import Message

        m = msg.member
        if m == "Connect":
            if self.connected:
                return Message.new_method_return(msg)
            self._spawn(self._connect_later(msg))
            return True
        if m == "Disconnect":
            self._do_disconnect("local")
            return Message.new_method_return(msg)
        if m == "Pair":
            self._set(self.dev_path, DEVICE, Paired=True, Bonded=True)
            return Message.new_method_return(msg)
        if m == "CancelPairing":
            return Message.new_method_return(msg)
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", m)

    async def _connect_later(self, msg: Any) -> None:
        from dbus_fast import Message

        try:
            await asyncio.wait_for(self._available.wait(), self.connect_wait_s)
        except TimeoutError:
            self.bus.send(Message.new_error(msg, "org.bluez.Error.Failed",
                                            "le-connection-abort-by-remote"))
            return
        await asyncio.sleep(0.01)  # a connection takes a few connection intervals
        if not self._device_exported:
            self.bus.send(Message.new_error(
                msg, "org.freedesktop.DBus.Error.UnknownObject",
                f"Method \"Connect\" with signature \"\" on interface \"{DEVICE}\" "
                "doesn't exist"))
            return
        if not self.connected:
            self._do_connect()
        self.bus.send(Message.new_method_return(msg))

    def _char_call(self, msg: Any, obj: _Obj) -> Any:
        from dbus_fast import Message

        from ..ble import protocol as H

        m = msg.member
        props = obj.ifaces[CHAR]
        uuid = props["UUID"][1]
        flags = props["Flags"][1]
        if m == "ReadValue":
            if "read" not in flags:
                return Message.new_error(msg, "org.bluez.Error.NotPermitted",
                                         "Read not permitted")
            value = self.sensor.status() if uuid == H.STATUS_UUID else props["Value"][1]
            props["Value"] = ("ay", bytes(value))
            return Message.new_method_return(msg, "ay", [bytes(value)])
        if m == "WriteValue":
            if "write" not in flags and "write-without-response" not in flags:
                return Message.new_error(msg, "org.bluez.Error.NotPermitted",
                                         "Write not permitted")
            data = bytes(msg.body[0])
            props["Value"] = ("ay", data)
            self.sensor.handle_write(uuid, data)
            return Message.new_method_return(msg)
        if m == "AcquireNotify":
            if "NotifyAcquired" not in props:
                return Message.new_error(msg, "org.bluez.Error.NotSupported",
                                         "Operation is not supported")
            if props["NotifyAcquired"][1] or props["Notifying"][1]:
                return Message.new_error(msg, "org.bluez.Error.NotPermitted",
                                         "Notify acquired")
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            ours.setblocking(False)
            self._acquired[obj.path] = ours
            asyncio.get_running_loop().add_reader(ours.fileno(), self._acquired_readable,
                                                  obj.path)
            self._set(obj.path, CHAR, NotifyAcquired=True)
            self.sensor.notify_changed(uuid, True)
            reply = Message.new_method_return(msg, "hq", [0, 247], unix_fds=[theirs.fileno()])
            self._spawn(self._send_then_close(reply, theirs))
            return True
        if m in ("StartNotify", "StopNotify"):
            if "Notifying" not in props:
                return Message.new_error(msg, "org.bluez.Error.NotSupported",
                                         "Operation is not supported")
            on = m == "StartNotify"
            if props["Notifying"][1] != on:
                self._set(obj.path, CHAR, Notifying=on)
                self.sensor.notify_changed(uuid, on)
            return Message.new_method_return(msg)
        return Message.new_error(msg, "org.bluez.Error.NotSupported", m)

    async def _send_then_close(self, reply: Any, sock: socket.socket) -> None:
        try:
            await self.bus.send(reply)
        finally:
            sock.close()  # the client holds its own copy now

    def _acquired_readable(self, path: str) -> None:
        """The client's end of an AcquireNotify socket closed (or wrote): release."""
        sock = self._acquired.get(path)
        if sock is None:
            return
        try:
            data = sock.recv(1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._release_acquired(path)

    def _release_acquired(self, path: str, announce: bool = True) -> None:
        sock = self._acquired.pop(path, None)
        if sock is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(sock.fileno())
        sock.close()
        if announce and path in self.objects:
            self._set(path, CHAR, NotifyAcquired=False)
            uuid = self.objects[path].ifaces[CHAR]["UUID"][1]
            self.sensor.notify_changed(uuid, False)

    def _desc_call(self, msg: Any, obj: _Obj) -> Any:
        from dbus_fast import Message

        props = obj.ifaces[DESC]
        if msg.member == "ReadValue":
            return Message.new_method_return(msg, "ay", [bytes(props["Value"][1])])
        if msg.member == "WriteValue":
            props["Value"] = ("ay", bytes(msg.body[0]))
            return Message.new_method_return(msg)
        return Message.new_error(msg, "org.bluez.Error.NotSupported", msg.member)

    def _introspect(self, path: str) -> str:
        prefix = "" if path == "/" else path.rstrip("/")
        children = sorted({p[len(prefix) + 1:].split("/")[0] for p in self.objects
                           if p.startswith(prefix + "/") and p != path})
        if path == "/" and "org" not in children and self.objects:
            children = ["org"]
        parts = ['<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"'
                 ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">', "<node>"]
        obj = self.objects.get(path)
        for iface in ([INTROSPECTABLE, PROPS] + list(obj.ifaces) if obj else [INTROSPECTABLE]):
            parts.append(f'<interface name="{iface}"/>')
        if path == "/":
            parts.append(f'<interface name="{OM}"/>')
        parts.extend(f'<node name="{c}"/>' for c in children)
        parts.append("</node>")
        return "".join(parts)


# --- the emulator process -----------------------------------------------------------------

def _emit(d: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()


async def _serve(args: argparse.Namespace) -> int:
    from .emulator import EmulatedSensor, load_source, parse_faults

    source = load_source(args.recording)
    sensor = EmulatedSensor(source, speed=args.speed, faults=parse_faults(args.fault),
                            seed=args.seed, batch=args.batch, kind=args.kind)
    name = args.name or DEFAULT_NAMES[args.kind]
    fb = FakeBlueZ(args.bus, sensor, name=name, address=args.address,
                   forget_after_s=args.forget_after, report=_emit)
    await fb.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    play = loop.create_task(sensor.run())
    _emit({"event": "ready", "name": name, "address": args.address, "kind": args.kind,
           "has_gyro": source.has_gyro, "rate_hz": sensor.native_rate_hz,
           "samples": int(len(source.time_s)), "t_first": float(source.time_s[0]),
           "wall": time.time()})
    stopper = loop.create_task(stop.wait())
    done, _ = await asyncio.wait({play, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if play in done:
        play.result()
        _emit({"event": "end", "wall": time.time()})
        await stopper
    else:
        play.cancel()
    _emit({"event": "stats", **vars(sensor.stats),
           "notifications": fb.notifications_sent,
           "notifications_lost_unread": fb.acquired_dropped, "method_calls": fb.method_calls})
    await fb.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the emulator process (``python -m sensorcoach.ble.fakebluez``)."""
    p = argparse.ArgumentParser(prog="python -m sensorcoach.ble.fakebluez",
                                description="Stand-in BlueZ serving an emulated sensor.")
    p.add_argument("--bus", required=True, help="private bus address (unix:path=...)")
    p.add_argument("--recording", required=True)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--fault", default="")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--kind", choices=tuple(DEFAULT_NAMES), default="stub")
    p.add_argument("--forget-after", type=float, default=None,
                   help="remove an absent device after this many (wall) seconds")
    p.add_argument("--name", default=None)
    p.add_argument("--address", default=DEFAULT_ADDRESS)
    args = p.parse_args(argv)
    return asyncio.run(_serve(args))


class SimulatedSensor:
    """Runs a private bus plus the emulator process; a context manager.

    Inside the ``with`` block ``DBUS_SYSTEM_BUS_ADDRESS`` points at the private bus, so
    bleak in this process talks to the stand-in BlueZ. ``events`` collects the JSON lines
    the emulator reports (``ready``, ``connected``, ``link_down``, ``link_up``, ``end``...).
    """

    def __init__(self, recording: str | os.PathLike[str], *, speed: float = 1.0,
                 fault: str = "", seed: int = 0, batch: int = 10,
                 name: str | None = None, address: str = DEFAULT_ADDRESS,
                 kind: str = "stub", forget_after_s: float | None = None) -> None:
        if kind not in DEFAULT_NAMES:
            raise DeviceError(f"unknown sensor kind {kind!r}: use {', '.join(DEFAULT_NAMES)}")
        self.recording = str(recording)
        self.speed, self.fault, self.seed, self.batch = speed, fault, seed, batch
        self.kind = kind
        self.forget_after_s = forget_after_s
        self.name, self.address = name or DEFAULT_NAMES[kind], address
        self.bus = PrivateBus()
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._env_ctx: Any = None
        self.stderr_path: str | None = None

    def start(self, timeout_s: float = 20.0) -> SimulatedSensor:
        from .emulator import parse_faults

        parse_faults(self.fault)  # fail early, in this process, on a bad spec
        self.bus.start()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                    else "")
        err = tempfile.NamedTemporaryFile(prefix="fakebluez-", suffix=".log", delete=False)
        self.stderr_path = err.name
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "sensorcoach.ble.fakebluez", "--bus", self.bus.address,
             "--recording", self.recording, "--speed", str(self.speed), "--fault", self.fault,
             "--seed", str(self.seed), "--batch", str(self.batch), "--name", self.name,
             "--kind", self.kind,
             *([] if self.forget_after_s is None else
               ["--forget-after", str(self.forget_after_s)]),
             "--address", self.address],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        err.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.wait_for("ready", timeout_s) is None:
            self.stop()
            raise DeviceError(f"emulator did not start; see {self.stderr_path}")
        self._env_ctx = self.bus.activate()
        self._env_ctx.__enter__()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()

    @property
    def alive(self) -> bool:
        """The emulator process is running."""
        return self._proc is not None and self._proc.poll() is None

    def _named(self, name: str):
        """The events ``name`` arrived so far, in order (the caller holds ``_cond``)."""
        return (e for e in self.events if e.get("event") == name)

    def find(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._named(name))

    def _first(self, name: str) -> dict[str, Any] | None:
        """The first event ``name`` arrived so far, if any."""
        with self._cond:
            return next(self._named(name), None)

    def wait_for(self, name: str, timeout_s: float) -> dict[str, Any] | None:
        """Block until an event ``name`` arrived (or the process ended); return it."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                hit = self._first(name)
                if hit is not None:
                    return hit
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None):
                    return None
                self._cond.wait(min(left, 0.1))

    async def wait_for_async(self, name: str, timeout_s: float) -> dict[str, Any] | None:
        """``wait_for`` without blocking the event loop, and cancellable (a worker thread
        blocked in ``wait_for`` would hold ``asyncio.run`` up until its timeout)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            hit = self._first(name)
            if hit is not None:
                return hit
            if not self.alive:
                return None
            await asyncio.sleep(0.05)
        return None

    def stop(self) -> None:
        if self._env_ctx is not None:
            self._env_ctx.__exit__(None, None, None)
            self._env_ctx = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            if self._reader is not None:
                self._reader.join(timeout=2)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        self.bus.stop()
        if self.stderr_path and os.path.exists(self.stderr_path):
            if os.path.getsize(self.stderr_path) == 0:
                os.unlink(self.stderr_path)

    def __enter__(self) -> SimulatedSensor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
