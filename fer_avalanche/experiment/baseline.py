"""The baseline of a seed: the CNN trained on the source once, cached, and evaluated on every dataset.

The weights are cached as ``<cache>/baselines/<source>-<key digest>.pt``
(:func:`fer_avalanche.experiment.keys.baseline_key`: source data, model and training settings, seed,
device kind, package version), so every cell and every later run with the same settings starts from
the same network. A changed setting misses the cache and trains a new one.

Example:
    >>> record = train_or_load_baseline(ctx, seed=0, evaluate_on={None: ["wild", "lab-a"]})  # doctest: +SKIP
    >>> record.evaluations[None]["wild"].acc  # doctest: +SKIP
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from fer_avalanche.experiment.context import ExperimentContext, stable_seed
from fer_avalanche.experiment.evaluation import evaluate, evaluator_for
from fer_avalanche.experiment.progress import EpochReporter
from fer_avalanche.experiment.records import ZERO_BUDGET, BaselineRecord
from fer_avalanche.experiment.store import load_checkpoint, save_checkpoint
from fer_avalanche.models.base import load_weights
from fer_avalanche.utils import quiet_third_party, seed_everything

__all__ = ["train_or_load_baseline", "state_bytes", "load_state_bytes"]


def state_bytes(model: torch.nn.Module) -> bytes:
    """A model's ``state_dict`` as ``torch.save`` bytes (what travels to worker processes)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def load_state_bytes(model: torch.nn.Module, data: bytes, origin: str) -> torch.nn.Module:
    """Load :func:`state_bytes` into ``model``; a mismatch is a :class:`CheckpointError` naming ``origin``."""
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return load_weights(model, state, origin)


def _train(
    ctx: ExperimentContext, seed: int, model: torch.nn.Module, echo: Callable[[str], None] | None
) -> dict[str, Any]:
    recipe = ctx.recipe()
    needs_val = recipe.uses_validation
    source = ctx.source(seed)
    bm = ctx.benchmark([source], validation=needs_val)
    reporter = EpochReporter(f"baseline (seed {seed})", echo)
    evaluator, _ = evaluator_for(ctx.label_names)
    with quiet_third_party():
        strategy = ctx.strategy(
            recipe,
            model,
            seed,
            source=None,
            evaluator=evaluator,
            plugins=[reporter],
            val_sets={source.name: bm.valid_stream[0].dataset} if needs_val else None,
        )
    seed_everything(stable_seed("baseline-train", seed))  # whatever building the strategy drew
    start = time.perf_counter()
    with quiet_third_party():
        strategy.train(bm.train_stream[0], eval_streams=[])
    return {
        "model": {k: v.detach().cpu() for k, v in strategy.model.state_dict().items()},
        "train_time_s": time.perf_counter() - start,
        "budget": dict(strategy.fer_budget),
        "curve": list(strategy.fer_curve),
        "selected_epoch": strategy.fer_selected_epoch,
        "history": reporter.history,
    }


def train_or_load_baseline(
    ctx: ExperimentContext,
    seed: int,
    evaluate_on: Mapping[int | None, list[str]],
    echo: Callable[[str], None] | None = None,
) -> BaselineRecord:
    """The baseline of ``seed`` (trained once, then loaded from the cache) and its evaluations.

    Args:
        ctx: the experiment's context.
        seed: the run seed.
        evaluate_on: for each fold (``None`` = fold-free datasets), the datasets to evaluate on.
        echo: prints one line per training epoch.
    """
    path = ctx.baseline_path(seed)
    key = ctx.baseline_key(seed)
    seed_everything(stable_seed("baseline", seed))  # before init: the weights depend on it
    model = ctx.new_model()
    if path.exists():
        saved = load_checkpoint(path, "baseline")
        info = {k: saved.get(k) for k in ("train_time_s", "budget", "curve", "selected_epoch", "history")}
        info["reused"] = True
    else:
        saved = _train(ctx, seed, model, echo)
        save_checkpoint(path, {**saved, "key": key})
        info = {k: v for k, v in saved.items() if k != "model"}
        info["reused"] = False
    load_weights(model, saved["model"], str(path))
    record = BaselineRecord(
        seed=seed,
        key=key,
        state=state_bytes(model),
        checkpoint=str(path),
        reused=bool(info["reused"]),
        train_time_s=0.0 if info["reused"] else float(info["train_time_s"] or 0.0),
        budget=dict(info.get("budget") or ZERO_BUDGET),
        curve=list(info.get("curve") or []),
        selected_epoch=info.get("selected_epoch"),
        history=list(info.get("history") or []),
    )
    record.evaluations = {
        fold: _evaluate(ctx, model, seed, fold, names) for fold, names in evaluate_on.items() if names
    }
    return record


def _evaluate(
    ctx: ExperimentContext, model: torch.nn.Module, seed: int, fold: int | None, names: list[str]
) -> dict[str, Any]:
    datasets = [ctx.dataset(n, seed, fold) if n != ctx.source_name else ctx.source(seed) for n in names]
    bm = ctx.benchmark(datasets, validation=False)
    evaluator, fer_metrics = evaluator_for(ctx.label_names)
    import copy

    with quiet_third_party():
        strategy = ctx.strategy(
            ctx.recipe().for_evaluation(),
            copy.deepcopy(model),
            seed,
            source=None,
            evaluator=evaluator,
            plugins=[],
            val_sets=None,
        )
        return evaluate(strategy, fer_metrics, bm.test_stream)
