"""Keys: what identifies a baseline checkpoint, a cell's result and a sequence's step checkpoint.

Pure functions of settings and data fingerprints. A key is a JSON-ready dict of everything that
changes the weights or the numbers; :func:`digest` hashes it. A cell file or checkpoint whose key
differs from the current one is never reused (:func:`differing` names the settings that differ).

Example:
    >>> from fer_avalanche.experiment.keys import digest, differing
    >>> differing({"strategy": "ft-fc", "seed": 0}, {"strategy": "retrain", "seed": 0})
    ['strategy']
    >>> len(digest({"a": 1}))
    20
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fer_avalanche.config import STRATEGY_OVERRIDES, Scenario
from fer_avalanche.data.ferdata import FERData

__all__ = [
    "BASELINE_CODE_VERSION",
    "CELL_CODE_VERSION",
    "fingerprint",
    "digest",
    "differing",
    "baseline_key",
    "cell_key",
    "strategy_settings",
]

#: Bumped when a change of the code changes what a baseline with the same settings learns.
BASELINE_CODE_VERSION = 2
#: Bumped when a change of the code changes a cell's results for the same settings.
CELL_CODE_VERSION = 2


def fingerprint(data: FERData) -> str:
    """A short hash of a dataset's images, labels and splits (what a model trained on it depends on)."""
    h = hashlib.sha256()
    for t in (data.images, data.labels, data.split):
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def digest(key: Mapping[str, Any]) -> str:
    """A 20-hex-digit hash of a key."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


def differing(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The top-level entries that differ between two keys."""
    return sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))


#: Settings added to ``TrainSpec`` after baselines were first cached, with the default at which they
#: change nothing: left out of a baseline key at that default, so cached baselines stay valid.
NEWER_TRAIN_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("patience_steps", None),
    ("monitor", "target"),
    ("absent_classes", "train"),
)


def _version() -> str:
    import fer_avalanche

    return fer_avalanche.__version__


def baseline_key(scenario: Scenario, source_train: FERData, seed: int, device_type: str) -> dict[str, Any]:
    """Everything the baseline's weights depend on: the source's training data, the model and training
    settings, the seed, the device kind and the package's code version."""
    train = dataclasses.asdict(scenario.train)
    for name, default in NEWER_TRAIN_DEFAULTS:  # newer settings: at their defaults they change nothing,
        if train.get(name) == default:  # so older checkpoints stay valid
            train.pop(name, None)
    key = {
        "source": fingerprint(source_train),
        "model": dataclasses.asdict(scenario.model),
        "train": train,
        "image_size": scenario.image_size,
        "label_space": scenario.label_space,
        "seed": seed,
        "device": device_type,
        "amp": scenario.amp and device_type == "cuda",
        "compile": scenario.compile,
        "fer_avalanche": _version(),
        "code": BASELINE_CODE_VERSION,
    }
    if scenario.deterministic:
        key["deterministic"] = True
    return key


def strategy_settings(scenario: Scenario, strategy: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(adapt settings, strategy options)`` of one strategy: ``adapt`` with the strategy's overrides
    applied (:data:`~fer_avalanche.config.STRATEGY_OVERRIDES`), and its remaining own options."""
    options = dict(scenario.strategies.options.get(strategy, {}))
    adapt = dataclasses.asdict(scenario.adapt)
    for key in STRATEGY_OVERRIDES:
        if key in options:
            adapt[key] = options.pop(key)
    base = options.get("base")  # wise-ft over a base: the base's own scenario options, unless given
    if isinstance(base, str) and "base_options" not in options and base in scenario.strategies.options:
        inherited = scenario.strategies.options[base]
        options["base_options"] = {k: v for k, v in inherited.items() if k not in STRATEGY_OVERRIDES}
    return adapt, options


def cell_key(
    scenario: Scenario, cell: Any, baseline: Mapping[str, Any], datasets: Mapping[str, FERData]
) -> dict[str, Any]:
    """Everything a cell's results depend on: its strategy and settings, the baseline's key, the data of
    every dataset it trains on or evaluates, the evaluation settings and the code version."""
    adapt, options = strategy_settings(scenario, cell.strategy)
    key = {
        "cell": cell.to_dict(),
        "adapt": adapt,
        "options": options,
        "baseline": digest(baseline),
        "data": {name: fingerprint(data) for name, data in datasets.items()},
        "eval_batch_size": scenario.eval_batch_size,
        "fer_avalanche": _version(),
        "code": CELL_CODE_VERSION,
    }
    if scenario.deterministic:
        key["deterministic"] = True
    return key
