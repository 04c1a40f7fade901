"""Command line: ``python -m sensorcoach.sim``.

One session::

    python -m sensorcoach.sim --seed 7 --mount hip --variant bodyweight --rate 50 --out DIR

A corpus (a random realistic spec per seed)::

    python -m sensorcoach.sim corpus --seeds 1000-1099 --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else (part, part)
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def _one(argv: list[str]) -> int:
    from .simulator import simulate, write_sim
    from .spec import VARIANTS, preset

    p = argparse.ArgumentParser(prog="python -m sensorcoach.sim",
                                description="Simulate one hip-thrust session with ground truth "
                                            "(use 'corpus' as first argument for many).")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--mount", choices=["hip", "bar"])
    p.add_argument("--variant", choices=VARIANTS, default="bodyweight")
    p.add_argument("--rate", type=float, default=100.0, help="sample rate, Hz")
    p.add_argument("--no-gyro", action="store_true")
    p.add_argument("--sets", type=int)
    p.add_argument("--reps", type=int)
    p.add_argument("--tempo", help="E-B-C-T seconds, e.g. 2-0-1-1")
    p.add_argument("--rest", type=float, help="rest between sets, s")
    p.add_argument("--packet-loss", type=float)
    p.add_argument("--spec", help="JSON file with SessionSpec fields (overrides the preset)")
    p.add_argument("--out", required=True)
    p.add_argument("--name")
    a = p.parse_args(argv)
    over: dict = {"sample_rate_hz": a.rate, "gyro": not a.no_gyro}
    if a.sets:
        over["sets"] = a.sets
    if a.reps:
        over["reps_per_set"] = a.reps
    if a.tempo:
        over["tempo_s"] = tuple(float(x) for x in a.tempo.split("-"))
    if a.rest is not None:
        over["rest_s"] = a.rest
    if a.packet_loss is not None:
        over["packet_loss"] = a.packet_loss
    if a.spec:
        with open(a.spec, encoding="utf-8") as f:
            over.update(json.load(f))
    spec = preset(a.variant, a.mount, **over)
    t = time.perf_counter()
    res = simulate(spec, a.seed)
    name = a.name or f"sim_{a.seed}_{spec.mount}_{spec.variant}_{spec.sample_rate_hz:g}hz"
    csv_path, truth_path = write_sim(res, a.out, name)
    n = len(res.recording.samples)
    print(f"{csv_path}: {n} samples, {sum(s['full_reps'] for s in res.truth['sets'])} reps, "
          f"{time.perf_counter() - t:.2f} s", file=sys.stderr)
    print(csv_path)
    return 0


def _corpus_one(seed: int, out: str) -> dict:
    from .simulator import simulate, write_sim
    from .spec import random_spec

    t = time.perf_counter()
    spec = random_spec(np.random.default_rng(seed))
    res = simulate(spec, seed)
    name = f"sim_{seed}_{spec.mount}_{spec.variant}_{spec.sample_rate_hz:g}hz"
    write_sim(res, out, name)
    reps = sum(s["full_reps"] for s in res.truth["sets"])
    return {"seed": seed, "name": name, "mount": spec.mount, "variant": spec.variant,
            "rate_hz": spec.sample_rate_hz, "gyro": spec.gyro, "sets": len(res.truth["sets"]),
            "reps": reps, "samples": len(res.recording.samples),
            "seconds": round(time.perf_counter() - t, 2)}


def _corpus(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m sensorcoach.sim corpus",
                                description="Simulate a corpus: random_spec(seed) per seed, "
                                            "files NAME.csv + NAME.truth.json and index.json.")
    p.add_argument("--seeds", required=True, help="e.g. 1000-1099 or 1,2,5-9")
    p.add_argument("--out", required=True)
    p.add_argument("--jobs", type=int, default=1, help="worker processes (0: one per CPU)")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    seeds = _seeds(a.seeds)
    jobs = a.jobs if a.jobs > 0 else (os.cpu_count() or 1)
    index = []
    if jobs == 1:
        results = (_corpus_one(s, a.out) for s in seeds)
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(jobs)
        results = pool.map(_corpus_one, seeds, [a.out] * len(seeds))
    for row in results:
        index.append(row)
        print(f"{row['name']}: {row['samples']} samples, {row['reps']} reps, "
              f"{row['seconds']:.2f} s", file=sys.stderr)
    if jobs != 1:
        pool.shutdown()
    with open(os.path.join(a.out, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "corpus":
        return _corpus(argv[1:])
    return _one(argv)


if __name__ == "__main__":
    raise SystemExit(main())
