"""A rolling window of recent front-end features, addressed by grid index."""

from __future__ import annotations

import numpy as np

from .frontend import Features

_FIELDS = ("k", "t_s", "raw_m_g", "az_mps2", "walking", "stepping")


class History:
    """Keeps at least ``keep_s`` seconds of features (grid indices may jump at gaps)."""

    def __init__(self, *, keep_s: float = 60.0, rate_hz: float = 50.0, fields=(), extra=()):
        self.keep = int(keep_s * rate_hz)
        self.fields = _FIELDS + tuple(fields)  # columns copied from the features
        self.extra = tuple(extra)  # columns filled later with put (zero until then)
        self.cols: dict[str, np.ndarray] = {}
        self.u = np.empty((0, 3))
        self.gyr_dps = np.empty((0, 3))

    def __len__(self) -> int:
        return 0 if not self.cols else int(self.cols["k"].shape[0])

    def append(self, f: Features) -> None:
        if not self.cols:
            self.cols = {name: getattr(f, name).copy() for name in self.fields}
            for name in self.extra:
                self.cols[name] = np.zeros(len(f))
            self.u = f.u.copy()
            self.gyr_dps = f.gyr_dps.copy()
        else:
            for name in self.fields:
                self.cols[name] = np.concatenate([self.cols[name], getattr(f, name)])
            for name in self.extra:
                self.cols[name] = np.concatenate([self.cols[name], np.zeros(len(f))])
            self.u = np.concatenate([self.u, f.u])
            self.gyr_dps = np.concatenate([self.gyr_dps, f.gyr_dps])

    def trim(self, keep_from_k: int) -> None:
        """Forget samples older than both ``keep_s`` and grid index ``keep_from_k``."""
        n = len(self)
        if n <= 2 * self.keep:
            return
        cut = min(n - self.keep, self.index(keep_from_k))
        if cut <= 0:
            return
        for name in self.cols:
            self.cols[name] = self.cols[name][cut:]
        self.u = self.u[cut:]
        self.gyr_dps = self.gyr_dps[cut:]

    def put(self, name: str, k: np.ndarray, values: np.ndarray) -> None:
        """Overwrite column ``name`` at grid indices ``k`` (those still held)."""
        i = np.searchsorted(self.cols["k"], k)
        ok = (i < len(self)) & (self.cols["k"][np.minimum(i, len(self) - 1)] == k)
        self.cols[name][i[ok]] = values[ok]

    def index(self, k: int) -> int:
        """Position of grid index ``k`` (or the first one after it) in the buffer."""
        return int(np.searchsorted(self.cols["k"], k))

    def indices(self, ks) -> list[int]:
        """:meth:`index` of each of ``ks``, in one search."""
        return np.searchsorted(self.cols["k"], ks).tolist()

    def at_times(self, ts) -> list[int]:
        """Position of each time in ``ts`` (s; or of the first sample after it), in one
        search."""
        return np.searchsorted(self.cols["t_s"], ts).tolist()

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]
