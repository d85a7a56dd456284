"""Sweeps in results: every row's ``variant``, one view of the results per variant, comparisons.

A run of a scenario with a ``[sweep]`` (:class:`~fer_avalanche.config.SweepSpec`) holds the rows of
every variant, each with its ``variant`` (``{"adapt.budget": "steps", ...}``; ``{}`` without a sweep).
Intervals, summaries, the Pareto front and ``--compare`` are computed *within* a variant: a
:func:`variant_view` is the results of one variant alone, read by the same code as a run without a
sweep. :func:`compare_variants` also compares one strategy (or two) across two variants, paired on
the same units and test images (the variants of an adaptation sweep share their baselines).

Example:
    >>> results = {"rows": [{"strategy": "ft-fc", "target": "t", "variant": {"adapt.lr": 0.1}},
    ...                     {"strategy": "ft-fc", "target": "t", "variant": {"adapt.lr": 0.2}}]}
    >>> variants_of(results)
    [{'adapt.lr': 0.1}, {'adapt.lr': 0.2}]
    >>> find_variant(results, "lr=0.2")
    {'adapt.lr': 0.2}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

from fer_avalanche.stats import ResultsError

if TYPE_CHECKING:
    from fer_avalanche.results import Results

__all__ = [
    "variant_of",
    "variants_of",
    "has_sweep",
    "variant_view",
    "find_variant",
    "add_intervals",
    "compare_variants",
]


def variant_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A row's (or summary entry's, or sequence's) variant; ``{}`` without a sweep."""
    return dict(entry.get("variant") or {})


def variants_of(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The variants of a run, in the order its rows first show them (``[{}]`` without a sweep)."""
    out: list[dict[str, Any]] = []
    for row in results.get("rows") or []:
        v = variant_of(row)
        if v not in out:
            out.append(v)
    return out or [{}]


def has_sweep(results: Mapping[str, Any]) -> bool:
    """Whether any row belongs to a sweep's variant."""
    return any(variant_of(r) for r in results.get("rows") or [])


def _serves(entry: Mapping[str, Any], variant: Mapping[str, Any]) -> bool:
    served = entry.get("variants")
    return served is None or dict(variant) in [dict(v) for v in served]


def variant_view(results: Mapping[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
    """The results of one variant alone: its rows, sequences, summary entries and baselines, with the
    ``variant`` keys dropped (so every reader treats it as a run without a sweep); ``view["variant"]``
    names it.

    Raises:
        ResultsError: no row has this variant.
    """
    variant = dict(variant)
    rows = [dict(r) for r in results.get("rows") or [] if variant_of(r) == variant]
    if not rows and results.get("rows"):
        raise ResultsError(f"no rows of variant {variant!r}; the run's variants: {variants_of(results)}")
    for r in rows:
        r.pop("variant", None)
    out = dict(results)
    out["rows"] = rows
    out["variant"] = variant
    out["sequences"] = [
        {k: v for k, v in s.items() if k != "variant"}
        for s in results.get("sequences") or []
        if variant_of(s) == variant
    ]
    if "summary" in results:
        out["summary"] = [
            {k: v for k, v in e.items() if k != "variant"}
            for e in results["summary"]
            if variant_of(e) == variant
        ]
    baselines = results.get("baselines")
    if baselines is not None:
        mine = [{k: v for k, v in b.items() if k != "variants"} for b in baselines if _serves(b, variant)]
        out["baselines"] = mine
        if len(mine) != len(baselines) and mine:  # the baseline summary of this variant's own baselines
            from fer_avalanche.experiment.records import _baseline_summary

            out["baseline"] = {**_baseline_summary(mine, results.get("source", "")), "ci": {}}
            out.pop("summary", None)  # recomputed with this variant's baselines
    return out


def _dict(results: Results | Mapping[str, Any]) -> Mapping[str, Any]:
    """A results dict (the typed model's ``to_json()``)."""
    return results if isinstance(results, Mapping) else results.to_json()


def find_variant(results: Results | Mapping[str, Any], selector: str | int) -> dict[str, Any]:
    """The variant a user names: its index (``0``, ``1``, ...), or ``key=value`` terms separated by
    commas (``"budget=steps"``, ``"adapt.budget=steps, target_fraction=0.25"``: a key may be shortened
    to its last parts) that exactly one variant matches.

    Raises:
        ResultsError: no variant, or several, match (the message lists the run's variants).
    """
    variants = variants_of(_dict(results))
    listing = "; ".join(f"{i}: {_label(v) or '(no sweep)'}" for i, v in enumerate(variants))
    text = str(selector).strip()
    if text.lstrip("-").isdigit():
        i = int(text)
        if not 0 <= i < len(variants):
            raise ResultsError(f"variant {i} out of range; the run's variants: {listing}")
        return variants[i]
    terms = []
    for term in (t.strip() for t in text.split(",") if t.strip()):
        key, sep, value = term.partition("=")
        if not sep:
            raise ResultsError(f"variant {text!r}: expected key=value terms, e.g. budget=steps ({listing})")
        terms.append((key.strip(), value.strip()))

    def matches(v: Mapping[str, Any]) -> bool:
        for key, value in terms:
            hits = [k for k in v if k == key or k.endswith("." + key)]
            if not hits or not any(str(v[k]).lower() == value.lower() for k in hits):
                return False
        return True

    found = [v for v in variants if matches(v)]
    if len(found) != 1:
        what = "no variant" if not found else f"{len(found)} variants"
        raise ResultsError(f"variant {text!r}: {what} match; the run's variants: {listing}")
    return found[0]


def _label(variant: Mapping[str, Any]) -> str:
    from fer_avalanche.config import variant_label

    return variant_label(dict(variant))


@overload
def add_intervals(results: Results, n_boot: int = 1000, seed: int = 0) -> Results: ...
@overload
def add_intervals(results: Mapping[str, Any], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]: ...
def add_intervals(
    results: Results | Mapping[str, Any], n_boot: int = 1000, seed: int = 0
) -> Results | dict[str, Any]:
    """:func:`fer_avalanche.stats.add_intervals`, within each variant of a sweep (a
    :class:`~fer_avalanche.results.Results` in, a new one out; a dict in, a dict out).

    Without a sweep it is exactly ``stats.add_intervals(results)``. With one, every variant's view
    gets its intervals and summary; the rows keep their order and get their intervals, the summary
    lists every variant's entries (each with its ``variant``).
    """
    from fer_avalanche import stats

    if not isinstance(results, Mapping):
        return type(results).from_json(add_intervals(results.to_json(), n_boot, seed), "results")
    if not has_sweep(results):
        return stats.add_intervals(results, n_boot=n_boot, seed=seed)
    out: dict[str, Any] = dict(results)
    rows = [dict(r) for r in results.get("rows") or []]
    summary: list[dict[str, Any]] = []
    baselines = [dict(b) for b in results.get("baselines") or []]
    done_baselines: set[int] = set()
    for variant in variants_of(results):
        view = variant_view({k: v for k, v in results.items() if k != "summary"}, variant)
        done = stats.add_intervals(view, n_boot=n_boot, seed=seed)
        mine = [i for i, r in enumerate(rows) if variant_of(r) == variant]
        for i, row in zip(mine, done["rows"], strict=True):  # whatever add_intervals adds to a row
            rows[i] = {**row, "variant": variant}
        summary += [{**e, "variant": variant} for e in done["summary"]]
        served = [i for i, b in enumerate(baselines) if _serves(b, variant)]
        for i, done_b in zip(served, done.get("baselines") or [], strict=False):
            if i not in done_baselines:
                extra = {"variants": baselines[i]["variants"]} if "variants" in baselines[i] else {}
                baselines[i] = {**done_b, **extra}
                done_baselines.add(i)
        if "baseline" not in out or "ci" not in out["baseline"]:
            out["baseline"] = {
                **(results.get("baseline") or {}),
                "ci": (done.get("baseline") or {}).get("ci"),
            }
        for key, value in done.items():  # e.g. "intervals": how they were computed
            if key not in ("rows", "summary", "baselines", "baseline", "sequences", "variant"):
                out[key] = value
    out.pop("variant", None)
    out["rows"] = rows
    out["summary"] = summary
    if "baselines" in results:
        out["baselines"] = baselines
    return out


def compare_variants(
    results: Results | Mapping[str, Any],
    a: str,
    b: str,
    *,
    variant: Mapping[str, Any] | None = None,
    variant_b: Mapping[str, Any] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`fer_avalanche.stats.compare` of ``a - b`` within one variant (``variant``), or of ``a``
    in ``variant`` against ``b`` in ``variant_b`` (the same strategy twice: what the swept setting
    did), paired on the units and test images both have.

    Without a sweep, ``variant`` and ``variant_b`` are ``None`` and this is ``stats.compare``. The
    returned dict has ``variant`` (and ``variant_b``) added.

    Raises:
        ResultsError: a run with several variants and no ``variant``; a variant without rows.
    """
    from fer_avalanche import stats

    results = _dict(results)
    if not has_sweep(results) and variant is None and variant_b is None:
        return stats.compare(results, a, b, n_boot=n_boot, seed=seed)
    if variant is None:
        raise ResultsError(
            f"the run holds {len(variants_of(results))} variants of a sweep: name the one to compare in "
            f"(--variant), e.g. {_label(variants_of(results)[0])!r} or its index 0"
        )
    if variant_b is None or dict(variant_b) == dict(variant):
        view = variant_view(results, variant)
        view.pop("summary", None)
        out = stats.compare(view, a, b, n_boot=n_boot, seed=seed)
        return {**out, "variant": dict(variant)}
    va, vb = variant_view(results, variant), variant_view(results, variant_b)
    name_a, name_b = f"{a} [{_label(variant)}]", f"{b} [{_label(variant_b)}]"
    merged = dict(va)
    merged.pop("summary", None)
    merged["rows"] = [{**r, "strategy": name_a} for r in va["rows"] if r["strategy"] == a] + [
        {**r, "strategy": name_b} for r in vb["rows"] if r["strategy"] == b
    ]
    if va.get("baselines") != vb.get("baselines"):
        raise ResultsError(
            "the two variants have different baselines (a sweep over the baseline's settings or the "
            "data): their rows cannot be paired; compare within each variant"
        )
    out = stats.compare(merged, name_a, name_b, n_boot=n_boot, seed=seed)
    return {**out, "variant": dict(variant), "variant_b": dict(variant_b)}
