"""The records of ``results.json`` (:class:`Results` and its parts), reading a file, and the table
columns a field can declare (:class:`Column`). The package docstring of :mod:`fer_avalanche.results`
describes the model."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from fer_avalanche.results.codec import (
    JSON,
    Interval,
    ReportError,
    _decoded,
    _dict,
    _list,
    _omit,
    _Record,
)

#: The layout version :meth:`Results.to_json` writes (``"schema_version"``); files without it are 0.
SCHEMA_VERSION = 1


@dataclass
class Budget(_Record):
    """What an adaptation consumed: optimizer ``steps``, ``target_passes`` (samples of the target's
    training set seen / its size), ``source_samples`` (samples of other datasets seen) and ``epochs``;
    a summary's budget holds the means over its units."""

    steps: int | float | None = _omit()
    target_passes: int | float | None = _omit()
    source_samples: int | float | None = _omit()
    epochs: int | float | None = _omit()
    extra: dict[str, JSON] = _dict()

    def get(self, key: str) -> int | float | None:
        """The value of budget key ``key`` (a field or an ``extra`` key; ``None``: unknown)."""
        value = getattr(self, key) if key in _BUDGET_FIELDS else self.extra.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_BUDGET_FIELDS = ("steps", "target_passes", "source_samples", "epochs")


@dataclass
class Unit(_Record):
    """One unit of a summary entry: a (seed, fold)."""

    seed: int | str | None = None
    fold: int | None = None


@dataclass
class AccIntervals(_Record):
    """The intervals of a baseline entry's (or of the baseline mean's) accuracy per dataset."""

    acc: dict[str, Interval | None] = _dict()


@dataclass
class RowIntervals(_Record):
    """The intervals of a row or summary entry: accuracy per dataset, memory integrity, target gain,
    source drop (``None``: no interval, e.g. rows without per-sample predictions)."""

    acc: dict[str, Interval | None] = _dict()
    memory_integrity: Interval | None = None
    target_gain: Interval | None = None
    source_drop: Interval | None = None


@dataclass
class IntervalSettings(_Record):
    """How the intervals were computed (``results["intervals"]``)."""

    method: str = ""
    level: float = 0.95
    n_boot: int = 0
    seed: int = 0


@dataclass
class SeedBaseline(_Record):
    """``baseline["per_seed"][seed]``: a seed's baseline accuracies and checkpoint."""

    acc: dict[str, float] = _dict()
    checkpoint: str | None = None
    reused: bool | None = None
    extra: dict[str, JSON] = _dict()


@dataclass
class BaselineEntry(_Record):
    """One baseline unit (``results["baselines"][i]``): the source-trained model of a seed (and fold),
    evaluated on every dataset (``labels``/``predictions``: per-sample, as class strings)."""

    seed: int | str | None = None
    fold: int | None = None
    acc: dict[str, float] = _dict()
    macro_f1: dict[str, float] = _dict()
    per_class_acc: dict[str, list[float]] = _dict()
    confusion: dict[str, list[list[int]]] = _dict()
    n: dict[str, int] = _dict()
    predictions: dict[str, str] | None = _omit()
    labels: dict[str, str] | None = _omit()
    checkpoint: str | None = None
    reused: bool | None = None
    train_time_s: float | None = None
    budget: Budget = field(default_factory=Budget)
    curve: list[dict[str, JSON]] = _list()
    selected_epoch: int | None = None
    ci: AccIntervals | None = _omit()
    #: the sweep variants this baseline serves (``None``: all of them)
    variants: list[dict[str, JSON]] | None = _omit()
    extra: dict[str, JSON] = _dict()


@dataclass
class BaselineSummary(_Record):
    """``results["baseline"]``: the mean over the baseline units (``per_class_acc`` and ``confusion``
    of the first unit that has each dataset)."""

    required: ClassVar[tuple[str, ...]] = ("acc",)

    source: str | None = None
    acc: dict[str, float] = _dict()
    macro_f1: dict[str, float] = _dict()
    per_class_acc: dict[str, list[float]] = _dict()
    confusion: dict[str, list[list[int]]] = _dict()
    per_seed: dict[str, SeedBaseline] = _dict()
    ci: AccIntervals | None = _omit()
    ci_scope: str | None = _omit()
    extra: dict[str, JSON] = _dict()


@dataclass
class ResultRow(_Record):
    """One results row: a strategy adapted to ``target`` on a unit (seed, fold), evaluated on every
    dataset; ``step`` is the 1-based step of a sequential cell. ``extra`` holds what the strategy's
    plugins add (wise-ft's ``alpha``/``alpha_curve``, lp-ft's ``lp_ft``, ``masked_classes``, ...)."""

    required: ClassVar[tuple[str, ...]] = ("strategy", "target", "acc")

    strategy: str
    target: str
    seed: int | str | None = None
    fold: int | None = None
    variant: dict[str, JSON] = _dict()
    acc: dict[str, float] = _dict()
    macro_f1: dict[str, float] = _dict()
    per_class_acc: dict[str, list[float]] = _dict()
    confusion: dict[str, list[list[int]]] = _dict()
    n: dict[str, int] = _dict()
    predictions: dict[str, str] | None = _omit()
    memory_integrity: float | None = None
    source_drop: float | None = None
    target_gain: float | None = None
    budget: Budget = field(default_factory=Budget)
    curve: list[dict[str, JSON]] = _list()
    selected_epoch: int | None = None
    monitor: str | None = None
    train_time_s: float | None = None
    absent_classes: str | None = _omit()
    target_absent: list[str] | None = _omit()
    extra: dict[str, JSON] = _dict()
    step: int | None = _omit()
    ci: RowIntervals | None = _omit()
    ci_scope: str | None = _omit()

    @property
    def alpha_curve(self) -> list[dict[str, JSON]]:
        """wise-ft's ``alpha_curve`` (``[{"alpha", "val", "test"}]``; empty for other strategies)."""
        curve = self.extra.get("alpha_curve")
        return [p for p in curve if isinstance(p, dict)] if isinstance(curve, list) else []

    @property
    def unit(self) -> tuple[int | str | None, int | None]:
        """``(seed, fold)``."""
        return (self.seed, self.fold)


@dataclass
class SummaryEntry(_Record):
    """One (strategy, target) of ``results["summary"]``: means over its units, with intervals over
    units (``ci_scope == "units"``) or over the test images of its one unit (``"images"``)."""

    strategy: str
    target: str
    n_units: int = 0
    units: list[Unit] = _list()
    step: int | None = _omit()
    acc: dict[str, float | None] = _dict()
    macro_f1: dict[str, float | None] = _dict()
    source_acc: float | None = None
    target_acc: float | None = None
    memory_integrity: float | None = None
    target_gain: float | None = None
    source_drop: float | None = None
    train_time_s: float | None = None
    budget: Budget = field(default_factory=Budget)
    ci: RowIntervals | None = None
    ci_scope: str | None = None
    pareto: bool = False
    variant: dict[str, JSON] | None = _omit()
    extra: dict[str, JSON] = _dict()


@dataclass
class SequenceResult(_Record):
    """The accuracy matrix R of a sequential cell (row 0 = the baseline, row i = after step i, column j
    = dataset ``order[j]``) and its summaries (fractions; BWT and forgetting as differences)."""

    strategy: str
    seed: int | str | None = None
    fold: int | None = None
    order: list[str] = _list()
    matrix: list[list[float]] = _list()
    average_accuracy: float | None = _omit()
    bwt: float | None = _omit()
    forgetting: float | None = _omit()
    max_forgetting: float | None = _omit()
    variant: dict[str, JSON] | None = _omit()
    extra: dict[str, JSON] = _dict()


@dataclass(kw_only=True)
class Results(_Record):
    """A run's ``results.json``: the run's datasets, its baseline units and their mean, its rows, its
    sequences and (with intervals) the per-(strategy, target) summary.

    Build one with :func:`fer_avalanche.experiment.records.build_results`, read one with
    :func:`read_results`, write it with :meth:`write`."""

    required: ClassVar[tuple[str, ...]] = ("source", "baseline", "rows")

    schema_version: int = SCHEMA_VERSION
    scenario: str = ""
    mode: str = "pairwise"
    source: str
    datasets: list[str] = _list()
    label_names: list[str] = _list()
    seeds: list[int] = _list()
    folds: list[int | None] = _list()
    baselines: list[BaselineEntry] = _list()
    baseline: BaselineSummary
    rows: list[ResultRow] = _list()
    sequences: list[SequenceResult] = _list()
    absent_classes: dict[str, list[str]] = _dict()
    config: dict[str, JSON] | None = _omit()
    environment: dict[str, JSON] | None = _omit()
    wall_time_s: float | None = _omit()
    summary: list[SummaryEntry] | None = _omit()
    intervals: IntervalSettings | None = _omit()
    #: the variant a :meth:`for_variant` view holds
    variant: dict[str, JSON] | None = _omit()
    extra: dict[str, JSON] = _dict()

    @classmethod
    def from_json(cls, obj: JSON, origin: str = "results") -> Results:
        """The results of a ``results.json`` object; ``origin`` (the file) is named in errors.

        Reads files of every release so far (a file without ``baselines`` gets them from the older
        ``baseline["per_seed"]``); keys this version does not know are kept in ``extra``.

        Raises:
            ReportError: not a results object, a missing key (``source``, ``baseline``, ``rows``, a
                row's ``strategy``/``target``/``acc``), a value of the wrong type, or a file written by
                a newer version (its ``schema_version``). The message names ``origin`` and the key.

        Example:
            >>> try:
            ...     Results.from_json({"source": "s", "rows": []}, "x.json")
            ... except ReportError as exc:
            ...     print(exc)
            x.json: missing key 'baseline' (is this a fer-avalanche results file?)
        """
        if not isinstance(obj, Mapping):
            raise ReportError(
                f"{origin}: expected a JSON object with the run's results, got {type(obj).__name__}"
            )
        version = obj.get("schema_version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
            raise ReportError(
                f"{origin}: schema_version {version!r}: written by a newer fer-avalanche (this one reads "
                f"versions 0 to {SCHEMA_VERSION}); upgrade fer-avalanche to read it"
            )
        for key in ("source", "baseline", "rows"):
            if key not in obj:
                raise ReportError(f"{origin}: missing key {key!r} (is this a fer-avalanche results file?)")
        results = typing.cast(Results, _decoded(obj, cls, origin))
        results.schema_version = SCHEMA_VERSION
        if not results.baselines:  # the older layouts (see _old_baselines)
            results.baselines = _old_baselines(results)
        return results

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (indented, one final newline); returns ``path``."""
        from fer_avalanche.io import write_json

        write_json(path, self.to_json())
        return Path(path)

    # ------------------------------------------------------------- views for the tables and plots
    def dataset_names(self) -> list[str]:
        """``datasets`` (older files without it: the datasets the baseline was scored on)."""
        return list(self.datasets or self.baseline.acc)

    def targets_in_order(self) -> list[str]:
        """The targets: the datasets after the source, then any other target rows name, in order."""
        order = [d for d in self.dataset_names() if d != self.source]
        for row in self.rows:
            if row.target not in order:
                order.append(row.target)
        return order

    def strategies_in_order(self) -> list[str]:
        """The strategies in the order rows first show them."""
        return list(dict.fromkeys(str(row.strategy) for row in self.rows))

    def summary_in_order(self) -> list[SummaryEntry]:
        """Summary entries: targets in dataset order, strategies in the order rows first show them."""
        strategies = self.strategies_in_order()
        rank = {t: k for k, t in enumerate(self.targets_in_order())}

        def key(e: SummaryEntry) -> tuple[int, int]:
            s = strategies.index(e.strategy) if e.strategy in strategies else len(strategies)
            return (rank.get(e.target, len(rank)), s)

        return sorted(self.summary or [], key=key)

    def members(self, strategy: str, target: str) -> list[ResultRow]:
        """The rows of ``strategy`` adapted to ``target`` (one per unit)."""
        return [r for r in self.rows if r.strategy == strategy and r.target == target]

    def variants(self) -> list[dict[str, JSON]]:
        """The sweep's variants in the order rows first show them (``[{}]`` without a sweep)."""
        out: list[dict[str, JSON]] = []
        for row in self.rows:
            if dict(row.variant) not in out:
                out.append(dict(row.variant))
        return out or [{}]

    def has_sweep(self) -> bool:
        """Whether any row belongs to a sweep's variant."""
        return any(row.variant for row in self.rows)

    def for_variant(self, variant: Mapping[str, JSON]) -> Results:
        """The results of one variant alone (:func:`fer_avalanche.sweeps.variant_view`).

        Raises:
            ResultsError: no row has this variant.
        """
        from fer_avalanche import sweeps

        return Results.from_json(sweeps.variant_view(self.to_json(), variant), "variant view")

    def with_intervals(self, n_boot: int = 1000) -> Results:
        """``self`` when it has its intervals (:meth:`has_intervals`), else a copy with them:
        :func:`fer_avalanche.stats.add_intervals` (within each variant of a sweep, ``n_boot`` draws)."""
        if self.has_intervals():
            return self
        from fer_avalanche import sweeps

        return Results.from_json(sweeps.add_intervals(self.to_json(), n_boot=n_boot), "results")

    def has_intervals(self) -> bool:
        """Whether the summary, every row's and the baseline's intervals are there, made by the current
        method (summary entries with ``ci_scope``)."""
        return (
            self.summary is not None
            and all(e.ci_scope is not None for e in self.summary)
            and all(r.ci is not None for r in self.rows)
            and self.baseline.ci is not None
        )


def _old_baselines(results: Results) -> list[BaselineEntry]:
    """The baseline units of a file without ``baselines``: one per ``baseline["per_seed"]`` seed
    (macro-F1 then known for the first seed only), or the baseline mean as one unit."""
    base, seeds = results.baseline, results.seeds
    if not base.per_seed:
        return [
            BaselineEntry(
                seed=seeds[0] if seeds else None, acc=dict(base.acc), macro_f1=dict(base.macro_f1),
                ci=base.ci,
            )
        ]  # fmt: skip
    first = str(seeds[0]) if seeds else next(iter(base.per_seed))
    return [
        BaselineEntry(
            seed=int(s) if str(s).lstrip("-").isdigit() else s,
            acc=dict(entry.acc),
            macro_f1=dict(base.macro_f1) if str(s) == first else {},
            checkpoint=entry.checkpoint,
            reused=entry.reused,
        )
        for s, entry in base.per_seed.items()
    ]


def as_results(obj: Results | Mapping[str, JSON], origin: str = "results") -> Results:
    """``obj`` itself when it is :class:`Results`, else :meth:`Results.from_json` of the dict."""
    return obj if isinstance(obj, Results) else Results.from_json(obj, origin)  # type: ignore[arg-type]


def read_results(path: str | Path) -> Results:
    """Read and check ``results.json`` (``path``: the file, or a run directory holding it).

    Raises:
        ReportError: the file is missing, not UTF-8, not valid JSON, or not a results file (the
            message names it, and the key).

    Example:
        >>> read_results("runs/demo").mode  # doctest: +SKIP
        'pairwise'
    """
    path = Path(path)
    if path.is_dir() or path.suffix != ".json":
        path = path / "results.json"
    if not path.is_file():
        raise ReportError(f"{path}: not found; expected the results.json of a finished fer-avalanche run")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: corrupt JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror})") from None
    return Results.from_json(obj, str(path))


# ------------------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Column:
    """How the tables show a field declared with ``metadata={"column": Column(...)}``: its ``header`` in
    ``results.md`` (the CSV uses the field's name), ``scale`` (100: a fraction shown in %) and
    ``digits``. :mod:`fer_avalanche.reporting.tables` adds such a field of :class:`ResultRow` to the
    CSV, the main table (the mean over units) and the per-unit table; the schema describes it.

    Example:
        >>> Column("source acc (%)").scale
        100.0
    """

    header: str
    scale: float = 100.0
    digits: int = 1


def column_fields(cls: type[_Record]) -> list[dataclasses.Field]:  # type: ignore[type-arg]
    """The fields of ``cls`` that declare a table column (``metadata["column"]``), in order.

    Example:
        >>> [f.name for f in column_fields(ResultRow)]
        []
    """
    return [f for f in dataclasses.fields(cls) if "column" in f.metadata]  # type: ignore[arg-type]
