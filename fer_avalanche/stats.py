"""Uncertainty of a run's numbers: percentile bootstrap intervals, summaries over seeds and folds, the
Pareto front of target accuracy against memory integrity, and paired comparisons of two strategies.

Pure numpy, seeded, vectorised (no Python loop over bootstrap draws). What is resampled:

- **Within a cell** (one row: one strategy adapted to one target, one seed, one fold): the test images
  of each dataset, with replacement, ``n_boot`` times. The adapted model and its unit's baseline are
  scored on the *same* resampled images (paired), so ``MI = acc_after[source] / acc_base[source]`` and
  ``target_gain = acc_after[target] - acc_base[target]`` are computed on one draw, and errors the two
  models share cancel. Every row of one unit (seed, fold) also shares the draws of each dataset, which
  makes :func:`compare` paired too. The draws of a (unit, dataset) depend only on the bootstrap
  ``seed``, the unit and the dataset name, never on which other rows a run holds.
- **Over units** (a summary of several seeds and/or folds): a t-interval over the units of the per-unit
  paired estimates with the image-level variance: ``mean +- t(k-1) * sqrt(V / k)``, where ``s`` is the
  sample standard deviation of the ``k`` unit values, ``v`` the mean over units of each unit's
  within-cell bootstrap variance, and ``V = s^2 + v`` when the units share one test set (the source's,
  whose image noise does not average out over seeds), ``V = max(s^2, v)`` when each unit has its own
  (folds, ``split.seed = "run"``: ``s`` already holds that noise) (:func:`units_interval`). The seeds'
  (training) variance, which the test images cannot show, is in ``s``. With a single unit the summary
  interval is that row's own (test images only), marked ``ci_scope: "images"`` (``"units"``
  otherwise).
- **At the boundary** (67 of 67 right, or predictions that do not change) the bootstrap collapses to a
  point. Every within-cell interval therefore contains the one the test-set size alone allows: the
  Wilson score interval for an accuracy, and ``+- z^2 / (n + z^2)`` (Wilson's half-width at 0 of ``n``
  discordant images; scaled by ``1 / acc_base`` for MI) for a paired difference; the image-level
  variance of a unit is floored likewise (at ``(z / (n + z^2))^2``). The benchmark
  ``benchmarks/bench_coverage.py`` measures the coverage of these intervals (``docs/protocol.md``).

Intervals are 95% intervals, as ``[low, high]`` lists; ``None`` where the run has no per-sample
predictions for the number (runs made before predictions were recorded). Accuracies are clipped to
``[0, 1]``, differences of accuracies to ``[-1, 1]``, MI to ``[0, inf)``.

Example:
    >>> import numpy as np
    >>> from fer_avalanche.stats import bootstrap_accuracies, percentile_interval
    >>> correct = np.array([[1] * 80 + [0] * 20])  # one model, 100 images, 80 right
    >>> lo, hi = percentile_interval(bootstrap_accuracies(correct, n_boot=2000, seed=0)[:, 0])
    >>> 0.70 < lo < 0.75 and 0.85 < hi < 0.90
    True
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from fer_avalanche.classcodes import decode_classes
from fer_avalanche.errors import ConfigError, FERAvalancheError
from fer_avalanche.registry import did_you_mean

if TYPE_CHECKING:
    from fer_avalanche.results import Results

__all__ = [
    "LEVEL",
    "ResultsError",
    "percentile_interval",
    "bootstrap_accuracies",
    "t_quantile",
    "t_pvalue",
    "holm",
    "wilson_interval",
    "units_interval",
    "MIN_UNITS",
    "pareto_front",
    "add_intervals",
    "compare",
]

#: Coverage of every interval this module computes.
LEVEL = 0.95

#: The metrics of a row that carry an interval (besides ``acc`` per dataset).
ROW_METRICS = ("memory_integrity", "target_gain", "source_drop")

Unit = tuple[Any, Any]  # (seed, fold)


class ResultsError(FERAvalancheError):
    """A results dict is inconsistent (e.g. a row's predictions do not match its unit's test labels)."""


# --------------------------------------------------------------------------- primitives
def percentile_interval(draws: np.ndarray | Sequence[float], level: float = LEVEL) -> list[float] | None:
    """The percentile interval ``[low, high]`` of bootstrap ``draws`` (non-finite draws ignored).

    Returns ``None`` when no draw is finite.

    Example:
        >>> [round(v, 3) for v in percentile_interval(np.arange(101) / 100)]
        [0.025, 0.975]
    """
    d = np.asarray(draws, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    if d.size == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(d, [tail, 100.0 - tail])
    return [float(lo), float(hi)]


def _rng(seed: int, *parts: object) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the names in ``parts`` (not on call order)."""
    key = zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, key])


def _weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``[n_boot, n]`` float32 resampling counts: draw ``b`` takes image ``i`` ``W[b, i]`` times."""
    idx = rng.integers(0, n, size=(n_boot, n), dtype=np.int64)
    idx += (np.arange(n_boot, dtype=np.int64) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float32)


def bootstrap_accuracies(
    correct: np.ndarray | Sequence[Sequence[bool]],
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Accuracies of ``m`` models on one test set under ``n_boot`` shared resamples of its images.

    Args:
        correct: ``[m, n]`` booleans (or 0/1): model ``k`` classified image ``i`` right. All models
            are scored on the same resampled images (a paired bootstrap).
        n_boot: number of bootstrap draws.
        seed: an int seed or a ``numpy.random.Generator``.

    Returns:
        ``[n_boot, m]`` float64 accuracies.

    Example:
        >>> draws = bootstrap_accuracies([[1, 1, 1, 1], [1, 0, 1, 0]], n_boot=50)
        >>> draws.shape, bool((draws[:, 0] == 1).all())
        ((50, 2), True)
    """
    m = np.asarray(correct, dtype=np.float32)
    if m.ndim != 2 or m.shape[1] == 0:
        raise ConfigError(f"bootstrap_accuracies: expected [models, images] with images > 0, got {m.shape}")
    if n_boot < 1:
        raise ConfigError(f"bootstrap_accuracies: n_boot must be >= 1, got {n_boot}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = m.shape[1]
    return (_weights(n, n_boot, rng) @ m.T).astype(np.float64) / n


def _t_central(t: np.ndarray, df: float) -> np.ndarray:
    """``P(|T| <= t)`` for Student's t with integer ``df`` >= 1 (closed form), or the normal (``inf``)."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    if not math.isfinite(df):
        return np.vectorize(math.erf, otypes=[np.float64])(t / math.sqrt(2.0))
    nu = int(df)
    if nu < 1 or nu != df:
        raise ConfigError(f"Student's t: degrees of freedom must be a positive integer, got {df}")
    theta = np.arctan(t / math.sqrt(nu))
    c2, sin = np.cos(theta) ** 2, np.sin(theta)
    if nu % 2 == 0:  # Abramowitz & Stegun 26.7.4
        term = total = np.ones_like(t)
        for k in range(1, (nu - 2) // 2 + 1):
            term = term * c2 * (2 * k - 1) / (2 * k)
            total = total + term
        return sin * total
    if nu == 1:
        return 2.0 * theta / math.pi
    term = total = np.cos(theta)  # A&S 26.7.3
    for k in range(1, (nu - 3) // 2 + 1):
        term = term * c2 * (2 * k) / (2 * k + 1)
        total = total + term
    return 2.0 / math.pi * (theta + sin * total)


@functools.lru_cache(maxsize=256)
def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile (``q`` > 0.5) of Student's t with ``df`` degrees of freedom (``inf``: normal).

    Example:
        >>> round(t_quantile(0.975, 4), 3), round(t_quantile(0.975, math.inf), 3)
        (2.776, 1.96)
    """
    if not 0.5 < q < 1.0:
        raise ConfigError(f"t_quantile: q must be in (0.5, 1), got {q}")
    want, lo, hi = 2.0 * q - 1.0, 0.0, 1.0
    while float(_t_central(hi, df)) < want:
        hi *= 2.0
    for _ in range(100):  # bisection to double precision
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(_t_central(mid, df)) < want else (lo, mid)
    return 0.5 * (lo + hi)


def t_pvalue(t: float, df: float) -> float:
    """Two-sided p-value of a t statistic with ``df`` degrees of freedom (``inf``: normal).

    Example:
        >>> round(t_pvalue(2.776, 4), 3), round(t_pvalue(0.0, 2), 3)
        (0.05, 1.0)
    """
    if not math.isfinite(t):
        return 0.0 if not math.isnan(t) else math.nan
    return float(max(0.0, 1.0 - float(_t_central(t, df))))


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of ``pvalues`` (family-wise error): ``None`` entries are skipped.

    The ``i``-th smallest of ``m`` p-values is multiplied by ``m - i`` (0-based), made non-decreasing
    in that order and capped at 1; reject where the adjusted p-value is below the level.

    Example:
        >>> [round(p, 2) for p in holm([0.01, 0.04, 0.03])]
        [0.03, 0.06, 0.06]
    """
    known = [(float(p), i) for i, p in enumerate(pvalues) if p is not None and math.isfinite(float(p))]
    out: list[float | None] = [None] * len(pvalues)
    running, m = 0.0, len(known)
    for rank, (p, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def _z(level: float) -> float:
    return t_quantile(0.5 + level / 2.0, math.inf)


def wilson_interval(k: float, n: int, level: float = LEVEL) -> list[float]:
    """The Wilson score interval of ``k`` successes in ``n`` trials: never a point, even at 0 or ``n``.

    Example:
        >>> [round(v, 3) for v in wilson_interval(67, 67)]
        [0.946, 1.0]
    """
    if n < 1:
        raise ConfigError(f"wilson_interval: n must be >= 1, got {n}")
    z = _z(level)
    p, z2n = k / n, z * z / n
    center = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(max(p * (1.0 - p), 0.0) / n + z2n / (4.0 * n))
    return [max(0.0, center - half), min(1.0, center + half)]


def units_interval(
    values: Sequence[float] | np.ndarray,
    image_variances: Sequence[float] | np.ndarray,
    level: float = LEVEL,
    *,
    shared: bool = True,
) -> tuple[Any, Any]:
    """The interval over ``k`` >= 2 units: ``mean +- t(k-1) * sqrt(V / k)``.

    ``values`` are the per-unit estimates (``[..., k]``: leading axes are vectorised), ``s`` their
    sample standard deviation, ``v`` the mean of ``image_variances``, each unit's within-cell
    (test-image) variance. ``shared``: the units were scored on one test set (FER2013's PrivateTest for
    every seed), whose image noise does not average out over units: ``V = s^2 + v``. Otherwise (each
    unit its own test set: a fold, or ``split.seed = "run"``) ``s^2`` already holds the image noise,
    and ``V = max(s^2, v)`` only stops ``s`` from being smaller than the images alone allow.
    Returns ``(low, high)``, floats or arrays of the leading shape.

    Example:
        >>> [round(float(v), 3) for v in units_interval([0.5, 0.6, 0.7], [0.0, 0.0, 0.0])]
        [0.352, 0.848]
        >>> [round(float(v), 3) for v in units_interval([0.6, 0.6, 0.6], [0.01, 0.01, 0.01], shared=False)]
        [0.352, 0.848]
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.broadcast_to(np.asarray(image_variances, dtype=np.float64), v.shape)
    k = v.shape[-1]
    if k < 2:
        raise ConfigError(f"units_interval: needs at least 2 units, got {k}")
    mean = v.mean(axis=-1)
    s2, mean_v = v.var(axis=-1, ddof=1), w.mean(axis=-1)
    se = np.sqrt((s2 + mean_v if shared else np.maximum(s2, mean_v)) / k)
    half = t_quantile(0.5 + level / 2.0, k - 1) * se
    lo, hi = mean - half, mean + half
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def pareto_front(
    points: Sequence[tuple[float, float]], reference: Sequence[tuple[float, float]] = ()
) -> list[bool]:
    """Which ``points`` are not dominated, both coordinates to be maximised.

    A point is dominated when another point (of ``points`` or ``reference``) is at least as good on
    both coordinates and better on one. Equal points do not dominate each other (ties are all on the
    front). ``reference`` points can dominate but are not themselves reported. A point with a
    non-finite coordinate is never on the front and dominates nothing.

    Example:
        >>> pareto_front([(0.9, 0.7), (0.8, 0.9), (0.7, 0.6), (0.8, 0.9)])
        [True, True, False, True]
        >>> pareto_front([(0.2, 0.8)], reference=[(0.3, 1.0)])
        [False]
    """
    p = np.asarray(list(points), dtype=np.float64).reshape(-1, 2)
    r = np.asarray(list(reference), dtype=np.float64).reshape(-1, 2)
    every = np.concatenate([p, r])
    every = every[np.isfinite(every).all(axis=1)]
    finite = np.isfinite(p).all(axis=1)
    if every.size == 0:
        return [False] * len(p)
    ge = (every[None, :, :] >= p[:, None, :]).all(axis=2)
    gt = (every[None, :, :] > p[:, None, :]).any(axis=2)
    dominated = (ge & gt).any(axis=1)
    return [bool(f and not d) for f, d in zip(finite, dominated, strict=True)]


# --------------------------------------------------------------------------- reading results
def as_float(v: object) -> float:
    """A result value as a float: NaN for ``None``, booleans and non-numbers (a row's missing metric).

    Example:
        >>> as_float("0.5"), as_float(None)
        (0.5, nan)
    """
    if v is None or isinstance(v, bool):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _mean(values: Sequence[Any]) -> float | None:
    vals = [f for f in (as_float(v) for v in values) if math.isfinite(f)]
    return float(np.mean(vals)) if vals else None


def _unit(entry: Mapping[str, Any]) -> Unit:
    return (entry.get("seed"), entry.get("fold"))


def _decode(text: object, where: str) -> np.ndarray | None:
    if text is None:
        return None
    try:
        return decode_classes(text)
    except ConfigError as exc:
        raise ResultsError(f"{where}: {exc}") from None


@dataclass
class _Estimate:
    """One number of one unit with its within-cell bootstrap draws, for intervals over units.

    ``kind`` is ``"acc"`` (an accuracy in [0, 1]), ``"diff"`` (a difference of accuracies) or
    ``"ratio"`` (MI); ``n`` the test images behind it; ``floor`` the least image-level standard
    deviation ``n`` test images allow (``z / (n + z^2)``, times ``1 / acc_base`` for MI);
    ``test_set`` names the test set the unit was scored on (units on one test set share its noise).
    """

    point: float
    draws: np.ndarray
    n: int
    kind: str
    floor: float
    test_set: Any = None

    def __sub__(self, other: _Estimate) -> _Estimate:
        """The paired difference of two estimates on the same images (and units)."""
        n = min(self.n, other.n)
        kind = "diff" if self.kind == "acc" else "ratio-diff"
        floor = max(self.floor, other.floor)
        return _Estimate(self.point - other.point, self.draws - other.draws, n, kind, floor, self.test_set)

    def image_variance(self) -> float:
        """The within-cell variance of the estimate: its draws', floored at what add-one smoothing gives.

        An accuracy ``k / n``: ``p (1 - p) / n`` with ``p = (k + 1) / (n + 2)``; a difference or MI:
        one discordant image, ``(scale / n)^2`` (``scale`` = ``floor`` / the one-unit floor SD).
        """
        d = self.draws[np.isfinite(self.draws)]
        var = float(d.var(ddof=1)) if d.size > 1 else 0.0
        if self.kind == "acc":
            p = (self.point * self.n + 1.0) / (self.n + 2.0)
            least = p * (1.0 - p) / self.n
        else:
            least = (self.floor / _floor_sd(self.n) / self.n) ** 2 if self.n > 0 else self.floor**2
        return max(var, least)


_BOUNDS = {
    "acc": (0.0, 1.0), "diff": (-1.0, 1.0), "ratio": (0.0, math.inf), "ratio-diff": (-math.inf, math.inf)
}  # fmt: skip


def _floor_sd(n: int, scale: float = 1.0) -> float:
    z = _z(LEVEL)
    return z / (n + z * z) * scale


def _clip(ci: Sequence[float], kind: str) -> list[float]:
    lo, hi = _BOUNDS[kind]
    return [float(min(max(ci[0], lo), hi)), float(min(max(ci[1], lo), hi))]


def _cell_ci(est: _Estimate | None, level: float = LEVEL) -> list[float] | None:
    """One unit: the percentile interval of its draws, widened to the least ``n`` test images allow."""
    if est is None or not math.isfinite(est.point):
        return None
    ci = percentile_interval(est.draws, level)
    if ci is None:
        return None
    if est.kind == "acc":
        floor = wilson_interval(round(est.point * est.n), est.n, level)
    else:
        half = _z(level) * est.floor
        floor = [est.point - half, est.point + half]
    return _clip([min(ci[0], floor[0]), max(ci[1], floor[1])], est.kind)


def _units_ci(ests: Sequence[_Estimate | None], level: float = LEVEL) -> list[float] | None:
    """The interval of the mean over units: the cell's own for one, else :func:`units_interval`."""
    if not ests or any(e is None for e in ests):
        return None
    if len(ests) == 1:
        return _cell_ci(ests[0], level)
    points = [e.point for e in ests]
    if not all(math.isfinite(p) for p in points):
        return None
    lo, hi = units_interval(points, [e.image_variance() for e in ests], level, shared=_shared(ests))
    return _clip([lo, hi], ests[0].kind)


def _shared(ests: Sequence[_Estimate]) -> bool:
    """Whether the units were scored on one test set (unknown counts as shared: the wider interval)."""
    first = ests[0].test_set
    return first is None or all(e.test_set == first for e in ests)


def _units_p(ests: Sequence[_Estimate | None]) -> float | None:
    """Two-sided p-value of "the mean over units is 0": t(k-1) over units, a z-test for one unit."""
    if not ests or any(e is None or not math.isfinite(e.point) for e in ests):
        return None
    points = np.array([e.point for e in ests])
    k = len(points)
    s2, v = (points.var(ddof=1) if k > 1 else 0.0), float(np.mean([e.image_variance() for e in ests]))
    var = s2 + v if k == 1 or _shared(ests) else max(s2, v)
    se = math.sqrt(var / k)
    mean = float(points.mean())
    if se == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    return t_pvalue(mean / se, k - 1 if k > 1 else math.inf)


def _scope(n_units: int) -> str:
    return "units" if n_units > 1 else "images"


@dataclass
class _Draws:
    """Within-cell bootstrap estimates: per unit and dataset for the baseline, per row and dataset.

    ``own`` holds the (unit, dataset) pairs whose baseline entry is that unit's own (not the fold-free
    entry a k-fold unit borrows its source evaluation from).
    """

    n_boot: int
    base: dict[Unit, dict[str, _Estimate]] = field(default_factory=dict)
    rows: dict[int, dict[str, _Estimate]] = field(default_factory=dict)
    own: set[tuple[Unit, str]] = field(default_factory=set)


def _draw_all(
    results: Mapping[str, Any], n_boot: int, seed: int, row_ids: Sequence[int] | None = None
) -> _Draws:
    """Bootstrap every (unit, dataset) once, scoring the baseline and the unit's rows on the same draws.

    A dataset a unit's baseline entry lacks (the source, under ``split.folds = "all"``: fold entries
    hold only that fold's target) is taken from the seed's fold-free entry ``(seed, None)``, with that
    entry's draws, so every fold of a seed is paired with the one source evaluation of its baseline.
    """
    rows = results.get("rows") or []
    ids = range(len(rows)) if row_ids is None else row_ids
    by_unit: dict[Unit, list[int]] = {}
    for i in ids:
        by_unit.setdefault(_unit(rows[i]), []).append(i)
    entries = {_unit(b): (k, b) for k, b in enumerate(results.get("baselines") or [])}
    out = _Draws(n_boot)
    for unit in dict.fromkeys([*entries, *by_unit]):
        own = list(entries.get(unit, (0, {}))[1].get("labels") or {})
        wanted = list(own)
        for i in by_unit.get(unit, []):
            wanted += [d for d in rows[i].get("predictions") or {} if d not in wanted]
        for d in wanted:
            origin = unit if d in own else (unit[0], None)
            if origin not in entries or d not in (entries[origin][1].get("labels") or {}):
                continue
            b_index, base = entries[origin]
            where = f"baselines[{b_index}] (seed {origin[0]}, fold {origin[1]})"
            labels = _decode(base["labels"][d], f"{where} labels[{d!r}]")
            if labels is None or labels.size == 0:
                continue
            models: list[tuple[int | None, np.ndarray]] = []
            base_pred = _decode((base.get("predictions") or {}).get(d), f"{where} predictions[{d!r}]")
            if base_pred is not None:
                models.append((None, base_pred))
            for i in by_unit.get(unit, []):
                pred = _decode((rows[i].get("predictions") or {}).get(d), f"rows[{i}] predictions[{d!r}]")
                if pred is not None:
                    models.append((i, pred))
            for i, pred in models:
                if pred.shape != labels.shape:
                    who = where if i is None else f"rows[{i}] ({rows[i]['strategy']} -> {rows[i]['target']})"
                    raise ResultsError(
                        f"{who}: {pred.size} predictions on {d!r} for {labels.size} test labels of unit "
                        f"(seed {unit[0]}, fold {unit[1]}); every row of a unit must use its test-set order"
                    )
            if not models:
                continue
            correct = np.stack([pred == labels for _, pred in models])
            acc = bootstrap_accuracies(correct, n_boot, _rng(seed, "unit", origin[0], origin[1], d))
            n, test_set = int(labels.size), (d, zlib.crc32(str(base["labels"][d]).encode("utf-8")))
            for k, (i, _) in enumerate(models):
                est = _Estimate(float(correct[k].mean()), acc[:, k], n, "acc", _floor_sd(n), test_set)
                target = out.base.setdefault(unit, {}) if i is None else out.rows.setdefault(i, {})
                target[d] = est
            if base_pred is not None and origin == unit:
                out.own.add((unit, d))
    return out


def _row_metric_draws(results: Mapping[str, Any], draws: _Draws, i: int) -> dict[str, Any]:
    """``{"acc": {D: _Estimate}, "memory_integrity": _Estimate | None, "target_gain", "source_drop"}``."""
    row = results["rows"][i]
    source, target = results.get("source"), row.get("target")
    mine = draws.rows.get(i, {})
    base = draws.base.get(_unit(row), {})
    out: dict[str, Any] = {"acc": dict(mine)}
    src, src0 = mine.get(source), base.get(source)
    tgt, tgt0 = mine.get(target), base.get(target)
    out["memory_integrity"] = None
    if src is not None and src0 is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(src0.draws > 0, src.draws / np.where(src0.draws > 0, src0.draws, 1.0), np.nan)
        point = src.point / src0.point if src0.point > 0 else math.nan
        scale = 1.0 / src0.point if src0.point > 0 else 1.0
        out["memory_integrity"] = _Estimate(
            point, ratio, src.n, "ratio", _floor_sd(src.n, scale), src.test_set
        )
    out["source_drop"] = src0 - src if src is not None and src0 is not None else None
    out["target_gain"] = tgt - tgt0 if tgt is not None and tgt0 is not None and target != source else None
    return out


def _intervals(metric_draws: Mapping[str, Any], datasets: Sequence[str], level: float) -> dict[str, Any]:
    ci: dict[str, Any] = {
        "acc": {d: _cell_ci(metric_draws["acc"].get(d), level) for d in datasets},
    }
    for name in ROW_METRICS:
        ci[name] = _cell_ci(metric_draws.get(name), level)
    return ci


def _datasets(results: Mapping[str, Any]) -> list[str]:
    names = list(results.get("datasets") or (results.get("baseline") or {}).get("acc", {}).keys())
    for row in results.get("rows") or []:
        names += [d for d in row.get("acc", {}) if d not in names]
    return names


def _groups(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault((str(row["strategy"]), str(row["target"])), []).append(i)
    return groups


# --------------------------------------------------------------------------- add_intervals
@overload
def add_intervals(results: Results, n_boot: int = 1000, seed: int = 0) -> Results: ...
@overload
def add_intervals(results: Mapping[str, Any], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]: ...
def add_intervals(
    results: Results | Mapping[str, Any], n_boot: int = 1000, seed: int = 0
) -> Results | dict[str, Any]:
    """Add 95% bootstrap intervals, per-(strategy, target) summaries and the Pareto front to results.

    ``results``: a :class:`~fer_avalanche.results.Results` (returns a new one, its typed ``ci`` fields
    and ``summary`` filled) or a results dict. Returns a new dict (``results`` is not modified) with:

    - every row: ``"ci": {"acc": {D: [lo, hi]}, "memory_integrity": [lo, hi], "target_gain": [lo, hi],
      "source_drop": [lo, hi]}``, bootstrapped over the test images of the row's cell, paired with the
      baseline of its unit (``seed``, ``fold``; a k-fold unit's source from its seed's fold-free
      baseline entry), never narrower than its test-set size allows (see the module docstring), and
      ``"ci_scope": "images"`` (one unit: only the test images are resampled);
    - every ``baselines`` entry: ``"ci": {"acc": {D: [lo, hi]}}``; ``baseline["ci"]`` the same for
      the mean over units (the t-interval over units when there are several; ``baseline["ci_scope"]``);
    - ``"summary"``: one entry per (strategy, target), in the order rows first show them::

        {"strategy", "target", "n_units", "units": [{"seed", "fold"}], ["step"],
         "acc": {D}, "macro_f1": {D}, "source_acc", "target_acc", "memory_integrity", "source_drop",
         "target_gain", "train_time_s", "budget": {"steps", "target_passes", "source_samples", "epochs"},
         "ci": {"acc": {D}, "memory_integrity", "target_gain", "source_drop"}, "ci_scope",
         "pareto": bool}

      values are means over the group's rows (units), intervals the t-interval over units with the
      image-level variance added (:func:`units_interval`); ``ci_scope`` is ``"units"`` then, and
      ``"images"`` for a single unit, whose interval is its row's;
    - ``"intervals"``: how they were computed (``method``, ``level``, ``n_boot``, ``seed``).

    ``pareto`` marks the entries of one target that no other entry of that target beats on both
    target accuracy and memory integrity (means; both maximised). Ties (equal means) are all on the
    front. The baseline (MI = 1, its mean zero-shot target accuracy) competes: a strategy that is
    worse than not adapting on both axes is off the front; the baseline is not itself an entry.
    An entry whose MI or target accuracy is unknown is never on the front.

    Rows or baselines without ``labels`` / ``predictions`` (runs made before they were recorded) get
    ``None`` intervals; nothing fails.

    Raises:
        ResultsError: a row's or baseline's predictions do not have as many samples as its unit's labels,
            or hold a character that is not a class.

    Example:
        >>> out = add_intervals({"source": "s", "datasets": ["s", "t"],
        ...     "baselines": [{"seed": 0, "fold": None, "acc": {"s": 1.0, "t": 0.5},
        ...                    "labels": {"s": "0101", "t": "0011"},
        ...                    "predictions": {"s": "0101", "t": "0000"}}],
        ...     "baseline": {"acc": {"s": 1.0, "t": 0.5}},
        ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "fold": None,
        ...               "acc": {"s": 1.0, "t": 1.0}, "memory_integrity": 1.0, "source_drop": 0.0,
        ...               "target_gain": 0.5, "predictions": {"s": "0101", "t": "0011"}}]}, n_boot=200)
        >>> [round(v, 2) for v in out["rows"][0]["ci"]["acc"]["s"]]  # 4 of 4 right: Wilson, not [1, 1]
        [0.51, 1.0]
        >>> out["summary"][0]["n_units"], out["summary"][0]["ci_scope"], out["summary"][0]["pareto"]
        (1, 'images', True)
    """
    if not isinstance(results, Mapping):  # the typed model: the same numbers, read back into it
        return type(results).from_json(add_intervals(results.to_json(), n_boot, seed), "results")
    if n_boot < 1:
        raise ConfigError(f"add_intervals: n_boot must be >= 1, got {n_boot}")
    out: dict[str, Any] = dict(results)
    rows = [dict(r) for r in results.get("rows") or []]
    out["rows"] = rows
    datasets = _datasets(results)
    draws = _draw_all(results, n_boot, seed)

    per_row = [_row_metric_draws(results, draws, i) for i in range(len(rows))]
    for row, metric_draws in zip(rows, per_row, strict=True):
        row["ci"] = _intervals(metric_draws, [d for d in datasets if d in row.get("acc", {})], LEVEL)
        row["ci_scope"] = "images"

    baselines = [dict(b) for b in results.get("baselines") or []]
    for b in baselines:
        unit_draws = draws.base.get(_unit(b), {})
        b["ci"] = {"acc": {d: _cell_ci(unit_draws.get(d)) for d in datasets if d in (b.get("acc") or {})}}
    if "baselines" in results:
        out["baselines"] = baselines
    baseline = dict(results.get("baseline") or {})
    baseline["ci"] = {"acc": {}}
    widest = 0
    for d in datasets:
        if d not in (baseline.get("acc") or {}):
            continue
        # each baseline entry that evaluated d itself (a k-fold seed's source: its fold-free entry only)
        owners = [b for b in baselines if d in (b.get("acc") or {})]
        ests = [draws.base.get(_unit(b), {}).get(d) if (_unit(b), d) in draws.own else None for b in owners]
        baseline["ci"]["acc"][d] = _units_ci(ests)
        widest = max(widest, len(owners))
    baseline["ci_scope"] = _scope(widest)
    out["baseline"] = baseline
    out["summary"] = _summaries(results, rows, per_row, datasets, baselines)
    out["intervals"] = {
        "method": "one unit: percentile bootstrap over test images, paired with the unit's baseline, "
        "widened to the Wilson / z^2/(n+z^2) floor; several units (seeds/folds): t-interval over units, "
        "mean +- t(k-1) * sqrt(V / k), V = s^2 + v on one shared test set, max(s^2, v) on a test set "
        "per unit",
        "level": LEVEL,
        "n_boot": int(n_boot),
        "seed": int(seed),
    }
    return out


def _summaries(
    results: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    per_row: Sequence[Mapping[str, Any]],
    datasets: Sequence[str],
    baselines: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    source = results.get("source")
    summary: list[dict[str, Any]] = []
    for (strategy, target), members in _groups(rows).items():
        member_rows = [rows[i] for i in members]
        entry: dict[str, Any] = {
            "strategy": strategy,
            "target": target,
            "n_units": len({_unit(r) for r in member_rows}),
            "units": [{"seed": r.get("seed"), "fold": r.get("fold")} for r in member_rows],
        }
        steps = {r.get("step") for r in member_rows if "step" in r}
        if len(steps) == 1:
            entry["step"] = steps.pop()
        row_ds = [d for d in datasets if any(d in r.get("acc", {}) for r in member_rows)]
        entry["acc"] = {d: _mean([r.get("acc", {}).get(d) for r in member_rows]) for d in row_ds}
        entry["macro_f1"] = {
            d: _mean([(r.get("macro_f1") or {}).get(d) for r in member_rows]) for d in row_ds
        }
        entry["source_acc"] = entry["acc"].get(source)
        entry["target_acc"] = entry["acc"].get(target)
        for name in ROW_METRICS:
            entry[name] = _mean([r.get(name) for r in member_rows])
        entry["train_time_s"] = _mean([r.get("train_time_s") for r in member_rows])
        keys = list(dict.fromkeys(k for r in member_rows for k in (r.get("budget") or {})))
        entry["budget"] = {k: _mean([(r.get("budget") or {}).get(k) for r in member_rows]) for k in keys}
        ci: dict[str, Any] = {"acc": {}}
        for d in row_ds:
            ci["acc"][d] = _units_ci([per_row[i]["acc"].get(d) for i in members])
        for name in ROW_METRICS:
            ci[name] = _units_ci([per_row[i][name] for i in members])
        entry["ci"] = ci
        entry["ci_scope"] = _scope(entry["n_units"])
        summary.append(entry)
    _mark_pareto(summary, results, baselines)
    return summary


def _mark_pareto(
    summary: list[dict[str, Any]], results: Mapping[str, Any], baselines: Sequence[Mapping[str, Any]]
) -> None:
    base_entries = list(baselines) or [results.get("baseline") or {}]
    for target in dict.fromkeys(e["target"] for e in summary):
        entries = [e for e in summary if e["target"] == target]
        base_acc = _mean([(b.get("acc") or {}).get(target) for b in base_entries])
        reference = [(base_acc, 1.0)] if base_acc is not None and target != results.get("source") else []
        points = [(as_float(e["target_acc"]), as_float(e["memory_integrity"])) for e in entries]
        for e, on in zip(entries, pareto_front(points, reference), strict=True):
            e["pareto"] = on and e["strategy"] != "baseline"  # the reference point, not a strategy


# --------------------------------------------------------------------------- compare
def compare(
    results: Results | Mapping[str, Any], a: str, b: str, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Paired comparison of strategies ``a`` and ``b``: the difference ``a - b`` per target.

    For every target both strategies were adapted to, on the same units (seed, fold) and the same test
    images: the mean over units of target accuracy, source accuracy and memory integrity of each, their
    difference and its 95% interval. Within a unit both rows are scored on the same resampled test
    images (and MI on the same baseline draw); over several units, the interval is the t-interval over
    the units of the per-unit paired differences (:func:`units_interval`), which holds the seeds'
    (training) variance. ``p`` is the two-sided p-value of "no difference" (the same t over units; a
    z-test on the image-level standard deviation for one unit) and ``p_holm`` that p-value adjusted by
    Holm's method over every comparison returned (all targets and metrics: ``n_comparisons``), so that
    ``p_holm < 1 - level`` holds for a difference at that family-wise level.

    Returns::

        {"a", "b", "source", "level", "n_boot", "adjustment": "holm", "n_comparisons", "min_units",
         "warnings": [str], "targets": [
            {"target", "n_units", "units": [{"seed", "fold"}], "ci_scope": "units" | "images",
             "target_acc": {"a", "b", "diff", "ci", "p", "p_holm"}, "source_acc": {...},
             "memory_integrity": {...}}]}

    ``ci`` and ``p`` are ``None`` when the rows carry no per-sample predictions. ``warnings`` names the
    targets backed by fewer than :data:`MIN_UNITS` units: their intervals cannot hold the seeds' variance
    (one unit: test images only) and a difference there is not a claim.

    Raises:
        ConfigError: ``a`` or ``b`` has no row in ``results`` (the message lists the strategies), or
            ``a == b``.
        ResultsError: the two strategies were not run on the same targets, or on a target not on the
            same units (the message names the missing strategy, target and units).

    Example:
        >>> cmp = compare(results, "fusion", "ft-fc")  # doctest: +SKIP
        >>> cmp["targets"][0]["memory_integrity"]["diff"], cmp["targets"][0]["memory_integrity"]["ci"]
        ... # doctest: +SKIP
        (0.21, [0.15, 0.27])
    """
    if not isinstance(results, Mapping):  # the typed model
        results = results.to_json()
    rows = results.get("rows") or []
    strategies = list(dict.fromkeys(str(r["strategy"]) for r in rows))
    if a == b:
        raise ConfigError(f"compare: give two different strategies (got {a!r} twice)")
    for name in (a, b):
        if name not in strategies:
            raise ConfigError(
                f"compare: no rows for strategy {name!r} in the results (strategies: "
                f"{', '.join(strategies) or 'none'}){did_you_mean(name, strategies)}"
            )
    ids = {name: _rows_by_target_unit(rows, name) for name in (a, b)}
    for x, y in ((a, b), (b, a)):
        missing = [t for t in ids[x] if t not in ids[y]]
        if missing:
            raise ResultsError(f"compare: strategy {y!r} has no rows for target(s) {missing} that {x!r} has")
        for target, by_unit in ids[x].items():
            missing_units = [u for u in by_unit if u not in ids[y][target]]
            if missing_units:
                listed = ", ".join(f"(seed {s}, fold {f})" for s, f in missing_units)
                raise ResultsError(
                    f"compare: target {target!r}: {y!r} has no row for unit(s) {listed} that {x!r} has; "
                    "a paired comparison needs both strategies on the same seeds and folds"
                )
    needed = [i for name in (a, b) for by_unit in ids[name].values() for i in by_unit.values()]
    draws = _draw_all(results, n_boot, seed, needed)
    targets = [
        {"target": target} | _compare_target(results, draws, ids[a][target], ids[b][target])
        for target in ids[a]
    ]
    cells = [t[m] for t in targets for m in COMPARED]
    for cell, p in zip(cells, holm([c["p"] for c in cells]), strict=True):
        cell["p_holm"] = p
    few = [f"{t['target']} ({t['n_units']})" for t in targets if t["n_units"] < MIN_UNITS]
    warnings = (
        [
            f"fewer than {MIN_UNITS} units (seeds x folds) back target(s) {', '.join(few)}: the intervals "
            "there cannot hold the seeds' variance (one unit: test images only); run more seeds before "
            "claiming a difference"
        ]
        if few
        else []
    )
    return {
        "a": a, "b": b, "source": results.get("source"), "level": LEVEL, "n_boot": int(n_boot),
        "adjustment": "holm", "n_comparisons": sum(c["p"] is not None for c in cells), "min_units": MIN_UNITS,
        "warnings": warnings, "targets": targets,
    }  # fmt: skip


#: Fewer units than this behind a comparison get a warning (``compare``'s ``warnings``).
MIN_UNITS = 3


COMPARED = ("target_acc", "source_acc", "memory_integrity")


def _value(d: Mapping[str, Any], metric: str, source: object, target: object) -> Any:
    """``metric`` of a row, or of its metric draws (both hold ``acc`` per dataset, ``memory_integrity``)."""
    if metric in ("target_acc", "source_acc"):
        return (d.get("acc") or {}).get(target if metric == "target_acc" else source)
    return d.get(metric)


def _compare_target(
    results: Mapping[str, Any],
    draws: _Draws,
    ids_a: Mapping[Unit, int],
    ids_b: Mapping[Unit, int],
) -> dict[str, Any]:
    rows, source = results["rows"], results.get("source")
    units = list(ids_a)
    target = rows[ids_a[units[0]]]["target"]
    entry: dict[str, Any] = {
        "n_units": len(units),
        "units": [{"seed": s, "fold": f} for s, f in units],
        "ci_scope": _scope(len(units)),
    }
    pairs = [(ids_a[u], ids_b[u]) for u in units]
    metric_draws = {i: _row_metric_draws(results, draws, i) for pair in pairs for i in pair}
    for metric in COMPARED:
        mean_a = _mean([_value(rows[i], metric, source, target) for i, _ in pairs])
        mean_b = _mean([_value(rows[j], metric, source, target) for _, j in pairs])
        diffs = []
        for i, j in pairs:
            da = _value(metric_draws[i], metric, source, target)
            db = _value(metric_draws[j], metric, source, target)
            diffs.append(None if da is None or db is None else da - db)
        entry[metric] = {
            "a": mean_a,
            "b": mean_b,
            "diff": None if mean_a is None or mean_b is None else mean_a - mean_b,
            "ci": _units_ci(diffs),
            "p": _units_p(diffs),
        }
    return entry


def _rows_by_target_unit(rows: Sequence[Mapping[str, Any]], strategy: str) -> dict[str, dict[Unit, int]]:
    out: dict[str, dict[Unit, int]] = {}
    for i, row in enumerate(rows):
        if str(row["strategy"]) != strategy:
            continue
        by_unit = out.setdefault(str(row["target"]), {})
        unit = _unit(row)
        if unit in by_unit:
            raise ResultsError(
                f"compare: rows[{by_unit[unit]}] and rows[{i}] are both {strategy!r} -> {row['target']!r} "
                f"on (seed {unit[0]}, fold {unit[1]}); expected one row per unit"
            )
        by_unit[unit] = i
    return out
