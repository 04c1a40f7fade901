"""Live terminal display of a session: set and rep count, phase, last tempo, fault cues.

A consumer of events (and of the stream's state words). On a terminal it redraws a few
lines in place with plain ANSI escapes; elsewhere it prints one line per notable event.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

_FLAG_CUES = {
    "no_top_pause": "hold the top",
    "fast_eccentric": "lower slower",
    "bounce": "no bounce at the bottom",
    "partial_range": "full range",
}


class LiveDisplay:
    """Renders the live state to ``out`` (standard error by default).

    Parameters
    ----------
    out : text stream or None
        Where to draw.
    plan : Plan or None
        Shown as the target (sets x reps, tempo).
    phase_of : callable or None
        Returns the detector's current phase word (``idle``, ``concentric``, ``top``...).
    ansi : bool or None
        Redraw in place; ``None``: when ``out`` is a terminal.
    """

    def __init__(self, out: TextIO | None = None, *, plan: Any = None,
                 phase_of: Any = None, ansi: bool | None = None) -> None:
        self.out = out or sys.stderr
        self.plan = plan
        self.phase_of = phase_of or (lambda: None)
        self.ansi = self.out.isatty() if ansi is None else ansi
        self.set_no = 0
        self.reps = 0
        self.total_reps = 0
        self.sets_done = 0
        self.last_tempo = "-"
        self.cues: list[str] = []
        self.link = "starting"
        self.samples = 0
        self.sensor_time_s: float | None = None
        self._drawn = 0
        self._last_draw = 0.0

    # --- inputs --------------------------------------------------------------------
    def on_state(self, state: str) -> None:
        self.link = state
        if not self.ansi and state in ("lost", "watchdog", "reconnecting", "streaming",
                                       "connected"):
            self._line(f"link: {state}")
        self.draw(force=True)

    def on_samples(self, n: int, last_time_s: float) -> None:
        self.samples += n
        self.sensor_time_s = last_time_s
        self.draw()

    def on_events(self, events: list) -> None:
        for ev in events:
            d = ev.to_dict() if hasattr(ev, "to_dict") else dict(ev)
            kind = d.get("event")
            if kind == "rep":
                self.set_no = d.get("set", self.set_no)
                self.reps = d.get("rep", self.reps + 1)
                self.total_reps += 1
                if not self.ansi:
                    self._line(f"set {self.set_no} rep {self.reps}")
            elif kind == "rep_done":
                detail = d.get("rep_detail", {})
                rep = getattr(ev, "rep", None)
                if rep is not None and hasattr(rep, "tempo"):
                    self.last_tempo = rep.tempo()
                flags = detail.get("flags", []) or []
                self.cues = [_FLAG_CUES.get(f, f) for f in flags]
                if not self.ansi and self.cues:
                    self._line(f"  rep {d.get('rep')}: tempo {self.last_tempo}; "
                               + ", ".join(self.cues))
            elif kind == "partial":
                self.cues = ["partial rep: " + _FLAG_CUES["partial_range"]]
                if not self.ansi:
                    self._line("  partial rep (not counted)")
            elif kind == "set_done":
                self.sets_done += 1
                if not self.ansi:
                    self._line(f"set {d.get('set')} done: {d.get('reps')} reps")
            elif kind == "gap":
                self.cues = [f"signal gap {d.get('gap_s', 0):.1f} s"]
        self.draw(force=True)

    # --- output --------------------------------------------------------------------
    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def lines(self) -> list[str]:
        target = ""
        if self.plan is not None:
            target = f" / plan {self.plan.sets}x{self.plan.reps} tempo {self.plan.tempo}"
        phase = self.phase_of() or "-"
        t = "-" if self.sensor_time_s is None else f"{self.sensor_time_s:.1f} s"
        return [
            f"set {max(self.set_no, 1)}  reps {self.reps}  (sets done {self.sets_done}, "
            f"total reps {self.total_reps}){target}",
            f"phase {phase:<11} last tempo {self.last_tempo}",
            "cues: " + (", ".join(self.cues) if self.cues else "-"),
            f"link {self.link:<12} samples {self.samples}  sensor time {t}",
        ]

    def draw(self, force: bool = False) -> None:
        if not self.ansi:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        buf = []
        if self._drawn:
            buf.append(f"\x1b[{self._drawn}F")
        lines = self.lines()
        for ln in lines:
            buf.append("\x1b[2K" + ln + "\n")
        self._drawn = len(lines)
        self.out.write("".join(buf))
        self.out.flush()
