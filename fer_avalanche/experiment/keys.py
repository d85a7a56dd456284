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
from typing import TYPE_CHECKING, Any

from fer_avalanche.config import Scenario
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.experiment.recipe import NEWER_TRAIN_DEFAULTS as NEWER_TRAIN_DEFAULTS  # re-exported
from fer_avalanche.experiment.recipe import TrainingRecipe

if TYPE_CHECKING:
    from fer_avalanche.experiment.plan import Cell

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


def _version() -> str:
    import fer_avalanche

    return fer_avalanche.__version__


def baseline_key(scenario: Scenario, source_train: FERData, seed: int, device_type: str) -> dict[str, Any]:
    """Everything the baseline's weights depend on: the source's training data, the model and training
    settings, the seed, the device kind and the package's code version."""
    key = {
        "source": fingerprint(source_train),
        "model": dataclasses.asdict(scenario.model),
        **TrainingRecipe.from_scenario(scenario, None, device_type).key(),  # train, amp, compile
        "image_size": scenario.image_size,
        "label_space": scenario.label_space,
        "seed": seed,
        "device": device_type,
        "fer_avalanche": _version(),
        "code": BASELINE_CODE_VERSION,
    }
    if scenario.deterministic:
        key["deterministic"] = True
    return key


def strategy_settings(scenario: Scenario, strategy: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(adapt settings, strategy options)`` of one strategy: ``adapt`` with the strategy's overrides
    applied (:data:`~fer_avalanche.config.STRATEGY_OVERRIDES`), and its remaining own options."""
    recipe = TrainingRecipe.from_scenario(scenario, strategy)
    return recipe.settings(), dict(recipe.options)


def cell_key(
    scenario: Scenario, cell: Cell, baseline: Mapping[str, Any], datasets: Mapping[str, FERData]
) -> dict[str, Any]:
    """Everything a cell's results depend on: its strategy and settings, the baseline's key, the data of
    every dataset it trains on or evaluates, the evaluation settings and the code version."""
    key = {
        "cell": cell.to_dict(),
        **TrainingRecipe.from_scenario(scenario, cell.strategy).key(),  # adapt, options, eval_batch_size
        "baseline": digest(baseline),
        "data": {name: fingerprint(data) for name, data in datasets.items()},
        "fer_avalanche": _version(),
        "code": CELL_CODE_VERSION,
    }
    if scenario.deterministic:
        key["deterministic"] = True
    return key
