"""Progress of a run: one bar for cells, one line per training epoch, a readable log when piped.

:class:`EpochReporter` is a plugin every trained cell carries: it accumulates the training loss and
accuracy of each epoch on the device (one host sync per epoch), keeps them as ``history`` (saved in the
cell's record, logged to TensorBoard) and, given an ``echo`` function, prints one line per epoch::

    [ft-fc -> lab-a (seed 0)] epoch 3/6  loss 1.214  acc 0.562  (2.1 s)

:class:`RunProgress` is the cell bar (done / total, elapsed, ETA, the cell finished last) on a terminal;
when the output is not a terminal it prints one plain line per finished cell instead. ``quiet`` turns
both off.

Example:
    >>> from fer_avalanche.experiment.progress import EpochReporter
    >>> EpochReporter("ft-fc -> lab-a").history
    []
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

import torch

from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["EpochReporter", "RunProgress"]


class EpochReporter(SupervisedPlugin):
    """Per-epoch training loss and accuracy (device-side sums, one sync per epoch).

    Args:
        label: names the cell in printed lines.
        echo: called with one line per finished epoch (``None``: silent).

    ``history`` holds ``{"epoch", "step", "loss", "acc"}`` per epoch of the current training experience.
    It carries no state between experiences, so a checkpointed strategy needs nothing of it.
    """

    def __init__(self, label: str, echo: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.label = label
        self.echo = echo
        self.history: list[dict[str, Any]] = []
        self._loss: torch.Tensor | None = None
        self._correct: torch.Tensor | None = None
        self._count = 0
        self._start = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self.history = []

    def before_training_epoch(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._loss = self._correct = None
        self._count = 0
        self._start = time.perf_counter()

    def after_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        y = strategy.mb_y
        n = int(y.shape[0])  # a shape, known on the host: no sync
        loss = strategy.loss.detach().float() * n
        correct = (strategy.mb_output.detach().argmax(1) == y).sum()
        self._loss = loss if self._loss is None else self._loss + loss
        self._correct = correct if self._correct is None else self._correct + correct
        self._count += n

    def after_training_epoch(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self._loss is None or self._count == 0:
            return
        loss = float(self._loss) / self._count  # the one sync per epoch
        acc = float(self._correct) / self._count  # type: ignore[arg-type]
        entry = {
            "epoch": len(self.history) + 1,
            "step": int(strategy.clock.train_exp_iterations),
            "loss": round(loss, 6),
            "acc": round(acc, 6),
        }
        self.history.append(entry)
        if self.echo is not None:
            total = getattr(strategy, "train_epochs", "?")
            elapsed = time.perf_counter() - self._start
            line = f"epoch {entry['epoch']}/{total}  loss {loss:.3f}  acc {acc:.3f}  ({elapsed:.1f} s)"
            self.echo(f"[{self.label}] {line}")


class RunProgress:
    """The cell bar of a run (see the module docstring).

    Args:
        total: number of cells (finished ones included).
        done: cells already finished (read back on ``--resume``).
        name: the scenario's name.
        quiet: print nothing.
        stream: where to write (``sys.stderr``).
    """

    def __init__(self, total: int, done: int, name: str, quiet: bool = False, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.done = total, done
        self.start = time.perf_counter()
        self.bar: Any = None
        if not quiet and self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, desc=f"{name} cells", unit="cell", file=self.stream)
        elif not quiet:
            self._line(f"{name}: {total} cells, {done} already finished")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def echo(self, text: str) -> None:
        """A line (e.g. an epoch) above the bar, or plain when not a terminal."""
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            self._line(text)

    def running(self, label: str) -> None:
        """Show the cell that is running now."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"running {label}", refresh=True)

    def finished(self, label: str, summary: str) -> None:
        """One more cell finished."""
        self.done += 1
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label}: {summary}", refresh=False)
            self.bar.update(1)
        else:
            elapsed = time.perf_counter() - self.start
            self._line(f"cell {self.done}/{self.total} done: {label}: {summary} ({elapsed:.0f} s elapsed)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
