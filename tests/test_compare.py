"""Comparison against the plan, on sessions whose truth is known.

``make_analysis`` builds an :class:`Analysis` directly from per-rep phase durations (the
truth), so these tests do not depend on the detector. The end-to-end test at the bottom
runs the simulator and the pipeline when they exist, with the expectation built from the
simulator's spec.
"""

from __future__ import annotations

import itertools

import pytest

from sensorcoach.compare import (
    CUES,
    ECCENTRIC_TOL_S,
    TOP_PAUSE_TOL_S,
    analysis_faults,
    compare,
    cue_for,
)
from sensorcoach.plans import load_plan
from sensorcoach.results import Analysis, RecordingInfo, RepResult, SetResult

GOOD_REP = dict(conc=1.0, top=1.0, ecc=2.0, bottom=0.3)


def make_analysis(sets, *, rest_s=120.0, t0=100.0, velocity=None, mount="hip"):
    """Analysis from a list of sets; each set a list of rep dicts (conc, top, ecc, bottom,
    optional partial, flags, v); ``rest_s`` a number or a list (rest before set i+1)."""
    t = t0
    out = []
    for si, reps in enumerate(sets, start=1):
        if si > 1:
            t += rest_s[si - 2] if isinstance(rest_s, list | tuple) else rest_s
        rr = []
        count = 0
        for ri, spec in enumerate(reps, start=1):
            spec = {**GOOD_REP, **spec}
            start = t
            top = start + spec["conc"]
            descent = top + spec["top"]
            end = descent + spec["ecc"]
            last = ri == len(reps)
            bottom = 0.0 if last else spec["bottom"]
            partial = spec.get("partial", False)
            if not partial:
                count += 1
            v = spec.get("v", velocity)
            rr.append(RepResult(
                index=ri, start_s=start, top_s=top, descent_s=descent, end_s=end,
                bottom_pause_s=bottom, rom_m=0.15 if partial else 0.3,
                mean_velocity_mps=v, partial=partial, flags=list(spec.get("flags", [])),
                count=None if partial else count,
                bottom_before_s=None if ri == 1 else rr[-1].bottom_pause_s,
                range_fraction=0.5 if partial else 1.0,
            ))
            t = end + bottom
        out.append(SetResult(index=si, reps=rr))
    info = RecordingInfo(path="synthetic.csv", mount=mount, sample_rate_hz=100.0,
                         start_s=t0 - 5, end_s=t + 5, samples=int((t + 10 - t0) * 100), gaps=0,
                         has_gyro=True)
    return Analysis(recording=info, sets=out)


def good_set(n, **kw):
    return [dict(kw) for _ in range(n)]


def test_perfect_5x5_meets_plan():
    plan = load_plan("barbell-5x5")
    cmp = compare(make_analysis([good_set(5)] * 5), plan, load_kg=100)
    assert cmp.met and cmp.verdict() == "plan met"
    assert cmp.done_reps == 25 and cmp.planned_reps == 25 and cmp.sets_met == 5
    assert cmp.tempo_compliance == 1.0
    assert cmp.faults == [] and cmp.cues == []
    assert [s.rest_taken_s for s in cmp.sets] == [None] + [pytest.approx(120)] * 4
    assert cmp.volume_kg == 2500
    d = cmp.to_dict()
    assert d["summary"]["met"] is True and d["plan"]["tempo"] == "2-0-1-1"
    assert d["tolerances"]["top_pause_s"] == TOP_PAUSE_TOL_S


def test_short_set_and_missing_pauses_reported_exactly():
    plan = load_plan("barbell-5x5")
    sets = [good_set(5) for _ in range(5)]
    sets[2] = good_set(3)  # set 3: only 3 reps
    sets[1][1] = dict(top=0.05, flags=["no_top_pause"])  # detector flagged it
    sets[4][3] = dict(top=0.1)  # only the plan check catches it
    cmp = compare(make_analysis(sets), plan)
    assert [s.status for s in cmp.sets] == ["met", "met", "short", "met", "met"]
    assert cmp.sets[2].missed_reps == 2
    assert not cmp.met and cmp.verdict() == "plan missed"
    no_pause = [r.label for s in cmp.sets for r in s.reps if r.top_pause_ok is False]
    assert no_pause == ["2.2", "5.4"]
    tally = {f.fault: f for f in cmp.faults}
    assert tally["no_top_pause"].reps == ["2.2"]
    assert tally["no_top_pause"].cue == CUES["no_top_pause"]
    assert tally["short_top_pause"].reps == ["5.4"]
    assert "1 s" in tally["short_top_pause"].cue
    assert any("Missed reps in set 3 (3/5)" in c for c in cmp.cues)
    assert cmp.tempo_compliance == pytest.approx(21 / 23)


def test_tolerances_are_edges():
    plan = load_plan("barbell-5x5")  # 2-0-1-1
    just_ok = dict(top=1.0 - TOP_PAUSE_TOL_S + 0.01, ecc=2.0 - ECCENTRIC_TOL_S + 0.01)
    just_bad = dict(top=1.0 - TOP_PAUSE_TOL_S - 0.01, ecc=2.0 - ECCENTRIC_TOL_S - 0.01)
    cmp = compare(make_analysis([[just_ok, just_bad, just_ok, {}, {}]]), plan)
    r = cmp.sets[0].reps
    assert (r[0].top_pause_ok, r[0].eccentric_ok) == (True, True)
    assert (r[1].top_pause_ok, r[1].eccentric_ok) == (False, False)
    assert r[1].faults == ["short_top_pause", "short_eccentric"]


def test_partials_bounce_fast_eccentric_cues():
    plan = load_plan("bodyweight-3x20")
    s1 = good_set(20)
    s1.insert(5, dict(partial=True, flags=["partial_range"]))
    s2 = good_set(20)
    s2[3] = dict(ecc=0.6, flags=["fast_eccentric"])
    s2[4] = dict(flags=["bounce"])
    s3 = good_set(20)
    s3[0] = dict(partial=True)  # partial without the flag still counts as partial_range
    cmp = compare(make_analysis([s1, s2, s3], rest_s=60), plan)
    assert [s.done_reps for s in cmp.sets] == [20, 20, 19]
    assert [s.partial_reps for s in cmp.sets] == [1, 0, 1]
    tally = {f.fault: f for f in cmp.faults}
    assert tally["partial_range"].count == 2
    assert tally["partial_range"].cue == ("Drive through the heels until torso and thighs "
                                          "are in line")
    assert tally["fast_eccentric"].cue == "Lower under control"
    assert tally["bounce"].cue.startswith("Don't bounce off the bottom")
    assert "short_eccentric" not in tally  # the detector flag covers it, not counted twice
    assert cmp.sets[0].reps[5].tempo_ok is None  # partials are not judged


def test_cue_for_names_the_prescribed_time_in_the_coaching_cue():
    tempo = load_plan("single-leg").tempo
    plain = {f: cue_for(f) for f in CUES}
    assert plain == CUES  # without a tempo: the cue table
    with_tempo = {f: cue_for(f, tempo) for f in CUES}
    assert with_tempo["no_top_pause"] == "Pause and squeeze at the top for a one-count"
    assert with_tempo["fast_eccentric"] == "Lower under control"
    assert with_tempo["short_top_pause"].startswith("Pause and squeeze at the top")
    assert f"{tempo.top_s:g} s" in with_tempo["short_top_pause"]
    assert with_tempo["short_eccentric"].startswith("Lower under control")
    assert f"{tempo.eccentric_s:g} s" in with_tempo["short_eccentric"]
    assert "prescribed" in CUES["short_eccentric"]
    assert cue_for("wobble", tempo) == ""


def test_analysis_faults_without_plan_tally_like_the_comparison():
    s1 = good_set(6)
    s1[1] = dict(flags=["bounce", "no_top_pause"])
    s1[4] = dict(partial=True)
    a = make_analysis([s1, [dict(flags=["no_top_pause"])]])
    tally = [(f.fault, f.count, f.reps, f.cue) for f in analysis_faults(a)]
    assert tally == [("partial_range", 1, ["1.5"], CUES["partial_range"]),
                     ("no_top_pause", 2, ["1.2", "2.1"], CUES["no_top_pause"]),
                     ("bounce", 1, ["1.2"], CUES["bounce"])]


def test_rest_too_short_and_missing_set():
    plan = load_plan("barbell-5x5")
    cmp = compare(make_analysis([good_set(5)] * 4, rest_s=[120, 60, 115]), plan)
    assert [s.status for s in cmp.sets] == ["met", "met", "met", "met", "missing"]
    assert [s.rest_ok for s in cmp.sets] == [None, True, False, True, None]
    assert not cmp.rest_ok
    assert any(c.startswith("Rest the full 120 s") for c in cmp.cues)
    assert any(c.startswith("Only 4 of 5 planned sets") for c in cmp.cues)


def test_extra_set():
    plan = load_plan("banded")
    cmp = compare(make_analysis([good_set(15)] * 4, rest_s=60), plan)
    assert [s.status for s in cmp.sets] == ["met"] * 3 + ["extra"]
    assert cmp.met


def test_velocity_loss_bar_mount():
    plan = load_plan("barbell-5x5")
    vs = [0.50, 0.48, 0.45, 0.40, 0.30]
    s = [dict(v=v) for v in vs]
    cmp = compare(make_analysis([s] + [good_set(5, v=0.5)] * 4, mount="bar"), plan)
    s1 = cmp.sets[0]
    assert s1.first_velocity_mps == 0.5 and s1.last_velocity_mps == 0.3
    assert s1.velocity_loss_pct == pytest.approx(40.0)
    assert cmp.sets[1].velocity_loss_pct == pytest.approx(0.0)
    assert any("Bar speed dropped" in c for c in cmp.cues)
    # hip mount without velocities: nothing claimed
    cmp = compare(make_analysis([good_set(5)] * 5), plan)
    assert cmp.sets[0].first_velocity_mps is None and cmp.sets[0].velocity_loss_pct is None


def test_single_leg_sides():
    plan = load_plan("single-leg")
    sides = [good_set(12) for _ in range(6)]
    cmp = compare(make_analysis(sides, rest_s=[20, 60, 20, 60, 20]), plan)
    assert len(cmp.sets) == 6 and cmp.met
    assert cmp.sets[1].label == "Set 1 side 2" and cmp.sets[1].rest_ok is None
    assert cmp.sets[2].rest_ok is True
    # the detector merged both sides of each set
    cmp = compare(make_analysis([good_set(24)] * 3, rest_s=60), plan)
    assert cmp.merged_sides and len(cmp.sets) == 3 and cmp.met
    assert cmp.sets[0].planned_reps == 24


def test_bottom_pause_prescribed():
    from dataclasses import replace

    from sensorcoach.plans import Tempo

    plan = replace(load_plan("barbell-5x5"), tempo=Tempo(2, 1, 1, 1))
    s = good_set(5, bottom=1.0)
    s[2] = dict(bottom=0.1)  # rep 4 starts after only 0.1 s at the bottom
    cmp = compare(make_analysis([s] + [good_set(5, bottom=1.0)] * 4), plan)
    r = cmp.sets[0].reps
    assert [x.bottom_pause_ok for x in r] == [None, True, True, False, True]
    assert "short_bottom_pause" in r[3].faults


def test_empty_analysis():
    plan = load_plan("dumbbell")
    cmp = compare(make_analysis([]), plan)
    assert [s.status for s in cmp.sets] == ["missing"] * 3
    assert cmp.tempo_compliance is None and not cmp.met
    cmp.to_dict()


# --- end to end: simulator truth -> pipeline -> comparison --------------------------------

#: A 5x5 barbell session at 100 kg, tempo 2-0-1-1, with random partial reps (which replace
#: full ones, so they make a set short) and reps without a top pause. The simulator draws
#: the faults from the seed, so the fixture takes the first seed whose *truth* is exactly
#: the scenario: one short set and two reps without a pause.
SIM_SPEC = dict(load_kg=100.0, tempo_s=(2, 0, 1, 1), tempo_jitter=0.05, rest_s=30.0,
                lead_in_s=10.0, lead_out_s=5.0, walk_between_sets=0.0,
                fault_rates={"no_top_pause": 0.08, "partial": 0.05})


def _scenario(truth) -> bool:
    full = [s["full_reps"] for s in truth["sets"]]
    unpaused = [r for s in truth["sets"] for r in s["reps"]
                if "no_top_pause" in r["faults"] and not r["partial"]]
    return len(full) == 5 and sum(f < 5 for f in full) == 1 and len(unpaused) == 2


def _candidate_seeds(spec, n=60):
    """Seeds whose choreography (faults only, no sensor model: fast) has the scenario.

    This mirrors how ``simulate`` seeds its choreographer; if that ever changes, the
    candidates are simply wrong and the caller falls back to plain seeds (slower).
    """
    import numpy as np

    try:
        from sensorcoach.sim.session import Choreographer
        from sensorcoach.sim.simulator import fine_rate

        for seed in range(n):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5C0AC4]))
            r_ch = np.random.default_rng(rng.bit_generator.seed_seq.spawn(4)[0])
            chor = Choreographer(spec, r_ch, fine_rate(spec.sample_rate_hz))
            chor.run()
            truth = {"sets": [{"full_reps": sum(not r.partial for r in st.reps),
                               "reps": [{"faults": r.faults, "partial": r.partial}
                                        for r in st.reps]} for st in chor.sets]}
            if _scenario(truth):
                yield seed
    except Exception:  # noqa: BLE001 - internals changed: no hints
        return


@pytest.fixture(scope="module")
def sim_5x5():
    sim = pytest.importorskip("sensorcoach.sim")
    pipeline = pytest.importorskip("sensorcoach.pipeline")
    spec = sim.preset("barbell", **SIM_SPEC)
    for seed in itertools.chain(itertools.islice(_candidate_seeds(spec), 3), range(20)):
        res = sim.simulate(spec, seed)
        if _scenario(res.truth):  # the truth of the real simulation decides
            return res, pipeline.analyze_recording(res.recording)
    pytest.fail("no seed gives the scenario: check the simulator's fault rates")


def test_sim_5x5_short_set_and_unpaused_reps(sim_5x5):
    from sensorcoach.plans import resolve_plan

    res, analysis = sim_5x5
    truth = res.truth
    plan = resolve_plan(res.recording.meta["plan"])  # the simulator's plan line
    assert (plan.sets, plan.reps, str(plan.tempo), plan.load_kg) == (5, 5, "2-0-1-1", 100)

    # the expectation, from the truth only
    full = [s["full_reps"] for s in truth["sets"]]
    partial = [s["partial_reps"] for s in truth["sets"]]
    unpaused = [r["top_s"] for s in truth["sets"] for r in s["reps"]
                if "no_top_pause" in r["faults"] and not r["partial"]]
    status = ["met" if f >= plan.reps else "short" for f in full]
    rest = [None] + [b["start_s"] - a["end_s"] for a, b in zip(truth["sets"], truth["sets"][1:],
                                                               strict=False)]

    cmp = compare(analysis, plan, load_kg=100)
    assert [s.status for s in cmp.sets] == status
    assert [s.done_reps for s in cmp.sets] == full
    assert [s.partial_reps for s in cmp.sets] == partial
    tally = {f.fault: f.count for f in cmp.faults}
    assert tally.get("partial_range", 0) == sum(partial)
    missed_pause = [r for s in cmp.sets for r in s.reps if r.top_pause_ok is False]
    detected = {(s.index, r.index): r.top_s for s in analysis.sets for r in s.reps}
    got = sorted(detected[(r.set_index, r.index)] for r in missed_pause)
    assert len(got) == len(unpaused) == 2, (got, unpaused)
    for g, t in zip(got, sorted(unpaused), strict=True):
        assert abs(g - t) < 0.3
    for s, expected in zip(cmp.sets, rest, strict=True):
        if expected is None:
            assert s.rest_taken_s is None
        else:
            assert s.rest_taken_s == pytest.approx(expected, abs=1.5)
    assert not cmp.met
    assert any("Missed reps in set" in c for c in cmp.cues)
    cues = {f.fault: f.cue for f in cmp.faults}
    assert cues.get("no_top_pause", cues.get("short_top_pause", "")).startswith(("Pause", "Hold"))


def test_alignment_stray_and_missing_sets():
    plan = load_plan("bodyweight-3x20")
    # a stray one-rep "set" before the first set and one during a rest
    stray = [dict(top=0.0, flags=["no_top_pause"])]
    cmp = compare(make_analysis([stray, good_set(20), good_set(20), stray, good_set(20)],
                                rest_s=[30, 60, 20, 40]), plan)
    assert [s.status for s in cmp.sets] == ["extra", "met", "met", "extra", "met"]
    assert [s.label for s in cmp.sets] == ["Extra set 1", "Set 1", "Set 2", "Extra set 2",
                                           "Set 3"]
    assert cmp.met and cmp.tempo_compliance == 1.0  # extra sets are not judged
    # the rest before set 3 runs from the end of set 2, not from the stray movement
    assert cmp.sets[4].rest_taken_s == pytest.approx(20 + 1 + 2 + 40)
    assert cmp.sets[4].rest_ok is True
    # a missing set in the middle stays in the middle
    cmp = compare(make_analysis([good_set(20), good_set(3)]), plan)
    assert [s.status for s in cmp.sets] == ["met", "short", "missing"]
    cmp = compare(make_analysis([good_set(20), good_set(20)]), plan)
    assert [s.status for s in cmp.sets] == ["met", "met", "missing"]


def test_align_function():
    from sensorcoach.compare import _align

    assert _align([5, 5, 5], [5, 5, 5]) == [(0, 0), (1, 1), (2, 2)]
    assert _align([5, 5], [5, 5, 5]) == [(0, 0), (1, 1), (None, 2)]
    assert _align([5, 5, 5], [1, 5, 5, 5]) == [(None, 0), (0, 1), (1, 2), (2, 3)]
    assert _align([5, 5, 5], [5, 5]) == [(0, 0), (1, 1), (2, None)]
    assert _align([5, 5, 5], [5, 3, 5]) == [(0, 0), (1, 1), (2, 2)]
    assert _align([], [2]) == [(None, 0)]
    assert _align([5], []) == [(0, None)]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_REP = st.fixed_dictionaries({
    "conc": st.floats(0.2, 3), "top": st.floats(0, 3), "ecc": st.floats(0.1, 5),
    "bottom": st.floats(0, 2), "partial": st.booleans(),
    "flags": st.lists(st.sampled_from(["no_top_pause", "fast_eccentric", "bounce", "odd"]),
                      max_size=2, unique=True),
    "v": st.one_of(st.none(), st.floats(0.05, 1.5)),
})


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(_REP, min_size=1, max_size=8), max_size=8),
       st.sampled_from(["barbell-5x5", "single-leg", "banded"]),
       st.lists(st.floats(5, 300), min_size=8, max_size=8))
def test_compare_invariants(sets, name, rests):
    plan = load_plan(name)
    a = make_analysis(sets, rest_s=rests)
    cmp = compare(a, plan)
    n_slots = plan.sets * (1 if not plan.per_side or cmp.merged_sides else 2)
    assert len(cmp.planned_sets) == n_slots
    # every detected set appears exactly once, in order
    assert [s.detected_index for s in cmp.sets if s.detected_index is not None] == [
        s.index for s in a.sets]
    assert cmp.done_reps + sum(s.done_reps for s in cmp.sets if s.status == "extra") == sum(
        len(s.full_reps) for s in a.sets)
    assert cmp.met == (cmp.all_sets_met and cmp.tempo_met)
    assert sum(f.count for f in cmp.faults) == sum(len(r.faults) for s in cmp.sets
                                                   for r in s.reps)
    for s in cmp.sets:
        if s.velocity_loss_pct is not None:
            assert s.first_velocity_mps and s.last_velocity_mps is not None
    import json

    json.dumps(cmp.to_dict())
