"""One pipeline for live, replay and offline analysis.

:class:`StreamPipeline` drives the streaming :class:`~sensorcoach.detect.detector.RepDetector`
and turns its events into an :class:`~sensorcoach.results.Analysis`. Offline analysis is the
same pipeline fed the whole file (in chunks); nothing else detects reps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .detect.detector import RepDetector
from .detect.mount import AutoMountDetector
from .events import RepDoneEvent, SetDoneEvent
from .results import Analysis, RecordingInfo, SetResult
from .types import Recording, SampleChunk

#: Chunk size used when a whole file is analysed (any size gives the same result).
OFFLINE_CHUNK_SAMPLES = 1 << 16


class StreamPipeline:
    """Detector plus the consumer that assembles sets and reps from its events.

    Parameters
    ----------
    mount : {"hip", "bar"} or None
        Sensor position; ``None`` lets the detector infer it.
    """

    def __init__(self, *, mount: str | None = None, **detector_params):
        self.detector = (RepDetector(mount=mount, **detector_params) if mount
                         else AutoMountDetector(**detector_params))
        self.sets: list[SetResult] = []
        self._open: dict[int, SetResult] = {}

    def feed(self, chunk: SampleChunk) -> list:
        """Process one chunk; return the events that fired."""
        return self._consume(self.detector.update(chunk))

    def finish(self) -> list:
        """End of stream: flush pending decisions."""
        return self._consume(self.detector.finish())

    def _consume(self, events: list) -> list:
        for ev in events:
            if isinstance(ev, RepDoneEvent):
                s = self._open.get(ev.set)
                if s is None:
                    s = self._open[ev.set] = SetResult(index=ev.set)
                s.reps.append(ev.rep)
            elif isinstance(ev, SetDoneEvent):
                s = self._open.pop(ev.set, None)
                if s is not None and s.reps:
                    self.sets.append(s)
        return events

    @property
    def mount(self) -> str | None:
        return self.detector.mount

    def run(self, chunks: Iterable[SampleChunk]) -> Iterator:
        """Feed every chunk, then finish; yield events as they fire."""
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.finish()


def count_gaps(time_s: np.ndarray, nominal_rate_hz: float) -> int:
    """Number of intervals longer than 1.5 nominal sample intervals (lost samples)."""
    if len(time_s) < 2 or not np.isfinite(nominal_rate_hz) or nominal_rate_hz <= 0:
        return 0
    return int(np.count_nonzero(np.diff(time_s) > 1.5 / nominal_rate_hz))


def analyze_recording(recording: Recording, *, mount: str | None = None,
                      chunk_samples: int = OFFLINE_CHUNK_SAMPLES) -> Analysis:
    """Offline analysis: the streaming pipeline driven over the whole recording.

    Parameters
    ----------
    recording : Recording
        The samples and metadata.
    mount : {"hip", "bar"} or None
        Overrides the recording's ``mount`` metadata; ``None`` uses the metadata, else infers.
    chunk_samples : int
        How many samples to feed at a time (the result does not depend on it).
    """
    given = mount or recording.mount
    pipe = StreamPipeline(mount=given)
    for _ in pipe.run(recording.samples.chunks(chunk_samples)):
        pass
    t = recording.samples.time_s
    rate = recording.sample_rate_hz
    info = RecordingInfo(
        path=recording.path, mount=pipe.mount, sample_rate_hz=rate,
        start_s=float(t[0]) if len(t) else float("nan"),
        end_s=float(t[-1]) if len(t) else float("nan"),
        samples=len(t), gaps=count_gaps(t, rate), has_gyro=recording.has_gyro,
        mount_source=("option" if mount else "metadata" if recording.mount
                      else "inferred" if pipe.mount else "unknown"),
    )
    return Analysis(recording=info, sets=pipe.sets)


def analyze_file(path: str, *, mount: str | None = None) -> tuple[Analysis, Recording]:
    """Read a recording (any supported format) and analyse it."""
    from .io.formats import load_recording

    rec = load_recording(path)
    return analyze_recording(rec, mount=mount), rec
