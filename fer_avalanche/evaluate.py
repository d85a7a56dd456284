"""``fer-avalanche evaluate``: score a saved model on a dataset, in any registered format.

:func:`evaluate_model` loads a model a run saved (:mod:`fer_avalanche.models.saved`), loads a dataset
with the model's own preprocessing (its image size and label space; the face framing of the dataset
it was trained on when the evaluated dataset has the same format, else the format's own framing, which
frames faces like FER2013's), evaluates it with the package's evaluator on the chosen split and
returns accuracy, macro-F1 and per-class recall (and every image's predicted class, encoded as in
``results.json``), each with a 95% percentile-bootstrap interval over the
test images (:func:`fer_avalanche.stats.bootstrap_accuracies`).

Without a dataset it evaluates on the dataset the model was trained on last, loaded and split exactly
as in the run (so the accuracy equals the run's row). Label spaces are handled as in the runner: the
dataset is loaded into the model's label space; the classes it lacks are listed (macro-F1 and recall
are over the classes present; a prediction of an absent class is an error), and images of classes the
model has no output for are skipped by the loader and counted.

Example:
    >>> from fer_avalanche.evaluate import evaluate_model, format_evaluation
    >>> model = "runs/demo/models/ft-fc__lab-a__s0.pt"
    >>> result = evaluate_model(model, "jaffe", "~/data/jaffe")  # doctest: +SKIP
    >>> print(format_evaluation(result))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fer_avalanche.errors import CheckpointError, ConfigError, DatasetError

if TYPE_CHECKING:
    from avalanche.benchmarks import CLStream

    from fer_avalanche.data.ferdata import FERData


__all__ = ["evaluate_model", "format_evaluation", "resolve_model_path", "EVAL_SPLITS"]

#: What ``--split`` may name: the dataset's test split, or every image of it.
EVAL_SPLITS = ("test", "all")
_FRAMING = ("face_crop", "face_margin", "detect_fallback")


def resolve_model_path(
    model: str | Path,
    strategy: str | None = None,
    target: str | None = None,
    seed: int | None = None,
    fold: int | None = None,
) -> Path:
    """The model file: ``model`` itself (a ``.pt``), or, for a run directory, the file of
    ``strategy`` and ``target`` (``baseline``: the seed's baseline) of ``seed`` (default: the lowest
    saved) and ``fold``.

    Raises:
        ConfigError: a run directory without ``strategy`` / ``target``, or no such file in it.
        CheckpointError: ``model`` does not exist.

    Example:
        >>> resolve_model_path("no/such.pt")
        Traceback (most recent call last):
        ...
        fer_avalanche.errors.CheckpointError: no/such.pt: no such model file or run directory
    """
    from fer_avalanche.models.saved import model_file_name

    path = Path(model).expanduser()
    if path.is_file():
        if strategy or target:
            raise ConfigError(f"{path}: --strategy and --target pick a model of a run directory, not a file")
        return path
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such model file or run directory")
    folder = path / "models"
    if not strategy or (not target and strategy != "baseline"):
        raise ConfigError(
            f"{path} is a run directory: name the model with --strategy S --target T "
            "(or give the file, RUN_DIR/models/<strategy>__<target>__s<seed>.pt)"
        )
    if strategy == "baseline":
        pattern = f"baseline__*__s{'*' if seed is None else seed}.pt"
    else:
        pattern = model_file_name(strategy, target or "", 0, fold).replace(
            "__s0", "__s*" if seed is None else f"__s{seed}"
        )
    found = sorted(
        (p for p in folder.glob(pattern) if (fold is not None) or "__f" not in p.stem.rsplit("__s", 1)[-1]),
        key=lambda p: int(p.stem.rsplit("__s", 1)[-1].split("__")[0]),
    )
    if not found:
        saved = sorted(p.name for p in folder.glob("*.pt"))
        raise ConfigError(
            f"{folder}: no saved model matching {pattern} (saved: {', '.join(saved) or 'none'}; "
            "models are saved by fer-avalanche run --save-models)"
        )
    return found[0]


def _load_data(
    info: dict[str, Any],
    name: str | None,
    root: str | Path | None,
    settings: dict[str, Any],
    cache_dir: Path | None,
) -> tuple[Any, dict[str, Any]]:
    from fer_avalanche.config import DatasetSpec, Scenario
    from fer_avalanche.experiment.specs import load_raw, load_scenario_spec

    if name is None:  # the model's own dataset, split as in the run
        if root is not None or settings:
            raise ConfigError(
                "evaluate: loader settings (--face-crop, --option, ...) apply to a dataset given as NAME ROOT"
            )
        scenario = Scenario.from_dict(info["scenario"], "the model's scenario")
        spec = next(d for d in scenario.datasets if d.name == info["dataset"]["name"])
        data = load_scenario_spec(spec, scenario, cache_dir, int(info["run_seed"]), info.get("fold"))
        return data, {"name": spec.name, "format": spec.format, "root": spec.root, "as_in_run": True}
    from fer_avalanche.data.registry import get_format

    own = dict(info.get("dataset") or {})
    fmt = name if name == "synthetic" else get_format(name).name
    if root is None:
        raise ConfigError(f"evaluate: dataset {name!r} needs ROOT (its folder or file; synthetic: a domain)")
    framing = {k: own.get(k) for k in _FRAMING if own.get(k) is not None} if own.get("format") == fmt else {}
    framing.update({k: settings.pop(k) for k in _FRAMING if settings.get(k) is not None})
    options = {k: v for k, v in settings.items() if k != "skip_corrupt"}
    spec = DatasetSpec(
        name=fmt if fmt != "synthetic" else str(root),
        format=fmt,
        root=None if fmt == "synthetic" else str(Path(root).expanduser()),
        domain=str(root) if fmt == "synthetic" else None,
        skip_corrupt=bool(settings.get("skip_corrupt", False)),
        options=options,
        **framing,
    )
    spec.validate("evaluate")
    prep = info["preprocessing"]
    # as loaded, with the format's own split (no re-split: --split all takes every image)
    data = load_raw(
        spec, label_space=info["label_space"], image_size=int(prep["image_size"]), cache_dir=cache_dir
    )
    data = dataclasses.replace(data, name=spec.name)
    return data, {"name": spec.name, "format": fmt, "root": str(root), "as_in_run": False, "framing": framing}


def _test_stream(data: FERData) -> CLStream:
    """A one-experience Avalanche test stream of ``data``'s test split (no train split needed)."""
    from fer_avalanche.benchmarks import as_avalanche_dataset
    from fer_avalanche.utils import quiet_third_party

    with quiet_third_party():
        from avalanche.benchmarks.scenarios.dataset_scenario import benchmark_from_datasets

        stream = benchmark_from_datasets(test=[as_avalanche_dataset(data, "test")]).test_stream
    for exp in stream:
        exp.dataset_name = data.name
    return stream


def _intervals(
    labels: np.ndarray, predictions: np.ndarray, classes: int, n_boot: int, seed: int
) -> dict[str, Any]:
    from fer_avalanche.metrics import summarize_confusion
    from fer_avalanche.stats import bootstrap_accuracies, percentile_interval

    correct = (labels == predictions).astype(np.float32)
    acc_ci = percentile_interval(bootstrap_accuracies(correct[None], n_boot=n_boot, seed=seed)[:, 0])
    recall_ci: list[list[float] | None] = []
    for c in range(classes):
        mask = labels == c
        if not mask.any():
            recall_ci.append(None)
            continue
        draws = bootstrap_accuracies(correct[mask][None], n_boot=n_boot, seed=seed + 1 + c)[:, 0]
        recall_ci.append(percentile_interval(draws))
    rng = np.random.default_rng(seed)
    n = len(labels)
    f1 = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        cm = np.bincount(labels[idx] * classes + predictions[idx], minlength=classes * classes)
        f1[b] = summarize_confusion(cm.reshape(classes, classes)).macro_f1
    return {"acc": acc_ci, "macro_f1": percentile_interval(f1), "per_class_acc": recall_ci}


def evaluate_model(
    model: str | Path,
    name: str | None = None,
    root: str | Path | None = None,
    *,
    split: str = "test",
    device: str | torch.device = "cpu",
    cache_dir: str | Path | None = None,
    out: str | Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    **settings: object,
) -> dict[str, Any]:
    """Evaluate the saved model ``model`` on dataset ``name`` at ``root`` (JSON-ready result).

    Args:
        model: a saved model file (``RUN_DIR/models/*.pt``).
        name, root: a registered dataset format and its folder/file (``synthetic``: a domain name);
            ``None``: the dataset the model was trained on last, loaded and split as in its run.
        split: ``test`` (the dataset's test split) or ``all`` (every image).
        device: where to evaluate.
        cache_dir: the decode cache.
        out: a folder for ``confusion_<dataset>.png``.
        n_boot, seed: the bootstrap of the intervals.
        settings: loader settings (``face_crop``, ``face_margin``, ``detect_fallback``,
            ``skip_corrupt``, the format's own options).

    Raises:
        CheckpointError: the model file is missing or not ours.
        DatasetError: the folder does not hold the format's layout, or has no images in ``split``.
        ConfigError: a bad setting.
    """
    from fer_avalanche.data.ferdata import split_code
    from fer_avalanche.experiment.evaluation import evaluate, evaluator_for
    from fer_avalanche.metrics import encode_classes
    from fer_avalanche.models.saved import load_model, read_model_info
    from fer_avalanche.strategies.registry import make_strategy
    from fer_avalanche.utils import quiet_third_party, resolve_device

    if split not in EVAL_SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(EVAL_SPLITS)}, got {split!r}")
    path = Path(model)
    info = read_model_info(path)
    net = load_model(path)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else None
    data, described = _load_data(info, name, root, dict(settings), cache)
    if split == "all":
        data = data.with_split(torch.full_like(data.split, split_code("test")), "all")
    n_test = data.counts()["test"]
    if n_test == 0:
        raise DatasetError(
            f"{described['root'] or described['name']}: no test images in dataset {data.name!r} "
            f"(splits: {data.counts()}); evaluate with --split all"
        )
    names = list(info["label_names"])
    evaluator, fer_metrics = evaluator_for(names)
    scenario = info.get("scenario") or {}
    dev = resolve_device(device)
    amp = bool(scenario.get("amp", True)) and dev.type == "cuda"  # as the run evaluated it
    with quiet_third_party():
        strategy = make_strategy(
            "baseline",
            net,
            device=dev,
            evaluator=evaluator,
            eval_batch_size=int(scenario.get("eval_batch_size", 512)),
            amp=amp,
        )
        result = evaluate(strategy, fer_metrics, _test_stream(data))[data.name]
    classes = len(names)
    present = [names[c] for c in range(classes) if result.per_class_acc[c] is not None]
    absent = [n for n in names if n not in present]
    ci = _intervals(np.asarray(result.labels), np.asarray(result.predictions), classes, n_boot, seed)
    counts = np.asarray(result.confusion).sum(axis=1)
    out_dict: dict[str, Any] = {
        "model": str(path),
        "arch": info["arch"],
        "trained": info.get("name"),
        "label_space": info["label_space"],
        "dataset": {**described, "name": data.name, "split": split, "n": int(result.n)},
        "classes_present": present,
        "classes_absent": absent,
        "skipped": {str(k): int(v) for k, v in dict(data.provenance.get("skipped", {})).items()},
        "acc": float(result.acc),
        "macro_f1": float(result.macro_f1),
        "per_class_acc": {names[c]: result.per_class_acc[c] for c in range(classes)},
        "support": {names[c]: int(counts[c]) for c in range(classes)},
        "confusion": np.asarray(result.confusion).tolist(),
        "label_names": names,
        "predictions": encode_classes(np.asarray(result.predictions)),
        "ci": {
            "acc": ci["acc"],
            "macro_f1": ci["macro_f1"],
            "per_class_acc": {names[c]: ci["per_class_acc"][c] for c in range(classes)},
        },
    }
    if out is not None:
        from fer_avalanche.figures import plot_confusion

        png = Path(out) / f"confusion_{data.name.replace('/', '-')}.png"
        plot_confusion(result.confusion, names, title=f"{data.name} ({result.acc:.1%})", path=png)
        out_dict["confusion_png"] = str(png)
    return out_dict


def _pct(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def format_evaluation(result: dict[str, Any]) -> str:
    """The text ``fer-avalanche evaluate`` prints (accuracies in %, 95% intervals in brackets)."""
    d = result["dataset"]
    where = "its own split, as in the run" if d.get("as_in_run") else f"format {d['format']}, {d['root']}"
    lines = [
        f"model     {result['model']} ({result['arch']}, {len(result['label_names'])} classes, "
        f"{result['label_space']})",
        f"dataset   {d['name']} ({where}); split {d['split']}: {d['n']} images",
    ]
    if result["classes_absent"]:
        lines.append(
            f"labels    the dataset has {len(result['classes_present'])} of the model's "
            f"{len(result['label_names'])} classes (none of: {', '.join(result['classes_absent'])}); "
            "macro-F1 and recall are over the classes present, predictions of the others count as errors"
        )
    if result["skipped"]:
        lines.append("skipped   " + ", ".join(f"{n} {why}" for why, n in result["skipped"].items()))
    ci = result["ci"]
    lines.append(f"accuracy  {100 * result['acc']:.1f}%{_pct(ci['acc'])}")
    lines.append(
        f"macro-F1  {result['macro_f1']:.3f}"
        + ("" if ci["macro_f1"] is None else f" [{ci['macro_f1'][0]:.3f}, {ci['macro_f1'][1]:.3f}]")
    )
    lines.append("recall per class (support):")
    for cls, value in result["per_class_acc"].items():
        text = "-" if value is None else f"{100 * value:.1f}%{_pct(ci['per_class_acc'][cls])}"
        lines.append(f"  {cls:10s} {text} ({result['support'][cls]})")
    if result.get("confusion_png"):
        lines.append(f"confusion {result['confusion_png']}")
    return "\n".join(lines)
