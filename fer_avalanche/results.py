"""The typed model of ``results.json``: what a run found, from the cell records to the tables and plots.

:class:`Results` is the whole file: the run's ``source`` and ``datasets``, its ``baselines`` (one
:class:`BaselineEntry` per unit = (seed, fold)) and their mean (:class:`BaselineSummary`), its
``rows`` (one :class:`ResultRow` per strategy x target x seed x fold), its ``sequences`` (the accuracy
matrices of sequential cells, :class:`SequenceResult`) and, once :func:`fer_avalanche.stats.add_intervals`
ran, every row's intervals (:class:`RowIntervals` of :class:`Interval`) and the per-(strategy,
target) ``summary`` (:class:`SummaryEntry`). Attribute names are the JSON keys (``row.acc["wild"]``,
``entry.ci.memory_integrity.lo``), and the fields are declared in the order the file lists them, so
:meth:`Results.to_json` writes the same bytes the runner always wrote (plus ``schema_version``).

One codec, driven by the dataclass fields and their types, reads (:meth:`Results.from_json`), writes
(:meth:`Results.to_json`) and describes (:func:`json_schema`, committed as
``docs/results.schema.json``) the file; a field's ``metadata`` says whether it is left out of the
JSON when ``None`` (``omit``) and, on :class:`ResultRow` and :class:`SummaryEntry`, which table column
shows it (``column``: the CSV and ``results.md`` pick such fields up, so adding a column is adding a
field). Keys this version does not know are kept, in order, in each record's ``extra`` mapping and
written back unchanged; a file of a newer ``schema_version`` is refused.

Files written before ``schema_version`` existed (version 0) are read too: a file without
``baselines`` gets one entry per seed from ``baseline["per_seed"]`` (the older layout).

Example:
    >>> r = Results.from_json({"source": "s", "baseline": {"acc": {"s": 0.9}},
    ...     "rows": [{"strategy": "ft-fc", "target": "t", "acc": {"s": 0.8, "t": 0.7}}]}, "example")
    >>> r.rows[0].acc["t"], r.targets_in_order(), r.strategies_in_order()
    (0.7, ['t'], ['ft-fc'])
    >>> Interval.from_json([0.1, 0.3]).to_json()
    [0.1, 0.3]
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar, TypeVar, Union

from fer_avalanche.stats import ResultsError

__all__ = [
    "SCHEMA_VERSION",
    "JSON",
    "ReportError",
    "Interval",
    "Budget",
    "Unit",
    "AccIntervals",
    "RowIntervals",
    "IntervalSettings",
    "SeedBaseline",
    "BaselineEntry",
    "BaselineSummary",
    "ResultRow",
    "SummaryEntry",
    "SequenceResult",
    "Results",
    "read_results",
    "as_results",
    "json_schema",
    "schema_errors",
    "Column",
    "column_fields",
]

#: The layout version :meth:`Results.to_json` writes (``"schema_version"``); files without it are 0.
SCHEMA_VERSION = 1

#: A JSON value (``list`` and ``dict`` hold JSON values).
JSON = Union[None, bool, int, float, str, list, dict]  # noqa: UP007 (a runtime alias the codec reads)

_R = TypeVar("_R", bound="_Record")


class ReportError(ResultsError):
    """A run directory's ``results.json`` is missing, unreadable or not a results file."""


def _omit(default: object = None, **meta: object) -> dataclasses.Field:  # type: ignore[type-arg]
    """A field left out of the JSON when ``None`` (a key the file does not always have)."""
    return field(default=default, metadata={"omit": True, **meta})


def _list() -> list:  # type: ignore[type-arg]
    return field(default_factory=list)


def _dict() -> dict:  # type: ignore[type-arg]
    return field(default_factory=dict)


# ------------------------------------------------------------------------------------- the codec
class _Record:
    """Base of the model's records: JSON in and out by field, in declared order."""

    #: Keys the JSON must have (besides the fields without a default).
    required: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, JSON]:
        """The record as a JSON object (non-finite floats as ``null``; ``omit`` fields left out when
        ``None``)."""
        out: dict[str, JSON] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update({k: _encode(v) for k, v in value.items() if k not in out})
            elif not (value is None and f.metadata.get("omit")):
                out[f.name] = _encode(value)
        return out

    @classmethod
    def from_json(cls: type[_R], obj: JSON, origin: str = "results") -> _R:
        """The record of a JSON object (``origin``: the file or key named in errors).

        Raises:
            ReportError: a key is missing or holds the wrong type (the message names ``origin`` and the key).
        """
        return typing.cast(_R, _decoded(obj, cls, origin))


def _encode(value: object) -> JSON:
    if isinstance(value, (_Record, Interval)):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _encode(value.tolist())  # type: ignore[union-attr]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _type_name(tp: object) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list",
             dict: "an object", type(None): "null"}  # fmt: skip
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, dict):
        return names[origin]
    if tp is Interval:
        return "an interval [low, high]"
    return f"an object ({getattr(tp, '__name__', tp)})"


class _Bad(Exception):
    """What the codec cannot read, at ``path`` (``rows[0].acc['wild']``); :func:`_decoded` names the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)


def _bad(value: object, tp: object, where: str) -> _Bad:
    got = "null" if value is None else type(value).__name__
    return _Bad(where, f"expected {_type_name(tp)}, got {got} ({json.dumps(value, default=str)[:60]})")


def _decoded(obj: object, tp: object, origin: str) -> object:
    """:func:`_decode` of a whole file (or record), its errors as :class:`ReportError` naming ``origin``."""
    try:
        return _decode(obj, tp, "")
    except _Bad as exc:
        raise ReportError(f"{origin}: {exc}") from None


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _decode(value: object, tp: object, where: str) -> object:  # noqa: C901 (one branch per kind of type)
    if tp is JSON or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _decode(value, arg, where)
            except _Bad as exc:
                errors.append(exc)
        raise errors[0] if len(errors) == 1 else _bad(value, tp, where)
    if tp is float:
        if value is None:
            return math.nan
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise _bad(value, tp, where)
    if tp in (int, str, bool):
        ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))  # type: ignore[arg-type]
        if not ok:
            raise _bad(value, tp, where)
        return value
    if tp is type(None):
        if value is not None:
            raise _bad(value, tp, where)
        return None
    if tp in (list, dict) or origin in (list, dict):
        kind = origin or tp
        if not isinstance(value, list if kind is list else Mapping):
            raise _bad(value, tp, where)
        args = typing.get_args(tp)
        if kind is list:
            return [_decode(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)] if args else value
        return {str(k): _decode(v, args[1], f"{where}[{k!r}]") for k, v in value.items()} if args else value  # type: ignore[union-attr]
    if tp is Interval:
        try:
            return Interval.from_json(value, where)  # type: ignore[arg-type]
        except ReportError:
            raise _bad(value, tp, where) from None
    if isinstance(tp, type) and issubclass(tp, _Record):
        return _decode_record(value, tp, where)
    raise TypeError(f"{where}: the results model has no codec for {tp!r}")


def _decode_record(value: object, cls: type[_Record], where: str) -> _Record:
    if not isinstance(value, Mapping):
        raise _bad(value, cls, where)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, object] = {}
    extra: dict[str, JSON] = {}
    for key, raw in value.items():
        if key in fields and key != "extra":
            kwargs[key] = _decode(raw, hints[key], _at(where, key))
        elif "extra" in fields:
            extra[str(key)] = raw
        else:
            known = ", ".join(n for n in fields)
            raise _Bad(where, f"unknown key {key!r} (this version reads {known})")
    for name, f in fields.items():
        required = name in cls.required or (
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        if required and name not in kwargs:
            raise _Bad(where, f"missing key {name!r} (is this a fer-avalanche results file?)")
    if "extra" in fields:
        kwargs["extra"] = extra
    return cls(**kwargs)


# ------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[lo, hi]`` (JSON: a two-element list; ``nan`` bounds are ``null``).

    Example:
        >>> Interval(0.25, 0.5).hi, Interval.from_json([None, 0.5]).to_json()
        (0.5, [None, 0.5])
    """

    lo: float
    hi: float

    def to_json(self) -> list[float | None]:
        """``[lo, hi]`` with non-finite bounds as ``None``."""
        return [b if math.isfinite(b) else None for b in (self.lo, self.hi)]

    @classmethod
    def from_json(cls, obj: JSON, where: str = "interval") -> Interval:
        """The interval of ``[lo, hi]`` (``null`` bounds: ``nan``).

        Raises:
            ReportError: ``obj`` is not a list of two numbers.
        """
        ok = isinstance(obj, list) and len(obj) == 2
        ok = ok and all(b is None or (isinstance(b, (int, float)) and not isinstance(b, bool)) for b in obj)
        if not ok:
            raise ReportError(str(_bad(obj, Interval, where)))
        lo, hi = (math.nan if b is None else float(b) for b in obj)  # type: ignore[union-attr]
        return cls(lo, hi)

    @classmethod
    def of(cls, pair: Sequence[float] | None) -> Interval | None:
        """The interval of a ``[lo, hi]`` pair as :mod:`fer_avalanche.stats` returns it (``None``: none)."""
        return None if pair is None else cls(float(pair[0]), float(pair[1]))

    @property
    def finite(self) -> bool:
        """Whether both bounds are finite numbers."""
        return math.isfinite(self.lo) and math.isfinite(self.hi)


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


# ------------------------------------------------------------------------------------- schema
def _schema(tp: object, defs: dict[str, dict[str, JSON]]) -> dict[str, JSON]:  # noqa: C901
    if tp is JSON or tp is object:
        return {}
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(a, defs) for a in typing.get_args(tp)]}
    simple = {str: "string", int: "integer", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}  # type: ignore[index]
    if tp is float:
        return {"type": ["number", "null"]}  # non-finite floats are written as null
    if tp is list or tp is dict:
        return {"type": "array" if tp is list else "object"}
    if origin is list:
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(typing.get_args(tp)[1], defs)}
    if tp is Interval:
        return {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2}
    if isinstance(tp, type) and issubclass(tp, _Record):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: records refer to each other
            hints = _hints(tp)
            props: dict[str, JSON] = {}
            required: list[JSON] = []
            for f in dataclasses.fields(tp):  # type: ignore[arg-type]
                if f.name == "extra":
                    continue
                props[f.name] = _schema(hints[f.name], defs)
                if isinstance(f.metadata.get("column"), Column):
                    props[f.name] = {"description": f.metadata["column"].header, **props[f.name]}
                if f.name in tp.required or (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                ):
                    required.append(f.name)
            doc = " ".join((tp.__doc__ or "").split("\n\n")[0].split())
            body: dict[str, JSON] = {"type": "object", "description": doc}
            body["properties"] = props
            if required:
                body["required"] = required
            body["additionalProperties"] = any(f.name == "extra" for f in dataclasses.fields(tp))  # type: ignore[arg-type]
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {tp!r}")


def json_schema() -> dict[str, JSON]:
    """The JSON Schema (draft 2020-12) of ``results.json``, generated from the model's fields and types
    (``docs/results.schema.json`` is this, written by ``python -m fer_avalanche.results``).

    Example:
        >>> s = json_schema()
        >>> s["$defs"]["ResultRow"]["required"]
        ['strategy', 'target', 'acc']
    """
    defs: dict[str, dict[str, JSON]] = {}
    top = _schema(Results, defs)
    name = str(top["$ref"]).rsplit("/", 1)[-1]
    root = dict(defs.pop(name))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"fer-avalanche results.json (schema_version {SCHEMA_VERSION})",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _check(value: JSON, schema: dict[str, JSON], root: dict[str, JSON], where: str) -> list[str]:  # noqa: C901
    if "$ref" in schema:
        return _check(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, where)
    if "anyOf" in schema:
        if value is not None and len(schema["anyOf"]) == 2 and {"type": "null"} in schema["anyOf"]:
            (inner,) = [s for s in schema["anyOf"] if s != {"type": "null"}]
            return _check(value, inner, root, where)  # X or null: the errors of X
        options = [_check(value, s, root, where) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: matches none of anyOf"]
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
             "integer": int, "number": (int, float)}  # fmt: skip
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        ok = any(isinstance(value, kinds[t]) and not (t in ("integer", "number") and isinstance(value, bool))
                 for t in types)  # fmt: skip
        if not ok:
            return [f"{where}: {type(value).__name__} is not {types}"]
    errors: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                errors += _check(v, props[k], root, f"{where}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += _check(v, schema["additionalProperties"], root, f"{where}[{k!r}]")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {k}")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            errors.append(f"{where}: {len(value)} items")
        for i, v in enumerate(value):
            errors += _check(v, schema.get("items", {}), root, f"{where}[{i}]")
    return errors


def schema_errors(obj: JSON) -> list[str]:
    """What in ``obj`` (a ``results.json`` object) breaks :func:`json_schema`, one line per error
    (``[]``: none). Checks the subset of JSON Schema the generated schema uses (``type``,
    ``properties``, ``required``, ``additionalProperties``, ``items``, ``minItems``/``maxItems``,
    ``anyOf``, ``$ref``), so it needs no ``jsonschema`` package.

    Example:
        >>> schema_errors({"source": "s", "baseline": {"acc": {"s": "high"}}, "rows": []})
        ["$.baseline.acc['s']: str is not ['number', 'null']"]
    """
    schema = json_schema()
    return _check(obj, schema, schema, "$")


def schema_text() -> str:
    """:func:`json_schema` as the text of ``docs/results.schema.json``."""
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":  # python -m fer_avalanche.results > docs/results.schema.json
    print(schema_text(), end="")
