"""The ``sensorcoach`` command line.

Only argparse and the standard library are imported at start-up; numpy, scipy, pandas and
bleak are imported inside the commands, so ``sensorcoach --help`` answers at once.
A user error (:class:`~sensorcoach.errors.SensorcoachError`) prints one line on standard
error and exits with code 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import __version__
from .consts import MOUNTS


def _add_analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mount", choices=MOUNTS,
                   help="where the sensor sits (default: the file's metadata, else inferred)")


def cmd_analyze(args: argparse.Namespace) -> int:
    import os

    from .compare import analyze_against_plan
    from .display import format_analysis

    paths = args.recording
    if len(paths) > 1 or os.path.isdir(paths[0]):
        from pathlib import Path

        from .batch import analyze_many, collect

        # a folder is a batch, unless it is one export (phyphox, MetaMotion): one recording
        files = collect(paths)
        if len(paths) > 1 or files != [str(Path(paths[0]))]:
            return analyze_many(paths, mount=args.mount, json_out=args.json, plan=args.plan,
                                files=files)
    analysis, _, comparison = analyze_against_plan(paths[0], args.mount, args.plan)
    if args.json:
        text = json.dumps(analysis.to_dict(), indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
            return 0
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(format_analysis(analysis))
    if comparison is not None:
        from .display import format_comparison

        print()
        print(format_comparison(comparison))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import replay

    return replay(args.recording, mount=args.mount, events_out=args.events,
                  speed=args.speed, chunk_samples=args.chunk)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorcoach",
        description="Counts hip-thrust reps and judges tempo from a motion sensor.")
    parser.add_argument("--version", action="version", version=f"sensorcoach {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more messages on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("analyze", help="sets, reps and tempo of a recording (or many)")
    p.add_argument("recording", nargs="+",
                   help="recording file(s): sensorcoach CSV, phyphox export, MetaMotion "
                        "export folder; or a folder of recordings")
    p.add_argument("--json", metavar="PATH", help="write the analysis JSON to PATH ('-': stdout)")
    p.add_argument("--plan", metavar="NAME|FILE", help="compare with a plan (see 'plans')")
    _add_analysis_args(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("replay", help="run a recording through the live pipeline")
    p.add_argument("recording")
    p.add_argument("--events", metavar="PATH", default="-",
                   help="where to write the JSON-lines event stream ('-': stdout, default)")
    p.add_argument("--speed", type=float, default=None,
                   help="pace the replay at X times real time (default: as fast as possible)")
    p.add_argument("--chunk", type=int, default=5,
                   help="samples per chunk, like BLE notifications (default 5)")
    _add_analysis_args(p)
    p.set_defaults(func=cmd_replay)

    for module in ("sensorcoach.ble.commands", "sensorcoach.report_commands"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        register = getattr(mod, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="sensorcoach: %(levelname)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .errors import SensorcoachError

    try:
        return int(args.func(args) or 0)
    except SensorcoachError as exc:
        print(f"sensorcoach: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"sensorcoach: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
