"""The two kinds of task an executor runs, as plain functions of picklable inputs.

Both rebuild (once per process) the :class:`~fer_avalanche.experiment.context.ExperimentContext` from
the scenario's TOML text, so a worker loads each dataset once, not once per cell. A user error inside a
task (a bad setting, a missing folder) comes back as a :class:`TaskError` value, not an exception, so a
distributed engine never retries it; the client raises it again with the same message.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from fer_avalanche import errors
from fer_avalanche.config import Scenario
from fer_avalanche.experiment.baseline import train_or_load_baseline
from fer_avalanche.experiment.cell import run_cell
from fer_avalanche.experiment.context import ExperimentContext
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.records import BaselineRecord

__all__ = ["TaskError", "baseline_task", "cell_task", "context_for", "raise_if_error"]

_CONTEXTS: dict[tuple[str, str, str], ExperimentContext] = {}


@dataclass
class TaskError:
    """A user error raised inside a task: the exception's class name and message."""

    kind: str
    message: str


_T = TypeVar("_T")


def raise_if_error(result: _T | TaskError) -> _T:
    """Raise a :class:`TaskError` again as the package's exception; pass anything else through."""
    if isinstance(result, TaskError):
        cls = getattr(errors, result.kind, errors.FERAvalancheError)
        raise cls(result.message)
    return result


def context_for(scenario_toml: str, device: str, cache_dir: str) -> ExperimentContext:
    """The process's context for a scenario (built once per process and scenario)."""
    key = (scenario_toml, device, cache_dir)
    if key not in _CONTEXTS:
        scenario = Scenario.from_dict(tomllib.loads(scenario_toml), "scenario")
        _CONTEXTS.clear()  # one experiment per process at a time: free the previous one's data
        _CONTEXTS[key] = ExperimentContext(scenario, device, cache_dir)
    return _CONTEXTS[key]


def _guarded(
    fn: Callable[[], _T], threads: int | None, ctx: ExperimentContext | None = None
) -> _T | TaskError:
    from fer_avalanche.utils import determinism

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    deterministic = bool(ctx is not None and ctx.scenario.deterministic)
    try:
        with determinism(deterministic, ctx.device if ctx is not None else "cpu"):
            return fn()
    except errors.FERAvalancheError as exc:
        return TaskError(type(exc).__name__, str(exc))
    finally:
        torch.set_num_threads(previous)


def baseline_task(
    scenario_toml: str,
    device: str,
    cache_dir: str,
    seed: int,
    evaluate_on: Mapping[int | None, list[str]],
    threads: int | None = None,
    echo: Callable[[str], None] | None = None,
    variant: tuple[tuple[str, Any], ...] = (),
) -> BaselineRecord | TaskError:
    """Train (or load) and evaluate the baseline of ``seed`` (with the settings of a sweep's ``variant``)."""
    ctx = context_for(scenario_toml, device, cache_dir).variant(variant)
    return _guarded(lambda: train_or_load_baseline(ctx, seed, evaluate_on, echo=echo), threads, ctx)


def cell_task(
    scenario_toml: str,
    device: str,
    cache_dir: str,
    cell: dict[str, Any],
    key: dict[str, Any],
    baseline: BaselineRecord,
    checkpoint: str | None = None,
    threads: int | None = None,
    echo: Callable[[str], None] | None = None,
    save_model: bool = False,
) -> dict[str, Any] | TaskError:
    """Run one cell; returns its record as a JSON-ready dict (what ``cells/<cell>.json`` holds), with
    ``"state"``: the final weights as bytes when ``save_model`` (the client writes them)."""
    the_cell = Cell.from_dict(cell)
    ctx = context_for(scenario_toml, device, cache_dir).variant(the_cell.variant)
    path = Path(checkpoint) if checkpoint else None

    def run() -> dict[str, Any]:
        record = run_cell(ctx, the_cell, baseline, key, checkpoint=path, echo=echo, save_model=save_model)
        out = record.to_dict()
        if record.state is not None:
            out["state"] = record.state
        return out

    return _guarded(run, threads, ctx)
