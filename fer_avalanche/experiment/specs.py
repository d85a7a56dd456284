"""A scenario's datasets, loaded: a :class:`~fer_avalanche.config.DatasetSpec` -> a split FERData.

:func:`load_dataset_spec` is what the experiment runner calls for each dataset of a scenario: it loads
the dataset (or synthesises it), resolves the split's ``seed = "run"`` to the run's seed and
``folds = "all"`` to the fold being run, applies the split (exact ``counts`` when given; group-aware,
so a CK+ sequence or a MUG take never spans two splits), caps the training split with ``max_train``
(stratified: every class keeps its share of train within one sample) and names the result
``spec.name``. Its provenance records the split settings actually used.

Example:
    >>> from fer_avalanche.config import Scenario
    >>> from fer_avalanche.experiment.specs import load_scenario_datasets
    >>> datasets = load_scenario_datasets(Scenario.demo(), cache_dir=None)
    >>> [d.name for d in datasets]
    ['wild', 'lab-a', 'lab-b']
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.data.splits import apply_split, cap_train
from fer_avalanche.errors import ConfigError
from fer_avalanche.labels import get_label_space

if TYPE_CHECKING:
    from fer_avalanche.config import DatasetSpec, Scenario

__all__ = ["load_dataset_spec", "load_scenario_datasets", "load_scenario_spec", "load_raw"]


def load_raw(spec: DatasetSpec, *, label_space: str, image_size: int, cache_dir: Path | None) -> FERData:
    """The dataset of ``spec`` as loaded (or drawn), before the scenario's split and cap.

    Raises:
        ConfigError: a synthetic domain that cannot be put into ``label_space``, an unknown format or
            setting.
        DatasetError: the loader's own errors (missing files, malformed rows, ...).
    """
    space = get_label_space(label_space)
    if spec.format == "synthetic":
        from fer_avalanche.data.synthetic import make_domain

        unknown = sorted(set(spec.options) - {"drop_classes"})
        if unknown:
            raise ConfigError(
                f"dataset {spec.name!r}: synthetic domains take only the option 'drop_classes', got {unknown}"
            )
        data = make_domain(
            spec.domain or spec.name, n=spec.n, seed=spec.seed, image_size=image_size, **spec.options
        )
        if data.label_space != space:
            if data.label_space.names != space.names[: data.num_classes]:
                raise ConfigError(f"synthetic data cannot be mapped to label space {space.name!r}")
            data = dataclasses.replace(data, label_space=space)
        return data
    settings: dict[str, Any] = {"label_space": space, "image_size": image_size, **spec.load_settings()}
    if cache_dir is not None:
        settings["cache_dir"] = cache_dir
    return load_dataset(spec.format, spec.root or "", **settings)


def load_dataset_spec(
    spec: DatasetSpec,
    *,
    label_space: str,
    image_size: int,
    cache_dir: Path | None,
    run_seed: int = 0,
    fold: int | None = None,
) -> FERData:
    """Load (or synthesise) one dataset of a scenario, split it, cap its train split, name it.

    Args:
        spec: the dataset's settings.
        label_space: the scenario's label space (``basic7`` or ``basic8``).
        image_size: the scenario's image side.
        cache_dir: the decode cache (``None``: the default one).
        run_seed: the seed ``split.seed = "run"`` stands for.
        fold: the fold ``split.folds = "all"`` stands for (see ``SplitSpec.fold_indices()``); ignored
            when the split runs one fold only.

    Raises:
        ConfigError: ``folds = "all"`` without ``fold``, bad split settings (e.g. counts larger than the
            dataset), unknown format or setting.
        DatasetError: the loader's own errors.
    """
    data = load_raw(spec, label_space=label_space, image_size=image_size, cache_dir=cache_dir)
    split = spec.split.resolve(run_seed=run_seed, fold=fold)
    try:
        data = apply_split(data, **split)
    except ConfigError as exc:
        raise ConfigError(f"dataset {spec.name!r}: {exc}") from None
    if spec.max_train is not None:
        data = cap_train(data, spec.max_train, seed=split["seed"])
    return dataclasses.replace(data, name=spec.name, provenance=dict(data.provenance, split_settings=split))


def load_scenario_datasets(
    scenario: Scenario, cache_dir: Path | None, run_seed: int = 0, fold: int | None = None
) -> list[FERData]:
    """Every dataset of ``scenario`` (source first), loaded with :func:`load_scenario_spec`."""
    return [load_scenario_spec(spec, scenario, cache_dir, run_seed, fold) for spec in scenario.datasets]


def load_scenario_spec(
    spec: DatasetSpec, scenario: Scenario, cache_dir: Path | None, run_seed: int = 0, fold: int | None = None
) -> FERData:
    """One dataset of ``scenario`` with the scenario's label space and image size (see
    :func:`load_dataset_spec` for ``run_seed`` and ``fold``)."""
    return load_dataset_spec(
        spec,
        label_space=scenario.label_space,
        image_size=scenario.image_size,
        cache_dir=cache_dir,
        run_seed=run_seed,
        fold=fold,
    )
