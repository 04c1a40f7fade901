"""Shared fixtures: the committed recordings with ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

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
