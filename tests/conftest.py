"""Shared fixtures: the committed recordings with ground truth."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI must be reproducible); local runs keep
# exploring new ones. No per-example deadline: the CI machine has 2 busy cores.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "recordings"


def recordings_with_truth() -> list[Path]:
    return sorted(p for p in RECORDINGS.glob("*.csv")
                  if p.with_name(p.stem + ".truth.json").exists())


@pytest.fixture(scope="session")
def analyses():
    """Analysis of every committed recording, computed once per test session."""
    from sensorcoach.pipeline import analyze_file

    cache: dict[Path, object] = {}

    def get(path: Path):
        if path not in cache:
            cache[path] = analyze_file(str(path))
        return cache[path]

    return get
