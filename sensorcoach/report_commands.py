"""CLI subcommands for plans, reports and the training history.

``register(subparsers)`` adds:

* ``plans [NAME|FILE]``: list the built-in plans, or check and print one plan as TOML;
* ``report RECORDING [--plan] [--mount] --html OUT [--csv OUT]``: the session report;
* ``log RECORDING... [--plan] [--mount] [--athlete] [--db]``: store sessions (idempotent);
* ``history [--db] [--athlete] [--json]``: the logged sessions;
* ``progress [--db] [--athlete] [--load-kg] --out FILE.png|.html``: weekly progress;
* ``next [--db] [--athlete] [--plan] [--save FILE] [--json]``: the next session.

Without ``--plan`` the recording's ``plan`` metadata is used (a plan name, a plan file or a
prescription such as ``barbell hip thrust 5x5, tempo 2-0-1-1, 100 kg``); an unusable one is
ignored with a warning. Heavy imports happen inside the commands only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from .consts import MOUNTS

log = logging.getLogger("sensorcoach")


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH",
                   help="history database (default: $XDG_DATA_HOME/sensorcoach/"
                        "history.sqlite3, i.e. ~/.local/share/sensorcoach/history.sqlite3)")


def _plan_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plan", metavar="NAME|FILE",
                   help="the plan (built-in name, TOML file or prescription text); default: "
                        "the recording's 'plan' metadata")


def _db(args: argparse.Namespace):
    from .store import default_db_path

    return args.db or default_db_path()


# --- commands -----------------------------------------------------------------------------


def cmd_plans(args: argparse.Namespace) -> int:
    from .plans import list_plans, resolve_plan

    if args.plan:
        plan = resolve_plan(args.plan)
        sys.stdout.write(f"# {plan.summary()}\n")
        sys.stdout.write(plan.to_toml())
        return 0
    for p in list_plans():
        print(p.summary())
        if p.description:
            print(f"    {p.description}")
        prog = p.progression
        if prog.kind == "load":
            rule = f"+{prog.increment_kg:g} kg per good session"
            if prog.max_load_kg:
                rule += f" up to {prog.max_load_kg:g} kg"
        elif prog.kind == "reps":
            rule = f"+{prog.rep_increment} rep(s) per good session up to {prog.target_reps}"
        else:
            rule = "no progression rule"
        if prog.next_plan:
            rule += f", then {prog.next_plan}"
        print(f"    progression: {rule}")
    print("Show one as TOML (to copy and edit): sensorcoach plans NAME")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .compare import analyze_against_plan
    from .report import write_csv, write_html_report

    analysis, rec, comparison = analyze_against_plan(args.recording, args.mount, args.plan)
    out = write_html_report(analysis, comparison, args.html, rec, athlete=args.athlete)
    print(f"report written to {out}", file=sys.stderr)
    if args.csv:
        write_csv(analysis, args.csv, comparison)
        if args.csv != "-":
            print(f"per-rep CSV written to {args.csv}", file=sys.stderr)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from .compare import compare_recording
    from .pipeline import analyze_file
    from .store import log_session

    db = _db(args)
    for path in args.recording:
        analysis, rec = analyze_file(path, mount=args.mount)
        comparison = compare_recording(analysis, rec, args.plan)
        plan = comparison.plan if comparison is not None else None
        res = log_session(db, analysis, plan, args.athlete, path, comparison=comparison,
                          meta=rec.meta)  # the comparison carries the load used
        full = sum(len(s.full_reps) for s in analysis.sets)
        what = "logged" if res.created else "updated (already logged)"
        verdict = f", {comparison.verdict()} ({plan.name})" if comparison else ""
        print(f"{path}: session {res.session_id} {what}: {len(analysis.sets)} sets, "
              f"{full} reps{verdict}")
    print(f"history: {db}", file=sys.stderr)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from .store import history

    rows = history(_db(args), args.athlete)
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no sessions logged yet (sensorcoach log RECORDING)")
        return 0
    print(f"{'id':>4}  {'date':<16} {'athlete':<12} {'plan':<18} {'load':>7} "
          f"{'sets':>4} {'reps':>7} {'tempo':>6}  result")
    for r in rows:
        date = r.started_at[:16].replace("T", " ")
        load = f"{r.load_kg:g}kg" if r.load_kg else "-"
        # on a plan: full reps of the planned sets / planned reps
        reps = (f"{r.done_reps}/{r.planned_reps}" if r.planned_reps and r.done_reps is not None
                else str(r.full_reps))
        tc = "-" if r.tempo_compliance is None else f"{r.tempo_compliance:.0%}"
        result = "-" if r.met is None else ("met" if r.met else "missed")
        print(f"{r.id:>4}  {date:<16} {r.athlete[:12]:<12} {(r.plan_name or '-')[:18]:<18} "
              f"{load:>7} {r.sets:>4} {reps:>7} {tc:>6}  {result}")
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from .progress import plot_progress

    out = plot_progress(_db(args), args.out, athlete=args.athlete,
                        velocity_load_kg=args.load_kg)
    print(f"progress written to {out}", file=sys.stderr)
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    from .plans import resolve_plan
    from .progress import next_session

    plan = resolve_plan(args.plan) if args.plan else None
    prop = next_session(_db(args), args.athlete, plan)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            fh.write(prop.plan.to_toml())
    if args.json:
        doc: dict[str, Any] = prop.to_dict()
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(prop.summary())
    for cue in prop.cues:
        print(f"  work on: {cue}")
    if args.save:
        print(f"plan saved to {args.save} (use it with --plan)", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the plan, report and history subcommands to the ``sensorcoach`` parser."""
    p = subparsers.add_parser("plans", help="list the built-in training plans, or show one")
    p.add_argument("plan", nargs="?", metavar="NAME|FILE",
                   help="show (and validate) this plan as TOML")
    p.set_defaults(func=cmd_plans)

    p = subparsers.add_parser("report", help="HTML report (and per-rep CSV) of a recording")
    p.add_argument("recording")
    _plan_arg(p)
    p.add_argument("--mount", choices=MOUNTS,
                   help="where the sensor sits (default: the file's metadata, else inferred)")
    p.add_argument("--html", metavar="OUT", required=True, help="HTML report to write")
    p.add_argument("--csv", metavar="OUT", help="also write one CSV row per rep ('-': stdout)")
    p.add_argument("--athlete", help="name shown in the report (default: the metadata)")
    p.set_defaults(func=cmd_report)

    p = subparsers.add_parser("log", help="store analysed sessions in the training history")
    p.add_argument("recording", nargs="+")
    _plan_arg(p)
    p.add_argument("--mount", choices=MOUNTS)
    p.add_argument("--athlete", help="athlete name (default: the metadata, else 'me')")
    _db_arg(p)
    p.set_defaults(func=cmd_log)

    p = subparsers.add_parser("history", help="list the logged sessions")
    _db_arg(p)
    p.add_argument("--athlete")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_history)

    p = subparsers.add_parser("progress", help="plot weekly volume, load, tempo and velocity")
    _db_arg(p)
    p.add_argument("--athlete")
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.html")
    p.add_argument("--load-kg", type=float, default=None,
                   help="load at which to track bar velocity (default: the most used one)")
    p.set_defaults(func=cmd_progress)

    p = subparsers.add_parser("next", help="propose the next session (progressive overload)")
    _db_arg(p)
    p.add_argument("--athlete")
    p.add_argument("--plan", metavar="NAME|FILE",
                   help="the plan to progress (default: the plan of the last session)")
    p.add_argument("--save", metavar="FILE.toml", help="write the proposed plan as TOML")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_next)
