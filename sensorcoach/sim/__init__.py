"""Seeded, physics-based hip-thrust session simulator with ground truth.

>>> from sensorcoach.sim import preset, simulate, write_sim
>>> result = simulate(preset("bodyweight"), seed=7)       # doctest: +SKIP
>>> write_sim(result, "out", "bw_7")                        # doctest: +SKIP

Corpora for benchmarks: ``python -m sensorcoach.sim corpus --seeds 1000-1099 --out corpus
--jobs 0`` (a :func:`random_spec` per seed; ``corpus/`` is git-ignored).

Modules: :mod:`.spec` (what defines a session), :mod:`.kinematics` (motion building blocks),
:mod:`.session` (choreography: reps and everything around them), :mod:`.sensor` (IMU model),
:mod:`.simulator` (putting it together, truth, writing). Command line:
``python -m sensorcoach.sim --help``.
"""

from .simulator import TRUTH_SCHEMA, SimResult, simulate, write_sim
from .spec import FAULTS, RATES_HZ, TEMPI, VARIANTS, SessionSpec, preset, random_spec

__all__ = [
    "FAULTS", "RATES_HZ", "TEMPI", "TRUTH_SCHEMA", "VARIANTS", "SessionSpec", "SimResult", "preset",
    "random_spec", "simulate", "write_sim",
]
