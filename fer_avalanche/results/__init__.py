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

from fer_avalanche.results.codec import JSON, Interval, ReportError
from fer_avalanche.results.model import (
    SCHEMA_VERSION,
    AccIntervals,
    BaselineEntry,
    BaselineSummary,
    Budget,
    Column,
    IntervalSettings,
    ResultRow,
    Results,
    RowIntervals,
    SeedBaseline,
    SequenceResult,
    SummaryEntry,
    Unit,
    as_results,
    column_fields,
    read_results,
)
from fer_avalanche.results.schema import json_schema, schema_errors, schema_text

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
    "schema_text",
]
