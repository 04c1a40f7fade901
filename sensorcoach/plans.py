"""Training plans: a small TOML format, the built-in plans, and their validation.

A plan is what a coach prescribes for one session of hip thrusts, e.g. "barbell hip thrust
5x5, tempo 2-0-1-1, 100 kg, 2 min rest", plus the rule that turns a good session into the
next one (progressive overload).

Plan file format (TOML, read with the standard library's :mod:`tomllib`)::

    name = "barbell-5x5"
    exercise = "hip_thrust"          # the only exercise sensorcoach knows
    variant = "barbell"              # bodyweight | dumbbell | barbell | single_leg | banded
    sets = 5
    reps = 5                         # per side for single_leg
    tempo = "2-0-1-1"                # eccentric-bottom-concentric-top, seconds ("X" = explosive)
    load_kg = 100.0                  # 0 for body weight (and for the band)
    rest_s = 120
    description = "free text"        # optional

    [progression]                    # optional; default kind = "none"
    kind = "load"                    # load | reps | none
    increment_kg = 2.5               # load: added after a session where every set and tempo was met
    max_load_kg = 40                 # load, optional: at this load move on to next_plan
    target_reps = 20                 # reps: add rep_increment per good session up to this
    rep_increment = 1                # reps
    next_plan = "dumbbell"           # optional: the plan to move on to once the target is met

Every error in a plan file raises :class:`~sensorcoach.errors.PlanError` with a one-line
message naming the file, the field, what was expected and what was found.

Built-in plans (see :data:`BUILTIN_PLANS`) and why their numbers:

``bodyweight-3x20``
    3x20 body weight, 2-0-1-1, 60 s rest. Master 3x20 with the pause before adding load,
    then move on to ``dumbbell``.
``dumbbell``
    3x12 with a 20 kg dumbbell in the hip crease, 2-0-1-1, 90 s rest; +2.5 kg per good
    session up to 40 kg, then ``barbell-5x5``.
``barbell-5x5``
    5x5 at 60 kg (a typical first barbell load; set ``load_kg`` in the recording or your own
    plan), 2-0-1-1, 120 s rest; +2.5 kg per good session.
``single-leg``
    3x12 per side body weight, 2-0-1-1, 60 s rest; one rep more per good session up to 15.
``banded``
    3x15 with a mini-band above the knees, 2-0-1-1, 60 s rest; one rep more per good session
    up to 20.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import PlanError

EXERCISES = ("hip_thrust",)
VARIANTS = ("bodyweight", "dumbbell", "barbell", "single_leg", "banded")
PROGRESSION_KINDS = ("load", "reps", "none")

_TOP_KEYS = (
    "name", "exercise", "variant", "sets", "reps", "tempo", "load_kg", "rest_s", "description",
    "progression",
)
_PROGRESSION_KEYS = (
    "kind", "increment_kg", "max_load_kg", "target_reps", "rep_increment", "next_plan",
)


@dataclass(frozen=True)
class Tempo:
    """A prescribed tempo, seconds per phase, written eccentric-bottom-concentric-top.

    ``concentric_s`` is ``0`` for an explosive ("X") concentric.
    """

    eccentric_s: float
    bottom_s: float
    concentric_s: float
    top_s: float

    def __str__(self) -> str:
        def fmt(x: float) -> str:
            return f"{x:g}"

        conc = "X" if self.concentric_s == 0 else fmt(self.concentric_s)
        return f"{fmt(self.eccentric_s)}-{fmt(self.bottom_s)}-{conc}-{fmt(self.top_s)}"

    @classmethod
    def parse(cls, text: str, *, where: str = "tempo") -> Tempo:
        """Parse ``"2-0-1-1"`` (eccentric-bottom-concentric-top seconds; ``X`` = explosive)."""
        expected = "four numbers eccentric-bottom-concentric-top like '2-0-1-1'"
        if not isinstance(text, str):
            raise PlanError(f"{where}: expected {expected}, found {_describe(text)}")
        parts = [p.strip() for p in text.split("-")]
        if len(parts) != 4:
            raise PlanError(f"{where}: expected {expected}, found {text!r}")
        values = []
        for p in parts:
            if p.lower() == "x":
                values.append(0.0)
                continue
            try:
                v = float(p)
            except ValueError:
                raise PlanError(f"{where}: expected {expected}, found {text!r}") from None
            if not math.isfinite(v) or v < 0 or v > 30:
                raise PlanError(
                    f"{where}: expected phase times between 0 and 30 s, found {text!r}"
                )
            values.append(v)
        return cls(*values)


@dataclass(frozen=True)
class Progression:
    """How a session where every set and the tempo were met becomes the next one."""

    kind: str = "none"
    increment_kg: float = 0.0
    max_load_kg: float | None = None
    target_reps: int | None = None
    rep_increment: int = 1
    next_plan: str | None = None


@dataclass(frozen=True)
class Plan:
    """One session's prescription for the hip thrust.

    Attributes
    ----------
    name : str
        Plan name (the built-in name, or the file's ``name``).
    variant : str
        One of :data:`VARIANTS`.
    sets, reps : int
        Prescribed sets and reps per set (per side for ``single_leg``).
    tempo : Tempo
        Prescribed tempo.
    load_kg : float
        External load (0 for body weight and bands).
    rest_s : float
        Prescribed rest between sets, seconds.
    progression : Progression
        The progressive-overload rule.
    source : str
        ``"builtin"`` or the file path it was read from.
    """

    name: str
    variant: str
    sets: int
    reps: int
    tempo: Tempo
    load_kg: float = 0.0
    rest_s: float = 90.0
    exercise: str = "hip_thrust"
    description: str = ""
    progression: Progression = field(default_factory=Progression)
    source: str = "builtin"

    @property
    def per_side(self) -> bool:
        """True when ``reps`` are per side (single-leg hip thrust)."""
        return self.variant == "single_leg"

    def summary(self) -> str:
        """One line, e.g. ``barbell-5x5: barbell hip thrust 5x5, tempo 2-0-1-1, 60 kg, ...``."""
        return f"{self.name}: {self.prescription()}"

    def prescription(self) -> str:
        """The coach's line, e.g. ``barbell hip thrust 5x5, tempo 2-0-1-1, 60 kg, 120 s
        rest``: :func:`plan_from_text` reads it back (the progression rule then comes from
        the variant's built-in plan)."""
        side = " per side" if self.per_side else ""
        load = f", {self.load_kg:g} kg" if self.load_kg else ""
        variant = self.variant.replace("_", "-")
        return (f"{variant} hip thrust {self.sets}x{self.reps}{side}, "
                f"tempo {self.tempo}{load}, {self.rest_s:g} s rest")

    def metadata_line(self) -> str:
        """What a recording's ``plan`` metadata holds for this plan: a built-in's name, else
        the prescription (a plan file's path may not exist where the recording is read)."""
        return self.name if self.source == "builtin" else self.prescription()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tempo"] = str(self.tempo)
        return d

    def to_toml(self) -> str:
        """The plan as a TOML document that :func:`load_plan` reads back."""
        lines = [
            f"name = {_toml_str(self.name)}",
            f'exercise = "{self.exercise}"',
            f'variant = "{self.variant}"',
            f"sets = {self.sets}",
            f"reps = {self.reps}",
            f'tempo = "{self.tempo}"',
            f"load_kg = {float(self.load_kg)!r}",
            f"rest_s = {float(self.rest_s)!r}",
        ]
        if self.description:
            lines.append(f"description = {_toml_str(self.description)}")
        p = self.progression
        lines += ["", "[progression]", f'kind = "{p.kind}"']
        if p.kind == "load":
            lines.append(f"increment_kg = {float(p.increment_kg)!r}")
            if p.max_load_kg is not None:
                lines.append(f"max_load_kg = {float(p.max_load_kg)!r}")
        if p.kind == "reps":
            lines.append(f"target_reps = {p.target_reps}")
            lines.append(f"rep_increment = {p.rep_increment}")
        if p.next_plan:
            lines.append(f"next_plan = {_toml_str(p.next_plan)}")
        return "\n".join(lines) + "\n"


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


#: The built-in plans as TOML text (parsed by the same code as user files).
BUILTIN_PLANS: dict[str, str] = {
    "bodyweight-3x20": """
name = "bodyweight-3x20"
exercise = "hip_thrust"
variant = "bodyweight"
sets = 3
reps = 20
tempo = "2-0-1-1"
load_kg = 0
rest_s = 60
description = "Body-weight hip thrust: master 3x20 with the top squeeze before adding load."

[progression]
kind = "reps"
target_reps = 20
rep_increment = 2
next_plan = "dumbbell"
""",
    "dumbbell": """
name = "dumbbell"
exercise = "hip_thrust"
variant = "dumbbell"
sets = 3
reps = 12
tempo = "2-0-1-1"
load_kg = 20
rest_s = 90
description = "Dumbbell hip thrust, dumbbell in the hip crease: 3x12, +2.5 kg a session to 40 kg."

[progression]
kind = "load"
increment_kg = 2.5
max_load_kg = 40
next_plan = "barbell-5x5"
""",
    "barbell-5x5": """
name = "barbell-5x5"
exercise = "hip_thrust"
variant = "barbell"
sets = 5
reps = 5
tempo = "2-0-1-1"
load_kg = 60
rest_s = 120
description = "Barbell hip thrust 5x5 heavy, padded bar in the hip crease: +2.5 kg per good session"

[progression]
kind = "load"
increment_kg = 2.5
""",
    "single-leg": """
name = "single-leg"
exercise = "hip_thrust"
variant = "single_leg"
sets = 3
reps = 12
tempo = "2-0-1-1"
load_kg = 0
rest_s = 60
description = "Single-leg hip thrust, 3x12 per side: one rep more per good session up to 15."

[progression]
kind = "reps"
target_reps = 15
rep_increment = 1
""",
    "banded": """
name = "banded"
exercise = "hip_thrust"
variant = "banded"
sets = 3
reps = 15
tempo = "2-0-1-1"
load_kg = 0
rest_s = 60
description = "Banded hip thrust, mini-band above the knees (push the knees out): 3x15, up to 20."

[progression]
kind = "reps"
target_reps = 20
rep_increment = 1
""",
}


def list_plans() -> list[Plan]:
    """The built-in plans, in progression order."""
    return [parse_plan(text, source="builtin") for text in BUILTIN_PLANS.values()]


def load_plan(name_or_path: str | os.PathLike[str]) -> Plan:
    """A built-in plan by name, or a plan read from a TOML file.

    Raises
    ------
    PlanError
        Unknown name, unreadable file or invalid plan.
    """
    key = os.fspath(name_or_path)
    if key in BUILTIN_PLANS:
        return parse_plan(BUILTIN_PLANS[key], source="builtin")
    path = Path(key)
    if not path.exists():
        names = ", ".join(BUILTIN_PLANS)
        raise PlanError(f"unknown plan {key!r}: not a built-in plan ({names}) nor a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read plan file: {exc}") from None
    return parse_plan(text, source=str(path))


def parse_plan(text: str, *, source: str = "<string>") -> Plan:
    """Parse and validate a plan from TOML text; ``source`` names it in error messages."""
    prefix = "" if source == "builtin" else f"{source}: "
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{prefix}not valid TOML: {exc}") from None
    try:
        return _build(doc, source)
    except PlanError as exc:
        raise PlanError(f"{prefix}{exc}") from None


def _describe(v: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "table",
             list: "array"}
    kind = names.get(type(v), type(v).__name__)
    shown = repr(v)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}"


def _check_keys(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise PlanError(
                f"unknown key {where}{key!r}: expected one of {', '.join(allowed)}"
            )


def _get_str(doc: dict[str, Any], key: str, *, choices: tuple[str, ...] | None = None,
             default: str | None = None, where: str = "") -> str | None:
    if key not in doc:
        if default is None and choices is not None:
            raise PlanError(f"missing {where}{key}: expected one of {', '.join(choices)}")
        return default
    v = doc[key]
    if not isinstance(v, str):
        raise PlanError(f"{where}{key}: expected a string, found {_describe(v)}")
    if choices is not None and v not in choices:
        raise PlanError(f"{where}{key}: expected one of {', '.join(choices)}, found {v!r}")
    return v


def _get_int(doc: dict[str, Any], key: str, *, minimum: int, default: int | None = None,
             where: str = "") -> int:
    if key not in doc:
        if default is None:
            raise PlanError(f"missing {where}{key}: expected an integer >= {minimum}")
        return default
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise PlanError(f"{where}{key}: expected an integer >= {minimum}, found {_describe(v)}")
    if v < minimum:
        raise PlanError(f"{where}{key}: expected an integer >= {minimum}, found {v}")
    return v


def _get_float(doc: dict[str, Any], key: str, *, minimum: float, default: float | None = None,
               strict: bool = False, where: str = "") -> float | None:
    rel = ">" if strict else ">="
    if key not in doc:
        return default
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise PlanError(f"{where}{key}: expected a number {rel} {minimum:g}, found {_describe(v)}")
    v = float(v)
    if not math.isfinite(v) or v < minimum or (strict and v == minimum):
        raise PlanError(f"{where}{key}: expected a number {rel} {minimum:g}, found {v:g}")
    return v


def _build(doc: dict[str, Any], source: str) -> Plan:
    _check_keys(doc, _TOP_KEYS, "")
    name = _get_str(doc, "name")
    if name is None:
        raise PlanError("missing name: expected a string")
    if not name.strip():
        raise PlanError("name: expected a non-empty string, found ''")
    exercise = _get_str(doc, "exercise", choices=EXERCISES, default="hip_thrust")
    variant = _get_str(doc, "variant", choices=VARIANTS)
    sets = _get_int(doc, "sets", minimum=1)
    reps = _get_int(doc, "reps", minimum=1)
    if sets > 50:
        raise PlanError(f"sets: expected at most 50, found {sets}")
    if reps > 200:
        raise PlanError(f"reps: expected at most 200, found {reps}")
    if "tempo" not in doc:
        raise PlanError("missing tempo: expected four numbers eccentric-bottom-concentric-top "
                        "like '2-0-1-1'")
    tempo = Tempo.parse(doc["tempo"])
    load_kg = _get_float(doc, "load_kg", minimum=0.0, default=0.0)
    rest_s = _get_float(doc, "rest_s", minimum=0.0, default=90.0)
    description = _get_str(doc, "description", default="") or ""
    if variant == "bodyweight" and load_kg:
        raise PlanError(f"load_kg: expected 0 for variant 'bodyweight', found {load_kg:g}")

    prog_doc = doc.get("progression", {})
    if not isinstance(prog_doc, dict):
        raise PlanError(f"progression: expected a table [progression], found {_describe(prog_doc)}")
    progression = _build_progression(prog_doc, reps)
    return Plan(name=name, variant=variant, sets=sets, reps=reps, tempo=tempo,
                load_kg=load_kg, rest_s=rest_s, exercise=exercise, description=description,
                progression=progression, source=source)


def _build_progression(doc: dict[str, Any], reps: int) -> Progression:
    w = "progression."
    _check_keys(doc, _PROGRESSION_KEYS, w)
    kind = _get_str(doc, "kind", choices=PROGRESSION_KINDS, default="none", where=w)
    next_plan = _get_str(doc, "next_plan", where=w)
    if next_plan is not None and not next_plan.strip():
        raise PlanError("progression.next_plan: expected a plan name, found ''")
    increment_kg = _get_float(doc, "increment_kg", minimum=0.0, default=None, strict=True,
                              where=w)
    max_load_kg = _get_float(doc, "max_load_kg", minimum=0.0, default=None, strict=True, where=w)
    target_reps = _get_int(doc, "target_reps", minimum=1, default=0, where=w) or None
    rep_increment = _get_int(doc, "rep_increment", minimum=1, default=1, where=w)
    if kind == "load":
        if increment_kg is None:
            raise PlanError("missing progression.increment_kg: expected a number > 0 for "
                            "kind 'load'")
        if target_reps is not None or "rep_increment" in doc:
            raise PlanError("progression: target_reps and rep_increment belong to kind 'reps', "
                            "found them with kind 'load'")
    elif kind == "reps":
        if increment_kg is not None or max_load_kg is not None:
            raise PlanError("progression: increment_kg and max_load_kg belong to kind 'load', "
                            "found them with kind 'reps'")
        if target_reps is None:
            target_reps = reps
        if target_reps < reps:
            raise PlanError(f"progression.target_reps: expected at least reps ({reps}), "
                            f"found {target_reps}")
    else:
        if increment_kg is not None or max_load_kg is not None or target_reps is not None:
            raise PlanError("progression: increment_kg/max_load_kg/target_reps need kind "
                            "'load' or 'reps', found kind 'none'")
    return Progression(kind=kind, increment_kg=increment_kg or 0.0, max_load_kg=max_load_kg,
                       target_reps=target_reps, rep_increment=rep_increment,
                       next_plan=next_plan)


# --- plans written as text (the recording's ``plan`` metadata line) -----------------------

_VARIANT_WORDS = (
    (r"single[-_ ]?leg|unilateral", "single_leg"),
    (r"band(?:ed)?|mini[-_ ]?band", "banded"),
    (r"dumb[-_ ]?bell|\bdb\b", "dumbbell"),
    (r"bar[-_ ]?bell|\bbb\b", "barbell"),
    (r"body[-_ ]?weight|\bbw\b", "bodyweight"),
)
_BUILTIN_FOR_VARIANT = {
    "bodyweight": "bodyweight-3x20", "dumbbell": "dumbbell", "barbell": "barbell-5x5",
    "single_leg": "single-leg", "banded": "banded",
}


def plan_from_text(text: str) -> Plan:
    """A plan from a coach's one-line prescription, as recordings carry it.

    Understands e.g. ``"barbell hip thrust 5x5, tempo 2-0-1-1, 100 kg, 2 min rest"`` or
    ``"single_leg hip thrust 6x10 tempo 2-0-1-1"``: the variant word, ``SETSxREPS``, a tempo
    ``E-B-C-T``, a load ``N kg`` and a rest ``N s|min rest`` (or ``rest N s``). Missing parts
    and the progression rule come from the variant's built-in plan. For ``single_leg``,
    ``SETSxREPS`` counts every side as a set unless the text says ``per side``.
    The plan is named after the built-in when sets and reps match it, else
    ``VARIANT-SETSxREPS``, so sessions logged from the same prescription group together.

    Raises
    ------
    PlanError
        When no variant word and no ``SETSxREPS`` can be found.
    """
    import re

    low = text.lower()
    variant = None
    for pattern, name in _VARIANT_WORDS:
        if re.search(pattern, low):
            variant = name
            break
    m_sr = re.search(r"(\d+)\s*[x×]\s*(\d+)", low)
    if variant is None or m_sr is None:
        raise PlanError(f"plan {text!r}: expected a built-in name, a plan file, or a "
                        "prescription like 'barbell hip thrust 5x5, tempo 2-0-1-1, 100 kg, "
                        "120 s rest'")
    base = load_plan(_BUILTIN_FOR_VARIANT[variant])
    sets, reps = int(m_sr.group(1)), int(m_sr.group(2))
    if variant == "single_leg" and not re.search(r"(per|each|a)\s+side|/\s*side", low):
        sets = max(1, (sets + 1) // 2)
    if not (1 <= sets <= 50 and 1 <= reps <= 200):
        raise PlanError(f"plan {text!r}: expected 1-50 sets of 1-200 reps, found {sets}x{reps}")
    tempo = base.tempo
    m_t = re.search(r"(?<![\d.])([\d.]+|x)-([\d.]+|x)-([\d.]+|x)-([\d.]+|x)(?![\d.])", low)
    if m_t:
        tempo = Tempo.parse(m_t.group(0), where=f"plan {text!r}: tempo")
    load = base.load_kg
    m_l = re.search(r"(\d+(?:\.\d+)?)\s*kg", low)
    if m_l:
        load = float(m_l.group(1))
    elif variant in ("bodyweight", "single_leg", "banded"):
        load = 0.0
    if variant == "bodyweight":
        load = 0.0
    rest = base.rest_s
    m_r = (re.search(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds|min|mins|minutes|')\b\s*rest", low)
           or re.search(r"rest\w*\s*:?\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds|min|mins|minutes)",
                        low))
    if m_r:
        rest = float(m_r.group(1)) * (60.0 if m_r.group(2).startswith(("m", "'")) else 1.0)
    prog = base.progression
    if prog.kind == "reps" and prog.target_reps is not None and prog.target_reps < reps:
        prog = Progression(kind="reps", target_reps=reps, rep_increment=prog.rep_increment,
                           next_plan=prog.next_plan)
    name = (base.name if (sets, reps) == (base.sets, base.reps)
            else f"{variant.replace('_', '-')}-{sets}x{reps}")
    return Plan(name=name, variant=variant, sets=sets, reps=reps, tempo=tempo, load_kg=load,
                rest_s=rest, description=text.strip(), progression=prog, source="text")


def resolve_plan(name_or_path_or_text: str | os.PathLike[str]) -> Plan:
    """:func:`load_plan` (built-in name or file), else :func:`plan_from_text`.

    Use it for the recording's ``plan`` metadata, which may be a name or a prescription.
    """
    key = os.fspath(name_or_path_or_text)
    if key in BUILTIN_PLANS or Path(key).exists() or key.endswith(".toml"):
        return load_plan(key)
    try:
        return plan_from_text(key)
    except PlanError:
        names = ", ".join(BUILTIN_PLANS)
        raise PlanError(f"unknown plan {key!r}: not a built-in plan ({names}), a file, nor a "
                        "prescription like 'barbell hip thrust 5x5, tempo 2-0-1-1, 100 kg'"
                        ) from None


def plan_for(arg: str | None, meta: dict[str, str]) -> Plan | None:
    """The plan a command works with: ``--plan`` (its errors are the user's), else the
    recording's ``plan`` metadata line (ignored with a warning when unreadable)."""
    if arg:
        return resolve_plan(arg)
    text = (meta.get("plan") or "").strip()
    if not text:
        return None
    try:
        return resolve_plan(text)
    except PlanError as exc:
        import logging

        logging.getLogger("sensorcoach").warning("recording's plan line ignored: %s", exc)
        return None
