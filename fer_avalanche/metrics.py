"""Metrics computed on the training device: per-dataset accuracy, macro-F1, per-class accuracy,
confusion matrices, per-sample predictions, training loss, memory integrity, and the sequential-stream
summaries.

The Avalanche ``PluginMetric`` s here never synchronise the host with the device inside a mini-batch:
:class:`FERMetrics` adds each evaluation batch into a confusion matrix that lives on the device
(``index_add_`` of ``y * C + pred``; ``torch.bincount`` is *not* used because on CUDA it reads the
maximum of its input back to the host to size its output), keeps each batch's labels and argmax on the
device, and copies all three to the host in one transfer per evaluated experience;
:class:`TrainLossMetric` sums the loss on the device and syncs once per epoch.

Per-sample labels and predictions (test-set order) are what the bootstrap intervals of
:mod:`fer_avalanche.stats` resample; :func:`encode_classes` / :func:`decode_classes` store them in
``results.json`` as one character per sample.

Why our own metrics (see ``DESIGN.md``): Avalanche's ``ExperienceForgetting`` only knows experiences
trained inside the stream (the pre-trained source is invisible to it), the metrics dict returned by
``strategy.eval()`` keeps stale values from earlier calls, and its confusion-matrix image crashes on
``benchmark_from_datasets`` experiences. Results are therefore keyed by ``experience.dataset_name``
and read from :attr:`FERMetrics.results` / :attr:`FERMetrics.last_eval` after each ``eval`` call.

Metric names emitted (TensorBoard tags)::

    FER/acc/<dataset>          top-1 accuracy (fraction), x = strategy.clock.train_iterations
    FER/macro_f1/<dataset>     macro-F1 over the classes present in the true labels
    FER/confusion/<dataset>    confusion-matrix image (PIL), if confusion_images=True
    FER/train_loss             mean training loss of the epoch (sample-weighted)

Example:
    >>> from fer_avalanche.metrics import make_evaluator
    >>> evaluator, fer_metrics = make_evaluator(7, ["angry", "disgust", "fear", "happy", "sad",
    ...                                             "surprise", "neutral"])
    >>> # strategy = make_strategy(..., evaluator=evaluator); strategy.eval(benchmark.test_stream)
    >>> # fer_metrics.last_eval["synth-wild"].acc, fer_metrics.accuracies()
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fer_avalanche.classcodes import CLASS_ALPHABET, decode_classes, encode_classes
from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.evaluation.metric_definitions import PluginMetric
    from avalanche.evaluation.metric_results import MetricValue

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = [
    "EvalResult",
    "encode_classes",
    "decode_classes",
    "CLASS_ALPHABET",
    "summarize_confusion",
    "update_confusion",
    "FERMetrics",
    "TrainLossMetric",
    "memory_integrity",
    "average_accuracy",
    "backward_transfer",
    "forgetting",
    "max_forgetting",
    "AccuracyMatrix",
    "make_evaluator",
]


# --------------------------------------------------------------------------- per-dataset results
@dataclass
class EvalResult:
    """Evaluation of one model on one dataset's test set.

    Attributes:
        acc: top-1 accuracy (fraction in [0, 1]; NaN when ``n == 0``).
        macro_f1: unweighted mean of the per-class F1 over the classes *present in the true labels*
            (identical to ``sklearn.metrics.f1_score(y, p, average="macro", labels=present)``); a
            present class never predicted correctly counts as F1 = 0; classes absent from the test set
            are left out even if predicted (such predictions still count as misses of the true class).
            NaN when ``n == 0``.
        per_class_acc: per-class accuracy (= recall) in label order; ``None`` for absent classes.
        confusion: ``[C, C]`` int64 counts, rows = true class, columns = predicted class.
        n: number of evaluated samples.
        labels: the true class of every test sample, in test-set order (int64 ``[n]``); ``None`` when
            only the confusion matrix is known (e.g. built by :func:`summarize_confusion` alone).
        predictions: the predicted class (argmax) of every test sample, same order; ``None`` likewise.

    Example:
        >>> r = summarize_confusion(np.array([[3, 1], [0, 0]]))
        >>> r.acc, r.per_class_acc
        (0.75, [0.75, None])
    """

    acc: float
    macro_f1: float
    per_class_acc: list[float | None]
    confusion: np.ndarray
    n: int
    labels: np.ndarray | None = None
    predictions: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``confusion`` as nested lists of ints, and ``labels`` / ``predictions``
        encoded with :func:`encode_classes` (one character per sample) when they are known.

        Example:
            >>> r = summarize_confusion(np.eye(2, dtype=int))
            >>> r.to_dict()["acc"], "labels" in r.to_dict()
            (1.0, False)
            >>> r.labels, r.predictions = np.array([0, 1]), np.array([0, 1])
            >>> r.to_dict()["predictions"]
            '01'
        """
        out: dict[str, Any] = {
            "acc": float(self.acc),
            "macro_f1": float(self.macro_f1),
            "per_class_acc": [None if v is None else float(v) for v in self.per_class_acc],
            "confusion": np.asarray(self.confusion, dtype=np.int64).tolist(),
            "n": int(self.n),
        }
        if self.labels is not None:
            out["labels"] = encode_classes(self.labels)
        if self.predictions is not None:
            out["predictions"] = encode_classes(self.predictions)
        return out


def summarize_confusion(confusion: np.ndarray | Sequence[Sequence[int]]) -> EvalResult:
    """Accuracy, macro-F1 (over present classes), per-class accuracy from a confusion matrix.

    Args:
        confusion: ``[C, C]`` counts, rows = true class, columns = predicted class.

    Example:
        >>> r = summarize_confusion([[2, 0, 0], [1, 1, 0], [0, 0, 0]])
        >>> round(r.acc, 3), round(r.macro_f1, 3), r.per_class_acc
        (0.75, 0.733, [1.0, 0.5, None])
    """
    cm = np.asarray(confusion, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ConfigError(f"confusion matrix must be square [C, C], got shape {cm.shape}")
    n = int(cm.sum())
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    present = support > 0
    acc = float(tp.sum() / n) if n else math.nan
    per_class: list[float | None] = [
        float(tp[c] / support[c]) if present[c] else None for c in range(cm.shape[0])
    ]
    if present.any():
        # F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted + support); support > 0 so never 0/0.
        f1 = 2.0 * tp[present] / (predicted[present] + support[present])
        macro_f1 = float(f1.mean())
    else:
        macro_f1 = math.nan
    return EvalResult(acc=acc, macro_f1=macro_f1, per_class_acc=per_class, confusion=cm, n=n)


def update_confusion(confusion: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Add one batch into a flat ``[C*C]`` int64 confusion tensor, on its device, with no host sync.

    ``confusion[y * C + argmax(logits)] += 1``. Labels must lie in ``[0, C)`` and ``logits`` have ``C``
    columns (not checked: checking would sync). Returns ``confusion`` (updated in place).

    Example:
        >>> cm = torch.zeros(4, dtype=torch.long)
        >>> update_confusion(cm, torch.tensor([0, 1, 1]), torch.tensor([[2., 0], [0, 1], [3, 0]])).tolist()
        [1, 0, 1, 1]
    """
    y = y.to(device=confusion.device, dtype=torch.long)
    return _add_pairs(confusion, y, logits.argmax(dim=1).to(confusion.device))


def _add_pairs(confusion: torch.Tensor, y: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """``confusion[y * C + pred] += 1`` on the confusion's device (both long, same device)."""
    idx = y * math.isqrt(confusion.numel()) + pred
    return confusion.index_add_(0, idx, torch.ones_like(idx))


def _x(strategy: SupervisedTemplate) -> int:
    clock = getattr(strategy, "clock", None)
    return int(getattr(clock, "train_iterations", 0) or 0)


def _dataset_name(strategy: SupervisedTemplate) -> str:
    exp = getattr(strategy, "experience", None)
    name = getattr(exp, "dataset_name", None)
    if name:
        return str(name)
    return f"exp{getattr(exp, 'current_experience', 0)}"


# --------------------------------------------------------------------------- FERMetrics
class FERMetrics(PluginMetric[dict[str, EvalResult]]):
    """Per-dataset accuracy, macro-F1, per-class accuracy and confusion matrix of every ``eval``.

    During evaluation the confusion matrix of the current experience is accumulated on the device and
    each batch's labels and argmax predictions are kept there (no host sync per batch); at
    ``after_eval_exp`` all three are copied to the host in one transfer and summarised
    (:func:`summarize_confusion`; :attr:`EvalResult.labels` / :attr:`EvalResult.predictions` in the
    order the experience's test set was evaluated, which is the test set's own order: evaluation does
    not shuffle). Results are keyed by ``strategy.experience.dataset_name`` (``exp<k>`` when the
    experience has none):

    - :attr:`results`: the latest result of every dataset ever evaluated by this metric;
    - :attr:`last_eval`: only the datasets evaluated by the latest ``strategy.eval(...)`` call
      (reset at ``before_eval``) — read this after ``eval`` to build per-step tables.

    Args:
        num_classes: ``C``, the model's number of outputs.
        label_names: ``C`` class names (for the confusion images).
        confusion_images: emit a ``FER/confusion/<dataset>`` image per evaluated experience (rendered
            by :func:`fer_avalanche.figures.confusion_image`).
        per_sample: keep every sample's label and prediction (16 bytes per sample on the device
            until the experience ends); ``False`` leaves them ``None``.

    Example:
        >>> fm = FERMetrics(2, ["a", "b"], confusion_images=False)
        >>> fm.results
        {}
    """

    def __init__(
        self,
        num_classes: int,
        label_names: Sequence[str],
        confusion_images: bool = True,
        per_sample: bool = True,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ConfigError(f"FERMetrics: num_classes must be >= 2, got {num_classes}")
        if len(label_names) != num_classes:
            raise ConfigError(
                f"FERMetrics: {len(label_names)} label_names for {num_classes} classes: {list(label_names)}"
            )
        self.num_classes = int(num_classes)
        self.label_names = [str(n) for n in label_names]
        self.confusion_images = confusion_images
        self.per_sample = per_sample
        self.results: dict[str, EvalResult] = {}
        self.last_eval: dict[str, EvalResult] = {}
        self._cm: torch.Tensor | None = None
        self._y: list[torch.Tensor] = []
        self._pred: list[torch.Tensor] = []

    # -- Metric protocol
    def result(self) -> dict[str, EvalResult]:
        """The latest result per dataset (same as :attr:`results`)."""
        return dict(self.results)

    def reset(self) -> None:
        """Forget every result and the running confusion matrix."""
        self.results.clear()
        self.last_eval.clear()
        self._cm = None
        self._y, self._pred = [], []

    def accuracies(self, last: bool = True) -> dict[str, float]:
        """``{dataset: acc}`` of the latest eval call (``last=True``) or of every dataset seen."""
        src = self.last_eval if last else self.results
        return {name: r.acc for name, r in src.items()}

    # -- callbacks
    def before_eval(self, strategy: SupervisedTemplate) -> None:
        self.last_eval = {}

    def before_eval_exp(self, strategy: SupervisedTemplate) -> None:
        self._cm = None
        self._y, self._pred = [], []

    def after_eval_iteration(self, strategy: SupervisedTemplate) -> None:
        # Hot path: device-only tensor ops, no .item()/.cpu()/float().
        logits = strategy.mb_output
        if self._cm is None:
            self._cm = torch.zeros(self.num_classes**2, dtype=torch.long, device=logits.device)
        y = strategy.mb_y.to(device=self._cm.device, dtype=torch.long)
        pred = logits.argmax(dim=1).to(self._cm.device)
        _add_pairs(self._cm, y, pred)
        if self.per_sample:
            self._y.append(y)
            self._pred.append(pred)

    def _to_host(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Confusion ``[C, C]``, labels, predictions of the current experience: one device->host copy."""
        c = self.num_classes
        if self._cm is None:
            empty = np.zeros(0, dtype=np.int64) if self.per_sample else None
            return np.zeros((c, c), dtype=np.int64), empty, empty
        if not self.per_sample:
            return self._cm.view(c, c).cpu().numpy().astype(np.int64), None, None
        flat = torch.cat([self._cm, *self._y, *self._pred]).cpu().numpy().astype(np.int64)  # the one sync
        n = (flat.size - c * c) // 2
        return flat[: c * c].reshape(c, c), flat[c * c : c * c + n], flat[c * c + n :]

    def after_eval_exp(self, strategy: SupervisedTemplate) -> list[MetricValue]:
        cm, labels, predictions = self._to_host()
        self._cm = None
        self._y, self._pred = [], []
        res = summarize_confusion(cm)
        res.labels, res.predictions = labels, predictions
        name = _dataset_name(strategy)
        self.results[name] = res
        self.last_eval[name] = res
        x = _x(strategy)
        values = [
            MetricValue(self, f"FER/acc/{name}", float(res.acc), x),
            MetricValue(self, f"FER/macro_f1/{name}", float(res.macro_f1), x),
        ]
        if self.confusion_images:
            from fer_avalanche.figures import confusion_image

            image = confusion_image(cm, self.label_names, title=f"{name} (acc {res.acc:.1%}, n={res.n})")
            values.append(MetricValue(self, f"FER/confusion/{name}", image, x))
        return values

    def __str__(self) -> str:
        return "FERMetrics"


# --------------------------------------------------------------------------- training loss
class TrainLossMetric(PluginMetric[float]):
    """Mean training loss per epoch (sample-weighted), summed on the device, one sync per epoch.

    Emits ``FER/train_loss`` at the end of every training epoch (x = ``clock.train_iterations``).
    The loss is ``strategy.loss``, i.e. including any regulariser a strategy adds (LwF, EWC, ...).

    Example:
        >>> TrainLossMetric().result() is None
        True
    """

    def __init__(self) -> None:
        super().__init__()
        self._sum: torch.Tensor | None = None
        self._count = 0
        self._last: float | None = None

    def result(self) -> float | None:
        """The mean loss of the last finished epoch (``None`` before the first)."""
        return self._last

    def reset(self) -> None:
        self._sum, self._count, self._last = None, 0, None

    def before_training_epoch(self, strategy: SupervisedTemplate) -> None:
        self._sum, self._count = None, 0

    def after_training_iteration(self, strategy: SupervisedTemplate) -> None:
        loss = strategy.loss
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(loss, dtype=torch.float32)
        n = int(strategy.mb_y.shape[0])  # a shape, known on the host: no sync
        weighted = loss.detach().float().sum() * n
        self._sum = weighted if self._sum is None else self._sum + weighted
        self._count += n

    def after_training_epoch(self, strategy: SupervisedTemplate) -> MetricValue | None:
        if self._sum is None or self._count == 0:
            return None
        self._last = float(self._sum / self._count)  # the one sync per epoch
        self._sum = None
        return MetricValue(self, "FER/train_loss", self._last, _x(strategy))

    def __str__(self) -> str:
        return "TrainLossMetric"


# --------------------------------------------------------------------------- memory integrity
def memory_integrity(
    acc_after: Mapping[str, float], acc_baseline: Mapping[str, float], source: str
) -> dict[str, Any]:
    """Memory integrity of an adapted model (PROTOCOL.md).

    Returns ``{"memory_integrity": acc_after[source] / acc_baseline[source],
    "source_drop": acc_baseline[source] - acc_after[source],
    "target_gain": {d: acc_after[d] - acc_baseline[d] for every other dataset in both dicts}}``.
    Accuracies are fractions; the drop and gains are fractions too (x100 for points).

    A zero (or NaN) baseline accuracy on the source makes MI undefined: it is returned as NaN (the
    drop is still defined), so a long run is never aborted by one degenerate baseline.

    Raises:
        ConfigError: ``source`` missing from either dict.

    Example:
        >>> r = memory_integrity({"src": 0.6, "tgt": 0.9}, {"src": 0.8, "tgt": 0.3}, "src")
        >>> round(r["memory_integrity"], 3), round(r["source_drop"], 3), round(r["target_gain"]["tgt"], 3)
        (0.75, 0.2, 0.6)
    """
    for label, accs in (("acc_after", acc_after), ("acc_baseline", acc_baseline)):
        if source not in accs:
            raise ConfigError(f"memory_integrity: source {source!r} not in {label} (has {sorted(accs)})")
    after, base = float(acc_after[source]), float(acc_baseline[source])
    mi = after / base if base > 0 else math.nan
    gains = {
        d: float(acc_after[d]) - float(acc_baseline[d])
        for d in acc_after
        if d != source and d in acc_baseline
    }
    return {"memory_integrity": mi, "source_drop": base - after, "target_gain": gains}


# --------------------------------------------------------------------------- sequential summaries
def _as_matrix(R: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    m = np.asarray(R, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ConfigError(f"accuracy matrix must be 2-D [steps+1, datasets], got shape {m.shape}")
    return m


def _eligible(m: np.ndarray, trained_at: Sequence[int | None] | None) -> list[tuple[int, int]]:
    """(dataset j, row trained_j) for datasets trained strictly before the last row."""
    rows, cols = m.shape
    if trained_at is None:
        trained_at = list(range(cols))
    if len(trained_at) != cols:
        raise ConfigError(f"trained_at has {len(trained_at)} entries for {cols} datasets")
    last = rows - 1
    out = []
    for j, t in enumerate(trained_at):
        if t is None:
            continue
        if t < 0:
            raise ConfigError(f"trained_at[{j}] = {t} must be a row index >= 0 (or None: never trained)")
        if t < last:
            out.append((j, int(t)))
    return out


def average_accuracy(R: np.ndarray | Sequence[Sequence[float]]) -> float:
    """Average accuracy: the mean of the last row of ``R`` (every dataset, after the last step).

    This is Avalanche's stream accuracy over the whole test stream. Pass ``R[:, :k]`` to average over
    the first ``k`` datasets only.

    Example:
        >>> average_accuracy([[0.8, 0.1], [0.6, 0.9]])
        0.75
    """
    return float(_as_matrix(R)[-1].mean())


def backward_transfer(
    R: np.ndarray | Sequence[Sequence[float]], trained_at: Sequence[int | None] | None = None
) -> float:
    """BWT, the GEM / Avalanche definition (Lopez-Paz & Ranzato 2017; Avalanche's ``StreamBWT``).

    ``mean_j (R[last, j] - R[trained_at[j], j])`` over the datasets trained before the last row
    (``trained_at[j] < last``); negative = forgetting. Unlike Avalanche's metric it includes the
    pre-trained source (``trained_at = 0``). NaN when no dataset qualifies (a single row).

    Args:
        R: ``[steps+1, D]`` accuracies; row 0 = after the source (the baseline), row i = after step i.
        trained_at: row at which each dataset was trained (``None`` = never); default ``range(D)``.

    Example:
        >>> round(backward_transfer([[0.8, 0.1], [0.6, 0.9]]), 3)
        -0.2
    """
    m = _as_matrix(R)
    pairs = _eligible(m, trained_at)
    if not pairs:
        return math.nan
    return float(np.mean([m[-1, j] - m[t, j] for j, t in pairs]))


def forgetting(
    R: np.ndarray | Sequence[Sequence[float]], trained_at: Sequence[int | None] | None = None
) -> float:
    """Forgetting, Avalanche's definition (``StreamForgetting``): ``-BWT``.

    ``mean_j (R[trained_at[j], j] - R[last, j])`` over datasets trained before the last row: the
    accuracy just after learning a dataset minus the final one (not the best one; see
    :func:`max_forgetting`). Includes the pre-trained source. NaN when no dataset qualifies.

    Example:
        >>> round(forgetting([[0.8, 0.1], [0.6, 0.9]]), 3)
        0.2
    """
    m = _as_matrix(R)
    pairs = _eligible(m, trained_at)
    if not pairs:
        return math.nan
    return float(np.mean([m[t, j] - m[-1, j] for j, t in pairs]))


def max_forgetting(
    R: np.ndarray | Sequence[Sequence[float]], trained_at: Sequence[int | None] | None = None
) -> float:
    """Forgetting, the literature's max-based definition (Chaudhry et al. 2018, "Riemannian Walk").

    ``mean_j max_{l in [trained_at[j], last)} (R[l, j] - R[last, j])`` over datasets trained before the
    last row: the best accuracy a dataset ever had since it was learned minus the final one. Always
    ``>= forgetting`` per dataset. NaN when no dataset qualifies.

    Example:
        >>> R = [[0.8, 0.1, 0.1], [0.5, 0.9, 0.2], [0.6, 0.7, 0.9]]
        >>> round(max_forgetting(R), 3)  # source: max(0.8, 0.5) - 0.6; t1: 0.9 - 0.7
        0.2
    """
    m = _as_matrix(R)
    pairs = _eligible(m, trained_at)
    if not pairs:
        return math.nan
    return float(np.mean([np.max(m[t:-1, j]) - m[-1, j] for j, t in pairs]))


@dataclass
class AccuracyMatrix:
    """Builds the accuracy matrix ``R`` of a sequential stream, one row per evaluation.

    Append the accuracies after the source (the baseline), then after each training step, saying which
    dataset was trained at that row; :meth:`summary` gives every sequential metric.

    Example:
        >>> am = AccuracyMatrix(["src", "t1"])
        >>> am.append({"src": 0.8, "t1": 0.1}, trained="src")
        >>> am.append({"src": 0.6, "t1": 0.9}, trained="t1")
        >>> am.trained_at, {k: round(v, 3) for k, v in am.summary().items()}
        ([0, 1], {'average_accuracy': 0.75, 'bwt': -0.2, 'forgetting': 0.2, 'max_forgetting': 0.2})
    """

    datasets: list[str]
    rows: list[list[float]] = field(default_factory=list)
    trained: dict[str, int] = field(default_factory=dict)

    def append(self, acc: Mapping[str, float], trained: str | Iterable[str] | None = None) -> None:
        """Add the row of accuracies after one step (``trained``: the dataset(s) trained in it).

        Raises:
            ConfigError: a dataset of :attr:`datasets` is missing from ``acc``, or ``trained`` unknown.
        """
        missing = [d for d in self.datasets if d not in acc]
        if missing:
            raise ConfigError(f"AccuracyMatrix.append: no accuracy for {missing} (got {sorted(acc)})")
        names = [trained] if isinstance(trained, str) else list(trained or [])
        for name in names:
            if name not in self.datasets:
                raise ConfigError(f"AccuracyMatrix.append: trained dataset {name!r} not in {self.datasets}")
            self.trained.setdefault(name, len(self.rows))
        self.rows.append([float(acc[d]) for d in self.datasets])

    @property
    def matrix(self) -> np.ndarray:
        """``R`` as a ``[rows, datasets]`` float array."""
        return np.asarray(self.rows, dtype=np.float64).reshape(len(self.rows), len(self.datasets))

    @property
    def trained_at(self) -> list[int | None]:
        """Row at which each dataset was first trained (``None`` = not yet)."""
        return [self.trained.get(d) for d in self.datasets]

    def summary(self) -> dict[str, float]:
        """``average_accuracy``, ``bwt``, ``forgetting``, ``max_forgetting`` of the current matrix."""
        m, t = self.matrix, self.trained_at
        return {
            "average_accuracy": average_accuracy(m),
            "bwt": backward_transfer(m, t),
            "forgetting": forgetting(m, t),
            "max_forgetting": max_forgetting(m, t),
        }


# --------------------------------------------------------------------------- evaluator + loggers
def make_evaluator(
    num_classes: int,
    label_names: Sequence[str],
    *,
    loggers: Sequence[Any] = (),
    confusion_images: bool = True,
) -> tuple[Any, FERMetrics]:
    """An Avalanche ``EvaluationPlugin`` with our metrics, and its :class:`FERMetrics`.

    Metrics: :class:`FERMetrics` and :class:`TrainLossMetric`. Confusion images are rendered only when
    ``confusion_images`` and some logger can show images (not a text/interactive logger).
    Pass the plugin as ``evaluator=`` to a strategy; after
    ``strategy.eval(test_stream)`` read ``fer_metrics.last_eval[dataset]`` (an :class:`EvalResult`)
    or ``fer_metrics.accuracies()`` — not the stale dict ``eval()`` returns.

    Example:
        >>> evaluator, fm = make_evaluator(2, ["a", "b"])
        >>> [str(m) for m in evaluator.metrics]
        ['FERMetrics', 'TrainLossMetric']
    """
    loggers = list(loggers)
    with quiet_third_party():
        from avalanche.logging import TextLogger
        from avalanche.training.plugins import EvaluationPlugin
    # Rendering a confusion image costs ~0.1 s: skip it when no logger can show images.
    can_show_images = any(not isinstance(lg, TextLogger) for lg in loggers)
    fer = FERMetrics(num_classes, label_names, confusion_images=confusion_images and can_show_images)
    metrics: list[Any] = [fer, TrainLossMetric()]
    with quiet_third_party():
        evaluator = EvaluationPlugin(*metrics, loggers=loggers, strict_checks=False)
    return evaluator, fer
