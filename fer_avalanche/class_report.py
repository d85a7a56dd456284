"""What was forgotten, class by class: the "forgotten classes" view of ``results.md``.

A source drop of 15 points may be one class lost entirely (a target without neutral teaches the head
never to say neutral) or a little of every class. :func:`forgotten_classes` says which: for each
(strategy, target) of the results, the source classes whose recall fell most against the baseline of
the same unit (seed, fold), in points, mean over units. :func:`class_sections` renders it, with one
line per target naming the classes its training split lacks (``results["absent_classes"]``, recorded
from the data by the runner).

Example:
    >>> results = {"source": "s", "label_names": ["a", "b", "c"], "absent_classes": {"t": ["c"]},
    ...     "baselines": [{"seed": 0, "fold": None, "per_class_acc": {"s": [0.9, 0.5, 0.6]}}],
    ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "fold": None,
    ...               "per_class_acc": {"s": [0.8, 0.5, 0.1]}}]}
    >>> forgotten_classes(results)[0]["falls"]
    [('c', 50.0), ('a', 10.0)]
    >>> print("\\n".join(class_sections(results)))  # doctest: +NORMALIZE_WHITESPACE
    ## Classes each target lacks
    <BLANKLINE>
    - t: c (not in its training split)
    <BLANKLINE>
    ## Forgotten classes
    <BLANKLINE>
    Per row, the source classes whose recall fell most against the unit's baseline (points, mean over units).
    <BLANKLINE>
    | strategy | target | units | source classes forgotten (fall in pts) |
    | --- | --- | ---: | --- |
    | ft-fc | t | 1 | c 50.0, a 10.0 |
    <BLANKLINE>
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["forgotten_classes", "class_sections"]


def _recalls(values: object) -> np.ndarray:
    return np.asarray([math.nan if v is None else float(v) for v in values or []], dtype=float)


def _baseline_recall(
    results: Mapping[str, Any], seed: object, fold: object, source: str
) -> np.ndarray | None:
    for entry in results.get("baselines") or []:
        if entry.get("seed") == seed and entry.get("fold") in (fold, None):
            values = (entry.get("per_class_acc") or {}).get(source)
            if values is not None:
                return _recalls(values)
    return None


def forgotten_classes(results: Mapping[str, Any], top: int = 3) -> list[dict[str, Any]]:
    """Per (strategy, target): ``{"strategy", "target", "units", "falls": [(class, points), ...]}``.

    ``falls``: the ``top`` source classes with the largest mean fall of recall (baseline minus row, in
    points, over the units that have both), largest first; only classes that fell (> 0). Rows without
    per-class accuracies, and the baseline's own rows, are left out.
    """
    source = results.get("source", "")
    names = list(results.get("label_names") or [])
    groups: dict[tuple[str, str], list[np.ndarray]] = {}
    for row in results.get("rows") or []:
        if row.get("strategy") == "baseline":
            continue
        after = (row.get("per_class_acc") or {}).get(source)
        before = _baseline_recall(results, row.get("seed"), row.get("fold"), source)
        if after is None or before is None or len(_recalls(after)) != len(before):
            continue
        groups.setdefault((row["strategy"], row["target"]), []).append((before - _recalls(after)) * 100)
    out = []
    for (strategy, target), falls in groups.items():
        stacked = np.vstack(falls)
        finite = np.isfinite(stacked)
        count = finite.sum(axis=0)
        mean = np.where(count > 0, np.where(finite, stacked, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan)
        order = [
            int(c)
            for c in np.argsort(-np.nan_to_num(mean, nan=-np.inf))
            if np.isfinite(mean[c]) and mean[c] > 0
        ]
        out.append(
            {
                "strategy": strategy,
                "target": target,
                "units": len(falls),
                "falls": [
                    (names[c] if c < len(names) else str(c), round(float(mean[c]), 1)) for c in order[:top]
                ],
            }
        )
    return out


def class_sections(results: Mapping[str, Any], top: int = 3) -> list[str]:
    """The Markdown lines of ``results.md``'s "Classes each target lacks" and "Forgotten classes"."""
    out: list[str] = []
    absent = results.get("absent_classes") or {}
    if absent:
        out += ["## Classes each target lacks", ""]
        for target, classes in absent.items():
            what = ", ".join(classes) if classes else "none (every class is in its training split)"
            tail = " (not in its training split)" if classes else ""
            out.append(f"- {target}: {what}{tail}")
        out.append("")
    rows = forgotten_classes(results, top)
    if rows:
        out += [
            "## Forgotten classes",
            "",
            "Per row, the source classes whose recall fell most against the unit's baseline (points, mean "
            "over units).",
            "",
            "| strategy | target | units | source classes forgotten (fall in pts) |",
            "| --- | --- | ---: | --- |",
        ]
        for r in rows:
            falls = ", ".join(f"{name} {fall:.1f}" for name, fall in r["falls"]) or "none fell"
            out.append(f"| {r['strategy']} | {r['target']} | {r['units']} | {falls} |")
        out.append("")
    return out
