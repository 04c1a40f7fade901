"""The firmware logic under a real MicroPython interpreter (the official WebAssembly build).

The same fixture script (``firmware_stub/tools/encode_fixture.py``) runs under CPython and
under MicroPython on Node.js; the packets must be byte-identical and the host decoder must
read them. The MicroPython build is fetched once with npm into ``firmware_stub/.mpy/``
(git-ignored; override with ``SENSORCOACH_MPY_DIR``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sensorcoach.ble.protocol import PacketAssembler, decode_packet, decode_status

ROOT = Path(__file__).resolve().parents[1]
FW = ROOT / "firmware_stub"
FIXTURE = FW / "tools" / "encode_fixture.py"
RUNNER = FW / "tools" / "run_micropython.mjs"
MPY_PACKAGE = "@micropython/micropython-webassembly-pyscript@1.27.0"


def _run_cpython() -> list[str]:
    code = f"import sys; sys.path.insert(0, {str(FW)!r}); exec(open({str(FIXTURE)!r}).read())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=60)
    return out.stdout.splitlines()


def _micropython_mjs() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: cannot run the MicroPython WebAssembly build")
    prefix = Path(os.environ.get("SENSORCOACH_MPY_DIR", FW / ".mpy"))
    mjs = (prefix / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
           / "micropython.mjs")
    if not mjs.is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        MPY_PACKAGE], check=True, capture_output=True, timeout=300)
    assert mjs.is_file(), f"npm install did not provide {mjs}"
    return mjs


def test_micropython_encoder_matches_cpython_and_host_decodes_it():
    mjs = _micropython_mjs()
    res = subprocess.run(["node", str(RUNNER), str(mjs), str(FW), str(FIXTURE)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    mpy_lines = res.stdout.splitlines()
    cpy_lines = _run_cpython()
    assert mpy_lines == cpy_lines
    assert mpy_lines[-1] == "done 7"

    packets = [decode_packet(bytes.fromhex(h)) for h in mpy_lines[:-2]]
    assert [p.seq for p in packets[:6]] == [65534, 65535, 0, 1, 2, 3]
    assert packets[0].t0_us == 2**32 - 30000
    assert [p.count for p in packets[:6]] == [8, 8, 4, 5, 8, 4]  # early close after a skip
    assert packets[4].acc_range_g == 4 and packets[4].gyr_range_dps == 2000
    assert packets[-1].gyr_counts is None and packets[-1].interval_us == 40000
    # saturation: +9 g and -9 g at +-8 g, -1200 dps at +-1000 dps
    assert packets[0].acc_counts[5, 2] == 32767
    assert packets[0].acc_counts[6, 2] == -32768
    assert packets[0].gyr_counts[7, 2] == -32768

    asm = PacketAssembler()
    chunks = [c for p in packets[:6] for c in asm.push(p)]
    t = [x for c in chunks for x in c.time_s]
    assert len(t) == 37
    assert all(b > a for a, b in zip(t, t[1:], strict=False))  # strictly increasing across the wrap
    assert asm.stats.lost_packets == 0 and asm.stats.resyncs == 0

    status_line = mpy_lines[-2].split()
    st = decode_status(bytes.fromhex(status_line[1]))
    assert (st.running, st.rate_hz, st.acc_range_g, st.gyr_range_dps) == (False, 400, 4, 2000)
    assert st.commands_seen == 4 and st.batch == 8 and st.has_gyro


def test_ble_glue_compiles_under_micropython(tmp_path):
    """``main.py`` needs the ``bluetooth`` module (hardware only), but it must at least be
    valid MicroPython: compile it with the real compiler."""
    mjs = _micropython_mjs()
    script = tmp_path / "compile_main.py"
    script.write_text("compile(open('/fw/main.py').read(), 'main.py', 'exec')\n"
                      "print('main.py compiles')\n")
    res = subprocess.run(["node", str(RUNNER), str(mjs), str(FW), str(script)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "main.py compiles"
