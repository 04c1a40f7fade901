"""The sampler: collects IMU samples into packets and obeys control commands.

On hardware a timer callback calls :meth:`Sampler.tick` once per sample period with the
sensor clock (a 32-bit microsecond counter the glue advances by the sample interval); in
tests and in the host emulator a plain loop does. Packets go out through ``send(bytes)``.
Pure Python that runs unchanged under MicroPython and CPython.
"""

from . import protocol as P


class Sampler:
    """Batches samples into data packets.

    A packet holds samples on a uniform grid ``t0 + i * interval``; a sample off that grid
    (clock jump, missed timer tick, recording gap) closes the packet first. The sequence
    number counts packets sent since power-up (it is not reset by START), so the host can
    tell loss from a restart.
    """

    def __init__(self, imu, send, rate_hz=100, batch=10,
                 acc_code=P.DEFAULT_ACC_CODE, gyr_code=P.DEFAULT_GYR_CODE):
        self.imu = imu
        self.send = send
        self.has_gyro = imu.has_gyro
        self.rate_hz = rate_hz
        self.interval_us = P.interval_us_for_rate(rate_hz)
        self.acc_code = acc_code
        self.gyr_code = gyr_code
        self.batch = min(batch, P.max_batch(self.has_gyro))
        self.running = False
        self.seq = 0
        self.commands_seen = 0
        self.packets_sent = 0
        self._buf = []
        self._t0 = 0
        self._next_t = 0
        imu.configure(acc_code, gyr_code, rate_hz)

    # --- control -------------------------------------------------------------------
    def start(self):
        self._buf = []
        self.running = True

    def stop(self):
        self.flush()
        self.running = False

    def set_rate(self, rate_hz):
        self.flush()
        self.rate_hz = rate_hz
        self.interval_us = P.interval_us_for_rate(rate_hz)
        self.imu.configure(self.acc_code, self.gyr_code, rate_hz)

    def set_range(self, acc_code, gyr_code):
        self.flush()
        self.acc_code = acc_code
        self.gyr_code = gyr_code
        self.imu.configure(acc_code, gyr_code, self.rate_hz)

    def set_batch(self, batch):
        self.flush()
        self.batch = max(1, min(batch, P.max_batch(self.has_gyro)))

    def handle_control(self, data):
        """Apply one control write; return True if understood, False otherwise."""
        try:
            cmd, args = P.parse_control(data)
        except ValueError:
            return False
        self.commands_seen += 1
        if cmd == P.CMD_START:
            self.start()
        elif cmd == P.CMD_STOP:
            self.stop()
        elif cmd == P.CMD_SET_RATE:
            self.set_rate(args[0])
        elif cmd == P.CMD_SET_RANGE:
            self.set_range(args[0], args[1])
        elif cmd == P.CMD_SET_BATCH:
            self.set_batch(args[0])
        return True

    def status(self):
        return P.encode_status(self.running, self.has_gyro, self.rate_hz, self.acc_code,
                               self.gyr_code, self.batch, self.commands_seen)

    # --- sampling ------------------------------------------------------------------
    def tick(self, t_us, sample=None):
        """One sample period at sensor time ``t_us``.

        Reads the IMU unless ``sample`` (int16 counts) is given. Returns False once the
        IMU has no more data, else True. Does nothing but keep time when stopped.
        """
        if not self.running:
            return True
        if sample is None:
            sample = self.imu.read()
            if sample is None:
                self.flush()
                return False
        t_us = t_us % P.CLOCK_MOD
        if self._buf and t_us != self._next_t:
            self.flush()
        if not self._buf:
            self._t0 = t_us
        self._buf.append(sample)
        self._next_t = (t_us + self.interval_us) % P.CLOCK_MOD
        if len(self._buf) >= self.batch:
            self.flush()
        return True

    def flush(self):
        """Send the samples collected so far as one packet."""
        if not self._buf:
            return
        pkt = P.encode_packet(self.seq, self._t0, self.interval_us, self.acc_code,
                              self.gyr_code, self._buf, self.has_gyro)
        self._buf = []
        self.seq = (self.seq + 1) % P.SEQ_MOD
        self.packets_sent += 1
        self.send(pkt)
