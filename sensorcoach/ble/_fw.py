"""Locate and import the firmware logic (``firmware_stub/sensorcoach_fw``).

The emulator packs samples with the firmware's own encoder and sampler, so the bytes the
host decodes are the bytes the firmware sends. The firmware lives outside the Python
package (it is copied to the board as is); this finds it next to the package in a source
checkout, or wherever ``SENSORCOACH_FIRMWARE_DIR`` points.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

from ..errors import DeviceError


def firmware_dir() -> Path:
    """Folder that contains the ``sensorcoach_fw`` package."""
    env = os.environ.get("SENSORCOACH_FIRMWARE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "firmware_stub")
    for c in candidates:
        if (c / "sensorcoach_fw" / "protocol.py").is_file():
            return c
    raise DeviceError(
        "firmware logic not found: expected firmware_stub/sensorcoach_fw next to the "
        "sensorcoach package (source checkout) or SENSORCOACH_FIRMWARE_DIR")


def load() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Import and return ``(protocol, imu, sampler)`` of the firmware."""
    d = str(firmware_dir())
    if d not in sys.path:
        sys.path.insert(0, d)
    from sensorcoach_fw import imu, protocol, sampler  # type: ignore[import-not-found]

    return protocol, imu, sampler
