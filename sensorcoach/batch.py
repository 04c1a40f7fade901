"""Analyse many recordings at once, spread over the machine's cores.

``sensorcoach analyze DIR_OR_FILES...``: a progress line on standard error, then a summary
table (one row per recording); ``--json PATH|-`` writes a JSON list of analysis documents.
A file that cannot be read is reported in its row; it does not stop the batch.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

_SUFFIXES = (".csv", ".csv.gz")


def collect(paths: list[str]) -> list[str]:
    """Expand folders into the recordings they hold (sorted; truth/sidecar files skipped).

    A phyphox or MetaMotion export folder (:func:`sensorcoach.io.formats.is_export_folder`)
    is one recording, whether given or found inside a folder.
    """
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(_walk(path))
        else:
            out.append(str(path))
    return out


def _walk(folder: Path) -> list[str]:
    from .io.formats import is_export_folder

    if is_export_folder(folder):
        return [str(folder)]
    out: list[str] = []
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            out.extend(_walk(child))
        elif child.is_file() and child.name.endswith(_SUFFIXES):
            out.append(str(child))
    return out


def _one(path: str, mount: str | None, plan: str | None) -> tuple[str, dict | None, str | None]:
    from .compare import analyze_against_plan
    from .errors import SensorcoachError

    try:
        analysis, _, _ = analyze_against_plan(path, mount, plan)  # as a single-file analyze
        return path, analysis.to_dict(), None
    except SensorcoachError as exc:
        return path, None, str(exc)


def analyze_many(paths: list[str], *, mount: str | None = None, json_out: str | None = None,
                 plan: str | None = None, workers: int | None = None,
                 files: list[str] | None = None) -> int:
    """Analyse every recording; print a summary. Exit code 2 if any file failed.
    ``files``: ``collect(paths)`` when the caller has it already."""
    files = collect(paths) if files is None else files
    if not files:
        from .errors import RecordingError

        raise RecordingError(f"no recordings (*.csv) found in {', '.join(paths)}")
    workers = workers or min(len(files), os.cpu_count() or 1)
    results: dict[str, tuple[dict | None, str | None]] = {}
    interactive = sys.stderr.isatty()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_one, f, mount, plan) for f in files]
        for done, fut in enumerate(as_completed(futures), 1):
            path, doc, err = fut.result()
            results[path] = (doc, err)
            bar = "#" * int(30 * done / len(files))
            msg = f"\r[{bar:<30}] {done}/{len(files)} {Path(path).name[:40]:<40}"
            if interactive or done == len(files):
                sys.stderr.write(msg + ("\n" if done == len(files) else ""))
                sys.stderr.flush()
    rows = []
    for f in files:
        doc, err = results[f]
        if doc is None:
            rows.append(f"{Path(f).name:<44} error: {err}")
            continue
        sets = doc["sets"]
        reps = "+".join(str(s["full_reps"]) for s in sets) or "0"
        partial = sum(s["partial_reps"] for s in sets)
        flags = sum(len(r["flags"]) for s in sets for r in s["reps"])
        cmp = doc.get("plan_comparison")  # the plan's verdict, when a plan applied
        verdict = f"{cmp['summary']['verdict']} ({cmp['plan']['name']})" if cmp else "-"
        rows.append(f"{Path(f).name:<44} {doc['recording']['mount'] or '?':<4} "
                    f"{len(sets):>4} {reps:>20} {partial:>7} {flags:>6}  {verdict}")
    header = (f"{'recording':<44} {'mnt':<4} {'sets':>4} {'reps per set':>20} "
              f"{'partial':>7} {'flags':>6}  plan")
    if json_out:  # serialised only when asked for
        docs = [results[f][0] for f in files if results[f][0] is not None]
        text = json.dumps(docs, indent=2) + "\n"
        if json_out == "-":
            sys.stdout.write(text)
        else:
            Path(json_out).write_text(text, encoding="utf-8")
    print(header, *rows, sep="\n", file=sys.stderr if json_out == "-" else sys.stdout)
    return 2 if any(results[f][1] for f in files) else 0
