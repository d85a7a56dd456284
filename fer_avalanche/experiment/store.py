"""The run directory: the rules for reusing it, and every file a run writes there.

Layout: ``scenario.toml`` (the resolved scenario), ``environment.json``, ``datasets.json``,
``cells/<cell>.json`` (one per finished cell, with the key of the settings that produced it),
``checkpoints/<cell>.pt`` (a sequence's state after its last finished step), ``models/`` (with
``save_models``: :mod:`fer_avalanche.models.saved`), the loggers' files and the reports.

Rules (:meth:`RunStore.open`):

- a new or empty directory is used as is;
- ``resume=True`` continues a run: its ``scenario.toml`` must equal the current scenario, finished
  cells are read back (only when their key matches), the rest is computed;
- ``overwrite=True`` replaces a run: the old run's cells, checkpoints and reports are first moved
  aside in one rename each and deleted, so no cell of the old run can ever be read as the new run's;
- otherwise a non-empty directory is an error (nothing in it is touched).

Every file is written atomically (:mod:`fer_avalanche.io`).

Example:
    >>> from fer_avalanche.experiment.store import RunStore
    >>> store = RunStore("runs/demo")  # doctest: +SKIP
    >>> store.open(toml_text, resume=False, overwrite=False)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.experiment import faults
from fer_avalanche.experiment.keys import differing
from fer_avalanche.io import atomic_path, atomic_write_text, write_json

if TYPE_CHECKING:
    from fer_avalanche.experiment.plan import Cell

__all__ = ["RunStore", "save_checkpoint", "load_checkpoint"]

#: What a run writes besides ``cells/`` and ``checkpoints/`` (cleared by ``overwrite``).
_RUN_OUTPUTS = (
    "results.json",
    "results.csv",
    "results.md",
    "tradeoff.png",
    "accuracy_matrix.png",
    "confusion",
    "tb",
    "models",
    "csv",
    "log.txt",
    "wandb",
    "datasets.json",
    "environment.json",
)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` ``state`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, what: str, required: str = "model") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``.

    Raises:
        CheckpointError: unreadable, corrupt, or without the ``required`` entry (the message names the
            file and says to delete it).
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(
            f"{path}: cannot load {what} checkpoint ({type(exc).__name__}: {exc}); delete it to recompute"
        ) from None
    if not isinstance(state, dict) or required not in state:
        raise CheckpointError(f"{path}: not a fer-avalanche {what} checkpoint (no {required!r} entry)")
    return state


class RunStore:
    """One run directory (see the module docstring)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.cells_dir = self.run_dir / "cells"
        self.checkpoints_dir = self.run_dir / "checkpoints"

    # ------------------------------------------------------------------ opening
    def check(self, scenario_toml: str, *, resume: bool, overwrite: bool) -> None:
        """Apply the reuse rules without touching anything (see the module docstring).

        Raises:
            ConfigError: nothing to resume, a different scenario under ``resume``, or a non-empty
                directory without ``resume``/``overwrite``.
        """
        recorded = self.run_dir / "scenario.toml"
        if resume:
            if not recorded.is_file():
                raise ConfigError(
                    f"{self.run_dir}: nothing to resume (no scenario.toml); run without --resume first"
                )
            if recorded.read_text(encoding="utf-8") != scenario_toml:
                raise ConfigError(
                    f"{recorded}: the run directory holds a different scenario; resume with the same "
                    "scenario and --set values, or choose another --out"
                )
        elif self.run_dir.exists() and any(self.run_dir.iterdir()) and not overwrite:
            raise ConfigError(
                f"{self.run_dir}: run directory already exists and is not empty; use --resume to "
                "continue it, --overwrite to replace it, or choose another --out"
            )

    def open(self, scenario_toml: str, *, resume: bool, overwrite: bool) -> None:
        """:meth:`check`, then clear the old run (``overwrite``) and record the scenario."""
        self.check(scenario_toml, resume=resume, overwrite=overwrite)
        if not resume and self.run_dir.exists() and any(self.run_dir.iterdir()):
            self.clear()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "scenario.toml", scenario_toml)

    def clear(self) -> None:
        """Remove the previous run's cells, checkpoints and outputs (each moved aside by one rename)."""
        trash = self.run_dir / f".replaced-{uuid.uuid4().hex[:8]}"
        trash.mkdir()
        names = ["cells", "checkpoints", "scenario.toml", *_RUN_OUTPUTS]
        names += [p.name for p in self.run_dir.glob("curves_*.png")]
        names += [p.name for p in self.run_dir.glob("tradeoff__*.png")]  # a sweep's, one per variant
        names += [p.name for p in self.run_dir.glob("accuracy_matrix__*.png")]
        for name in names:
            path = self.run_dir / name
            if path.exists():
                os.replace(path, trash / name)
        shutil.rmtree(trash, ignore_errors=True)
        for stale in self.run_dir.glob(".replaced-*"):  # left by a run killed while clearing
            shutil.rmtree(stale, ignore_errors=True)

    # -------------------------------------------------------------------- files
    def write_json(self, name: str, obj: object) -> None:
        """Write ``RUN_DIR/name`` as JSON, atomically."""
        write_json(self.run_dir / name, obj)

    def cell_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.name}.json"

    def checkpoint_path(self, cell: Cell) -> Path:
        return self.checkpoints_dir / f"{cell.name}.pt"

    def write_cell(self, cell: Cell, record: dict[str, Any]) -> None:
        """Save a finished cell (its record holds its ``key``) and drop its step checkpoint."""
        write_json(self.cell_path(cell), record)
        self.checkpoint_path(cell).unlink(missing_ok=True)
        faults.reached("after-cell")  # a testing hook (off unless FER_AVALANCHE_FAULT is set)

    def read_cell(self, cell: Cell, key: dict[str, Any]) -> dict[str, Any] | None:
        """A finished cell's record, or ``None`` when absent, damaged, or made with other settings."""
        path = self.cell_path(cell)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged cell is recomputed
        saved = record.get("key") if isinstance(record, dict) else None
        if saved != key:
            what = differing(saved, key) if isinstance(saved, dict) else ["key"]
            warnings.warn(
                f"{path}: made with other settings (differs in: {', '.join(what)}); recomputing it",
                stacklevel=2,
            )
            return None
        return record
