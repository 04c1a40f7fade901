"""Wire format of the sensorcoach sensor (see ``firmware_stub/PROTOCOL.md``).

Pure Python that runs unchanged under MicroPython and CPython.
"""

import math
import struct

PROTOCOL_VERSION = 1

# 128-bit base 5c0aXXXX-6b1d-4c3e-9f2a-7e6d5c4b3a21, XXXX = 16-bit short id.
UUID_BASE_FMT = "5c0a%04x-6b1d-4c3e-9f2a-7e6d5c4b3a21"
SERVICE_UUID = UUID_BASE_FMT % 0x0001
DATA_UUID = UUID_BASE_FMT % 0x0002
CONTROL_UUID = UUID_BASE_FMT % 0x0003
STATUS_UUID = UUID_BASE_FMT % 0x0004

# Standard SIG services / characteristics (16-bit)
DEVICE_INFO_SERVICE = 0x180A
MANUFACTURER_NAME_CHAR = 0x2A29
MODEL_NUMBER_CHAR = 0x2A24
FIRMWARE_REVISION_CHAR = 0x2A26
BATTERY_SERVICE = 0x180F
BATTERY_LEVEL_CHAR = 0x2A19

# Data packet header: version u8, flags u8, seq u16, t0_us u32, interval_us u16,
# count u8, ranges u8 (acc code low nibble, gyro code high nibble). Little-endian.
HEADER_FMT = "<BBHIHBB"
HEADER_SIZE = 12
FLAG_GYRO = 0x01
KNOWN_FLAGS = FLAG_GYRO

SEQ_MOD = 0x10000
CLOCK_MOD = 0x100000000  # sensor clock wraps at 2**32 us (71.58 min)

#: Full-scale ranges by range code (the int16 LSB is full_scale / 32768).
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (250, 500, 1000, 2000)
DEFAULT_ACC_CODE = 2  # +-8 g
DEFAULT_GYR_CODE = 2  # +-1000 dps

#: Largest notification payload (ATT MTU 247 - 3).
MAX_PAYLOAD = 244
MIN_RATE_HZ = 25
MAX_RATE_HZ = 400

# Control characteristic commands (first byte), arguments little-endian.
CMD_START = 0x01  # [0x01]
CMD_STOP = 0x02  # [0x02]
CMD_SET_RATE = 0x03  # [0x03, rate_hz u16]
CMD_SET_RANGE = 0x04  # [0x04, acc_code u8, gyr_code u8]
CMD_SET_BATCH = 0x05  # [0x05, samples_per_packet u8]

# Status characteristic (read): version u8, state u8 (bit0 running, bit1 gyro present),
# rate_hz u16, ranges u8, batch u8, commands_seen u16.
STATUS_FMT = "<BBHBBH"
STATUS_SIZE = 8


def max_batch(has_gyro):
    """Most samples that fit one notification."""
    per = 12 if has_gyro else 6
    return (MAX_PAYLOAD - HEADER_SIZE) // per


def interval_us_for_rate(rate_hz):
    """Sample interval in whole microseconds for a rate in Hz."""
    return (1000000 + rate_hz // 2) // rate_hz


def ranges_byte(acc_code, gyr_code):
    return (acc_code & 0x0F) | ((gyr_code & 0x0F) << 4)


def to_counts(value, full_scale):
    """Quantise a physical value to int16 counts (round half up, saturating)."""
    n = int(math.floor(value * 32768.0 / full_scale + 0.5))
    if n > 32767:
        return 32767
    if n < -32768:
        return -32768
    return n


def encode_packet(seq, t0_us, interval_us, acc_code, gyr_code, samples, has_gyro):
    """Pack one data notification.

    Parameters: ``samples`` is a sequence of tuples of int16 counts, 3 (ax, ay, az) or
    6 (ax, ay, az, gx, gy, gz) each; ``seq`` and ``t0_us`` are taken modulo their wrap.
    Returns ``bytes``.
    """
    n = len(samples)
    per = 6 if has_gyro else 3
    if n < 1 or n > 255:
        raise ValueError("sample count out of range")
    if interval_us < 1 or interval_us > 0xFFFF:
        raise ValueError("interval out of range")
    vals = []
    for s in samples:
        for k in range(per):
            v = s[k]
            vals.append(32767 if v > 32767 else (-32768 if v < -32768 else v))
    return struct.pack(HEADER_FMT + "%dh" % (per * n), PROTOCOL_VERSION,  # noqa: UP031
                       FLAG_GYRO if has_gyro else 0, seq % SEQ_MOD, t0_us % CLOCK_MOD,
                       interval_us, n, ranges_byte(acc_code, gyr_code if has_gyro else 0),
                       *vals)


def encode_status(running, has_gyro, rate_hz, acc_code, gyr_code, batch, commands_seen):
    state = (1 if running else 0) | (2 if has_gyro else 0)
    return struct.pack(STATUS_FMT, PROTOCOL_VERSION, state, rate_hz,
                       ranges_byte(acc_code, gyr_code), batch, commands_seen % SEQ_MOD)


def parse_control(data):
    """Parse a control write into ``(command, args_tuple)``; raise ``ValueError`` if bad."""
    if len(data) < 1:
        raise ValueError("empty command")
    cmd = data[0]
    if cmd == CMD_START or cmd == CMD_STOP:
        if len(data) != 1:
            raise ValueError("bad length")
        return cmd, ()
    if cmd == CMD_SET_RATE:
        if len(data) != 3:
            raise ValueError("bad length")
        rate = data[1] | (data[2] << 8)
        if rate < MIN_RATE_HZ or rate > MAX_RATE_HZ:
            raise ValueError("rate out of range")
        return cmd, (rate,)
    if cmd == CMD_SET_RANGE:
        if len(data) != 3:
            raise ValueError("bad length")
        if data[1] >= len(ACC_RANGES_G) or data[2] >= len(GYR_RANGES_DPS):
            raise ValueError("range code out of range")
        return cmd, (data[1], data[2])
    if cmd == CMD_SET_BATCH:
        if len(data) != 2 or data[1] < 1:
            raise ValueError("bad batch")
        return cmd, (data[1],)
    raise ValueError("unknown command")
