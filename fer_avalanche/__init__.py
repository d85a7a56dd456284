"""fer-avalanche: continual learning for cross-dataset facial expression recognition, on Avalanche.

A CNN trained on a large FER dataset (FER2013) is adapted to small target datasets (JAFFE, CK+, ...)
and forgets what it knew. This package turns FER datasets into Avalanche benchmarks, implements the
adaptation strategies of Tannugi et al. (2019) as Avalanche strategies beside replay and Avalanche's
baselines, and measures accuracy, forgetting and *memory integrity*.

The public API, in the order data flows (names are imported lazily, so ``import fer_avalanche`` is
instant and Avalanche is loaded only when needed)::

    load_dataset, make_domain, FERData        files or synthetic domains -> tensors in memory
    cross_dataset_benchmark, class_incremental_benchmark     -> Avalanche benchmarks
    make_model, list_architectures             architectures by name (fernet, paper, resnet18)
    make_strategy, list_strategies             named strategies (ft-fc, fusion, replay, lwf, ...)
    make_evaluator, memory_integrity           metrics on the training device
    Scenario, load_scenario, run_scenario      the whole protocol, written to a run directory
    add_intervals, compare                     95% intervals, paired comparison of two strategies
    load_model, evaluate_model                 a run's saved networks, scored on any dataset

Example:
    >>> from fer_avalanche import Scenario, run_scenario
    >>> run = run_scenario(Scenario.demo(), out="runs/demo")  # doctest: +SKIP
    >>> print((run.run_dir / "results.md").read_text())  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "FERData": "fer_avalanche.data.ferdata",
    "SPLITS": "fer_avalanche.data.ferdata",
    "load_dataset": "fer_avalanche.data.registry",
    "list_formats": "fer_avalanche.data.registry",
    "register_format": "fer_avalanche.data.registry",
    "apply_split": "fer_avalanche.data.splits",
    "split_by_fractions": "fer_avalanche.data.splits",
    "split_by_subject": "fer_avalanche.data.splits",
    "subject_kfold": "fer_avalanche.data.splits",
    "make_domain": "fer_avalanche.data.synthetic",
    "list_domains": "fer_avalanche.data.synthetic",
    "LabelSpace": "fer_avalanche.labels",
    "BASIC7": "fer_avalanche.labels",
    "BASIC8": "fer_avalanche.labels",
    "get_label_space": "fer_avalanche.labels",
    "cross_dataset_benchmark": "fer_avalanche.benchmarks",
    "class_incremental_benchmark": "fer_avalanche.benchmarks",
    "as_avalanche_dataset": "fer_avalanche.benchmarks",
    "make_model": "fer_avalanche.models",
    "FERNet": "fer_avalanche.models",
    "list_architectures": "fer_avalanche.models",
    "make_strategy": "fer_avalanche.strategies.registry",
    "list_strategies": "fer_avalanche.strategies.registry",
    "register_strategy": "fer_avalanche.strategies.registry",
    "make_evaluator": "fer_avalanche.metrics",
    "memory_integrity": "fer_avalanche.metrics",
    "Scenario": "fer_avalanche.config",
    "load_scenario": "fer_avalanche.config",
    "bundled_scenarios": "fer_avalanche.config",
    "add_intervals": "fer_avalanche.stats",
    "compare": "fer_avalanche.stats",
    "run_scenario": "fer_avalanche.experiment",
    "RunResult": "fer_avalanche.experiment",
    "plan_cells": "fer_avalanche.experiment",
    "render_report": "fer_avalanche.reporting",
    "Results": "fer_avalanche.results",
    "read_results": "fer_avalanche.results",
    "load_model": "fer_avalanche.models.saved",
    "read_model_info": "fer_avalanche.models.saved",
    "evaluate_model": "fer_avalanche.evaluate",
    "FERAvalancheError": "fer_avalanche.errors",
    "DatasetError": "fer_avalanche.errors",
    "ConfigError": "fer_avalanche.errors",
    "CheckpointError": "fer_avalanche.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fer_avalanche' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
