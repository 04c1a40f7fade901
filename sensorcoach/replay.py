"""Replay a recording through the live pipeline and print the event stream (JSON lines)."""

from __future__ import annotations

import json
import sys
import time

from .pipeline import StreamPipeline


def replay(path: str, *, mount: str | None = None, events_out: str = "-",
           speed: float | None = None, chunk_samples: int = 5) -> int:
    """Feed ``path`` to :class:`StreamPipeline` in small chunks, as a BLE session would.

    ``speed=None`` runs as fast as possible; ``speed=X`` paces at X times real time.
    """
    from .io.formats import load_recording

    rec = load_recording(path)
    pipe = StreamPipeline(mount=mount or rec.mount)
    out = sys.stdout if events_out == "-" else open(events_out, "w", encoding="utf-8")
    t_first = float(rec.samples.time_s[0]) if len(rec.samples) else 0.0
    wall0 = time.monotonic()
    try:
        for chunk in rec.samples.chunks(max(1, chunk_samples)):
            if speed:
                due = (float(chunk.time_s[-1]) - t_first) / speed
                lag = due - (time.monotonic() - wall0)
                if lag > 0:
                    time.sleep(lag)
            for ev in pipe.feed(chunk):
                out.write(json.dumps(ev.to_dict()) + "\n")
            if speed:
                out.flush()
        for ev in pipe.finish():
            out.write(json.dumps(ev.to_dict()) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return 0
