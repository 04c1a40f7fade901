"""The HTML report and the per-rep CSV: structure, embedded figures, escaping, rendering."""

from __future__ import annotations

import base64
import csv
import io
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from test_compare import good_set, make_analysis

from sensorcoach.compare import compare
from sensorcoach.plans import load_plan
from sensorcoach.report import render_html, write_csv, write_html_report
from sensorcoach.types import Recording, SampleChunk

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.imgs: list[str] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data):
        self.text.append(data)


def _session(mount="bar"):
    sets = [good_set(5, v=0.5) for _ in range(5)]
    sets[2] = [dict(v=0.5 - 0.05 * i) for i in range(3)]
    sets[1][1] = dict(top=0.05, flags=["no_top_pause"], v=0.45)
    sets[3].insert(2, dict(partial=True, flags=["partial_range"]))
    return make_analysis(sets, mount=mount, rest_s=[120, 90, 120, 120])


def _recording(analysis, meta=None):
    t = np.arange(analysis.recording.start_s, analysis.recording.end_s, 0.01)
    mag = 1 + 0.01 * np.random.default_rng(1).standard_normal(len(t))
    for r in analysis.reps:
        m = (t >= r.start_s) & (t < r.top_s)
        mag[m] += 0.3 * np.sin(np.pi * (t[m] - r.start_s) / r.concentric_s)
    acc = np.c_[np.zeros_like(t), np.zeros_like(t), mag]
    return Recording(SampleChunk(t, acc, None), meta=dict(meta or {}), path="rec.csv")


def _parse(text):
    p = _Collect()
    p.feed(text)
    return p


def test_html_sections_images_and_escaping(tmp_path):
    a = _session()
    plan = load_plan("barbell-5x5")
    cmp = compare(a, plan, load_kg=100)
    evil = '<script>alert("x")</script>'
    rec = _recording(a, {"athlete": f"Ana {evil}", "notes": evil, "load_kg": "100"})
    a.recording.path = f"/data/{evil}.csv"
    out = write_html_report(a, cmp, tmp_path / "sub" / "report.html", rec)
    text = out.read_text(encoding="utf-8")
    p = _parse(text)
    for section in ("summary", "sets", "timeline", "tempo", "velocity", "rom", "faults", "reps"):
        assert section in p.ids
    assert p.scripts == 0 and "<script>" not in text
    assert "&lt;script&gt;" in text
    assert len(p.imgs) == 4
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    body = " ".join(p.text)
    assert "plan missed" in body and "23 / 25" in body
    assert "Pause and squeeze at the top for a one-count" in body
    assert "Drive through the heels until torso and thighs are in line" in body
    assert "Rest the full 120 s between sets" in body
    assert "http://" not in text and "https://" not in text  # self-contained


def test_html_without_plan_or_recording_hip_mount():
    a = make_analysis([good_set(10)] * 2, mount="hip")
    text = render_html(a, None, None)
    p = _parse(text)
    assert "velocity" not in p.ids  # no velocities on the hip: section left out
    assert {"summary", "timeline", "tempo", "rom", "faults"} <= set(p.ids)
    assert len(p.imgs) == 3
    assert "No plan given" in " ".join(p.text)


def test_html_empty_analysis():
    text = render_html(make_analysis([]), compare(make_analysis([]), load_plan("banded")))
    p = _parse(text)
    assert "summary" in p.ids and p.imgs == []


def test_csv_one_row_per_rep(tmp_path):
    a = _session()
    cmp = compare(a, load_plan("barbell-5x5"))
    out = write_csv(a, tmp_path / "reps.csv", cmp)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len(a.reps) == 24
    r = rows[6]  # set 2 rep 2
    assert (r["set"], r["rep"], r["flags"], r["top_pause_ok"]) == ("2", "2", "no_top_pause",
                                                                     "false")
    assert rows[0]["tempo"] == "2.0-0.3-1.0-1.0"
    partial = [x for x in rows if x["partial"] == "true"]
    assert len(partial) == 1 and partial[0]["count"] == "" and partial[0]["tempo_ok"] == ""
    plain = write_csv(a, tmp_path / "plain.csv")
    assert "tempo_ok" not in plain.read_text().splitlines()[0]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_render_with_headless_chromium(tmp_path):
    a = _session()
    out = write_html_report(a, compare(a, load_plan("barbell-5x5")), tmp_path / "r.html",
                            _recording(a))
    shot = tmp_path / "r.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}",
           out.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60, cwd=tmp_path)
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[0] == 2400 and img.shape[1] == 1280
    # not blank: the page has text, cards and figures in many colours
    assert img[..., :3].std() > 0.05
    assert len(np.unique((img[::8, ::8, :3] * 255).astype(int).reshape(-1, 3), axis=0)) > 50


@pytest.fixture(scope="module")
def sim_recording(tmp_path_factory):
    """A small simulated session written as a contract CSV (plan line from the simulator)."""
    sim = pytest.importorskip("sensorcoach.sim")
    pytest.importorskip("sensorcoach.pipeline")
    spec = sim.preset("bodyweight", sets=2, reps_per_set=6, rest_s=30.0, lead_in_s=8.0,
                      lead_out_s=5.0, fault_rates={"no_top_pause": 0.2})
    out = tmp_path_factory.mktemp("sim")
    csv_path, _ = sim.write_sim(sim.simulate(spec, 3), str(out), "bw")
    return csv_path


def test_cli_report(sim_recording, tmp_path, capsys):
    from sensorcoach.cli import main

    html_out, csv_out = tmp_path / "r.html", tmp_path / "r.csv"
    rc = main(["report", sim_recording, "--html", str(html_out), "--csv", str(csv_out),
               "--athlete", "Zoë <3"])
    assert rc == 0
    text = html_out.read_text(encoding="utf-8")
    p = _parse(text)
    assert {"summary", "sets", "timeline", "tempo", "rom", "faults"} <= set(p.ids)
    assert "Zoë &lt;3" in text
    # the recording's plan line ("bodyweight hip thrust 2x6 tempo 2-0-1-1") was used
    assert "bodyweight hip thrust 2x6" in " ".join(p.text)
    assert csv_out.read_text().startswith("set,rep,count,partial,")
    # an explicit plan overrides the metadata; a bad one is a one-line error, exit code 2
    assert main(["report", sim_recording, "--plan", "banded", "--html", str(html_out)]) == 0
    assert "banded hip thrust 3x15" in html_out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", sim_recording, "--plan", "nope", "--html", str(html_out)]) == 2
    err = capsys.readouterr().err
    assert "unknown plan 'nope'" in err and err.count("\n") == 1
