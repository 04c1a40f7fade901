"""Seeded, physics-based hip-thrust session simulator with ground truth.

>>> from sensorcoach.sim import preset, simulate, write_sim
>>> result = simulate(preset("bodyweight"), seed=7)       # doctest: +SKIP
>>> write_sim(result, "out", "bw_7")                        # doctest: +SKIP

Modules: :mod:`.spec` (what defines a session), :mod:`.kinematics` (motion building blocks),
:mod:`.session` (choreography: reps and everything around them), :mod:`.sensor` (IMU model),
:mod:`.simulator` (putting it together, truth, writing). Command line:
``python -m sensorcoach.sim --help``.
"""

from .simulator import SimResult, simulate, write_sim
from .spec import FAULTS, RATES_HZ, TEMPI, VARIANTS, SessionSpec, preset, random_spec

__all__ = [
    "FAULTS", "RATES_HZ", "TEMPI", "VARIANTS", "SessionSpec", "SimResult", "preset",
    "random_spec", "simulate", "write_sim",
]
