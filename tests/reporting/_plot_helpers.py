"""Fabricated results for the plot tests: any number of targets and strategies, no training.

:func:`fabricated` builds a complete :class:`~fer_avalanche.results.Results` (rows, baselines, summary
with intervals and the Pareto front) whose numbers follow simple rules, so that a test can say what a
plot must show without running anything.
"""

from __future__ import annotations

from typing import Any

from fer_avalanche.results import Results

NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
STRATEGIES = [
    "ft-fc", "ft-lastconv-fc", "retrain", "retrain-scratch", "fusion", "replay", "lwf", "lp-ft", "wise-ft",
    "ewc", "si", "mas",
]  # fmt: skip
SOURCE = "wild"
BASE_SOURCE = 0.65
BASE_RECALL = [0.3, 0.0, 0.7, 0.9, 0.55, 0.9, 0.5]


def point(i: int, k: int) -> tuple[float, float]:
    """(memory integrity, target accuracy) of strategy ``i`` on target ``k``: a trade-off (MI falls as
    accuracy rises), every third strategy (``i % 3 == 2``) dominated by the one before it."""
    worse = i % 3 == 2
    return 0.95 - 0.025 * i - 0.05 * worse + 0.005 * k, 0.30 + 0.03 * i - 0.08 * worse + 0.01 * k


def recall_after(i: int, k: int, seed: int) -> list[float]:
    """Per-class source recall of strategy ``i`` adapted to target ``k`` (seed ``seed``)."""
    return [min(1.0, max(0.0, r - 0.02 * (i + 1) + 0.01 * c - 0.03 * seed + 0.005 * k)) for c, r in
            enumerate(BASE_RECALL)]  # fmt: skip


def baseline_recall(seed: int) -> list[float]:
    return [min(1.0, r + 0.01 * seed) for r in BASE_RECALL]


def _curve(strategy: str, mi: float, acc: float, target: str) -> list[dict[str, Any]]:
    per_epoch = 32 if strategy in ("fusion", "replay") else 16  # rehearsal: longer epochs in steps
    epochs = 96 // per_epoch
    return [
        {"epoch": e, "step": e * per_epoch,
         "acc": {SOURCE: BASE_SOURCE - (1 - mi) * BASE_SOURCE * e / epochs,
                 target: 0.2 + (acc - 0.2) * e / epochs}}
        for e in range(1, epochs + 1)
    ]  # fmt: skip


def _alpha_curve(mi: float, acc: float, target: str) -> list[dict[str, Any]]:
    out = []
    for a in (0.0, 0.5, 1.0):
        test = {SOURCE: BASE_SOURCE * (1 - (1 - mi) * a), target: 0.2 + (acc - 0.2) * a}
        out.append({"alpha": a, "val": test, "test": test})
    return out


def _interval(value: float, half: float) -> list[float]:
    return [value - half, value + half]


def _entry(
    strategy: str, target: str, mi: float, acc: float, units: list[dict[str, Any]], scope: str
) -> dict:
    src = mi * BASE_SOURCE
    return {
        "strategy": strategy, "target": target, "n_units": len(units), "units": units,
        "acc": {SOURCE: src, target: acc}, "source_acc": src, "target_acc": acc, "memory_integrity": mi,
        "target_gain": acc - 0.2, "source_drop": BASE_SOURCE - src,
        "ci": {"acc": {SOURCE: _interval(src, 0.04), target: _interval(acc, 0.1)},
               "memory_integrity": _interval(mi, 0.06), "target_gain": _interval(acc - 0.2, 0.1),
               "source_drop": _interval(BASE_SOURCE - src, 0.04)},
        "ci_scope": scope, "pareto": False,
    }  # fmt: skip


def _mark_front(summary: list[dict[str, Any]]) -> None:
    for e in summary:
        mine = [o for o in summary if o["target"] == e["target"]]
        e["pareto"] = not any(
            o["memory_integrity"] >= e["memory_integrity"] and o["target_acc"] >= e["target_acc"]
            and (o["memory_integrity"], o["target_acc"]) != (e["memory_integrity"], e["target_acc"])
            for o in mine
        )  # fmt: skip


def fabricated(
    n_targets: int = 5,
    n_strategies: int = 9,
    *,
    seeds: tuple[int, ...] = (0,),
    absent: dict[str, list[str]] | None = None,
    curves: bool = True,
    variants: tuple[dict[str, Any], ...] = ({},),
) -> Results:
    """A run of ``n_targets`` targets (``t1``, ``t2``, ...) x the baseline and ``n_strategies`` strategies
    (:data:`STRATEGIES` order), numbers by :func:`point` and :func:`recall_after`; ``absent``: the classes
    each target's training split lacks; ``variants``: a sweep's variants (``({},)``: no sweep)."""
    targets = [f"t{k + 1}" for k in range(n_targets)]
    strategies = STRATEGIES[:n_strategies]
    absent = absent or {}
    scope = "images" if len(seeds) == 1 else "units"
    units = [{"seed": s, "fold": None} for s in seeds]
    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for variant in variants:
        for k, target in enumerate(targets):
            base_entry = _entry("baseline", target, 1.0, 0.2, units, scope)
            summary.append(base_entry | ({"variant": variant} if variant else {}))
            for i, strategy in enumerate(strategies):
                mi, acc = point(i, k)
                entry = _entry(strategy, target, mi, acc, units, scope)
                summary.append(entry | ({"variant": variant} if variant else {}))
                for seed in seeds:
                    row = {
                        "strategy": strategy, "target": target, "seed": seed, "fold": None,
                        "variant": variant,
                        "acc": dict(entry["acc"]), "per_class_acc": {SOURCE: recall_after(i, k, seed)},
                        "memory_integrity": mi, "source_drop": entry["source_drop"], "target_gain": acc - 0.2,
                        "curve": _curve(strategy, mi, acc, target) if curves else [],
                        "selected_epoch": 2 if curves and strategy == "ft-fc" else None,
                        "target_absent": list(absent.get(target, [])), "ci": entry["ci"], "ci_scope": scope,
                    }  # fmt: skip
                    if strategy == "wise-ft":
                        row["alpha"] = 0.5
                        row["alpha_curve"] = _alpha_curve(mi, acc, target)
                    rows.append(row)
        _mark_front([e for e in summary if e.get("variant", {}) == variant])
    baselines = [
        {"seed": s, "fold": None, "acc": {SOURCE: BASE_SOURCE, **{t: 0.2 for t in targets}},
         "per_class_acc": {SOURCE: baseline_recall(s)}}
        for s in seeds
    ]  # fmt: skip
    return Results.from_json(
        {
            "scenario": "fab", "mode": "pairwise", "source": SOURCE, "datasets": [SOURCE, *targets],
            "label_names": NAMES, "seeds": list(seeds), "folds": [None], "baselines": baselines,
            "baseline": {"source": SOURCE, "acc": baselines[0]["acc"],
                         "ci": {"acc": {d: _interval(a, 0.05) for d, a in baselines[0]["acc"].items()}},
                         "ci_scope": scope},
            "rows": rows, "sequences": [], "absent_classes": {t: list(absent.get(t, [])) for t in targets},
            "summary": summary,
        },
        "fabricated",
    )  # fmt: skip
