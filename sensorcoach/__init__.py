"""sensorcoach: counts hip-thrust reps and judges tempo from a small motion sensor.

Data flows one way (see ``docs`` in the README):

``source`` (file reader, BLE client, emulator) -> :class:`~sensorcoach.types.SampleChunk`
-> :class:`~sensorcoach.detect.detector.RepDetector` (streaming) -> events
(:mod:`sensorcoach.events`) -> consumers (display, recorder, analysis result, report, store).

Heavy libraries (scipy, pandas, matplotlib, bleak) are imported lazily so that
``sensorcoach --help`` stays fast.
"""

__version__ = "0.1.0"
