"""Saved models: the networks a run trained, as files you can load without the training code.

With ``save_models = true`` (or ``fer-avalanche run --save-models``) a run writes
``RUN_DIR/models/<name>.pt`` for the baseline of every seed (``baseline__<source>__s<seed>.pt``) and
for every cell's adapted network (the cell's own name: ``ft-fc__lab-a__s0.pt``,
``replay__sequence__s1.pt``, ``ft-fc__ckplus__s0__f3.pt``). Each ``.pt`` is a plain ``state_dict``
(``torch.save``; load it with ``weights_only=True``); beside it ``<name>.json`` says what it is:

- ``format`` / ``version``: ``"fer-avalanche-model"``, 1 (what makes a file ours);
- ``arch`` and ``options``: the architecture and its settings (:func:`fer_avalanche.models.make_model`);
- ``label_space`` and ``label_names``: the classes, in output order;
- ``preprocessing``: ``image_size`` and the face framing (``face_crop``, ``face_margin``,
  ``detect_fallback``) of the dataset the network was last trained on;
- ``dataset``, ``run_seed``, ``fold``: that dataset's scenario entry (so ``fer-avalanche evaluate``
  reloads its very test split), ``scenario`` (the whole scenario) and ``scenario_fingerprint``;
- ``kind`` (``baseline`` or ``cell``), ``name``, ``key`` (the cell's or baseline's key: a model file
  is reused on ``--resume`` only under the same key) and ``sha256`` of the weights file.

Both files are written atomically. :func:`load_model` returns the network in eval mode.

Example:
    >>> from fer_avalanche import load_model
    >>> model = load_model("runs/demo/models/ft-fc__lab-a__s0.pt")  # doctest: +SKIP
    >>> model(torch.zeros(1, 1, 48, 48)).shape  # doctest: +SKIP
    torch.Size([1, 7])
    >>> model_file_name("ft-fc", "lab-a", 0, None), model_file_name("baseline", "wild/angry+disgust", 1)
    ('ft-fc__lab-a__s0.pt', 'baseline__wild-angry-disgust__s1.pt')
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.io import atomic_write_bytes, write_json

if TYPE_CHECKING:
    from fer_avalanche.config import DatasetSpec, Scenario
    from fer_avalanche.experiment.plan import Cell
    from fer_avalanche.experiment.records import BaselineRecord

__all__ = [
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "load_model",
    "read_model_info",
    "save_model",
    "model_info",
    "model_file_name",
    "sidecar_path",
    "remove_model",
    "ModelWriter",
]

#: The ``format`` entry of every sidecar this package writes.
MODEL_FORMAT = "fer-avalanche-model"
#: The sidecar layout's version.
MODEL_VERSION = 1


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "model"


def model_file_name(strategy: str, target: str, seed: int, fold: int | None = None) -> str:
    """``<strategy>__<target>__s<seed>[__f<fold>].pt`` (file-safe: ``/`` and ``+`` become ``-``)."""
    fold_part = "" if fold is None else f"__f{fold}"
    return f"{_safe(strategy)}__{_safe(target)}__s{seed}{fold_part}.pt"


def sidecar_path(path: str | Path) -> Path:
    """The JSON beside a model file (``x.pt`` -> ``x.json``)."""
    return Path(path).with_suffix(".json")


def model_info(
    scenario: Scenario,
    *,
    kind: str,
    name: str,
    key: Mapping[str, Any],
    dataset: DatasetSpec,
    run_seed: int,
    fold: int | None,
) -> dict[str, Any]:
    """The sidecar of one model (``scenario``: the run's Scenario; ``dataset``: the DatasetSpec of the
    dataset it was trained on last)."""
    from fer_avalanche.config import scenario_to_toml
    from fer_avalanche.experiment.keys import digest
    from fer_avalanche.labels import get_label_space

    space = get_label_space(scenario.label_space)
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "kind": kind,
        "name": name,
        "arch": scenario.model.arch,
        "options": scenario.model.options(),
        "num_classes": space.num_classes,
        "label_space": space.name,
        "label_names": list(space.names),
        "preprocessing": {
            "image_size": scenario.image_size,
            "face_crop": dataset.face_crop,
            "face_margin": dataset.face_margin,
            "detect_fallback": dataset.detect_fallback,
        },
        "dataset": _spec_dict(dataset),
        "run_seed": run_seed,
        "fold": fold,
        "scenario": scenario.to_dict(),
        "scenario_fingerprint": digest({"scenario": scenario_to_toml(scenario)}),
        "key": dict(key),
    }


def _spec_dict(spec: object) -> dict[str, Any]:
    import dataclasses

    from fer_avalanche.config import _drop_none

    return _drop_none(dataclasses.asdict(spec))


def save_model(path: str | Path, state: bytes, info: Mapping[str, Any]) -> None:
    """Write the weights (``state``: ``torch.save`` bytes of a ``state_dict``) and the sidecar.

    The weights are stored contiguous (a trained network may be ``channels_last``), so equal weights
    give byte-equal files. The weights go first: a run killed in between leaves a sidecar whose
    ``sha256`` does not match, which :func:`load_model` refuses and ``--resume`` recomputes.
    """
    path = Path(path)
    state = _canonical(state)
    atomic_write_bytes(path, state)
    write_json(sidecar_path(path), {**info, "sha256": hashlib.sha256(state).hexdigest()})


def _canonical(state: bytes) -> bytes:
    """The same weights in one layout (contiguous, CPU): equal weights give equal files."""
    import io

    tensors = torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)
    buffer = io.BytesIO()
    # a fresh tensor has the standard strides (a size-1 dimension's stride included)
    torch.save({k: torch.empty(v.shape, dtype=v.dtype).copy_(v) for k, v in tensors.items()}, buffer)
    return buffer.getvalue()


def remove_model(path: str | Path) -> None:
    """Delete a model file and its sidecar (absent ones are fine)."""
    Path(path).unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)


def read_model_info(path: str | Path) -> dict[str, Any]:
    """The sidecar of the model file ``path``, checked to be ours.

    Raises:
        CheckpointError: no such file, no sidecar, or a sidecar this package did not write.

    Example:
        >>> read_model_info("no/such/model.pt")
        Traceback (most recent call last):
        ...
        fer_avalanche.errors.CheckpointError: no/such/model.pt: no such model file
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such model file")
    side = sidecar_path(path)
    if not side.is_file():
        raise CheckpointError(
            f"{path}: not a fer-avalanche model (no {side.name} beside it; models are written by "
            "fer-avalanche run --save-models)"
        )
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{side}: not a fer-avalanche model sidecar ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != MODEL_FORMAT:
        raise CheckpointError(f"{side}: not a fer-avalanche model sidecar (no format = {MODEL_FORMAT!r})")
    if info.get("version") != MODEL_VERSION:
        raise CheckpointError(
            f"{side}: model file version {info.get('version')!r}, this fer-avalanche reads {MODEL_VERSION}"
        )
    return info


def load_model(path: str | Path, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The network saved at ``path`` (a run's ``models/*.pt``), on ``device``, in eval mode.

    Its sidecar is attached as ``model.fer_info`` (architecture, label names, preprocessing).

    Raises:
        CheckpointError: a missing file, a file that is not ours, weights that do not match the
            sidecar (another run's, or a damaged file).
    """
    from fer_avalanche.models import make_model

    path = Path(path)
    info = read_model_info(path)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        raise CheckpointError(
            f"{path}: the weights do not match {sidecar_path(path).name} (a damaged file, or a sidecar "
            "of another run); save the model again"
        )
    try:
        import io

        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot load the weights ({type(exc).__name__}: {exc})") from None
    options = {k: v for k, v in dict(info.get("options") or {}).items() if k != "weights"}
    try:
        size = int(info["preprocessing"]["image_size"])
        model = make_model(info["arch"], num_classes=int(info["num_classes"]), image_size=size, **options)
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError, ConfigError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: the weights do not match the sidecar's model ({first})") from None
    model.fer_info = info  # type: ignore[attr-defined]
    return model.to(device).eval()


class ModelWriter:
    """A run's ``models/`` folder: which files to write, keep or remove (used by ``run_scenario``).

    Cells that do not train (``baseline``) get no file of their own: their network is the seed's
    baseline file. A cell's file is kept on ``--resume`` only when its sidecar holds the cell's current
    key; every other file is removed before the run writes new ones, so a stale model is never kept.

    Example:
        >>> writer = ModelWriter(scenario, "runs/demo")  # doctest: +SKIP
        >>> writer.path(cell).name  # doctest: +SKIP
        'ft-fc__lab-a__s0.pt'
    """

    def __init__(self, scenario: Scenario, run_dir: str | Path, source_name: str | None = None) -> None:
        self.scenario = scenario
        self.folder = Path(run_dir) / "models"
        self.source_name = source_name or scenario.source.name

    def wants(self, cell: Cell) -> bool:
        """Whether ``cell`` trains a network of its own (``baseline`` cells do not)."""
        from fer_avalanche.strategies.registry import get_strategy_spec

        return get_strategy_spec(cell.strategy).trains != "none"

    def path(self, cell: Cell) -> Path:
        """``models/<cell name>.pt``."""
        return self.folder / f"{cell.name}.pt"

    def baseline_path(self, seed: int) -> Path:
        """``models/baseline__<source>__s<seed>.pt`` (a sweep over the baseline's settings adds the
        variant: see :meth:`write_baseline`)."""
        return self.folder / model_file_name("baseline", self.source_name, seed)

    def reusable(self, cell: Cell, key: Mapping[str, Any]) -> bool:
        """Whether the file of ``cell`` exists and was written under ``key``."""
        path = self.path(cell)
        try:
            info = read_model_info(path)
        except CheckpointError:
            return False
        return info.get("key") == json.loads(json.dumps(dict(key), default=str))

    def prune(self, keep: list[Path]) -> None:
        """Remove every model file (and sidecar) of ``models/`` but ``keep``."""
        kept = {Path(p).name for p in keep} | {sidecar_path(p).name for p in keep}
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name not in kept and path.suffix in (".pt", ".json"):
                    path.unlink(missing_ok=True)

    def _dataset(self, name: str) -> DatasetSpec:
        return next((d for d in self.scenario.datasets if d.name == name), self.scenario.source)

    def write_baseline(
        self, record: BaselineRecord, file_name: str | None = None, scenario: Scenario | None = None
    ) -> Path:
        """Save a seed's baseline (a BaselineRecord: its ``state`` bytes and ``key``) as ``file_name``
        (default :meth:`baseline_path`), described by ``scenario`` (a sweep's variant; default the run's)."""
        path = self.folder / file_name if file_name else self.baseline_path(record.seed)
        info = model_info(
            scenario or self.scenario,
            kind="baseline",
            name=path.stem,
            key=record.key,
            dataset=(scenario or self.scenario).source,
            run_seed=record.seed,
            fold=None,
        )
        save_model(path, record.state, info)
        return path

    def write_cell(
        self, cell: Cell, key: Mapping[str, Any], state: bytes, scenario: Scenario | None = None
    ) -> Path:
        """Save a cell's final network (``state``: ``torch.save`` bytes), described by ``scenario`` (its
        variant's; default the run's)."""
        path = self.path(cell)
        info = model_info(
            scenario or self.scenario,
            kind="cell",
            name=cell.name,
            key=key,
            dataset=self._dataset(cell.targets[-1]),
            run_seed=cell.seed,
            fold=cell.fold,
        )
        info["cell"] = cell.to_dict()
        save_model(path, state, info)
        return path
