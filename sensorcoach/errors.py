"""One exception hierarchy for the package.

Every error a *user* can cause (bad file, bad plan, missing device) derives from
:class:`SensorcoachError`; the CLI prints its message on one line and exits with code 2.
"""

from __future__ import annotations


class SensorcoachError(Exception):
    """Base class of every error sensorcoach raises on purpose."""

    exit_code = 2


class RecordingError(SensorcoachError):
    """A recording file is missing, malformed or physically implausible."""


class PlanError(SensorcoachError):
    """A training plan is unknown or malformed."""


class DeviceError(SensorcoachError):
    """A BLE device could not be found, connected or understood."""


class StoreError(SensorcoachError):
    """The training-history database cannot be opened or read."""


class PacketError(SensorcoachError):
    """A BLE notification could not be decoded."""
