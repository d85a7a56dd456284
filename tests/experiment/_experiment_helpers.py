"""Tiny scenarios for the experiment tests: seconds per cell on a CPU."""

from __future__ import annotations

from fer_avalanche.config import Scenario

TINY = [
    "source.n=420",
    "targets.lab-a.n=140",
    "targets.lab-b.n=140",
    "model.width=4",
    "train.epochs=1",
    "adapt.epochs=1",
    "eval_batch_size=256",
]


def tiny(*extra: str) -> Scenario:
    """The demo shrunk to seconds (extra ``key=value`` overrides applied last)."""
    return Scenario.demo().with_overrides([*TINY, *extra])
