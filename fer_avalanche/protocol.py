"""The protocol runner: the paper's experiment (and its sequential extension) end to end.

For each seed: the baseline CNN is trained on the source once (checkpointed in the cache and reused
by every strategy and by later runs with the same settings) and evaluated on every dataset's test
set. Then, in ``pairwise`` mode (the paper), every (strategy, target) cell starts from the baseline,
adapts to the target and is evaluated on every test set; in ``sequential`` mode every strategy
adapts through the targets in order (source -> t1 -> t2 ...) and an accuracy matrix is recorded.

A run directory holds ``scenario.toml`` (resolved), ``environment.json``, ``datasets.json``,
``results.json/.csv/.md``, plots, TensorBoard logs (``tb/``), and ``cells/`` (one JSON per finished
cell). Every file is written atomically; ``resume=True`` skips finished cells, so an interrupted run
continues where it stopped and gives the same results as an uninterrupted one. In sequential mode a
sequence also saves ``checkpoints/<strategy>__sequence__s<seed>.pt`` after each target (the strategy's
whole state, :mod:`fer_avalanche.strategies.state`), and a resumed run continues it from there.

Example:
    >>> from fer_avalanche import Scenario, run_scenario
    >>> scenario = Scenario.demo().with_overrides(["strategies.names=['ft-fc', 'fusion']"])
    >>> run = run_scenario(scenario, out="runs/my-demo", device="cpu")  # doctest: +SKIP
    >>> run.results["rows"][0]["memory_integrity"]  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import platform
import sys
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.config import DatasetSpec, Scenario, scenario_to_toml
from fer_avalanche.data.cache import default_cache_dir
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.data.splits import apply_split
from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.io import atomic_path, atomic_write_text, write_json
from fer_avalanche.labels import get_label_space
from fer_avalanche.models import FERModel as FERNet
from fer_avalanche.models import make_model
from fer_avalanche.utils import quiet_third_party, resolve_device, seed_everything

__all__ = ["run_scenario", "RunResult", "load_scenario_datasets", "load_dataset_spec", "Runner"]

#: Keys of a results row that depend on timing, not on the experiment (ignored when comparing runs).
TIMING_KEYS = ("train_time_s",)


@dataclass
class RunResult:
    """What :func:`run_scenario` returns: the run directory and the results dict (``results.json``)."""

    run_dir: Path
    results: dict[str, Any]


# --------------------------------------------------------------------- data
def load_dataset_spec(spec: DatasetSpec, scenario: Scenario, cache_dir: Path | None = None) -> FERData:
    """Load (or synthesise) one dataset of a scenario, apply its split and cap, name it ``spec.name``."""
    space = get_label_space(scenario.label_space)
    if spec.format == "synthetic":
        from fer_avalanche.data.synthetic import make_domain

        data = make_domain(spec.domain or spec.name, n=spec.n, seed=spec.seed, image_size=scenario.image_size)
        if data.label_space != space:
            if data.label_space.names != space.names[: data.num_classes]:
                raise ConfigError(f"synthetic data cannot be mapped to label space {space.name!r}")
            data = dataclasses.replace(data, label_space=space)
    else:
        settings: dict[str, Any] = dict(
            label_space=space, image_size=scenario.image_size, skip_corrupt=spec.skip_corrupt, **spec.options
        )
        if spec.face_crop is not None:
            settings["face_crop"] = spec.face_crop
        if cache_dir is not None:
            settings["cache_dir"] = cache_dir
        data = load_dataset(spec.format, spec.root or "", **settings)
    split = dataclasses.asdict(spec.split)
    data = apply_split(data, **split)
    if spec.max_train is not None:
        data = _cap_train(data, spec.max_train, spec.split.seed)
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


def load_scenario_datasets(scenario: Scenario, cache_dir: Path | None = None) -> list[FERData]:
    """Every dataset of the scenario (source first), loaded and split."""
    return [load_dataset_spec(spec, scenario, cache_dir) for spec in scenario.datasets]


# ------------------------------------------------------------------ helpers
def _stable_seed(*parts: Any) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode()) & 0x7FFFFFFF


def _environment(device: torch.device, scenario: Scenario) -> dict[str, Any]:
    import avalanche

    import fer_avalanche

    env = {
        "fer_avalanche": fer_avalanche.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "avalanche": avalanche.__version__,
        "numpy": np.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "cpu_threads": torch.get_num_threads(),
        "seeds": scenario.seeds,
        "command": sys.argv,
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    return env


def _tensor_fingerprint(data: FERData) -> str:
    h = hashlib.sha256()
    for t in (data.images, data.labels, data.split):
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _save_state(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_state(path: Path, what: str, required: str = "model") -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(
            f"{path}: cannot load {what} checkpoint ({type(exc).__name__}: {exc}); delete it to recompute"
        ) from None
    if not isinstance(state, dict) or required not in state:
        raise CheckpointError(f"{path}: not a fer-avalanche {what} checkpoint (no {required!r} entry)")
    return state


def _load_model_state(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{path}: checkpoint does not match the model ({first})") from None


# ------------------------------------------------------------------- runner
class Runner:
    """Runs one scenario into one run directory. Most users call :func:`run_scenario`."""

    def __init__(
        self,
        scenario: Scenario,
        run_dir: Path,
        device: torch.device,
        cache_dir: Path,
        progress: bool = True,
        tensorboard: bool = True,
        on_cell_done: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.run_dir = run_dir
        self.device = device
        self.cache_dir = cache_dir
        self.progress = progress
        self.tensorboard = tensorboard
        self.on_cell_done = on_cell_done
        self.cells_dir = run_dir / "cells"
        self.datasets: list[FERData] = []
        self.benchmark: Any = None
        self._loggers: list[Any] = []

    def _close_loggers(self) -> None:
        from fer_avalanche.metrics import close_loggers

        close_loggers(self._loggers)
        self._loggers.clear()

    # ---------------------------------------------------------------- setup
    def prepare(self) -> None:
        """Load the datasets and build the benchmark (source first)."""
        from fer_avalanche.benchmarks import cross_dataset_benchmark

        self.datasets = load_scenario_datasets(self.scenario, self.cache_dir)
        self.benchmark = cross_dataset_benchmark(self.datasets)
        write_json(self.run_dir / "datasets.json", [d.summary() for d in self.datasets])

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.datasets]

    @property
    def label_names(self) -> list[str]:
        return list(self.datasets[0].label_space.names)

    def new_model(self) -> FERNet:
        spec = self.scenario.model
        return make_model(
            spec.arch,
            num_classes=len(self.label_names),
            image_size=self.scenario.image_size,
            **spec.options(),
        )

    def _evaluator(
        self, tb_parts: list[str] | None, baseline: dict[str, float] | None = None
    ) -> tuple[Any, Any]:
        from fer_avalanche.metrics import make_evaluator, make_loggers

        tb_dir = self.run_dir.joinpath("tb", *tb_parts) if (self.tensorboard and tb_parts) else None
        loggers = make_loggers(tb_dir, interactive=self.progress)
        self._loggers.extend(loggers)
        return make_evaluator(
            len(self.label_names),
            self.label_names,
            source=self.names[0] if baseline else None,
            baseline=baseline,
            loggers=loggers,
        )

    def _strategy(
        self,
        name: str,
        model: torch.nn.Module,
        seed: int,
        train: Any,
        evaluator: Any,
        options: dict[str, Any],
    ) -> Any:
        from fer_avalanche.strategies.registry import make_strategy

        options = dict(options)
        epochs = options.pop("epochs", train.epochs)
        lr = options.pop("lr", train.lr)
        batch_size = options.pop("batch_size", train.batch_size)
        with quiet_third_party():
            return make_strategy(
                name,
                model,
                source=self.benchmark.train_stream[0].dataset,
                lr=lr,
                optimizer=train.optimizer,
                weight_decay=train.weight_decay,
                epochs=epochs,
                batch_size=batch_size,
                eval_batch_size=self.scenario.eval_batch_size,
                device=self.device,
                evaluator=evaluator,
                augment=train.augment,
                seed=seed,
                amp=self.scenario.amp if self.device.type == "cuda" else False,
                compile=self.scenario.compile,
                **options,
            )

    def _evaluate(self, strategy: Any, fer_metrics: Any) -> dict[str, dict[str, Any]]:
        fer_metrics.results.clear()
        strategy.eval(self.benchmark.test_stream)
        out = {}
        for name in self.names:
            r = fer_metrics.results[name]
            out[name] = {
                "acc": float(r.acc),
                "macro_f1": float(r.macro_f1),
                "per_class_acc": [None if v is None or v != v else float(v) for v in r.per_class_acc],
                "confusion": np.asarray(r.confusion).astype(int).tolist(),
                "n": int(r.n),
            }
        return out

    # ------------------------------------------------------------- baseline
    def baseline_key(self, seed: int) -> str:
        s = self.scenario
        payload = json.dumps(
            {
                "source": _tensor_fingerprint(self.datasets[0].get_split("train")),
                "model": dataclasses.asdict(s.model),
                "train": dataclasses.asdict(s.train),
                "image_size": s.image_size,
                "label_space": s.label_space,
                "seed": seed,
                "device": self.device.type,
                "amp": s.amp and self.device.type == "cuda",
                "compile": s.compile,
                "version": 1,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def baseline(self, seed: int) -> tuple[FERNet, dict[str, Any], dict[str, Any]]:
        """The source-trained model for ``seed`` (trained once, then loaded) and its evaluation."""
        path = self.cache_dir / "baselines" / f"{self.names[0]}-{self.baseline_key(seed)}.pt"
        seed_everything(_stable_seed("baseline", seed))  # before init: the weights depend on it
        model = self.new_model()
        info: dict[str, Any] = {"checkpoint": str(path)}
        if path.exists():
            _load_model_state(model, _load_state(path, "baseline"), path)
            info["reused"] = True
            info["train_time_s"] = 0.0
        else:
            evaluator, _ = self._evaluator(["baseline", f"seed{seed}"])
            strategy = self._strategy("naive", model, seed, self.scenario.train, evaluator, {})
            seed_everything(_stable_seed("baseline-train", seed))  # whatever building the strategy drew
            start = time.perf_counter()
            strategy.train(self.benchmark.train_stream[0], eval_streams=[])
            info["train_time_s"] = time.perf_counter() - start
            info["reused"] = False
            model = strategy.model.to("cpu")
            _save_state(path, {"model": model.state_dict(), "key": self.baseline_key(seed)})
        evaluator, fer_metrics = self._evaluator(None)
        strategy = self._strategy("baseline", copy.deepcopy(model), seed, self.scenario.adapt, evaluator, {})
        evaluation = self._evaluate(strategy, fer_metrics)
        self._close_loggers()
        return model, evaluation, info

    # ----------------------------------------------------------------- cells
    def _cell_path(self, *parts: Any) -> Path:
        return self.cells_dir / ("__".join(str(p) for p in parts) + ".json")

    def _read_cell(self, path: Path) -> dict[str, Any] | None:
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged cell is recomputed

    def _step_checkpoint(self, name: str, seed: int) -> Path:
        return self.run_dir / "checkpoints" / f"{name}__sequence__s{seed}.pt"

    def _step_key(self, name: str, seed: int, step_targets: list[int], options: dict[str, Any]) -> str:
        payload = {
            "strategy": name,
            "seed": seed,
            "steps": [self.names[t] for t in step_targets],
            "options": options,
            "adapt": dataclasses.asdict(self.scenario.adapt),
            "baseline": self.baseline_key(seed),
        }
        return json.dumps(payload, sort_keys=True, default=str)

    def _adapt(
        self,
        name: str,
        model: FERNet,
        seed: int,
        step_targets: list[int],
        tb: list[str],
        baseline_acc: dict[str, float],
        checkpoint: Path | None = None,
    ) -> tuple[list[dict[str, Any]], float]:
        """Adapt a copy of ``model`` with strategy ``name`` through ``step_targets``; evaluate after each.

        With ``checkpoint``, the whole state (model, optimizer, plugins' buffers and regularisers, random
        generators, the evaluations so far) is saved there after every step but the last, and an existing
        checkpoint is continued from: the steps it holds are not trained again, and the rest give the
        same results as an uninterrupted run.
        """
        from fer_avalanche.strategies.registry import get_strategy_spec
        from fer_avalanche.strategies.state import (
            load_rng_state,
            load_strategy_state,
            rng_state,
            strategy_state,
        )

        spec = get_strategy_spec(name)
        evaluator, fer_metrics = self._evaluator(tb, baseline_acc)
        options = self.scenario.strategies.options.get(name, {})
        strategy = self._strategy(name, copy.deepcopy(model), seed, self.scenario.adapt, evaluator, options)
        source_exp = self.benchmark.train_stream[0]
        seed_everything(_stable_seed(name, *step_targets, seed))  # whatever building the strategy drew
        if getattr(spec, "warm_start", None) is not None:
            with quiet_third_party():
                spec.warm_start(strategy, source_exp)
        datasets = [exp.dataset for exp in self.benchmark.train_stream]
        key = self._step_key(name, seed, step_targets, options)
        evaluations: list[dict[str, Any]] = []
        train_time = 0.0
        if checkpoint is not None and checkpoint.exists():
            saved = _load_state(checkpoint, "sequence step", required="key")
            if saved["key"] != key:
                before, now = json.loads(saved["key"]), json.loads(key)
                differ = sorted(k for k in now.keys() | before.keys() if before.get(k) != now.get(k))
                raise CheckpointError(
                    f"{checkpoint}: checkpoint of another experiment (differs from this run in: "
                    f"{', '.join(differ)}); delete it to recompute this sequence"
                )
            evaluations, train_time = list(saved["evaluations"]), float(saved["train_time"])
            if spec.trains == "joint":
                load_rng_state(saved["rng"])
            else:
                with quiet_third_party():
                    load_strategy_state(strategy, saved["strategy"], datasets)
        for step in range(len(evaluations), len(step_targets)):
            exp = self.benchmark.train_stream[step_targets[step]]
            if spec.trains == "joint" and step > 0:
                # Avalanche's JointTraining trains once: each step is a new joint model on all data so far
                strategy = self._strategy(
                    name, copy.deepcopy(model), seed, self.scenario.adapt, evaluator, options
                )
            start = time.perf_counter()
            with quiet_third_party():
                if spec.trains == "target":
                    strategy.train(exp, eval_streams=[])
                elif spec.trains == "joint":
                    strategy.train(
                        [source_exp, *(self.benchmark.train_stream[i] for i in step_targets[: step + 1])],
                        eval_streams=[],
                    )
            train_time += time.perf_counter() - start
            evaluations.append(self._evaluate(strategy, fer_metrics))
            if checkpoint is not None and step + 1 < len(step_targets):
                state: dict[str, Any] = {"key": key, "evaluations": evaluations, "train_time": train_time}
                if spec.trains == "joint":  # rebuilt from the baseline at every step: only the RNGs carry
                    state["rng"] = rng_state()
                else:
                    try:
                        with quiet_third_party():
                            state["strategy"] = strategy_state(strategy, datasets)
                    except CheckpointError as exc:  # e.g. a user's plugin with no registered state
                        warnings.warn(
                            f"{name}: no step checkpoints ({exc}); an interrupted sequence restarts "
                            "from its first target",
                            stacklevel=2,
                        )
                        checkpoint = None
                        continue
                _save_state(checkpoint, state)
        self._close_loggers()
        return evaluations, train_time

    def _row(
        self,
        strategy: str,
        target: str,
        seed: int,
        evaluation: dict[str, Any],
        baseline: dict[str, Any],
        train_time: float,
    ) -> dict[str, Any]:
        from fer_avalanche.metrics import memory_integrity

        source = self.names[0]
        acc = {d: e["acc"] for d, e in evaluation.items()}
        base_acc = {d: e["acc"] for d, e in baseline.items()}
        mi = memory_integrity(acc, base_acc, source)
        return {
            "strategy": strategy,
            "target": target,
            "seed": seed,
            "acc": acc,
            "macro_f1": {d: e["macro_f1"] for d, e in evaluation.items()},
            "per_class_acc": {d: e["per_class_acc"] for d, e in evaluation.items()},
            "confusion": {d: e["confusion"] for d, e in evaluation.items()},
            "memory_integrity": mi["memory_integrity"],
            "source_drop": mi["source_drop"],
            "target_gain": acc[target] - base_acc[target],
            "train_time_s": round(train_time, 3),
        }

    def run(self) -> dict[str, Any]:
        """Run every seed and cell (skipping finished cells) and return the results dict."""
        self.prepare()
        s = self.scenario
        rows: list[dict[str, Any]] = []
        sequences: list[dict[str, Any]] = []
        baselines: dict[int, dict[str, Any]] = {}
        for seed in s.seeds:
            model, base_eval, info = self.baseline(seed)
            baselines[seed] = {"evaluation": base_eval, **info}
            base_acc = {d: e["acc"] for d, e in base_eval.items()}
            if s.mode == "pairwise":
                for t_index, target in enumerate(self.names[1:], start=1):
                    for name in s.strategies.names:
                        path = self._cell_path(name, target, f"s{seed}")
                        row = self._read_cell(path)
                        if row is None:
                            seed_everything(_stable_seed(name, target, seed))
                            evaluations, train_time = self._adapt(
                                name, model, seed, [t_index], [name, target, f"seed{seed}"], base_acc
                            )
                            row = self._row(name, target, seed, evaluations[-1], base_eval, train_time)
                            write_json(path, row)
                        rows.append(row)
                        if self.on_cell_done:
                            self.on_cell_done(row)
            else:
                for name in s.strategies.names:
                    path = self._cell_path(name, "sequence", f"s{seed}")
                    cell = self._read_cell(path)
                    if cell is None:
                        seed_everything(_stable_seed(name, "sequence", seed))
                        steps = list(range(1, len(self.names)))
                        checkpoint = self._step_checkpoint(name, seed)
                        evaluations, train_time = self._adapt(
                            name,
                            model,
                            seed,
                            steps,
                            [name, "sequence", f"seed{seed}"],
                            base_acc,
                            checkpoint=checkpoint,
                        )
                        cell = self._sequence(name, seed, base_eval, evaluations, train_time)
                        write_json(path, cell)
                        checkpoint.unlink(missing_ok=True)  # the cell holds everything it had
                    rows.extend(cell["rows"])
                    sequences.append(cell["sequence"])
                    if self.on_cell_done:
                        self.on_cell_done(cell["rows"][-1])
        first = baselines[s.seeds[0]]["evaluation"]
        return {
            "scenario": s.name,
            "mode": s.mode,
            "source": self.names[0],
            "datasets": self.names,
            "label_names": self.label_names,
            "seeds": s.seeds,
            "baseline": {
                "source": self.names[0],
                "acc": {d: e["acc"] for d, e in first.items()},
                "macro_f1": {d: e["macro_f1"] for d, e in first.items()},
                "per_class_acc": {d: e["per_class_acc"] for d, e in first.items()},
                "confusion": {d: e["confusion"] for d, e in first.items()},
                "per_seed": {
                    str(seed): {
                        "acc": {d: e["acc"] for d, e in b["evaluation"].items()},
                        "checkpoint": b["checkpoint"],
                        "reused": b["reused"],
                    }
                    for seed, b in baselines.items()
                },
            },
            "rows": rows,
            "sequences": sequences,
        }

    def _sequence(
        self,
        name: str,
        seed: int,
        base_eval: dict[str, Any],
        evaluations: list[dict[str, Any]],
        train_time: float,
    ) -> dict[str, Any]:
        from fer_avalanche.metrics import average_accuracy, backward_transfer, forgetting, max_forgetting

        order = self.names
        matrix = np.array(
            [[base_eval[d]["acc"] for d in order]] + [[e[d]["acc"] for d in order] for e in evaluations]
        )
        trained_at = list(range(len(order)))  # row j = after training on dataset j (row 0 = source)
        rows = [
            self._row(
                name,
                order[step],
                seed,
                evaluation,
                base_eval,
                train_time if step == len(evaluations) else 0.0,
            )
            for step, evaluation in enumerate(evaluations, start=1)
        ]
        for row in rows:
            row["step"] = order.index(row["target"])
        return {
            "rows": rows,
            "sequence": {
                "strategy": name,
                "seed": seed,
                "order": order,
                "matrix": matrix.tolist(),
                "average_accuracy": float(average_accuracy(matrix)),
                "bwt": float(backward_transfer(matrix, trained_at)),
                "forgetting": float(forgetting(matrix, trained_at)),
                "max_forgetting": float(max_forgetting(matrix, trained_at)),
            },
        }


# ---------------------------------------------------------------- public API
def default_run_dir(scenario: Scenario, root: Path = Path("runs")) -> Path:
    """``runs/<scenario name>-<YYYYmmdd-HHMMSS>``."""
    return root / f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_scenario(
    scenario: Scenario,
    out: str | Path | None = None,
    device: str | torch.device = "auto",
    resume: bool = False,
    overwrite: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    tensorboard: bool = True,
    on_cell_done: Callable[[dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run ``scenario`` and write a complete run directory; see the module docstring.

    Args:
        scenario: the experiment (:meth:`Scenario.demo`, :func:`~fer_avalanche.config.load_scenario`).
        out: run directory (default ``runs/<name>-<time>``).
        device: ``'auto'``, ``'cpu'`` or ``'cuda'``.
        resume: continue the run in ``out`` (which must hold the same scenario), skipping finished cells.
        overwrite: allow writing into an existing, finished run directory (otherwise an error).
        cache_dir: decode cache and baseline checkpoints (default ``~/.cache/fer-avalanche``).
        progress: Avalanche's interactive logger (progress bars) on the terminal.
        tensorboard: write TensorBoard logs under ``<run>/tb``.
        on_cell_done: called with each results row as soon as it is available.

    Raises:
        ConfigError: the run directory exists (without ``resume``/``overwrite``), or ``resume`` on a
            directory whose scenario differs.
    """
    dev = resolve_device(device)
    run_dir = Path(out) if out is not None else default_run_dir(scenario)
    toml_text = scenario_to_toml(scenario)
    recorded = run_dir / "scenario.toml"
    if resume:
        if not recorded.is_file():
            raise ConfigError(f"{run_dir}: nothing to resume (no scenario.toml); run without --resume first")
        if recorded.read_text(encoding="utf-8") != toml_text:
            raise ConfigError(
                f"{recorded}: the run directory holds a different scenario; resume with the same scenario "
                "and --set values, or choose another --out"
            )
    elif run_dir.exists() and any(run_dir.iterdir()) and not overwrite:
        raise ConfigError(
            f"{run_dir}: run directory already exists and is not empty; use --resume to continue it, "
            "--overwrite to replace it, or choose another --out"
        )
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(recorded, toml_text)
    write_json(run_dir / "environment.json", _environment(dev, scenario))
    runner = Runner(
        scenario,
        run_dir,
        dev,
        Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(),
        progress=progress,
        tensorboard=tensorboard,
        on_cell_done=on_cell_done,
    )
    start = time.perf_counter()
    results = runner.run()
    results["config"] = scenario.to_dict()
    results["environment"] = json.loads((run_dir / "environment.json").read_text(encoding="utf-8"))
    results["wall_time_s"] = round(time.perf_counter() - start, 2)
    from fer_avalanche.reporting import write_results

    write_results(run_dir, results)
    if tensorboard:
        _log_summary_images(run_dir)
    return RunResult(run_dir, results)


def _log_summary_images(run_dir: Path) -> None:
    """The accuracy-matrix and trade-off plots as TensorBoard images (``tb/summary``)."""
    from PIL import Image
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(run_dir / "tb" / "summary"))
    try:
        for name in ("accuracy_matrix", "tradeoff"):
            path = run_dir / f"{name}.png"
            if path.is_file():
                with Image.open(path) as image:
                    array = np.asarray(image.convert("RGB"))
                writer.add_image(f"FER/{name}", array, dataformats="HWC")
    finally:
        writer.close()
