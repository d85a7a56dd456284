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
- **Over units** (a summary of several seeds and/or folds): a two-level bootstrap: draw the units
  with replacement, then, for each drawn unit, one of its within-cell draws at random (an
  independent resample of its test images), and average over the drawn units. With a single unit the
  summary interval is that row's own interval.

Intervals are 95% percentile intervals (the 2.5th and 97.5th percentiles of the draws), as
``[low, high]`` lists; ``None`` where the run has no per-sample predictions for the number (runs made
before predictions were recorded).

Example:
    >>> import numpy as np
    >>> from fer_avalanche.stats import bootstrap_accuracies, percentile_interval
    >>> correct = np.array([[1] * 80 + [0] * 20])  # one model, 100 images, 80 right
    >>> lo, hi = percentile_interval(bootstrap_accuracies(correct, n_boot=2000, seed=0)[:, 0])
    >>> 0.70 < lo < 0.75 and 0.85 < hi < 0.90
    True
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_avalanche.classcodes import decode_classes
from fer_avalanche.errors import ConfigError, FERAvalancheError
from fer_avalanche.registry import did_you_mean

__all__ = [
    "LEVEL",
    "ResultsError",
    "percentile_interval",
    "bootstrap_accuracies",
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


def _rng(seed: int, *parts: Any) -> np.random.Generator:
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


def _two_level(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws of the mean over units: ``values`` is ``[units, n_boot]`` within-unit draws."""
    units, n_boot = values.shape
    if units == 1:
        return values[0]
    k = rng.integers(0, units, size=(n_boot, units))
    b = rng.integers(0, n_boot, size=(n_boot, units))
    drawn = values[k, b]
    if not np.isnan(drawn).any():
        return drawn.mean(axis=1)
    # undefined draws (an MI whose baseline draw scored 0): average the defined ones, NaN if none
    count = np.isfinite(drawn).sum(axis=1)
    total = np.where(np.isfinite(drawn), drawn, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


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
def as_float(v: Any) -> float:
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


def _decode(text: Any, where: str) -> np.ndarray | None:
    if text is None:
        return None
    try:
        return decode_classes(text)
    except ConfigError as exc:
        raise ResultsError(f"{where}: {exc}") from None


@dataclass
class _Draws:
    """Within-cell bootstrap accuracies: per unit and dataset for the baseline, per row and dataset."""

    n_boot: int
    base: dict[Unit, dict[str, np.ndarray]] = field(default_factory=dict)
    rows: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)


def _draw_all(
    results: Mapping[str, Any], n_boot: int, seed: int, row_ids: Sequence[int] | None = None
) -> _Draws:
    """Bootstrap every (unit, dataset) once, scoring the baseline and the unit's rows on the same draws."""
    rows = results.get("rows") or []
    ids = range(len(rows)) if row_ids is None else row_ids
    by_unit: dict[Unit, list[int]] = {}
    for i in ids:
        by_unit.setdefault(_unit(rows[i]), []).append(i)
    out = _Draws(n_boot)
    for b_index, base in enumerate(results.get("baselines") or []):
        unit = _unit(base)
        where = f"baselines[{b_index}] (seed {unit[0]}, fold {unit[1]})"
        for d, text in (base.get("labels") or {}).items():
            labels = _decode(text, f"{where} labels[{d!r}]")
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
            acc = bootstrap_accuracies(correct, n_boot, _rng(seed, "unit", unit[0], unit[1], d))
            for k, (i, _) in enumerate(models):
                target = out.base.setdefault(unit, {}) if i is None else out.rows.setdefault(i, {})
                target[d] = acc[:, k]
    return out


def _row_metric_draws(results: Mapping[str, Any], draws: _Draws, i: int) -> dict[str, Any]:
    """``{"acc": {D: draws}, "memory_integrity": draws|None, "target_gain": ..., "source_drop": ...}``."""
    row = results["rows"][i]
    source, target = results.get("source"), row.get("target")
    mine = draws.rows.get(i, {})
    base = draws.base.get(_unit(row), {})
    out: dict[str, Any] = {"acc": dict(mine)}
    src, src0 = mine.get(source), base.get(source)
    tgt, tgt0 = mine.get(target), base.get(target)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["memory_integrity"] = (
            np.where(src0 > 0, src / np.where(src0 > 0, src0, 1.0), np.nan)
            if src is not None and src0 is not None
            else None
        )
    out["source_drop"] = src0 - src if src is not None and src0 is not None else None
    out["target_gain"] = tgt - tgt0 if tgt is not None and tgt0 is not None and target != source else None
    return out


def _intervals(metric_draws: Mapping[str, Any], datasets: Sequence[str], level: float) -> dict[str, Any]:
    ci: dict[str, Any] = {
        "acc": {d: _ci(metric_draws["acc"].get(d), level) for d in datasets},
    }
    for name in ROW_METRICS:
        ci[name] = _ci(metric_draws.get(name), level)
    return ci


def _ci(draws: np.ndarray | None, level: float = LEVEL) -> list[float] | None:
    return None if draws is None else percentile_interval(draws, level)


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


def _aggregate(per_unit: Sequence[np.ndarray | None], rng: np.random.Generator) -> np.ndarray | None:
    if not per_unit or any(v is None for v in per_unit):
        return None
    return _two_level(np.stack(per_unit), rng)


# --------------------------------------------------------------------------- add_intervals
def add_intervals(results: Mapping[str, Any], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Add 95% bootstrap intervals, per-(strategy, target) summaries and the Pareto front to a results dict.

    Returns a new dict (``results`` is not modified) with:

    - every row: ``"ci": {"acc": {D: [lo, hi]}, "memory_integrity": [lo, hi], "target_gain": [lo, hi],
      "source_drop": [lo, hi]}``, bootstrapped over the test images of the row's cell, paired with the
      baseline of its unit (``seed``, ``fold``): see the module docstring;
    - every ``baselines`` entry: ``"ci": {"acc": {D: [lo, hi]}}``; ``baseline["ci"]`` the same for
      the mean over units (two-level bootstrap when there are several);
    - ``"summary"``: one entry per (strategy, target), in the order rows first show them::

        {"strategy", "target", "n_units", "units": [{"seed", "fold"}], ["step"],
         "acc": {D}, "macro_f1": {D}, "source_acc", "target_acc", "memory_integrity", "source_drop",
         "target_gain", "train_time_s", "budget": {"steps", "target_passes", "source_samples", "epochs"},
         "ci": {"acc": {D}, "memory_integrity", "target_gain", "source_drop"}, "pareto": bool}

      values are means over the group's rows (units), intervals from the two-level bootstrap;
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
        >>> out["rows"][0]["ci"]["acc"]["s"], out["rows"][0]["ci"]["memory_integrity"]
        ([1.0, 1.0], [1.0, 1.0])
        >>> out["summary"][0]["n_units"], out["summary"][0]["pareto"]
        (1, True)
    """
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

    baselines = [dict(b) for b in results.get("baselines") or []]
    for b in baselines:
        unit_draws = draws.base.get(_unit(b), {})
        b["ci"] = {"acc": {d: _ci(unit_draws.get(d)) for d in datasets if d in (b.get("acc") or {})}}
    if "baselines" in results:
        out["baselines"] = baselines
    baseline = dict(results.get("baseline") or {})
    rng = _rng(seed, "baseline")
    baseline["ci"] = {
        "acc": {
            d: _ci(_aggregate([draws.base.get(_unit(b), {}).get(d) for b in baselines], rng))
            for d in datasets
            if d in (baseline.get("acc") or {})
        }
    }
    out["baseline"] = baseline
    out["summary"] = _summaries(results, rows, per_row, datasets, baselines, seed)
    out["intervals"] = {
        "method": "percentile bootstrap over test images, paired with the unit's baseline; "
        "two-level (units, then images) for summaries of several seeds/folds",
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
    seed: int,
) -> list[dict[str, Any]]:
    source = results.get("source")
    summary: list[dict[str, Any]] = []
    for (strategy, target), members in _groups(rows).items():
        rng = _rng(seed, "summary", strategy, target)
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
        # one unit draw per bootstrap sample, shared by every metric of the entry (a joint bootstrap)
        state = rng.bit_generator.state
        ci: dict[str, Any] = {"acc": {}}
        for d in row_ds:
            rng.bit_generator.state = state
            ci["acc"][d] = _ci(_aggregate([per_row[i]["acc"].get(d) for i in members], rng))
        for name in ROW_METRICS:
            rng.bit_generator.state = state
            ci[name] = _ci(_aggregate([per_row[i][name] for i in members], rng))
        entry["ci"] = ci
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
    results: Mapping[str, Any], a: str, b: str, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Paired comparison of strategies ``a`` and ``b``: the difference ``a - b`` per target.

    For every target both strategies were adapted to, on the same units (seed, fold) and the same test
    images: the mean over units of target accuracy, source accuracy and memory integrity of each, their
    difference and its 95% interval. Within a unit both rows are scored on the same resampled test
    images (and MI on the same baseline draw); over several units, the units are resampled jointly for
    ``a`` and ``b``. A difference whose interval excludes 0 is unlikely to be noise of the test sets
    (or, with several units, of the seeds/folds drawn).

    Returns::

        {"a", "b", "source", "level", "n_boot", "targets": [
            {"target", "n_units", "units": [{"seed", "fold"}],
             "target_acc": {"a", "b", "diff", "ci"}, "source_acc": {...}, "memory_integrity": {...}}]}

    ``ci`` is ``None`` when the rows carry no per-sample predictions.

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
        _compare_target(results, draws, ids[a][target], ids[b][target], _rng(seed, "compare", a, b, target))
        | {"target": target}
        for target in ids[a]
    ]
    source = results.get("source")
    return {"a": a, "b": b, "source": source, "level": LEVEL, "n_boot": int(n_boot), "targets": targets}


COMPARED = ("target_acc", "source_acc", "memory_integrity")


def _value(d: Mapping[str, Any], metric: str, source: Any, target: Any) -> Any:
    """``metric`` of a row, or of its metric draws (both hold ``acc`` per dataset, ``memory_integrity``)."""
    if metric in ("target_acc", "source_acc"):
        return (d.get("acc") or {}).get(target if metric == "target_acc" else source)
    return d.get(metric)


def _compare_target(
    results: Mapping[str, Any],
    draws: _Draws,
    ids_a: Mapping[Unit, int],
    ids_b: Mapping[Unit, int],
    rng: np.random.Generator,
) -> dict[str, Any]:
    rows, source = results["rows"], results.get("source")
    units = list(ids_a)
    target = rows[ids_a[units[0]]]["target"]
    entry: dict[str, Any] = {"n_units": len(units), "units": [{"seed": s, "fold": f} for s, f in units]}
    pairs = [(ids_a[u], ids_b[u]) for u in units]
    metric_draws = {i: _row_metric_draws(results, draws, i) for pair in pairs for i in pair}
    state = rng.bit_generator.state
    for metric in COMPARED:
        mean_a = _mean([_value(rows[i], metric, source, target) for i, _ in pairs])
        mean_b = _mean([_value(rows[j], metric, source, target) for _, j in pairs])
        diffs = []
        for i, j in pairs:
            da = _value(metric_draws[i], metric, source, target)
            db = _value(metric_draws[j], metric, source, target)
            diffs.append(None if da is None or db is None else da - db)
        rng.bit_generator.state = state  # the same unit draws for every metric
        entry[metric] = {
            "a": mean_a,
            "b": mean_b,
            "diff": None if mean_a is None or mean_b is None else mean_a - mean_b,
            "ci": _ci(_aggregate(diffs, rng)),
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
