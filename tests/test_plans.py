"""Plan files: the built-ins, round trip through TOML, and every validation error."""

from __future__ import annotations

import dataclasses

import pytest

from sensorcoach.errors import PlanError
from sensorcoach.plans import (
    BUILTIN_PLANS,
    Plan,
    Tempo,
    list_plans,
    load_plan,
    parse_plan,
    resolve_plan,
)

GOOD = """
name = "my-plan"
exercise = "hip_thrust"
variant = "barbell"
sets = 5
reps = 5
tempo = "2-0-1-1"
load_kg = 100
rest_s = 120

[progression]
kind = "load"
increment_kg = 2.5
"""


def test_builtins_exist_and_parse():
    names = [p.name for p in list_plans()]
    assert names == ["bodyweight-3x20", "dumbbell", "barbell-5x5", "single-leg", "banded"]
    bb = load_plan("barbell-5x5")
    assert (bb.sets, bb.reps, bb.variant) == (5, 5, "barbell")
    assert bb.tempo == Tempo(2, 0, 1, 1)
    assert bb.rest_s == 120
    assert bb.progression.kind == "load" and bb.progression.increment_kg == 2.5
    bw = load_plan("bodyweight-3x20")
    assert (bw.sets, bw.reps, bw.load_kg) == (3, 20, 0)
    assert bw.progression.next_plan == "dumbbell"
    db = load_plan("dumbbell")
    assert (db.sets, db.reps, db.rest_s, str(db.tempo)) == (3, 12, 90, "2-0-1-1")
    sl = load_plan("single-leg")
    assert sl.per_side and sl.reps == 12
    assert load_plan("banded").reps == 15
    # every next_plan named by a built-in is itself a built-in
    for p in list_plans():
        assert p.progression.next_plan in (None, *BUILTIN_PLANS)


@pytest.mark.parametrize("plan", list_plans(), ids=lambda p: p.name)
def test_toml_round_trip(plan: Plan):
    again = parse_plan(plan.to_toml())
    assert dataclasses.replace(again, source="builtin") == plan


def test_load_from_file(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    p = load_plan(f)
    assert p.name == "my-plan" and p.load_kg == 100.0 and p.source == str(f)
    assert "5x5" in p.summary() and "100 kg" in p.summary()


@pytest.mark.parametrize("variant", ["barbell", "single_leg", "banded"])
def test_metadata_line_reads_back(tmp_path, variant):
    """A plan file's prescription goes into a recording's metadata (the file may not
    exist where the recording is read) and reads back as the same prescription."""
    f = tmp_path / "mine.toml"
    f.write_text(GOOD.replace('variant = "barbell"', f'variant = "{variant}"'))
    p = load_plan(f)
    assert p.variant == variant
    back = resolve_plan(p.metadata_line())
    assert (back.variant, back.sets, back.reps, str(back.tempo), back.load_kg, back.rest_s) == \
        (p.variant, p.sets, p.reps, str(p.tempo), p.load_kg, p.rest_s)
    assert load_plan("barbell-5x5").metadata_line() == "barbell-5x5"


def test_tempo_parse():
    assert Tempo.parse("3-1-X-2") == Tempo(3, 1, 0, 2)
    assert str(Tempo.parse("3-1-X-2")) == "3-1-X-2"
    assert Tempo.parse("2-0-1-1.5").top_s == 1.5


def _with(**changes) -> str:
    """GOOD with top-level keys replaced (value None removes the key)."""
    lines = GOOD.strip().splitlines()
    out = []
    for line in lines:
        key = line.split("=")[0].strip()
        if key in changes and not line.startswith("["):
            v = changes.pop(key)
            if v is not None:
                out.append(f"{key} = {v}")
            continue
        if line.startswith("[") and changes:
            out += [f"{k} = {v}" for k, v in changes.items() if v is not None]
            changes = {}
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_with(sets=-1), "sets: expected an integer >= 1, found -1"),
        (_with(sets=0), "sets: expected an integer >= 1, found 0"),
        (_with(sets='"5"'), "sets: expected an integer >= 1, found string '5'"),
        (_with(reps=2.5), "reps: expected an integer >= 1, found number 2.5"),
        (_with(reps=None), "missing reps"),
        (_with(tempo='"2-0-1"'), "tempo: expected four numbers eccentric-bottom-concentric-top"),
        (_with(tempo='"2-0-a-1"'), "found '2-0-a-1'"),
        (_with(tempo="2011"), "tempo: expected four numbers"),
        (_with(tempo='"2--1-1-1"'), "tempo: expected four numbers"),
        (_with(tempo=None), "missing tempo"),
        (_with(variant='"kettlebell"'), "variant: expected one of bodyweight, dumbbell, barbell"),
        (_with(exercise='"squat"'), "exercise: expected one of hip_thrust, found 'squat'"),
        (_with(load_kg=-5), "load_kg: expected a number >= 0, found -5"),
        (_with(rest_s="true"), "rest_s: expected a number >= 0, found boolean True"),
        (_with(name=None), "missing name"),
        (_with(colour='"red"'), "unknown key 'colour'"),
        (GOOD.replace("increment_kg = 2.5", "increment_kg = 0"),
         "progression.increment_kg: expected a number > 0, found 0"),
        (GOOD.replace("increment_kg = 2.5", ""), "missing progression.increment_kg"),
        (GOOD.replace('kind = "load"', 'kind = "magic"'),
         "progression.kind: expected one of load, reps, none, found 'magic'"),
        (GOOD.replace("increment_kg = 2.5", "increment_kg = 2.5\nspeed = 1"),
         "unknown key progression.'speed'"),
        (GOOD.replace('kind = "load"\nincrement_kg = 2.5', 'kind = "reps"\ntarget_reps = 3'),
         "progression.target_reps: expected at least reps (5), found 3"),
        ('name = "x"\nvariant = "bodyweight"\nsets = 3\nreps = 20\ntempo = "2-0-1-1"\n'
         'load_kg = 10', "load_kg: expected 0 for variant 'bodyweight'"),
        ("name = ", "not valid TOML"),
    ],
)
def test_errors(tmp_path, text, expected):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(PlanError) as info:
        load_plan(f)
    msg = str(info.value)
    assert expected in msg
    assert msg.startswith(str(f))
    assert "\n" not in msg


def test_unknown_plan_name():
    with pytest.raises(PlanError, match="unknown plan 'barbell-10x10'.*barbell-5x5"):
        load_plan("barbell-10x10")


# --- any input: a plan or a clean PlanError ---------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = ["name", "exercise", "variant", "sets", "reps", "tempo", "load_kg", "rest_s",
         "description", "bogus"]
_VALUES = st.one_of(
    st.integers(-5, 300), st.floats(-10, 500, allow_nan=False), st.booleans(),
    st.sampled_from(["barbell", "hip_thrust", "2-0-1-1", "X-0-1-1", "2-0-1", "a-b-c-d", "",
                     "single_leg", "-1-0-1-1"]),
    st.text(max_size=12), st.lists(st.integers(0, 3), max_size=3),
)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(map(_toml_value, v)) + "]"
    return repr(v)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES),
       st.dictionaries(st.sampled_from(["kind", "increment_kg", "target_reps", "next_plan",
                                        "max_load_kg", "rep_increment", "x"]),
                       st.one_of(_VALUES, st.sampled_from(["load", "reps", "none"]))))
def test_any_document_gives_plan_or_plan_error(top, prog):
    text = "\n".join(f"{k} = {_toml_value(v)}" for k, v in top.items())
    if prog:
        text += "\n[progression]\n" + "\n".join(f"{k} = {_toml_value(v)}"
                                                for k, v in prog.items())
    try:
        plan = parse_plan(text)
    except PlanError as exc:
        assert "\n" not in str(exc)
    else:
        assert plan.sets >= 1 and plan.reps >= 1 and plan.load_kg >= 0
        assert parse_plan(plan.to_toml()) == dataclasses.replace(plan, source="<string>")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_plan_or_plan_error(text):
    from sensorcoach.plans import plan_from_text

    for fn in (parse_plan, plan_from_text):
        try:
            fn(text)
        except PlanError:
            pass


def test_plan_from_text():
    from sensorcoach.plans import plan_from_text, resolve_plan

    p = resolve_plan("barbell hip thrust 5x5, tempo 2-0-1-1, 100 kg, 2 min rest")
    assert (p.name, p.sets, p.reps, p.load_kg, p.rest_s) == ("barbell-5x5", 5, 5, 100, 120)
    assert p.progression == load_plan("barbell-5x5").progression
    # the simulator's plan line; single-leg sets count sides unless "per side" is written
    p = resolve_plan("single_leg hip thrust 6x10 tempo 2-0-1-1")
    assert (p.name, p.sets, p.reps, p.per_side) == ("single-leg-3x10", 3, 10, True)
    assert plan_from_text("single-leg 3x12 per side").sets == 3
    p = plan_from_text("dumbbell hip thrust 3x12 tempo 3-1-X-2 @22.5kg rest 90 s")
    assert (str(p.tempo), p.load_kg, p.rest_s) == ("3-1-X-2", 22.5, 90)
    assert plan_from_text("bodyweight 3x25").progression.target_reps == 25
    with pytest.raises(PlanError, match="expected 1-50 sets"):
        plan_from_text("barbell 99x5")
    with pytest.raises(PlanError, match="nor a prescription"):
        resolve_plan("deadlift 5x5")
