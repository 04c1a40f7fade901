"""Per-session results on the development corpus, and a comparison of two runs.

    python analysis/devset.py run OUT.json [--seeds 5200040-5200119] [--latency] [--jobs 2]
                                           [--group hip_gyro|hip_acc|bar]
    python analysis/devset.py compare A.json B.json

Detector changes are judged here first, on seeds 5200040-5200119 (the development corpus);
``analysis/benchmark.py`` measures on seeds never used during development. ``run`` analyses
every session of the seed range with the package in this checkout (run it from a git
worktree to measure another commit) and writes per-session scores; ``--latency`` also
replays each session live in notification-sized chunks. ``compare`` prints both runs' totals
by group (hip with gyro, hip accelerometer-only, bar) and the sessions whose results differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import Latency  # noqa: E402  (the benchmark's live replay, per session)

from sensorcoach.evaluation import EVENTS, score  # noqa: E402
from sensorcoach.pipeline import analyze_recording  # noqa: E402
from sensorcoach.sim import random_spec, simulate  # noqa: E402


def _group(spec) -> str:
    if spec.mount == "bar":
        return "bar"
    return "hip_gyro" if spec.gyro else "hip_acc"


def _sets_detail(an, truth) -> list[dict]:
    """Per true set: its full reps and the full reps detected inside it (as ``score``)."""
    det = [r for st in an.sets for r in st.reps if not r.partial]
    out = []
    for st in truth["sets"]:
        if not st["reps"]:
            continue
        full_true = sum(1 for r in st["reps"] if not r["partial"])
        lo, hi = st["reps"][0]["start_s"] - 2.0, st["reps"][-1]["end_s"] + 2.0
        full_det = sum(1 for d in det if lo <= d.top_s <= hi)
        out.append({"t0_s": round(lo + 2.0, 2), "true": full_true, "detected": full_det})
    return out


def _false_partials(an, truth, max_dt_s: float = 1.0) -> int:
    """Detected partial reps with no true rep (full or partial) within ``max_dt_s`` of their
    lockout: settling movements taken for attempts (``score`` does not count them)."""
    tops = np.array([r["top_s"] for st in truth["sets"] for r in st["reps"]])
    return sum(1 for st in an.sets for r in st.reps
               if r.partial and not (len(tops) and np.min(np.abs(tops - r.top_s)) <= max_dt_s))


def _latency(res) -> dict:
    lat = Latency()
    lat.replay(res)
    return {"first": lat.first, "later": lat.later}


def session(args: tuple[int, bool, str | None]) -> dict | None:
    seed, latency, group = args
    spec = random_spec(np.random.default_rng(seed))
    if group is not None and _group(spec) != group:
        return None
    res = simulate(spec, seed)
    an = analyze_recording(res.recording)
    sc = score(an, res.truth)
    out = {
        "seed": seed, "group": _group(spec), "variant": spec.variant,
        "hz": spec.sample_rate_hz, "tempo": list(spec.tempo_s),
        "sets_true": sc.sets_true, "sets_exact": sc.sets_exact,
        "tp": sc.tp, "fp": sc.fp, "fn": sc.fn,
        "partial_true": sc.partial_true, "partial_found": sc.partial_found,
        "errors": sc.errors, "top_pause_err": sc.top_pause_err,
        "eccentric_err": sc.eccentric_err, "pause_ok": sc.pause_ok,
        "rom_err": sc.rom_err, "vmean_err": sc.vmean_err,
        "sets": _sets_detail(an, res.truth),
        "partial_false": _false_partials(an, res.truth),
        "sets_detected": sum(1 for st in an.sets if st.full_reps),
    }
    if latency:
        out["latency"] = _latency(res)
    return out


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def run(out: str, seeds: list[int], latency: bool, jobs: int, group: str | None) -> None:
    with Pool(jobs) as pool:
        rows = pool.map(session, [(s, latency, group) for s in seeds], chunksize=1)
    rows = [r for r in rows if r is not None]
    Path(out).write_text(json.dumps(rows))
    summary(rows, out)


def _ms(x, q) -> str:
    return f"{1000 * np.percentile(np.abs(x), q):.0f}" if len(x) else "-"


def _set_count_errors(rows: list[dict]) -> int:
    return sum(r.get("sets_detected", r["sets_true"]) != r["sets_true"] for r in rows)


def _cat(rows: list[dict], key: str) -> list:
    return [x for r in rows for x in r[key]]


def summary(rows: list[dict], label: str) -> None:
    print(f"== {label}")
    for g in ("hip_gyro", "hip_acc", "bar", None):
        rs = [r for r in rows if g is None or r["group"] == g]
        if not rs:
            continue
        tot = {k: sum(r[k] for r in rs) for k in ("sets_true", "sets_exact", "tp", "fp", "fn",
                                                   "partial_true", "partial_found")}
        p = tot["tp"] / max(1, tot["tp"] + tot["fp"])
        rc = tot["tp"] / max(1, tot["tp"] + tot["fn"])
        f1 = 2 * p * rc / max(1e-9, p + rc)
        ev = {e: [x for r in rs for x in r["errors"][e]] for e in EVENTS}
        pause = _cat(rs, "pause_ok")
        line = (f"{g or 'ALL':8s} sets {tot['sets_exact']}/{tot['sets_true']} "
                f"tp {tot['tp']} fp {tot['fp']} fn {tot['fn']} F1 {f1:.4f} "
                f"partial {tot['partial_found']}/{tot['partial_true']} "
                f"(false {sum(r.get('partial_false', 0) for r in rs)}) "
                f"set-count errors {_set_count_errors(rs)} | "
                + " ".join(f"{e[:-2]} {_ms(ev[e], 50)}/{_ms(ev[e], 90)}" for e in EVENTS)
                + f" | ecc {_ms(_cat(rs, 'eccentric_err'), 50)}"
                f" top {_ms(_cat(rs, 'top_pause_err'), 50)}"
                f" pause {100 * np.mean(pause) if pause else float('nan'):.1f}%")
        if rs[0].get("latency") is not None:
            first = [x for r in rs for x in r["latency"]["first"]]
            later = [x for r in rs for x in r["latency"]["later"]]
            line += (f" | live later p50/p90 {_ms(later, 50)}/{_ms(later, 90)} "
                     f">2s {sum(x > 2 for x in later)} first p90 {_ms(first, 90)}")
        print(line)


def compare(a: str, b: str) -> None:
    ra, rb = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    summary(ra, a)
    summary(rb, b)
    by_seed = {r["seed"]: r for r in ra}
    print("== sessions that differ (sets exact, fp, fn, partial found / false, sets detected)")
    for r in rb:
        o = by_seed.get(r["seed"])
        if o is None:
            continue
        key = ("sets_exact", "fp", "fn", "partial_found", "partial_false", "sets_detected")
        if any(o.get(k) != r.get(k) for k in key):
            print(f"{r['seed']} {r['group']:8s} {r['variant']:10s} {r['hz']:5.0f} Hz  "
                  + "  ".join(f"{k} {o.get(k)}->{r.get(k)}" for k in key if o.get(k) != r.get(k)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("out")
    r.add_argument("--seeds", default="5200040-5200119")
    r.add_argument("--latency", action="store_true")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--group", choices=("hip_gyro", "hip_acc", "bar"),
                   help="only the sessions of this group")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.out, _seeds(args.seeds), args.latency, args.jobs, args.group)
    else:
        compare(args.a, args.b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
