"""Typed containers that flow between sources, the detector and consumers.

:class:`SampleChunk` is the one input type of the detector: any source (file reader, BLE
client, emulator) hands samples over in chunks of this type. :class:`Recording` is a whole
file in memory: metadata plus one long chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .consts import MOUNTS


@dataclass(frozen=True)
class SampleChunk:
    """Consecutive samples from one sensor.

    Attributes
    ----------
    time_s : ndarray, shape (n,)
        Sensor clock, seconds, strictly increasing (also across consecutive chunks).
    acc_g : ndarray, shape (n, 3)
        Specific force in g, sensor frame.
    gyr_dps : ndarray, shape (n, 3) or None
        Angular rate in degrees per second, sensor frame; ``None`` for accelerometer-only
        sensors.
    """

    time_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def slice(self, start: int, stop: int) -> SampleChunk:
        """Samples ``[start, stop)`` as a new chunk (views, no copy)."""
        gyr = None if self.gyr_dps is None else self.gyr_dps[start:stop]
        return SampleChunk(self.time_s[start:stop], self.acc_g[start:stop], gyr)

    def chunks(self, size: int):
        """Yield consecutive chunks of at most ``size`` samples."""
        for i in range(0, len(self), size):
            yield self.slice(i, i + size)


@dataclass
class Recording:
    """A whole recording: metadata and samples (CONTRACT.md section 1).

    Attributes
    ----------
    samples : SampleChunk
        All samples.
    meta : dict of str to str
        ``key: value`` metadata lines, in file order (known and unknown keys).
    path : str or None
        Where it was read from, if anywhere.
    """

    samples: SampleChunk
    meta: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    @property
    def has_gyro(self) -> bool:
        return self.samples.gyr_dps is not None

    @property
    def mount(self) -> str | None:
        """``hip`` or ``bar`` from the metadata, else ``None`` (the detector infers it)."""
        m = self.meta.get("mount", "").strip().lower()
        return m if m in MOUNTS else None

    @property
    def load_kg(self) -> float | None:
        """External load from the ``load_kg`` metadata, if it is a number."""
        try:
            return float(self.meta["load_kg"])
        except (KeyError, ValueError):
            return None

    @property
    def sample_rate_hz(self) -> float:
        """Nominal rate: the metadata value if present, else from the median sample interval."""
        raw = self.meta.get("sample_rate_hz")
        if raw:
            try:
                value = float(raw)
                if value > 0:
                    return value
            except ValueError:
                pass
        t = self.samples.time_s
        if len(t) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(t)))
