"""IMU drivers. ``FakeIMU`` plays samples from a list or generator (tests, emulator).

A hardware driver exposes the same three things: ``has_gyro``, ``configure(acc_code,
gyr_code, rate_hz)`` and ``read()`` returning a tuple of int16 counts (3 or 6) or ``None``.
"""

from . import protocol as P


class FakeIMU:
    """Plays physical samples (g, dps) as int16 counts at the configured range.

    ``samples`` yields tuples ``(ax, ay, az)`` or ``(ax, ay, az, gx, gy, gz)`` in g / dps.
    ``read()`` returns ``None`` once the source is exhausted (or repeats it if ``loop``).
    """

    def __init__(self, samples, has_gyro, acc_code=P.DEFAULT_ACC_CODE,
                 gyr_code=P.DEFAULT_GYR_CODE, loop=False):
        self._source = samples
        self._it = iter(samples)
        self.has_gyro = has_gyro
        self.acc_code = acc_code
        self.gyr_code = gyr_code
        self.rate_hz = 100
        self._loop = loop

    def configure(self, acc_code, gyr_code, rate_hz):
        self.acc_code = acc_code
        self.gyr_code = gyr_code
        self.rate_hz = rate_hz

    def read(self):
        try:
            s = next(self._it)
        except StopIteration:
            if not self._loop:
                return None
            self._it = iter(self._source)
            try:
                s = next(self._it)
            except StopIteration:
                return None
        return self.quantise(s)

    def quantise(self, s):
        fa = P.ACC_RANGES_G[self.acc_code]
        out = [P.to_counts(s[0], fa), P.to_counts(s[1], fa), P.to_counts(s[2], fa)]
        if self.has_gyro:
            fg = P.GYR_RANGES_DPS[self.gyr_code]
            out.append(P.to_counts(s[3], fg))
            out.append(P.to_counts(s[4], fg))
            out.append(P.to_counts(s[5], fg))
        return tuple(out)
