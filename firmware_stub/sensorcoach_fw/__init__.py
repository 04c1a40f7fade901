"""sensorcoach sensor firmware logic (pure Python).

Runs unchanged under MicroPython and CPython: no annotations, no dataclasses, no f-strings,
only ``struct`` and ``math`` from the standard library. The BLE glue for real hardware is
``firmware_stub/main.py``; the host emulator (``sensorcoach.ble.emulator``) imports these
modules directly so the bytes on the (emulated) air are the firmware's own.
"""

FW_NAME = "sensorcoach-stub"
FW_VERSION = "0.1"
