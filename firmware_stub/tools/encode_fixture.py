# Encodes a fixed sample list with the firmware logic and prints one hex packet per line.
# Run by tests/test_firmware_micropython.py under CPython and under MicroPython; the
# outputs must be byte-identical.
import sys

from sensorcoach_fw import protocol as P
from sensorcoach_fw.imu import FakeIMU
from sensorcoach_fw.sampler import Sampler


def hexs(b):
    return "".join("%02x" % x for x in b)  # noqa: UP031 - MicroPython-friendly


out = []
samples = []
for i in range(37):
    # includes saturation (+-9 g at +-8 g range), exact halves, negative values
    a = (0.01 * i - 0.2, -0.9104 + 0.001 * i, 9.0 if i == 5 else (-9.0 if i == 6 else -0.3812))
    samples.append((a[0], a[1], a[2], 1.5 * i - 20.0, 0.0918, -1200.0 if i == 7 else -0.0612))
imu = FakeIMU(samples, True)
s = Sampler(imu, out.append, rate_hz=100, batch=8)
s.seq = 65534  # exercise the sequence wrap
t = P.CLOCK_MOD - 30000  # exercise the clock wrap
s.handle_control(bytes([P.CMD_START]))
k = 0
while s.tick(t):
    k += 1
    t = (t + s.interval_us) % P.CLOCK_MOD
    if k == 20:
        t = (t + 5 * s.interval_us) % P.CLOCK_MOD  # a missed stretch: packet closes early
    if k == 25:
        s.handle_control(bytes([P.CMD_SET_RANGE, 1, 3]))
s.handle_control(bytes([P.CMD_STOP]))
s.handle_control(b"\x03\x90\x01")  # rate 400
s.handle_control(b"\x09")  # unknown: ignored
acc_only = Sampler(FakeIMU([(0.0, 0.0, 1.0), (0.25, -0.25, 0.999)], False), out.append,
                   rate_hz=25, batch=10, acc_code=0)
acc_only.start()
acc_only.tick(0)
acc_only.tick(40000)
acc_only.stop()
for p in out:
    print(hexs(p))
print("status " + hexs(s.status()) + " " + hexs(acc_only.status()))
print("done %d" % len(out))  # noqa: UP031
sys.stdout.write("")
