"""The loggers of a run, by name (``loggers = ["tensorboard", "csv", "text"]`` in a scenario).

Cells may run on other machines, so loggers are fed by the client process from the records, after
each finished cell (and each seed's baseline), never from inside the training loop:

- ``tensorboard`` (the default): our event files under ``RUN_DIR/tb``
  (:mod:`~fer_avalanche.experiment.tensorboard`);
- ``csv``: Avalanche's :class:`~avalanche.logging.CSVLogger` in ``RUN_DIR/csv``: its own
  ``training_results.csv`` (one line per training epoch of every cell: ``training_exp`` = the cell and
  target) and ``eval_results.csv`` (one line per evaluated dataset: ``eval_exp`` = the dataset,
  ``eval_accuracy``, ``forgetting`` = the source drop on the source), and ``metrics.csv`` (``name, x,
  value``: every scalar below, which Avalanche's CSVLogger has no file for);
- ``text``: Avalanche's :class:`~avalanche.logging.TextLogger` writing ``RUN_DIR/log.txt``;
- ``interactive``: Avalanche's :class:`~avalanche.logging.InteractiveLogger` (standard output);
- ``wandb``: Avalanche's :class:`~avalanche.logging.WandBLogger`, offline (``WANDB_MODE=offline``,
  files in ``RUN_DIR/wandb``; ``wandb sync`` uploads them later; its step is a running count of the
  logged steps, as W&B's steps only go forward); the ``[wandb]`` extra.

Every Avalanche logger receives our scalars as Avalanche :class:`MetricValue` objects through its own
``log_metrics`` API: ``FER/<cell>/acc/<dataset>``, ``FER/<cell>/macro_f1/<dataset>``,
``FER/<cell>/memory_integrity``, ``FER/<cell>/source_drop``, ``FER/<cell>/target_gain/<target>`` at
``x`` = the step of the cell (1 for a pairwise cell), and ``FER/baseline__<source>__s<seed>/acc/<dataset>``
at ``x`` = 0 (or the fold).

Example:
    >>> LOGGERS.names()
    ['tensorboard', 'csv', 'text', 'interactive', 'wandb']
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.registry import Registry
from fer_avalanche.utils import quiet_third_party

if TYPE_CHECKING:
    from avalanche.evaluation.metric_results import MetricValue
    from avalanche.logging import BaseLogger, CSVLogger, TextLogger

    from fer_avalanche.config import Scenario
    from fer_avalanche.experiment.records import BaselineRecord, CellRecord

__all__ = ["RunLogger", "LOGGERS", "make_run_loggers", "cell_values", "baseline_values"]


class RunLogger:
    """One logger of a run, fed from the records by the client process.

    ``logs_reused``: whether cells read back by ``--resume`` are logged again (Avalanche's file loggers
    rewrite their files each run, so they log every cell; TensorBoard keeps its old events).
    """

    logs_reused = True

    def baseline(self, record: BaselineRecord, source: str) -> None:
        """A seed's baseline (a :class:`~fer_avalanche.experiment.records.BaselineRecord`)."""

    def cell(
        self, record: CellRecord, rows: Sequence[dict[str, Any]], label_names: Sequence[str], source: str
    ) -> None:
        """A finished cell (its CellRecord, its results rows: one per step; ``source``: its name)."""

    def close(self) -> None:
        """Flush and close."""


class TensorBoardLogger(RunLogger):
    """Our TensorBoard event files (``RUN_DIR/tb``)."""

    logs_reused = False

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def baseline(self, record: BaselineRecord, source: str) -> None:
        from fer_avalanche.experiment.tensorboard import write_baseline_events

        write_baseline_events(self.run_dir, record)

    def cell(
        self, record: CellRecord, rows: Sequence[dict[str, Any]], label_names: Sequence[str], source: str
    ) -> None:
        from fer_avalanche.experiment.tensorboard import write_cell_events

        write_cell_events(self.run_dir, record, rows, label_names)


def _metric(name: str, value: float, x: int) -> MetricValue:
    from avalanche.evaluation.metric_results import MetricValue

    return MetricValue("fer-avalanche", name, float(value), x)


def baseline_values(record: BaselineRecord, source: str) -> list[Any]:
    """A baseline's accuracies as Avalanche MetricValues (x = 0, or the fold)."""
    from fer_avalanche.models.saved import model_file_name

    tag = model_file_name("baseline", source, record.seed)[: -len(".pt")]
    out = []
    for fold, evaluation in record.evaluations.items():
        for name, result in evaluation.items():
            out.append(_metric(f"FER/{tag}/acc/{name}", result.acc, 0 if fold is None else fold))
    return out


def cell_values(record: CellRecord, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """A cell's scalars as Avalanche MetricValues, one list per step (x = the step, from 1)."""
    cell = record.cell.name
    steps = []
    for index, (step, row) in enumerate(zip(record.steps, rows, strict=True), start=1):
        values = []
        for name, result in step.evaluation.items():
            values.append(_metric(f"FER/{cell}/acc/{name}", result.acc, index))
            values.append(_metric(f"FER/{cell}/macro_f1/{name}", result.macro_f1, index))
        for tag in ("memory_integrity", "source_drop"):
            if not math.isnan(row[tag]):
                values.append(_metric(f"FER/{cell}/{tag}", row[tag], index))
        values.append(_metric(f"FER/{cell}/target_gain/{row['target']}", row["target_gain"], index))
        steps.append(values)
    return steps


class AvalancheLogger(RunLogger):
    """An Avalanche logger fed our MetricValues (``flush`` writes what it has, per logger kind).

    ``monotonic``: ``x`` is a running count of logged steps instead (W&B drops a step that goes back).
    """

    def __init__(
        self, logger: BaseLogger, flush: Callable[[Any, str], None] | None = None, monotonic: bool = False
    ) -> None:
        self.logger = logger
        self._flush = flush
        self._count = 0 if monotonic else None

    def _log(self, values: list[Any], title: str) -> None:
        if self._count is not None:
            for value in values:
                value.x_plot = self._count
            self._count += 1
        self.logger.log_metrics(values)
        if self._flush:
            self._flush(self.logger, title)

    def baseline(self, record: BaselineRecord, source: str) -> None:
        self._log(baseline_values(record, source), f"baseline (seed {record.seed})")

    def cell(
        self, record: CellRecord, rows: Sequence[dict[str, Any]], label_names: Sequence[str], source: str
    ) -> None:
        for step, values in zip(record.steps, cell_values(record, rows), strict=True):
            self._log(values, f"{record.cell.label}: after {step.target}")

    def close(self) -> None:
        for attr in ("file", "training_file", "eval_file", "metrics_file"):
            fh = getattr(self.logger, attr, None)
            if fh is not None and fh not in (sys.stdout, sys.stderr):
                fh.close()
        finish = getattr(getattr(self.logger, "wandb", None), "finish", None)
        if finish is not None:
            finish()


def _text_flush(logger: TextLogger, title: str) -> None:
    print(f"> {title}", file=logger.file)
    logger.print_current_metrics()
    logger.metric_vals = {}
    logger.file.flush()


def _csv_logger(run_dir: Path) -> CSVLogger:
    with quiet_third_party():
        from avalanche.logging import CSVLogger

    class FERCSVLogger(CSVLogger):
        """Avalanche's CSVLogger, plus ``metrics.csv`` for the scalars it has no file for."""

        def __init__(self, log_folder: str) -> None:
            super().__init__(log_folder)
            self.metrics_file = open(os.path.join(log_folder, "metrics.csv"), "w")  # noqa: SIM115
            print("name,x,value", file=self.metrics_file, flush=True)

        def log_single_metric(self, name: str, value: object, x_plot: int) -> None:
            text = repr(float(value)) if isinstance(value, (int, float)) else self._val_to_str(value)
            print(name, x_plot, text, sep=",", file=self.metrics_file, flush=True)

    return FERCSVLogger(str(run_dir / "csv"))


class CSVRunLogger(AvalancheLogger):
    """Avalanche's CSVLogger: its training and eval files from the records, and every scalar."""

    def cell(
        self, record: CellRecord, rows: Sequence[dict[str, Any]], label_names: Sequence[str], source: str
    ) -> None:
        super().cell(record, rows, label_names, source)
        for step, row in zip(record.steps, rows, strict=True):
            exp = f"{record.cell.name}:{step.target}"
            val = {p["epoch"]: p["acc"].get(step.target, "") for p in step.curve}
            for entry in step.history:
                self.logger.print_train_metrics(
                    exp,
                    entry["epoch"],
                    float(entry["acc"]),
                    val.get(entry["epoch"], ""),
                    float(entry["loss"]),
                    "",
                )
            for name, result in step.evaluation.items():
                drop = row["source_drop"] if name == source else ""
                self.logger.print_eval_metrics(name, exp, float(result.acc), "", drop)


def _build_csv(run_dir: Path, scenario: Scenario) -> RunLogger:
    return CSVRunLogger(_csv_logger(run_dir))


def _build_text(run_dir: Path, scenario: Scenario) -> RunLogger:
    with quiet_third_party():
        from avalanche.logging import TextLogger

    run_dir.mkdir(parents=True, exist_ok=True)
    return AvalancheLogger(TextLogger(open(run_dir / "log.txt", "w", encoding="utf-8")), _text_flush)  # noqa: SIM115


def _build_interactive(run_dir: Path, scenario: Scenario) -> RunLogger:
    with quiet_third_party():
        from avalanche.logging import InteractiveLogger

    return AvalancheLogger(InteractiveLogger(), _text_flush)


def _build_wandb(run_dir: Path, scenario: Scenario) -> RunLogger:
    try:
        import wandb  # noqa: F401
    except ImportError:
        raise ConfigError(
            'loggers: "wandb" needs the wandb package: pip install -e ".[wandb]" (or pip install wandb)'
        ) from None
    os.environ["WANDB_MODE"] = "offline"  # never the network; `wandb sync RUN_DIR/wandb/...` uploads
    os.environ.setdefault("WANDB_SILENT", "true")
    folder = run_dir / "wandb"
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_third_party():
        from avalanche.logging import WandBLogger

        logger = WandBLogger(
            project_name="fer-avalanche",
            run_name=scenario.name,
            save_code=False,
            config=scenario.to_dict(),
            dir=str(folder),
            params={"mode": "offline"},
        )
    return AvalancheLogger(logger, monotonic=True)


#: Run loggers by name: ``LOGGERS.get(name)(run_dir, scenario) -> RunLogger``.
LOGGERS: Registry[Callable[[Path, Any], RunLogger]] = Registry("logger")
LOGGERS.add("tensorboard", lambda run_dir, scenario: TensorBoardLogger(run_dir), aliases=("tb",))
LOGGERS.add("csv", _build_csv)
LOGGERS.add("text", _build_text)
LOGGERS.add("interactive", _build_interactive)
LOGGERS.add("wandb", _build_wandb, aliases=("weights-and-biases",))


def make_run_loggers(names: Sequence[str], run_dir: Path, scenario: Scenario) -> list[RunLogger]:
    """The loggers ``names`` for a run in ``run_dir`` (unknown names: ConfigError)."""
    out: list[RunLogger] = []
    try:
        for name in names:
            out.append(LOGGERS.get(name)(Path(run_dir), scenario))
    except BaseException:
        for logger in out:
            logger.close()
        raise
    return out
