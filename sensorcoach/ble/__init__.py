"""The live BLE path: sensor protocol, client, live session, emulation.

Where things are:

* :mod:`~sensorcoach.ble.protocol` decodes the sensorcoach sensor's notifications and
  assembles them into :class:`~sensorcoach.types.SampleChunk` (wire format:
  ``firmware_stub/PROTOCOL.md``; the firmware itself: ``firmware_stub/``).
* :mod:`~sensorcoach.ble.profiles`, :mod:`~sensorcoach.ble.polar`,
  :mod:`~sensorcoach.ble.witmotion`: what differs between sensors (``--sensor``).
* :mod:`~sensorcoach.ble.client` scans, connects (bleak), streams, watches and reconnects.
* :mod:`~sensorcoach.ble.session` records every sample and feeds the detector pipeline;
  :mod:`~sensorcoach.ble.live_display` draws the live state.
* :mod:`~sensorcoach.ble.emulator` (an emulated sensor playing a recording, with faults)
  and :mod:`~sensorcoach.ble.fakebluez` (a stand-in BlueZ on a private D-Bus that
  unmodified bleak talks to) make the whole path runnable and testable without hardware.
* :mod:`~sensorcoach.ble.commands`: the ``scan``, ``record`` and ``live`` subcommands.

Nothing here is imported by ``sensorcoach --help``; bleak and dbus-fast load on use.
"""
