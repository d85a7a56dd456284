"""``run_scenario``: plan the cells, run baselines then cells on an executor, write the run directory.

Order: the run directory's rules (:mod:`~fer_avalanche.experiment.store`), the plan
(:mod:`~fer_avalanche.experiment.plan`), the key of every cell (finished cells with the same key are
read back, the rest run), one baseline task per seed, then one task per unfinished cell. Each finished
cell is written to ``cells/`` (and to TensorBoard) by this process as soon as it arrives; at the end the
results dict is assembled from the records, with its confidence intervals, and the reports are written.

A scenario with a ``[sweep]`` runs every variant's cells in the same run directory; baselines and cells
are computed once wherever the variants' settings that feed them agree (:class:`_Run`), and intervals,
summaries and the report are made within each variant (:mod:`fer_avalanche.sweeps`).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.config import Scenario, scenario_to_toml
from fer_avalanche.experiment.context import ExperimentContext, _data_settings
from fer_avalanche.experiment.executors import Executor, make_executor
from fer_avalanche.experiment.keys import cell_key, digest
from fer_avalanche.experiment.plan import Cell, plan_cells, plan_seeds
from fer_avalanche.experiment.progress import RunProgress
from fer_avalanche.experiment.records import BaselineRecord, CellRecord, build_results, rows_of
from fer_avalanche.experiment.store import RunStore
from fer_avalanche.experiment.tasks import baseline_task, cell_task, raise_if_error
from fer_avalanche.results import Results
from fer_avalanche.sweeps import add_intervals
from fer_avalanche.utils import determinism, resolve_device

__all__ = ["run_scenario", "RunResult", "default_run_dir"]


@dataclass
class RunResult:
    """What :func:`run_scenario` returns: the run directory and its results: ``typed`` (the
    :class:`~fer_avalanche.results.Results` written as ``results.json``) and ``results``, the same as
    the ``results.json`` dict (``typed.to_json()``)."""

    run_dir: Path
    results: dict[str, Any]
    typed: Results | None = None


def default_run_dir(scenario: Scenario, root: Path = Path("runs")) -> Path:
    """``runs/<scenario name>-<YYYYmmdd-HHMMSS>``."""
    return root / f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _environment(device: torch.device, scenario: Scenario, executor: str, ex: Executor) -> dict[str, Any]:
    import avalanche

    import fer_avalanche

    return {
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
        "cpu_threads": ex.threads or torch.get_num_threads(),
        "executor": executor,
        "seeds": scenario.seeds,
        "command": sys.argv,
        "started": datetime.now().isoformat(timespec="seconds"),
    }


class _Run:
    """The state of one run_scenario call (kept small: the work is in the modules it calls).

    Building it loads every dataset and computes every key, so bad data or settings fail here, before
    the run directory is touched.

    A sweep's variants share work wherever their settings agree: one baseline task per distinct
    baseline (its key and the data it is evaluated on: a sweep over adaptation settings trains each
    seed's baseline once), and one computation per distinct cell key once the variant is left out
    (``ft-fc`` under a sweep of fusion's options runs once; the other variants' cell files hold the
    same record under their own names and keys).
    """

    def __init__(self, scenario: Scenario, ctx: ExperimentContext, store: RunStore):
        self.scenario, self.ctx, self.store = scenario, ctx, store
        self.executor: Executor = None  # type: ignore[assignment]
        self.toml = scenario_to_toml(scenario)
        self.cells = plan_cells(scenario)
        self.seeds = plan_seeds(scenario)
        self.common = (self.toml, str(ctx.device), str(ctx.cache_dir))
        self._baseline_keys: dict[tuple[Any, int], dict[str, Any]] = {}
        self.keys = {cell: self.key(cell) for cell in self.cells}
        self.work = {cell: self.work_key(cell) for cell in self.cells}
        self.baseline_units = self._baseline_units()

    def context(self, cell: Cell) -> ExperimentContext:
        return self.ctx.variant(cell.variant)

    def baseline_key(self, cell: Cell) -> dict[str, Any]:
        """The key of the baseline a cell starts from (computed once per variant and seed: it hashes
        the source's training data)."""
        at = (cell.variant, cell.seed)
        if at not in self._baseline_keys:
            self._baseline_keys[at] = self.context(cell).baseline_key(cell.seed)
        return self._baseline_keys[at]

    def key(self, cell: Cell) -> dict[str, Any]:
        ctx = self.context(cell)
        datasets = ctx.datasets(cell.targets, cell.seed, cell.fold)
        return cell_key(ctx.scenario, cell, self.baseline_key(cell), {d.name: d for d in datasets})

    def work_key(self, cell: Cell) -> str:
        """What the cell computes, whatever variant it belongs to (equal: computed once)."""
        from fer_avalanche.strategies.registry import get_strategy_spec

        key = dict(self.keys[cell])
        key["cell"] = {k: v for k, v in key["cell"].items() if k != "variant"}
        if get_strategy_spec(cell.strategy).trains == "none":  # evaluation only: no adaptation setting
            key.pop("adapt", None)
            key.pop("options", None)
        return digest(key)

    def _baseline_units(self) -> dict[Cell, tuple[Any, ...]]:
        """Each cell's baseline unit: ``(seed, baseline key digest, data settings)``."""
        out = {}
        for cell in self.cells:
            ctx = self.context(cell)
            data = json.dumps(_data_settings(ctx.scenario), sort_keys=True, default=str)
            out[cell] = (cell.seed, digest(self.baseline_key(cell)), data)
        return out

    def evaluate_on(self, unit: tuple[Any, ...]) -> dict[int | None, list[str]]:
        """For each fold, the datasets the baseline of ``unit`` is evaluated on (each dataset once)."""
        out: dict[int | None, list[str]] = {None: [self.ctx.source_name]}
        for cell in self.cells:
            if self.baseline_units[cell] == unit:
                for name in cell.targets:
                    fold = cell.fold if self._has_folds(name) else None
                    if name not in out.setdefault(fold, []):
                        out[fold].append(name)
        return out

    def _has_folds(self, name: str) -> bool:
        spec = next((t for t in self.scenario.targets if t.name == name), None)
        return spec is not None and spec.split.has_folds

    def datasets_summary(self) -> list[dict[str, Any]]:
        seen: dict[int, dict[str, Any]] = {}
        for cell in self.cells:
            for data in self.context(cell).datasets(cell.targets, cell.seed, cell.fold):
                if id(data) not in seen:
                    seen[id(data)] = {**data.summary(), "seed": cell.seed, "fold": cell.fold}
        return list(seen.values())

    def unit_variants(self) -> dict[tuple[Any, ...], Any]:
        """The variant of the first cell of each baseline unit (the settings it was trained with)."""
        return {self.baseline_units[cell]: cell.variant for cell in reversed(self.cells)}

    def unit_scenario(self, unit: tuple[Any, ...]) -> Scenario:
        """The scenario (of its variant) a baseline unit was trained with."""
        return self.ctx.variant(self.unit_variants()[unit]).scenario

    def baselines(self, progress: RunProgress) -> dict[tuple[Any, ...], BaselineRecord]:
        """Train (or load) every baseline unit once; a unit whose weights another unit trains (same
        key, other evaluation data) runs after it and loads them from the cache."""
        echo = progress.echo if self.executor.in_process else None
        units = list(dict.fromkeys(self.baseline_units[c] for c in self.cells))
        variant_of = self.unit_variants()
        trained: set[tuple[Any, ...]] = set()
        waves: list[list[tuple[Any, ...]]] = [[], []]
        for unit in units:
            waves[unit[:2] in trained].append(unit)
            trained.add(unit[:2])
        out = {}
        for wave in waves:
            calls = [
                (
                    baseline_task,
                    (*self.common, unit[0], self.evaluate_on(unit), self.executor.threads),
                    {"echo": echo, "variant": variant_of[unit]},
                )
                for unit in wave
            ]
            for index, result in self.executor.run(calls):
                record = raise_if_error(result)
                out[wave[index]] = record
                progress.echo(
                    f"baseline (seed {record.seed}): {'reused' if record.reused else 'trained'}, "
                    f"source acc {record.evaluations[None][self.ctx.source_name].acc:.3f}"
                )
        return {unit: out[unit] for unit in units}


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
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
) -> RunResult:
    """Run ``scenario`` and write a complete run directory.

    Args:
        scenario: the experiment (:meth:`Scenario.demo`, :func:`~fer_avalanche.config.load_scenario`).
        out: run directory (default ``runs/<name>-<time>``).
        device: ``'auto'``, ``'cpu'`` or ``'cuda'``.
        resume: continue the run in ``out`` (which must hold the same scenario), skipping finished cells.
        overwrite: replace an existing run in ``out`` (its cells and checkpoints are deleted first).
        cache_dir: decode cache and baseline checkpoints (default ``~/.cache/fer-avalanche``).
        progress: the cell bar and one line per training epoch on stderr.
        tensorboard: write TensorBoard logs under ``<run>/tb`` (when the scenario's ``loggers`` name it;
            ``False`` drops it from them).
        on_cell_done: called with each finished cell's (last) results row.
        executor: ``'serial'`` (this process), ``'local'`` (a local Dask cluster of ``workers``
            processes) or ``'dask'`` (the cluster at ``scheduler``).
        workers, scheduler: see ``executor``.
        threads: CPU threads per cell (default: all cores for serial, cores // workers for local).
            CPU results are bit-identical across executors for the same threads per cell.

    Raises:
        ConfigError: the run directory exists (without ``resume``/``overwrite``), ``resume`` on a
            directory whose scenario differs, a bad executor setting.

    Example:
        >>> from fer_avalanche import Scenario, run_scenario
        >>> run = run_scenario(Scenario.demo(), out="runs/my-demo", device="cpu")  # doctest: +SKIP
        >>> run.results["rows"][0]["memory_integrity"]  # doctest: +SKIP
    """
    dev = resolve_device(device)
    run_dir = Path(out) if out is not None else default_run_dir(scenario)
    store = RunStore(run_dir)
    store.check(scenario_to_toml(scenario), resume=resume, overwrite=overwrite)
    start = time.perf_counter()
    run = _Run(scenario, ExperimentContext(scenario, dev, cache_dir), store)
    with (
        determinism(scenario.deterministic, dev),
        make_executor(executor, workers=workers, scheduler=scheduler, threads=threads) as ex,
    ):
        run.executor = ex
        store.open(run.toml, resume=resume, overwrite=overwrite)  # from here on the old run is replaced
        store.write_json("environment.json", _environment(dev, scenario, executor, ex))
        store.write_json("datasets.json", run.datasets_summary())
        results = _execute(run, progress, tensorboard, on_cell_done)
    results.config = scenario.to_dict()
    results.environment = _read_json(run_dir / "environment.json")
    results.wall_time_s = round(time.perf_counter() - start, 2)
    results = add_intervals(results)
    _write_reports(run_dir, results, "tensorboard" in _logger_names(scenario, tensorboard))
    return RunResult(run_dir, results.to_json(), results)


def _read_json(path: Path) -> Any:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def _cell_calls(
    run: _Run, todo: list[Cell], baselines: dict[tuple[Any, ...], BaselineRecord], echo: Any, models: Any
) -> list[Any]:
    """One ``cell_task`` call per unfinished cell (each baseline is sent to the workers once)."""
    shared = {unit: run.executor.share(b) for unit, b in baselines.items()}
    calls = []
    for cell in todo:
        save = models is not None and models.wants(cell)
        checkpoint = str(run.store.checkpoint_path(cell)) if run.executor.shared_filesystem else None
        args = (
            *run.common,
            cell.to_dict(),
            run.keys[cell],
            shared[run.baseline_units[cell]],
            checkpoint,
            run.executor.threads,
        )
        calls.append((cell_task, args, {"echo": echo, "save_model": save}))
    return calls


def _execute(
    run: _Run, progress: bool, tensorboard: bool, on_cell_done: Callable[[dict[str, Any]], None] | None
) -> Results:
    from fer_avalanche.experiment.loggers import make_run_loggers
    from fer_avalanche.models.saved import ModelWriter

    done: dict[Cell, CellRecord] = {}
    for cell in run.cells:
        raw = run.store.read_cell(cell, run.keys[cell])
        if raw is not None:
            done[cell] = CellRecord.from_dict(raw)
    models = (
        ModelWriter(run.scenario, run.store.run_dir, run.ctx.source_name)
        if run.scenario.save_models
        else None
    )
    if models is not None:  # a cell is reused only with its model file, written under the same key
        done = {c: r for c, r in done.items() if not models.wants(c) or models.reusable(c, run.keys[c])}
    same: dict[str, list[Cell]] = {}  # cells that compute the same thing (a sweep's shared cells)
    for cell in run.cells:
        same.setdefault(run.work[cell], []).append(cell)
    source = run.ctx.source_name
    loggers = make_run_loggers(_logger_names(run.scenario, tensorboard), run.store.run_dir, run.scenario)
    bar = RunProgress(len(run.cells), len(done), run.scenario.name, quiet=not progress)
    try:
        baselines = run.baselines(bar)
        names = _baseline_file_names(run, baselines)
        if models is not None:
            models.prune([models.path(c) for c in done if models.wants(c)])
        for unit, record in baselines.items():
            if models is not None:
                models.write_baseline(record, names[unit], run.unit_scenario(unit))
            for logger in loggers:
                logger.baseline(record, source)
        for cell in run.cells:  # cells read back: the loggers that rewrite their files log them again
            if cell in done:
                rows = rows_of(done[cell], baselines[run.baseline_units[cell]], source)
                for logger in loggers:
                    if logger.logs_reused:
                        logger.cell(done[cell], rows, run.ctx.label_names, source)

        def finish(cell: Cell, steps: list[Any], state: bytes | None) -> None:
            record = done[cell] = CellRecord(cell, run.keys[cell], steps)
            if models is not None and state is not None and models.wants(cell):
                # before the cell: a cell file implies its model
                models.write_cell(cell, record.key, state, run.context(cell).scenario)
            run.store.write_cell(cell, record.to_dict())
            rows = rows_of(record, baselines[run.baseline_units[cell]], source)
            for logger in loggers:
                logger.cell(record, rows, run.ctx.label_names, source)
            bar.finished(cell.label, f"MI={rows[-1]['memory_integrity']:.3f}")
            if on_cell_done:
                on_cell_done(rows[-1])

        for group in same.values():  # finished elsewhere in the sweep: the same record, this cell's name
            known = next((done[c] for c in group if c in done), None)
            for cell in group if known is not None else ():
                if cell not in done and (models is None or not models.wants(cell)):
                    finish(cell, known.steps, None)
        todo = [next(c for c in group if c not in done) for group in same.values() if set(group) - set(done)]
        if todo:
            bar.running(todo[0].label)
        calls = _cell_calls(run, todo, baselines, bar.echo if run.executor.in_process else None, models)
        for index, result in run.executor.run(calls):
            raw = raise_if_error(result)
            state = raw.pop("state", None)
            steps = CellRecord.from_dict(raw).steps
            for cell in same[run.work[todo[index]]]:
                if cell not in done:
                    finish(cell, steps, state)
    finally:
        bar.close()
        for logger in loggers:
            logger.close()
    s = run.scenario
    names = list(dict.fromkeys([run.ctx.source_name, *(t for c in run.cells for t in c.targets)]))
    cells = [done[c] for c in run.cells]
    units = list(baselines)
    index = {cell: units.index(run.baseline_units[cell]) for cell in run.cells}
    return build_results(
        s.mode, s.name, names, run.ctx.label_names, s.seeds, list(baselines.values()), cells, index
    )


def _baseline_file_names(run: _Run, baselines: dict[tuple[Any, ...], BaselineRecord]) -> dict[Any, str]:
    """The name of each baseline's model file: ``baseline__<source>__s<seed>``, and the variant's slug
    after it when a sweep trains several baselines for one seed."""
    from fer_avalanche.config import variant_slug
    from fer_avalanche.models.saved import model_file_name

    seeds = [unit[0] for unit in baselines]
    variants = run.unit_variants()
    out = {}
    for unit in baselines:
        name = model_file_name("baseline", run.ctx.source_name, unit[0])[: -len(".pt")]
        if seeds.count(unit[0]) > 1:
            name += f"__{variant_slug(variants[unit])}"
        out[unit] = f"{name}.pt"
    return out


def _logger_names(scenario: Scenario, tensorboard: bool) -> list[str]:
    """The scenario's loggers (``tensorboard=False``, the CLI's ``--no-tensorboard``, drops TensorBoard)."""
    return [n for n in scenario.loggers if tensorboard or n != "tensorboard"]


def _write_reports(run_dir: Path, results: Results, tensorboard: bool) -> None:
    from fer_avalanche.reporting import write_results

    write_results(run_dir, results)
    if tensorboard:
        from fer_avalanche.experiment.tensorboard import write_summary_images

        write_summary_images(run_dir)
