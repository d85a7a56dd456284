"""Interim (replaced by the data package's version): load one scenario dataset spec."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.data.splits import apply_split
from fer_avalanche.errors import ConfigError
from fer_avalanche.labels import get_label_space


def load_dataset_spec(
    spec: Any,
    *,
    label_space: str,
    image_size: int,
    cache_dir: Path | None,
    run_seed: int = 0,
    fold: int | None = None,
) -> FERData:
    space = get_label_space(label_space)
    if spec.format == "synthetic":
        from fer_avalanche.data.synthetic import make_domain

        data = make_domain(spec.domain or spec.name, n=spec.n, seed=spec.seed, image_size=image_size)
        if data.label_space != space:
            if data.label_space.names != space.names[: data.num_classes]:
                raise ConfigError(f"synthetic data cannot be mapped to label space {space.name!r}")
            data = dataclasses.replace(data, label_space=space)
    else:
        settings: dict[str, Any] = dict(
            label_space=space, image_size=image_size, skip_corrupt=spec.skip_corrupt, **spec.options
        )
        if spec.face_crop is not None:
            settings["face_crop"] = spec.face_crop
        if cache_dir is not None:
            settings["cache_dir"] = cache_dir
        data = load_dataset(spec.format, spec.root or "", **settings)
    split = dataclasses.asdict(spec.split)
    split.pop("folds", None)
    if split.get("seed") == "run":
        split["seed"] = run_seed
    if fold is not None:
        split["fold"] = fold
    data = apply_split(data, **split)
    if spec.max_train is not None:
        data = _cap_train(data, spec.max_train, split["seed"])
    return dataclasses.replace(data, name=spec.name, provenance=dict(data.provenance, split_settings=split))


def _cap_train(data: FERData, max_train: int, seed: int) -> FERData:
    train = data.split_mask("train").nonzero().flatten()
    if len(train) <= max_train:
        return data
    rng = np.random.default_rng(seed)
    keep = torch.from_numpy(np.sort(rng.choice(train.numpy(), max_train, replace=False)))
    mask = ~data.split_mask("train")
    mask[keep] = True
    capped = data.subset(mask)
    capped.provenance["max_train"] = max_train
    return capped
