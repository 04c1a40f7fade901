"""The detector against ground truth, and the one-pipeline guarantees.

Ground truth comes from how each recording was made (the simulator's known events, in
``NAME.truth.json``), never from the detector.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from conftest import recordings_with_truth

from sensorcoach.detect.frontend import GRID_RATE_HZ
from sensorcoach.evaluation import Score, load_truth, score
from sensorcoach.events import SetDoneEvent
from sensorcoach.pipeline import StreamPipeline, analyze_recording
from sensorcoach.types import Recording, SampleChunk

RECS = recordings_with_truth()


def test_recordings_are_committed():
    assert len(RECS) >= 6, "recordings/ must hold the bundled sessions with their truth"


#: counted right, but the lockouts are found early: a wider floor for ``top_s`` (s) with
#: its reason (reviewed, open in issue 2); everything else is asserted as for the others
WIDER_TOP_S_FLOOR = {
    "hip_single_leg_2x10_slow_acc_52hz": (0.4, "slow reps, accelerometer-only hip belt: the "
                                               "hips' own deceleration bends the gravity "
                                               "direction, lockouts are found ~0.3 s early"),
}


@pytest.mark.parametrize("path", RECS, ids=[p.stem for p in RECS])
def test_reps_match_ground_truth(path, analyses):
    """Each recording: most reps found, few invented, timed like a stopwatch.

    Tolerances are correctness floors (a detector that misses a set, invents a set's worth
    of reps or is off by a phase fails); the accuracy targets live in the benchmark.
    """
    analysis, _ = analyses(path)
    truth = load_truth(path)
    s = score(analysis, truth)
    assert len(analysis.sets) == len(truth["sets"])
    assert s.recall >= 0.7 and s.precision >= 0.85, (s.tp, s.fp, s.fn)
    top_floor_s, why = WIDER_TOP_S_FLOOR.get(path.stem, (0.25, ""))
    assert np.median(np.abs(s.errors["top_s"])) <= top_floor_s, why
    assert np.median(np.abs(s.errors["descent_s"])) <= 0.25


def test_all_recordings_together(analyses):
    """Over the bundled sessions: rep F1 and event timing at a level a coach can use."""
    total = Score()
    for path in RECS:
        analysis, _ = analyses(path)
        total.merge(score(analysis, load_truth(path)))
    assert total.f1 >= 0.9, (total.tp, total.fp, total.fn)
    assert total.sets_exact >= 0.5 * total.sets_true
    assert np.median(np.abs(total.errors["top_s"])) <= 0.1
    assert np.median(np.abs(total.errors["descent_s"])) <= 0.1
    assert np.median(np.abs(total.top_pause_err)) <= 0.2


@pytest.mark.parametrize("path", RECS, ids=[p.stem for p in RECS])
def test_mount_inferred_without_metadata(path, analyses):
    _, rec = analyses(path)
    truth = load_truth(path)
    meta = {k: v for k, v in rec.meta.items() if k != "mount"}  # the fixture is shared
    inferred = analyze_recording(Recording(rec.samples, meta, rec.path))
    assert inferred.recording.mount == truth["mount"]
    assert inferred.recording.mount_source == "inferred"


def test_bar_range_and_velocity():
    bars = [p for p in RECS if load_truth(p)["mount"] == "bar"]
    assert bars
    from sensorcoach.pipeline import analyze_file

    errs_rom, errs_v = [], []
    for p in bars:
        an, _ = analyze_file(str(p))
        s = score(an, load_truth(p))
        errs_rom += s.rom_err
        errs_v += s.vmean_err
    assert errs_rom, "bar reps must report a range of motion"
    assert np.median(np.abs(errs_rom)) <= 0.04
    assert np.median(np.abs(errs_v)) <= 0.06


@functools.cache
def _simulated(seed: int):
    """The simulator's random session for ``seed`` (read-only: shared between tests)."""
    from sensorcoach.sim import random_spec, simulate

    return simulate(random_spec(np.random.default_rng(seed)), seed)


def _assert_counts_as_truth(an, truth: dict) -> None:
    """Every set's full-rep count as the simulator made it, and no invented rep."""
    assert [len(s.full_reps) for s in an.sets] == [s["full_reps"] for s in truth["sets"]]
    assert score(an, truth).fp == 0


def _random_chunks(samples: SampleChunk, rng: np.random.Generator):
    i = 0
    n = len(samples)
    while i < n:
        size = int(rng.choice([1, 2, 3, 7, 10, 64, 333, 1000, 4096]))
        yield samples.slice(i, i + size)
        i += size


def _chunked_sets_json(rec, rng: np.random.Generator) -> str:
    """The sets of ``rec`` fed live-like, in random chunk sizes, as contract JSON."""
    pipe = StreamPipeline(mount=rec.mount)
    for chunk in _random_chunks(rec.samples, rng):
        pipe.feed(chunk)
    pipe.finish()
    return json.dumps([s.to_dict() for s in pipe.sets])


@pytest.mark.parametrize("path", RECS[:3], ids=[p.stem for p in RECS[:3]])
def test_random_chunking_gives_identical_results(path, analyses):
    """Offline (one big chunk) and live-like feeding (random chunk sizes) are identical."""
    whole, rec = analyses(path)
    assert whole.sets, "the recording must contain sets for this test to mean anything"
    want = [s.to_dict() for s in whole.sets]
    assert _chunked_sets_json(rec, np.random.default_rng(1)) == json.dumps(want)


def test_live_reps_equal_offline_reps(analyses):
    """The reps announced live (``rep`` events) are the reps of the offline analysis."""
    path = RECS[0]
    whole, rec = analyses(path)
    pipe = StreamPipeline(mount=rec.mount)
    announced = []
    latencies = []
    for chunk in rec.samples.chunks(5):
        for ev in pipe.feed(chunk):
            d = ev.to_dict()
            if d["event"] == "rep":
                announced.append((d["set"], d["rep"], d["top_s"]))
                latencies.append(d["at_s"] - d["top_s"])
    for ev in pipe.finish():
        d = ev.to_dict()
        if d["event"] == "rep":
            announced.append((d["set"], d["rep"], d["top_s"]))
    offline = [(s.index, r.count, round(r.top_s, 3)) for s in whole.sets for r in s.full_reps]
    assert announced == offline
    # counted at lockout, not a rep late
    assert np.median(latencies) < 0.5


def test_stream_mixing_chunks_with_and_without_gyro(analyses):
    """A live stream may mix chunks without gyro data into a gyro stream (and the other way
    round): no error, and the accelerometer stands in for the missing gyro (every 11th
    chunk stripped: the true set counts still come out)."""
    path = next(p for p in RECS if p.name == "hip_bodyweight_3x20_gyro_50hz.csv")
    _, rec = analyses(path)
    truth = [sum(not r["partial"] for r in s["reps"]) for s in load_truth(path)["sets"]]
    for started_with_gyro, strip in ((True, lambda i: i % 11 == 5), (False, lambda i: i == 0)):
        pipe = StreamPipeline(mount="hip")
        events = []
        for i, c in enumerate(rec.samples.chunks(25)):
            if strip(i):
                c = SampleChunk(c.time_s, c.acc_g, None)
            events += pipe.feed(c)
        events += pipe.finish()
        done = [e.reps for e in events if isinstance(e, SetDoneEvent)]
        if started_with_gyro:
            assert done == truth
        else:  # the stream started without gyro: it runs accelerometer-only, sets still found
            assert sum(done) >= sum(truth) - 2


def _chunk_slices(n: int, sizes: list[int]):
    """Slices cutting ``n`` samples into chunks of ``sizes`` (cycled)."""
    i, j = 0, 0
    while i < n:
        yield slice(i, i + sizes[j % len(sizes)])
        i, j = i + sizes[j % len(sizes)], j + 1


@pytest.mark.parametrize("n,step,q", [(1000, 50, 10.0), (300, 12, 50.0), (8, 3, 37.0)])
def test_stepped_percentile_equals_numpy_in_any_chunking(n, step, q):
    from sensorcoach.detect.frontend import _SteppedMedian

    rng = np.random.default_rng(n)
    x = np.round(np.abs(rng.normal(size=5000)) * 1e3) / 1e5  # ties, as in quantised data
    x[4000] = np.nan  # numpy's NaN handling too
    held = np.arange(len(x)) // step * step  # the evaluation each sample holds
    want = np.array([np.percentile(x[max(0, e - n + 1):e + 1], q) for e in held])
    for sizes in ([len(x)], [1, 7, 500, 4096]):
        med = _SteppedMedian(n, step, q)
        parts = [med(x[c]) for c in _chunk_slices(len(x), sizes)]
        np.testing.assert_array_equal(np.concatenate(parts), want)



def test_the_grid_keeps_the_velocity_change_of_a_knock():
    """A plate tap at 400 Hz between two rests (the simulator's knock: the derivative of a
    damped sine, which changes the velocity by nothing; sampled, by 0.025 m/s). The 50-Hz
    grid must integrate to what the input samples integrate to, and so stay near zero:
    point samples of the tap leave a velocity step of their own. Any chunking, including
    chunks that end on a grid step's edge, gives the same grid."""
    from sensorcoach.detect.frontend import Resampler
    from sensorcoach.sim.kinematics import damped_pulse

    rate_hz = 400.0
    t = 100.0 + np.arange(int(3 * rate_hz)) / rate_hz
    noise_g = np.random.default_rng(3).normal(0.0, 0.005, (len(t), 3))
    z_g = 1.0 + noise_g[:, 2]
    tap = damped_pulse(rate_hz, 2.0, 40.0, 0.005)
    i_tap = int(1.0013 * rate_hz)  # off the grid
    z_g[i_tap:i_tap + len(tap)] += tap
    x = np.column_stack([noise_g[:, 0], noise_g[:, 1], z_g])
    g = 9.80665
    tap_mps = float(np.sum(0.5 * np.diff(t) * (z_g[1:] + z_g[:-1] - 2.0))) * g

    def grid(sizes):
        rs = Resampler()
        parts = [rs.push(t[c], x[c]) for c in _chunk_slices(len(t), sizes)]
        return [np.concatenate([p[j] for p in parts]) for j in range(4)]

    whole = grid([len(t)])
    k, tg, mean = whole[:3]
    got_mps = float(np.sum(mean[:, 2] - 1.0)) / GRID_RATE_HZ * g
    end_s = tg[-1] + 0.5 / GRID_RATE_HZ  # the grid covers the stream up to here
    covered = t <= end_s
    want_mps = float(np.sum(0.5 * np.diff(t[covered]) * (z_g[covered][1:]
                                                           + z_g[covered][:-1] - 2.0))) * g
    assert abs(got_mps - want_mps) < 1e-3  # the rest of the stream's last step: noise
    assert abs(got_mps) < 0.05 and abs(tap_mps) < 0.05  # the knock's truth: no change
    points_mps = float(np.sum(np.interp(tg, t, z_g) - 1.0)) / GRID_RATE_HZ * g
    assert abs(points_mps) > 0.2  # what the grid points alone would give
    for sizes in ([1], [8], [37], [3, 1, 250]):  # 8 samples: chunks end on step edges
        for a, b in zip(grid(sizes), whole, strict=True):
            np.testing.assert_array_equal(a, b)


def test_fast_reps_without_gyro_are_not_split():
    """Accelerometer-only hip belt, fast body-weight reps (1-0-1-1 at 400 Hz): the hips' own
    acceleration makes the tilt rate dip below zero mid-concentric, which once split each
    rep into two uncounted pieces (recall 0.78 on this simulated session). Ground truth is
    the simulator's; the floor is well under what the joined pieces give."""
    seed = 5100047  # a development seed: the session that showed the split
    res = _simulated(seed)
    assert not res.truth["spec"]["gyro"] and res.truth["spec"]["mount"] == "hip"
    s = score(analyze_recording(res.recording), res.truth)
    assert s.recall >= 0.85 and s.precision >= 0.95, (s.tp, s.fp, s.fn)


def test_small_chunks_do_not_time_a_set_out_mid_movement():
    """A bar movement still below the segmenter's entry speed is under way: a set must not
    time out in the middle of it. In 37-sample chunks it did on this simulated session
    (and a held partial rep then crashed the detector). Live equals offline. (Of its three
    true sets, the middle one is a 4-1-3-2 tempo too slow for a bar sensor to show.)"""
    seed = 5100061  # a simulated session, bar mount, that showed the crash
    rec = _simulated(seed).recording
    offline = [len(s.full_reps) for s in analyze_recording(rec).sets]
    pipe = StreamPipeline(mount=rec.mount)
    events = [e for c in rec.samples.chunks(37) for e in pipe.feed(c)] + pipe.finish()
    live = [e.reps for e in events if isinstance(e, SetDoneEvent)]
    assert live == offline and len(offline) >= 2


def _segment_cuts(rate: np.ndarray, sizes: list[int], exit_frac: float) -> list[tuple]:
    """A hip segmenter's cuts of ``rate`` fed in chunks of ``sizes`` (cycled)."""
    from sensorcoach.detect.segments import Segmenter

    k = np.arange(len(rate))
    seg = Segmenter(enter=8.0, exit=2.0, exit_frac=exit_frac)
    out = [s for c in _chunk_slices(len(rate), sizes) for s in seg.push(k[c], rate[c])]
    return [(s.direction, s.k_start, s.k_end) for s in out]


def _minjerk_bell(n: int = 50) -> np.ndarray:
    """A movement's rate, peak 1 (minimum-jerk bell over ``n`` grid samples; 50: 1 s)."""
    tau = np.arange(n) / n
    return 16 * tau**2 * (1 - tau) ** 2


def _bell_with_tail(peak: float, tail: float) -> np.ndarray:
    """A movement's rate, then a slow creep at ``tail`` (a squeeze at lockout) and a second
    movement, rest in between."""
    bell = peak * _minjerk_bell()
    return np.concatenate([np.zeros(10), bell, np.full(40, tail), np.zeros(20), bell,
                           np.zeros(10)])


@pytest.mark.parametrize("peak", [40.0, 120.0])  # 120: the 12 % level lies above `enter`
def test_segmenter_ends_where_the_movement_is_timed(peak):
    """A hip movement's segment ends where its rate fell to the low onset level (its end
    time is settled there), not when a squeeze creeping on at lockout stops; the creep
    opens no segment of its own, the next movement opens one; any chunking, same cuts."""
    from sensorcoach.detect.detector import ONSET_LEVELS

    rate = _bell_with_tail(peak, tail=4.0)  # the creep: above `exit`, below `enter`
    k = np.arange(len(rate))
    lo = ONSET_LEVELS[0]
    whole = _segment_cuts(rate, [len(rate)], lo)
    assert len(whole) == 2
    first_end = whole[0][2]
    falling = np.flatnonzero((k > 10 + 25) & (rate <= lo * peak))[0]  # past the peak
    assert first_end == falling
    assert whole[1][1] > 10 + 50 + 40  # the second movement, not the creep
    for sizes in ([1], [3, 7], [64]):
        assert _segment_cuts(rate, sizes, lo) == whole


def test_segmenter_rearms_when_the_movement_picks_up_again():
    """A fast movement closed by the relative exit while its rate is still above ``enter``,
    whose rate then picks up again without falling below ``enter`` (a hesitation
    mid-movement), opens a new segment for the rest of the movement: it is not lost. The
    same cuts in any chunking, both directions."""
    hump = _minjerk_bell()
    dip = np.full(10, 10.0)  # above enter (8), below 12 % of the first hump's peak
    rise = np.concatenate([np.zeros(10), 100 * hump[:25], np.linspace(100, 10, 10), dip,
                           np.linspace(10, 80, 10), 80 * hump[25:], np.zeros(10)])
    for sign in (1, -1):
        rate = sign * rise
        whole = _segment_cuts(rate, [len(rate)], 0.12)
        assert [d for d, _, _ in whole] == [sign, sign]
        # the second segment runs to the end of the second hump
        assert whole[1][2] >= 10 + 25 + 10 + 10 + 10 + 20
        for sizes in ([1], [3, 7], [64]):
            assert _segment_cuts(rate, sizes, 0.12) == whole


def _minjerk_acc(dist_m: float, dur_s: float) -> np.ndarray:
    """Acceleration (m/s^2, on the 50 Hz grid) of a minimum-jerk move over ``dist_m``."""
    dt = 1.0 / GRID_RATE_HZ
    tau = np.arange(int(round(dur_s / dt))) * dt / dur_s
    return dist_m / dur_s**2 * (60 * tau - 180 * tau**2 + 120 * tau**3)  # d2x/dt2


def _bar_rep_on_grid(rise_m: float, rise_s: float) -> tuple[np.ndarray, np.ndarray, int]:
    """|f| (g) of a bar at rest, rising ``rise_m`` in ``rise_s`` (minimum jerk), holding
    1.5 s at the top, lowering in 2 s and resting, on the 50 Hz grid; the rest candidates
    (steady over the trailing 0.3 s, as the front end marks them); the lockout's index."""

    dt = 1.0 / GRID_RATE_HZ
    move = _minjerk_acc
    rest = np.zeros(int(1.5 / dt))
    acc = np.concatenate([rest, move(rise_m, rise_s), rest, move(-rise_m, 2.0), rest])
    return (*_bar_on_grid(acc), len(rest) + int(round(rise_s / dt)))


def _bar_on_grid(acc_mps2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|f| (g) of a bar with vertical acceleration ``acc_mps2`` on the grid, and its rest
    candidates (steady over the trailing 0.3 s, as the front end marks them)."""
    from sensorcoach.consts import STANDARD_GRAVITY_MPS2

    m_g = 1.0 + acc_mps2 / STANDARD_GRAVITY_MPS2
    moving = np.abs(acc_mps2) > 1e-9
    n_still = int(round(0.3 * GRID_RATE_HZ))
    at_rest = np.array([not moving[max(0, i - n_still + 1):i + 1].any()
                        for i in range(len(acc_mps2))])
    return m_g, at_rest


def _bar_segments(m_g, at_rest, size: int, u=None) -> list[tuple[int, int, int, bool, int]]:
    """A bar segmenter's segments fed in chunks of ``size`` (with the gravity direction
    ``u``, if given): direction, start, end, early and the index of the last sample fed
    when it came out."""
    from sensorcoach.detect.detector import LOOKAHEAD_S, ONSET_LEVELS
    from sensorcoach.detect.segments import RestToRestSegmenter

    seg = RestToRestSegmenter(enter=0.06, exit=0.025, dt_s=1.0 / GRID_RATE_HZ,
                              n_still=int(round(0.3 * GRID_RATE_HZ)),
                              join_k=int(round(LOOKAHEAD_S * GRID_RATE_HZ)),
                              early_frac=ONSET_LEVELS[0])
    k = np.arange(len(m_g))
    out = []
    for i in range(0, len(k), size):
        segs, _ = seg.push(k[i:i + size], m_g[i:i + size], at_rest[i:i + size],
                           None if u is None else u[i:i + size])
        last = min(i + size, len(k)) - 1
        out += [(s.direction, s.k_start, s.k_end, s.early, last) for s in segs]
    return out


def test_bar_rise_is_cut_at_lockout_not_at_the_rest_after_it():
    """A fast rise is cut from the velocity integrated since the rest before it, as soon as
    that velocity has fallen back from its peak: before the bar has been seen at rest at
    the top. Its cut is where the true velocity falls to the low onset level; the movement's
    corrected segments do not repeat it; any chunking, the same cuts."""
    from sensorcoach.detect.detector import ONSET_LEVELS

    m_g, at_rest, k_top = _bar_rep_on_grid(0.35, 0.7)
    runs = {size: _bar_segments(m_g, at_rest, size) for size in (1, 7, len(m_g))}
    cuts = {size: [s[:4] for s in segs] for size, segs in runs.items()}
    assert cuts[1] == cuts[7] == cuts[len(m_g)]
    (up, down) = runs[1]
    assert (up[0], up[3], down[0]) == (1, True, -1)
    # out before the top's rest was recognised (the stillness window after the lockout)
    k_rest = k_top + int(np.argmax(at_rest[k_top:]))
    assert up[4] < k_rest
    # a minimum-jerk velocity (the rise's 35 grid samples) falls to the level at t/T = 0.905
    bell = _minjerk_bell(35)
    falling = (np.arange(35) / 35 > 0.5) & (bell <= ONSET_LEVELS[0] * bell.max())
    k_level = k_top - 35 + int(np.flatnonzero(falling)[0])
    assert abs(up[2] - k_level) <= 1


def test_slow_bar_rise_waits_for_the_rest():
    """A slow rise's velocity falls to the cut level only where the drift gathered since
    the rest before it (a level error of a few mg) could fake it: it is cut by the
    corrected velocity, once the bar has come to rest at the top."""
    m_g, at_rest, k_top = _bar_rep_on_grid(0.25, 2.5)
    segs = _bar_segments(m_g, at_rest, 1)
    assert [(s[0], s[3]) for s in segs] == [(1, False), (-1, False)]
    k_rest = k_top + int(np.argmax(at_rest[k_top:]))
    assert segs[0][4] >= k_rest


def test_a_turn_over_ends_a_movement_at_the_next_rest():
    """A dumbbell picked up off the floor and put on the hips turns the sensor 90 degrees,
    and with a 2.5 % scale error on one axis, ``|f|`` at rest moves from 1.000 to 0.975 g.
    The velocity integrated from the old level drifts by 0.25 m/s every second; the lifter
    rests 0.6 s and goes straight into three reps, pausing 1 s at each top (shorter than a
    lasting rest) and none at the bottom. Every rise comes out on its own, from where it
    starts to its lockout, during its top pause; any chunking. (On simulated sessions the
    front end's rest candidates right after such a turn are few and off level, and without
    the turn the movement ran on through a whole set; this synthetic case keeps the turn
    path honest about timing and chunking.)"""
    dt = 1.0 / GRID_RATE_HZ
    move = _minjerk_acc

    def still(dur_s: float) -> np.ndarray:
        return np.zeros(int(round(dur_s / dt)))

    parts = [still(2.0), move(0.4, 1.0), move(-0.4, 1.0), still(0.6)]
    k_rises = []
    for _ in range(3):
        k_rises.append(sum(len(p) for p in parts))
        parts += [move(0.3, 0.7), still(1.0), move(-0.3, 2.0)]
    parts.append(still(2.0))
    acc = np.concatenate(parts)
    m_g, at_rest = _bar_on_grid(acc)
    n_before, n_turn = len(parts[0]), len(parts[1]) + len(parts[2])
    level = np.concatenate([np.ones(n_before), np.linspace(1.0, 0.975, n_turn),
                            np.full(len(acc) - n_before - n_turn, 0.975)])
    m_g = m_g - 1.0 + level
    ang = np.radians(np.concatenate([np.zeros(n_before), np.linspace(0, 90, n_turn),
                                     np.full(len(acc) - n_before - n_turn, 90.0)]))
    u = np.column_stack([np.sin(ang), np.zeros_like(ang), np.cos(ang)])

    def rises(segs) -> list[tuple[int, int, int]]:
        """start, end and when it came out, of the rises that start where a rep does"""
        return [(s[1], s[2], s[4]) for s in segs if s[0] == 1
                and any(abs(s[1] - k) <= 3 for k in k_rises)]

    runs = {size: _bar_segments(m_g, at_rest, size, u) for size in (1, 7, len(m_g))}
    cuts = {size: [s[:4] for s in segs] for size, segs in runs.items()}
    assert cuts[1] == cuts[7] == cuts[len(m_g)]
    found = rises(runs[1])
    assert len(found) == 3
    for (k0, k1, k_out), k in zip(found, k_rises, strict=True):
        # from its start to its lockout (0.7 s, 35 samples, after it starts; the early cut
        # lands where the velocity falls to 12 % of its peak, ~3 samples before) ...
        assert abs(k0 - k) <= 3 and abs(k1 - (k + 35)) <= 3
        # ... out within the 1 s (50 samples) top pause
        assert k_out < k + 35 + 50


def test_bar_rise_with_a_hitch_keeps_what_follows_it():
    """A rise cut early at a hitch (its velocity near zero for longer than the join window)
    that then goes on: the rest of the rise still comes out (from the corrected velocity at
    the movement's end), ending where the bar stops; any chunking, the same cuts."""

    dt = 1.0 / GRID_RATE_HZ
    t = np.arange(int(0.3 / dt)) * dt
    first = 0.8 * np.sin(np.pi * t / 0.6) ** 2  # up to 0.8 m/s ...
    slow = 0.05 + 0.75 * np.cos(np.pi * t / 0.6) ** 2  # ... down to 0.05 m/s
    # below the 12 % cut for longer than the join window, above exit, and shorter than the
    # stillness window (a longer glide looks like a rest: two movements)
    hitch = np.full(int(0.2 / dt), 0.05)
    t2 = np.arange(int(1.0 / dt)) * dt
    second = 0.05 + 0.35 * np.sin(np.pi * t2 / 1.0) ** 2  # on at up to 0.4 m/s ...
    t3 = np.arange(int(0.3 / dt)) * dt
    stop = 0.05 * np.cos(np.pi * t3 / 0.6) ** 2  # ... and stops
    rest = np.zeros(int(1.5 / dt))
    v = np.concatenate([rest, first, slow, hitch, second, stop, rest])
    m_g, at_rest = _bar_on_grid(np.diff(v, prepend=0.0) / dt)
    runs = {size: [s[:4] for s in _bar_segments(m_g, at_rest, size)]
            for size in (1, 7, len(m_g))}
    assert runs[1] == runs[7] == runs[len(m_g)]
    segs = runs[1]
    assert [(d, early) for d, _, _, early in segs] == [(1, True), (1, False)]
    k_hitch = len(rest) + len(first) + len(slow)
    k_stop = k_hitch + len(hitch) + len(second) + len(stop)
    assert segs[0][2] <= k_hitch  # cut at the hitch ...
    assert segs[1][1] == segs[0][2] and segs[1][2] >= k_hitch + len(hitch) + len(second)
    assert segs[1][2] <= k_stop + 1  # ... and the rest runs to where the bar stops


def _plain_hip_spec(**fields):
    """A body-weight hip-belt session of two sets with nothing between them (no
    activities, no walking), ``fields`` filling in the rest."""
    from sensorcoach.sim.spec import SessionSpec

    return SessionSpec(mount="hip", variant="bodyweight", sets=2, tempo_jitter=0.05,
                       rest_s=30.0, lead_in_s=10.0, lead_out_s=5.0, activities=False,
                       walk_between_sets=0.0, **fields)


def _plain_bar_spec(**fields):
    """A barbell session of five-rep sets on a bar-clipped sensor with nothing between the
    sets but rolling the bar (no walking), ``fields`` filling in the rest (or overriding
    the variant and the reps per set)."""
    from sensorcoach.sim.spec import SessionSpec

    plain = dict(mount="bar", variant="barbell", reps_per_set=5, tempo_jitter=0.05,
                 rest_s=60.0, lead_in_s=10.0, lead_out_s=5.0, walk_between_sets=0.0,
                 sample_rate_hz=100.0, gyro=True, fault_rates={})
    return SessionSpec(**{**plain, **fields})


def _live_reps(recording, mount: str) -> list[dict]:
    """The ``rep`` events of ``recording`` replayed in live-like 40-ms chunks (at 100 Hz),
    as the event stream carries them."""
    pipe = StreamPipeline(mount=mount)
    events = [ev.to_dict() for ev in pipe.run(recording.samples.chunks(4))]
    return [e for e in events if e["event"] == "rep"]


def test_full_reps_after_a_partial_rep_are_counted():
    """A partial rep stops short of lockout; the full reps after it must be judged against
    the last full rep's lockout, not the partial's (once they were not counted at all).
    A simulated body-weight hip-belt session with many partial reps (the simulator's truth
    says which): every set's full-rep count and every partial rep as made."""
    from sensorcoach.sim import simulate

    spec = _plain_hip_spec(reps_per_set=12, tempo_s=(2, 0, 1, 1), sample_rate_hz=50.0,
                           gyro=True, fault_rates={"partial": 0.2})
    res = simulate(spec, 2)
    sets = res.truth["sets"]
    # the scenario: partial reps with full reps after them in the same set
    assert sum(r["partial"] and any(not later["partial"] for later in s["reps"][i + 1:])
               for s in sets for i, r in enumerate(s["reps"])) >= 3
    an = analyze_recording(res.recording)
    assert [len(s.full_reps) for s in an.sets] == [s["full_reps"] for s in sets]
    s = score(an, res.truth)
    assert s.partial_found == s.partial_true and s.fp == 0


def test_fast_reps_without_pauses_are_judged_by_rotation_in_a_set():
    """Accelerometer-only hip belt, banded reps at tempo 1-0-1-1 (52 Hz) with a fast
    eccentric and a rep without a top pause: with no rest at the ends of those rises, the
    rise integrated from ``|f|`` came out at 0.8-1.0 m, beyond what a hip thrust can rise,
    and the reps went uncounted. Inside a set a rise through the set's range of rotation
    counts. Ground truth is the simulator's."""
    seed = 5200031  # a development seed: the session that showed it
    res = _simulated(seed)
    spec = res.truth["spec"]
    assert (not spec["gyro"] and spec["mount"] == "hip" and spec["variant"] == "banded"
            and list(spec["tempo_s"]) == [1, 0, 1, 1] and spec["sample_rate_hz"] == 52)
    an = analyze_recording(res.recording)
    _assert_counts_as_truth(an, res.truth)


@pytest.mark.parametrize("seed", [3, 4])
def test_fast_reps_on_an_accelerometer_only_hip_belt_are_counted(seed):
    """Accelerometer-only hip belt, body-weight reps at tempo 1-0-0.6-0.5 (100 Hz): the
    hips' own acceleration (most of 1 g in a 0.6-s concentric) bends the accelerometer's
    tilt so far that a rise comes out in pieces, none of them like a concentric, while
    the slower lowerings show well. Reps went missing, a set's first ones too, and a set
    of one was opened late. The pieces of a set's first rise are now joined as inside a
    set, and a lowering from the set's lockout pose after the last rep's lowering means
    the hips rose in between. Every set's full-rep count and no invented rep, against the
    simulator's truth."""
    from sensorcoach.sim import simulate

    spec = _plain_hip_spec(reps_per_set=10, tempo_s=(1, 0, 0.6, 0.5), sample_rate_hz=100.0,
                           gyro=False, fault_rates={})
    res = simulate(spec, seed)
    an = analyze_recording(res.recording)
    _assert_counts_as_truth(an, res.truth)
    # no partial rep made, none invented (score counts full reps only)
    assert not any(r.partial for s in an.sets for r in s.reps)
    # the new rules run in the streaming detector: live-like chunks give the same result
    assert _chunked_sets_json(res.recording, np.random.default_rng(seed)) == json.dumps(
        [s.to_dict() for s in an.sets])


def test_a_one_movement_set_is_no_reference_for_the_sets_after_it():
    """Development seed 5200141 (hip belt with a gyro, 25 Hz, six sets of 12 at 1-0-1-1):
    handling the sensor before the first set passes for a one-rep set turning the pelvis
    by 50 degrees. Its range became the reference, every real rep (31-35 degrees) was a
    partial rep against it, and a set that opens with a partial rep opens no set: not one
    rep of the session was counted. Only a set of two or more full reps now sets the
    reference. Every true set, its full-rep count as the simulator made it."""
    res = _simulated(5200141)
    an = analyze_recording(res.recording)
    sc = score(an, res.truth)
    assert sc.sets_true == 6
    assert (sc.sets_exact, sc.fn) == (6, 0)
    assert sc.fp <= 1  # the handling itself, before the first set


def test_a_rep_straight_out_of_a_bounce_is_counted_on_a_gyro_hip_belt():
    """Development seed 5200214 (hip belt with a gyro, 104 Hz, three sets of 15 at 2-0-1-1):
    a lowering dropped in 0.4 s bounced straight into the next rise. Under a few tenths of
    a g the accelerometer's direction at that rise's start (and the lockout pose carried
    from it by the gyro) was bent by ~27 degrees, more than a set's poses may differ, and
    the rep was dropped as not belonging to the set. The pose is now read where the hips
    last did not accelerate and carried over by the gyro. Every set's full-rep count as
    the simulator made it."""
    res = _simulated(5200214)
    an = analyze_recording(res.recording)
    _assert_counts_as_truth(an, res.truth)


@pytest.mark.parametrize("seed", [1, 8])
def test_slow_dumbbell_reps_on_a_bar_are_counted(seed):
    """Tempo 4-1-3-2 with a dumbbell on the bar: 27 cm in 4 s accelerates the bar by about
    10 mg, so with a rest tolerance of 8 mg most of a slow rep's glide passed for rest, the
    movement was cut at its velocity peak and its halves were integrated from a false rest:
    a rise came out short or not at all (one rep of each of these sessions went missing).
    A rest candidate now matches its level within the level's own uncertainty (2 mg) or
    the sensor's noise. Every set's full-rep count and no invented rep, against the
    simulator's truth."""
    from sensorcoach.sim import simulate

    spec = _plain_bar_spec(variant="dumbbell", sets=2, reps_per_set=8, tempo_s=(4, 1, 3, 2))
    res = simulate(spec, seed)
    an = analyze_recording(res.recording)
    _assert_counts_as_truth(an, res.truth)
    # live-like chunks give the same result
    assert _chunked_sets_json(res.recording, np.random.default_rng(seed)) == json.dumps(
        [s.to_dict() for s in an.sets])


def test_quick_dumbbell_reps_on_a_bar_are_announced_at_lockout():
    """Tempo 1-0-0.6-0.5 with a dumbbell on the bar: the half-second squeeze at the top
    moves |f| by a few mg, more than a rest candidate's 2-mg tolerance, so with that rule
    alone a set was one movement and most reps were announced when it ended (10 of 18
    later reps over 1 s late, up to 11 s). A pause that is small next to the movement's
    own acceleration ends the movement now. Live-like 40-ms chunks; lockouts from the
    simulator's truth."""
    from sensorcoach.sim import simulate

    spec = _plain_bar_spec(variant="dumbbell", sets=2, reps_per_set=10,
                           tempo_s=(1, 0, 0.6, 0.5))
    res = simulate(spec, 4)
    reps = _live_reps(res.recording, "bar")
    assert [(e["set"], e["rep"]) for e in reps] == [(s, r) for s in (1, 2)
                                                   for r in range(1, 11)]
    tops = [r["top_s"] for st in res.truth["sets"] for r in st["reps"]]
    for e, top in zip(reps, tops, strict=True):
        assert abs(e["top_s"] - top) < 0.3  # it is that rep
        if e["rep"] > 1:
            assert e["at_s"] - top < 1.0  # announced at its lockout, not at the set's end


def test_a_bar_sets_first_rep_is_announced_at_lockout_after_the_bar_was_rolled():
    """Between sets the bar is rolled off the hips and back on, which turns a bar-clipped
    sensor about the bar's axis by tens of degrees. A later set's first rep must still be
    announced at lockout (a rise of the previous set's range that does not turn), not
    held until its lowering confirms it (top pause plus eccentric: seconds late). Live-like
    40-ms chunks; lockouts from the simulator's truth."""
    from sensorcoach.sim import simulate

    res = simulate(_plain_bar_spec(sets=3, tempo_s=(2, 0, 1.5, 1.5)), 11)
    true_sets = res.truth["sets"]
    firsts = [e for e in _live_reps(res.recording, "bar") if e["rep"] == 1]
    assert [e["set"] for e in firsts] == [1, 2, 3]
    for e, st in zip(firsts[1:], true_sets[1:], strict=True):
        top = st["reps"][0]["top_s"]
        assert abs(e["top_s"] - top) < 0.3  # it is that set's first rep
        # announced at lockout: its 1.5-s top pause alone would take longer to wait out
        assert e["at_s"] - top < 1.0


def test_a_held_first_rep_is_announced_as_the_second_rep_rises():
    """A set's first rep with no known pose is counted once its lowering confirms it, and
    only if no step cadence follows (the first strides of a walk swing the hips like a
    rep; the cadence needs about two seconds to show). The second rep's concentric, a
    rise lasting a concentric's time (a walk swings the pelvis at the step cadence, under
    0.3 s a swing), shows that no walk began: the first rep is announced while the second
    rises, before its lockout, and the second at its own lockout, before the one-count
    squeeze at the top is over (it queued 1 s behind the first's two seconds once). Hip
    belt with a gyro, live-like 40-ms chunks; lockouts from the simulator's truth."""
    from sensorcoach.sim import simulate

    spec = _plain_hip_spec(reps_per_set=5, tempo_s=(2, 0, 1, 1), sample_rate_hz=100.0,
                           gyro=True, fault_rates={})
    res = simulate(spec, 5)
    reps = _live_reps(res.recording, "hip")
    assert [(e["set"], e["rep"]) for e in reps] == [(s, r) for s in (1, 2)
                                                   for r in range(1, 6)]
    first_set = res.truth["sets"][0]["reps"]
    # the scenario: the session's first rep is held for its lowering (no pose known yet)
    assert reps[0]["at_s"] > first_set[0]["end_s"]
    top = first_set[1]["top_s"]
    assert abs(reps[1]["top_s"] - top) < 0.3  # it is the second rep
    assert reps[0]["at_s"] < top
    assert reps[1]["at_s"] - top < 0.6


def test_a_bar_sets_first_rep_is_not_held_back_for_a_walk():
    """On the bar, a set's first rep with no known pose is counted when its lowering
    confirms it, at once: the 2-s wait for a step cadence after it (a walk's first strides
    swing a hip belt like a rep) is the hip belt's alone, since a walk does not swing a
    bar like a rep's rise. Once the first rep came 2 s after its lowering and held back
    the second, announced 0.6 s after its lockout. Live-like 40-ms chunks; lockouts from
    the simulator's truth."""
    from sensorcoach.sim import simulate

    res = simulate(_plain_bar_spec(sets=1, tempo_s=(2, 0, 1, 1)), 11)
    reps = _live_reps(res.recording, "bar")
    assert [(e["set"], e["rep"]) for e in reps] == [(1, r) for r in range(1, 6)]
    true_reps = res.truth["sets"][0]["reps"]
    # the scenario: the first rep is held for its lowering (no pose known yet)
    assert reps[0]["at_s"] > true_reps[0]["descent_s"]
    # ... and announced as the lowering is confirmed, not two seconds later
    assert reps[0]["at_s"] - true_reps[0]["end_s"] < 1.0
    top = true_reps[1]["top_s"]
    assert abs(reps[1]["top_s"] - top) < 0.3  # it is the second rep
    assert reps[1]["at_s"] - top < 0.5


@pytest.mark.parametrize("seed", [1, 3])
def test_lockout_and_top_pause_are_timed_on_an_accelerometer_only_hip_belt(seed):
    """Without a gyro, the hips' own acceleration bends the accelerometer's tilt: timed on
    the tilt rate, a concentric started ~0.15 s early, the lockout came early and the
    lowering late, and the one-count squeeze at the top was mis-measured by 0.1-0.2 s. The
    times now come from the lobes of the vertical acceleration (``|f|``, which no rotation
    bends). Clean body-weight sets at 2-0-1-1, 100 Hz: the median errors against the
    simulator's truth stay within the product's targets (top pause 80 ms) and a lockout
    within 40 ms."""
    from sensorcoach.sim import simulate

    spec = _plain_hip_spec(reps_per_set=10, tempo_s=(2, 0, 1, 1), sample_rate_hz=100.0,
                           gyro=False, fault_rates={})
    res = simulate(spec, seed)
    s = score(analyze_recording(res.recording), res.truth)
    assert s.tp >= 18
    assert np.median(np.abs(s.top_pause_err)) <= 0.080
    assert np.median(np.abs(s.errors["top_s"])) <= 0.040


@pytest.mark.parametrize("path", RECS, ids=lambda p: p.name)
def test_reported_rep_times_are_in_order(path, analyses):
    """The times reported come from two sources (the segments' rate and the acceleration's
    lobes): within a rep start <= lockout <= descent <= end, a rep ends no later than the
    next one in its set starts, and the bottom pause is exactly the time between them."""
    whole, _ = analyses(path)
    for st in whole.sets:
        for r in st.reps:
            assert r.start_s <= r.top_s <= r.descent_s <= r.end_s, r
        for a, b in zip(st.reps, st.reps[1:], strict=False):
            assert a.end_s <= b.start_s + 1e-9, (a, b)
            assert a.bottom_pause_s == pytest.approx(b.start_s - a.end_s, abs=1e-9)


@pytest.mark.parametrize("seed", [5200065, 5200103])
def test_walking_shows_as_a_step_cadence_at_low_sample_rates(seed):
    """At 25 Hz a heel strike's impact is smeared below the impact cue's level, but walking
    still moves the body up and down about twice a second. The front end's step-cadence cue
    must be on for most of every walk the simulator made (after its first 2.5 s: four
    swings are needed), and off in the 2 s before every rep of every set (reps are never at
    a walking cadence), and the same bits whatever the chunking. Walk and rep times are the
    simulator's."""
    from sensorcoach.detect.frontend import FrontEnd

    res = _simulated(seed)
    assert res.recording.sample_rate_hz == 25.0 and res.truth["spec"]["mount"] == "hip"
    feats, _ = FrontEnd().push(res.recording.samples)
    t = feats.t_s
    walks = [(d["start_s"], d["end_s"]) for d in res.truth["distractors"]
             if d["kind"] == "walking" and d["end_s"] - d["start_s"] >= 5.0]
    assert walks
    for t0, t1 in walks:
        inside = (t >= t0 + 2.5) & (t <= t1)
        assert feats.stepping[inside].mean() >= 0.6, (t0, t1)
    for st in res.truth["sets"]:
        for rep in st["reps"]:
            before = (t >= rep["start_s"] - 2.0) & (t <= rep["start_s"])
            assert not feats.stepping[before].any(), rep["start_s"]
    # chunk-exact: the trigger's state crosses chunk boundaries
    fe = FrontEnd()
    parts = [fe.push(c)[0] for c in _random_chunks(res.recording.samples,
                                                   np.random.default_rng(seed))]
    assert np.array_equal(np.concatenate([f.stepping for f in parts if f is not None]),
                          feats.stepping)


def test_walking_at_25_hz_opens_no_set():
    """Accelerometer-only hip belt at 25 Hz (a development seed that showed it): walking
    between sets swung the tilt like reps and, with the impact cue blind at this rate,
    opened a set of walking "reps". Every set's full-rep count and no invented rep,
    against the simulator's truth."""
    seed = 5200065
    res = _simulated(seed)
    an = analyze_recording(res.recording)
    _assert_counts_as_truth(an, res.truth)
