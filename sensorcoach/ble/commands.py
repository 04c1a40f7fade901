"""CLI subcommands of the live BLE path: ``scan``, ``record``, ``live``.

``register(subparsers)`` adds them to the ``sensorcoach`` parser. Nothing heavy (bleak,
dbus-fast, numpy) is imported here at module level: only inside the command functions.

``--simulate RECORDING`` runs the whole real path without hardware: a private
``dbus-daemon``, the stand-in BlueZ with an emulated sensor playing the recording (in a
separate process), and bleak's own BlueZ backend in this process.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..consts import MOUNTS, SENSOR_KINDS


def register(subparsers: Any) -> None:
    """Add ``scan``, ``record`` and ``live`` to the ``sensorcoach`` subcommands."""
    p = subparsers.add_parser("scan", help="list nearby sensorcoach BLE sensors")
    p.add_argument("--timeout", type=float, default=5.0, help="scan time, seconds (default 5)")
    p.add_argument("--all", action="store_true", help="list every BLE device seen")
    _add_sensor_arg(p)
    _add_sim_args(p)
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser("record", help="record a BLE sensor to a recording file")
    p.add_argument("--device", metavar="NAME|ADDRESS",
                   help="sensor name or address (default: the only sensor in range)")
    p.add_argument("--out", required=True, metavar="FILE", help="recording file to write")
    p.add_argument("--rate", type=int, metavar="HZ", help="sample rate to set, 25..400 Hz")
    p.add_argument("--duration", type=float, metavar="S",
                   help="stop after S seconds (default: Ctrl-C, or the end of --simulate)")
    p.add_argument("--mount", choices=MOUNTS, help="written to the file's metadata")
    p.add_argument("--plan", metavar="PLAN",
                   help="training plan (see 'plans'), written to the file's metadata")
    _add_sensor_arg(p)
    _add_sim_args(p)
    _add_link_args(p)
    p.set_defaults(func=cmd_record)

    p = subparsers.add_parser("live", help="live session: count reps as they happen")
    p.add_argument("--device", metavar="NAME|ADDRESS",
                   help="sensor name or address (default: the only sensor in range)")
    p.add_argument("--out", metavar="FILE", help="also record every sample to FILE")
    p.add_argument("--plan", metavar="PLAN", help="training plan to show (see 'plans')")
    p.add_argument("--events", metavar="PATH",
                   help="write the JSON-lines event stream to PATH ('-': stdout)")
    p.add_argument("--rate", type=int, metavar="HZ", help="sample rate to set, 25..400 Hz")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--mount", choices=MOUNTS,
                   help="where the sensor sits (default: inferred)")
    _add_sensor_arg(p)
    p.add_argument("--no-display", action="store_true", help="no live display on stderr")
    _add_sim_args(p)
    _add_link_args(p)
    p.set_defaults(func=cmd_live)


def _add_sensor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sensor", choices=SENSOR_KINDS, default="stub",
                   help="sensor protocol: 'stub' the sensorcoach firmware (default), 'polar' "
                        "a Polar H10 accelerometer (PMD), 'witmotion' a WitMotion BWT901BLE")


def _add_sim_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("simulation (no hardware needed)")
    g.add_argument("--simulate", metavar="RECORDING",
                   help="emulate a sensor playing RECORDING behind a stand-in BlueZ")
    g.add_argument("--speed", type=float, default=1.0,
                   help="emulator playback speed, times real time (default 1)")
    g.add_argument("--fault", default="", metavar="SPEC",
                   help="inject faults, e.g. 'loss:0.05,drop:3@20,silent@40' "
                        "(see sensorcoach.ble.emulator)")
    g.add_argument("--seed", type=int, default=0, help="seed of the fault generator")


def _add_link_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--watchdog", type=float, default=2.0, metavar="S",
                   help="seconds without data before the link counts as lost (default 2)")
    p.add_argument("--give-up", type=float, default=None, metavar="S",
                   help="stop after S seconds without data (default: keep reconnecting)")
    p.add_argument("--acquire-notify", action="store_true",
                   help="BlueZ: receive notifications through AcquireNotify (cheaper at "
                        "high rates; off by default as some devices misbehave with it)")


class _Simulation:
    """Context manager: the emulated sensor behind a stand-in BlueZ, or nothing."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sim: Any = None

    def __enter__(self) -> Any:
        if self.args.simulate:
            import logging

            from .fakebluez import SimulatedSensor

            # the stand-in BlueZ has no bluetoothctl to ask for its version: not news
            logging.getLogger("bleak.backends.bluezdbus.version").setLevel(logging.ERROR)

            speed = self.args.speed if self.args.speed and self.args.speed > 0 else 1.0
            self.sim = SimulatedSensor(self.args.simulate, speed=speed, fault=self.args.fault,
                                       seed=self.args.seed,
                                       kind=self.args.sensor).start()
        return self.sim

    def __exit__(self, *exc: object) -> None:
        if self.sim is not None:
            self.sim.stop()


def cmd_scan(args: argparse.Namespace) -> int:
    import asyncio

    from .client import scan

    with _Simulation(args):
        found = asyncio.run(scan(args.timeout, all_devices=args.all))
    if not found:
        print("no sensors found", file=sys.stderr)
        return 1
    for d in found:
        rssi = "" if d.rssi is None else f"{d.rssi:4d} dBm"
        print(f"{d.address}  {rssi:>8}  {d.kind or '-':<9}  {d.name or '-'}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    meta = _session_meta(args, _plan_arg(args))
    with _Simulation(args) as sim:
        return _run(args, sim, out=args.out, meta=meta, pipeline=None, events_out=None,
                    display=None)


def cmd_live(args: argparse.Namespace) -> int:
    plan = _plan_arg(args)
    from ..pipeline import StreamPipeline
    from .live_display import LiveDisplay

    pipeline = StreamPipeline(mount=args.mount)
    display = None
    if not args.no_display:
        display = LiveDisplay(plan=plan,
                              phase_of=lambda: getattr(pipeline.detector, "phase", None))
    meta = _session_meta(args, plan)
    with _Simulation(args) as sim:
        return _run(args, sim, out=args.out, meta=meta, pipeline=pipeline,
                    events_out=args.events, display=display)


def _plan_arg(args: argparse.Namespace) -> Any:
    if not args.plan:
        return None
    from ..plans import resolve_plan

    return resolve_plan(args.plan)


def _session_meta(args: argparse.Namespace, plan: Any) -> dict[str, str]:
    """The recording's metadata from the command line (a plan as its name or its line)."""
    from .profiles import get_profile

    meta = {"sensor": get_profile(args.sensor).label}
    if args.mount:
        meta["mount"] = args.mount
    if args.rate:
        meta["sample_rate_hz"] = str(args.rate)
    if plan is not None:
        meta["plan"] = plan.metadata_line()
    return meta


def _run(args: argparse.Namespace, sim: Any, *, out: str | None, meta: dict[str, str],
         pipeline: Any, events_out: str | None, display: Any) -> int:
    import asyncio
    import json
    import signal

    from .client import SensorStream
    from .profiles import get_profile
    from .session import LiveSession

    # --device, the emulated sensor, or None: the one sensor of the --sensor kind in range
    # (chosen by the stream's own scan)
    device = args.device or (sim.name if sim is not None else None)
    if sim is not None:
        meta["sensor"] += f" (emulated: {args.simulate})"
    ev_file = None
    if events_out == "-":
        ev_file = sys.stdout
    elif events_out:
        ev_file = open(events_out, "w", encoding="utf-8")

    def on_events(events: list) -> None:
        if ev_file is not None:
            for ev in events:
                ev_file.write(json.dumps(ev.to_dict()) + "\n")
            ev_file.flush()
        if display is not None:
            display.on_events(events)

    session = LiveSession(out, meta=meta,
                          feed=pipeline.feed if pipeline is not None else None,
                          finish=pipeline.finish if pipeline is not None else None,
                          on_events=on_events)

    def on_chunk(chunk: Any) -> None:
        session.on_chunk(chunk)
        if display is not None:
            display.on_samples(len(chunk), float(chunk.time_s[-1]))

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        stream = SensorStream(device, on_chunk, rate_hz=args.rate, watchdog_s=args.watchdog,
                              give_up_s=args.give_up, profile=get_profile(args.sensor),
                              acquire_notify=args.acquire_notify,
                              on_state=display.on_state if display is not None else None,
                              on_found=lambda d: print(f"sensorcoach: using {d.label}",
                                                       file=sys.stderr))
        # polar/witmotion decoders know the nominal rate (theirs when none was asked for);
        # a WitMotion chunk is one sample, too few for the session to measure it
        nominal = stream.decoder.rate_hz
        if nominal:
            session.meta.setdefault("sample_rate_hz", f"{nominal:g}")
        helpers = []
        if args.duration:
            helpers.append(loop.create_task(_stop_after(stop, args.duration)))
        if sim is not None:
            helpers.append(loop.create_task(_stop_at_sim_end(stop, sim, stream)))
        try:
            return await stream.run(stop)
        finally:
            for h in helpers:
                h.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    try:
        stats = asyncio.run(main())
    finally:
        session.close()
        if ev_file is not None and ev_file is not sys.stdout:
            ev_file.close()
    a = stats.assembler
    print(f"sensorcoach: {session.samples} samples"
          + (f" written to {out}" if out else "")
          + (f" ({session.side_samples} without gyro data in {session.side_path})"
             if session.side_samples else "")
          + f"; packets {a.packets}, lost {a.lost_packets}, bad {stats.bad_packets}, "
            f"duplicates {a.duplicates + a.late}, reconnects {max(stats.connects - 1, 0)}, "
            f"watchdog {stats.watchdog_trips}", file=sys.stderr)
    if session.samples == 0:
        print("sensorcoach: error: no samples received", file=sys.stderr)
        return 1
    return 0


async def _stop_after(stop: Any, seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
    stop.set()


async def _stop_at_sim_end(stop: Any, sim: Any, stream: Any) -> None:
    import asyncio
    import math

    await sim.wait_for_async("end", math.inf)
    # the last notifications are on their way (a backlog at high rates): stop once they
    # have stopped arriving for 0.5 s
    seen = -1
    while stream.stats.notifications != seen:
        seen = stream.stats.notifications
        await asyncio.sleep(0.5)
    stop.set()
