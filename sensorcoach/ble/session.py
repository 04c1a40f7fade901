"""A live session: every received sample to the recording file, every chunk to the detector.

:class:`LiveSession` is the consumer side of :class:`~sensorcoach.ble.client.SensorStream`:
its :meth:`~LiveSession.on_chunk` writes the chunk to the recording as it arrives (through
:class:`sensorcoach.io.recording.RecordingWriter`, which hands every chunk to the operating
system at once: after ``kill -9`` the file holds every sample received), then
passes it to ``feed(chunk) -> list[events]`` (the detector pipeline,
``StreamPipeline.feed``) and hands the events to ``on_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..types import SampleChunk


class LiveSession:
    """Writes and analyses a live stream.

    Parameters
    ----------
    out : path or None
        Recording file to write (created at the first chunk, when it is known whether the
        sensor has a gyroscope); ``None`` writes nothing. Should a chunk without gyro data
        arrive for a file with gyro columns, it goes to a second, accelerometer-only
        recording beside it (:attr:`side_path`, ``NAME.acc-only.csv``): nothing received
        is dropped and both files stay valid recordings.
    meta : mapping of str to str
        Metadata lines (``mount``, ``sample_rate_hz``, ``sensor``, ``plan``...);
        ``started_at`` is added if absent, ``sample_rate_hz`` (from the first chunk's
        sample interval) too.
    feed : callable or None
        ``feed(chunk) -> list[events]``.
    finish : callable or None
        ``finish() -> list[events]`` at the end of the stream.
    on_events : callable or None
        Called with each non-empty list of events.
    """

    def __init__(self, out: str | Path | None = None, *, meta: Mapping[str, str] | None = None,
                 feed: Callable[[SampleChunk], list] | None = None,
                 finish: Callable[[], list] | None = None,
                 on_events: Callable[[list], None] | None = None) -> None:
        self.out = Path(out) if out is not None else None
        self.meta = dict(meta or {})
        self.meta.setdefault("started_at", datetime.now(UTC).isoformat(timespec="seconds"))
        self.feed = feed
        self.finish_fn = finish
        self.on_events = on_events or (lambda _e: None)
        self.writer: Any = None
        self.side_writer: Any = None
        self.samples = 0
        #: samples that went to the accelerometer-only side file (see ``out``)
        self.side_samples = 0
        self.events: list[Any] = []

    def _writer(self, path: Any, has_gyro: bool) -> Any:
        from ..io.recording import RecordingWriter

        return RecordingWriter(path, self.meta, has_gyro)

    def on_chunk(self, chunk: SampleChunk) -> None:
        """Record and analyse one chunk."""
        if len(chunk) == 0:
            return
        if self.out is not None:
            if self.writer is None:
                if "sample_rate_hz" not in self.meta and len(chunk) >= 2:
                    import numpy as np

                    dt = float(np.median(np.diff(chunk.time_s)))
                    if dt > 0:
                        self.meta["sample_rate_hz"] = f"{1.0 / dt:g}"
                self.writer = self._writer(self.out, chunk.gyr_dps is not None)
            # fit the chunk to the file's columns; the detector keeps the original
            if self.writer.has_gyro and chunk.gyr_dps is None:
                # the file's gyro columns cannot hold these samples: the side file takes them
                if self.side_writer is None:
                    self.side_writer = self._writer(self.side_path, False)
                self.side_writer.write(chunk)
                self.side_samples += len(chunk)
            else:
                self.writer.write(chunk)  # a gyro-less file ignores gyr_dps
        self.samples += len(chunk)
        if self.feed is not None:
            self._emit(self.feed(chunk))

    @property
    def side_path(self) -> Path | None:
        """Where samples without gyro data go when the file has gyro columns."""
        if self.out is None:
            return None
        name = self.out.name
        stem = name[:-len(".csv")] if name.endswith(".csv") else name
        return self.out.with_name(stem + ".acc-only.csv")

    def _emit(self, events: list | None) -> None:
        if events:
            self.events.extend(events)
            self.on_events(list(events))

    def close(self) -> list:
        """End of stream: final events, then close the file. Returns the final events."""
        events = self.finish_fn() if self.finish_fn is not None else []
        self._emit(events)
        for w in (self.writer, self.side_writer):
            if w is not None:
                w.close()
        return list(events or [])

