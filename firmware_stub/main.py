# MicroPython BLE glue for the sensorcoach sensor (not run in CI; keep it thin).
#
# All logic lives in sensorcoach_fw (tested on CPython and on MicroPython); this file only
# registers the GATT services, advertises, and wires the IRQ handler and a hardware timer
# to the Sampler. Copy main.py and the sensorcoach_fw/ folder to the board.
# Replace FakeIMU with a real driver exposing has_gyro / configure() / read().

import struct
import time

import bluetooth
import micropython
from machine import Timer, disable_irq, enable_irq
from micropython import const
from sensorcoach_fw import FW_NAME, FW_VERSION
from sensorcoach_fw import protocol as P
from sensorcoach_fw.imu import FakeIMU
from sensorcoach_fw.sampler import Sampler

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)

_F_READ = const(0x0002)
_F_WRITE_NR = const(0x0004)
_F_WRITE = const(0x0008)
_F_NOTIFY = const(0x0010)

_SENSOR_SERVICE = (
    bluetooth.UUID(P.SERVICE_UUID),
    (
        (bluetooth.UUID(P.DATA_UUID), _F_NOTIFY),
        (bluetooth.UUID(P.CONTROL_UUID), _F_WRITE | _F_WRITE_NR),
        (bluetooth.UUID(P.STATUS_UUID), _F_READ),
    ),
)
_DIS_SERVICE = (
    bluetooth.UUID(P.DEVICE_INFO_SERVICE),
    (
        (bluetooth.UUID(P.MANUFACTURER_NAME_CHAR), _F_READ),
        (bluetooth.UUID(P.MODEL_NUMBER_CHAR), _F_READ),
        (bluetooth.UUID(P.FIRMWARE_REVISION_CHAR), _F_READ),
    ),
)
_BATTERY_SERVICE = (
    bluetooth.UUID(P.BATTERY_SERVICE),
    ((bluetooth.UUID(P.BATTERY_LEVEL_CHAR), _F_READ | _F_NOTIFY),),
)


def _adv_payload(name):
    # flags (general discoverable, BR/EDR not supported) + complete local name
    payload = bytearray(b"\x02\x01\x06")
    payload += struct.pack("BB", len(name) + 1, 0x09) + name
    return payload


def _scan_response(uuid_str):
    # complete list of 128-bit service UUIDs (little-endian bytes)
    b = bytes(bluetooth.UUID(uuid_str))
    return struct.pack("BB", len(b) + 1, 0x07) + b


class SensorPeripheral:
    def __init__(self, ble, imu, name=b"sensorcoach-0001"):
        self._ble = ble
        self._ble.active(True)
        self._ble.config(gap_name=name, mtu=247)
        self._ble.irq(self._irq)
        handles = self._ble.gatts_register_services(
            (_SENSOR_SERVICE, _DIS_SERVICE, _BATTERY_SERVICE))
        (self._h_data, self._h_ctrl, self._h_status) = handles[0]
        (h_mfr, h_model, h_fw) = handles[1]
        (self._h_batt,) = handles[2]
        self._ble.gatts_set_buffer(self._h_ctrl, 16)
        self._ble.gatts_write(h_mfr, b"sensorcoach")
        self._ble.gatts_write(h_model, FW_NAME.encode())
        self._ble.gatts_write(h_fw, FW_VERSION.encode())
        self._ble.gatts_write(self._h_batt, b"\x64")
        self._conn = None
        self._sampler = Sampler(imu, self._send)
        self._ble.gatts_write(self._h_status, self._sampler.status())
        self._clock_us = 0
        self._missed_ticks = 0
        self._tick_ref = self._tick  # made once: a bound method allocates, the timer IRQ must not
        self._name = name
        self._timer = Timer(0)  # a hardware timer id that exists on the port (ESP32: 0..3)
        self._arm_timer()
        self._advertise()

    # timer -> scheduled (not hard-IRQ) tick: allocation is allowed there
    def _arm_timer(self):
        self._timer.init(freq=self._sampler.rate_hz, mode=Timer.PERIODIC,
                         callback=self._on_timer)

    def _on_timer(self, _t):
        try:
            micropython.schedule(self._tick_ref, 0)
        except RuntimeError:
            self._missed_ticks += 1  # schedule queue full: that sample is lost

    def _tick(self, _):
        # the clock also skips the periods of missed ticks (big-int arithmetic: not in the IRQ)
        irq = disable_irq()  # the timer IRQ must not count a miss between read and reset
        n, self._missed_ticks = 1 + self._missed_ticks, 0
        enable_irq(irq)
        self._clock_us = (self._clock_us + n * self._sampler.interval_us) % P.CLOCK_MOD
        self._sampler.tick(self._clock_us)

    def _send(self, packet):
        if self._conn is not None:
            try:
                self._ble.gatts_notify(self._conn, self._h_data, packet)
            except OSError:
                pass  # TX queue full: the packet is lost, the host sees the seq gap

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self._conn = data[0]
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self._conn = None
            self._sampler.stop()
            self._ble.gatts_write(self._h_status, self._sampler.status())
            self._advertise()
        elif event == _IRQ_GATTS_WRITE:
            handle = data[1]
            if handle == self._h_ctrl:
                rate = self._sampler.rate_hz
                self._sampler.handle_control(self._ble.gatts_read(self._h_ctrl))
                if self._sampler.rate_hz != rate:
                    self._arm_timer()
                self._ble.gatts_write(self._h_status, self._sampler.status())

    def _advertise(self):
        self._ble.gap_advertise(100000, adv_data=_adv_payload(self._name),
                                resp_data=_scan_response(P.SERVICE_UUID))


def _demo_samples():
    # A still sensor, z up; replace with a real IMU driver.
    while True:
        yield (0.0, 0.0, 1.0, 0.0, 0.0, 0.0)


sensor = SensorPeripheral(bluetooth.BLE(), FakeIMU(_demo_samples(), has_gyro=True))
while True:  # everything happens in IRQs and scheduled callbacks
    time.sleep_ms(1000)
