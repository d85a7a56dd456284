"""The typed results model: a file of today's release read and written back byte for byte, the old
baseline layout, unknown keys, newer files refused, errors that name the key, the generated schema."""

from __future__ import annotations

import copy
import gzip
import json
import math
from pathlib import Path

import pytest

from fer_avalanche.results import (
    SCHEMA_VERSION,
    Interval,
    ReportError,
    Results,
    json_schema,
    read_results,
    schema_errors,
    schema_text,
)

#: ``results.json`` of a tiny synthetic run (2 seeds, baseline / ft-fc / wise-ft / fusion, two targets)
#: made with the release before the model existed (no ``schema_version``).
RELEASE = Path(__file__).parent / "reporting" / "release_results.json.gz"
SCHEMA = Path(__file__).parents[1] / "docs" / "results.schema.json"


def release() -> dict:
    return json.loads(gzip.decompress(RELEASE.read_bytes()))


def dumped(obj: object) -> str:
    return json.dumps(obj, indent=2) + "\n"


def test_a_file_of_the_release_is_written_back_byte_for_byte_with_its_version() -> None:
    raw = release()
    assert "schema_version" not in raw
    out = Results.from_json(raw, "release").to_json()
    assert list(out)[0] == "schema_version" and out["schema_version"] == SCHEMA_VERSION
    assert dumped({k: v for k, v in out.items() if k != "schema_version"}) == dumped(raw)


def test_reading_back_a_written_file_gives_the_same_bytes(tmp_path: Path) -> None:
    first = Results.from_json(release(), "release").write(tmp_path / "a.json")
    second = read_results(first).write(tmp_path / "b.json")
    assert first.read_bytes() == second.read_bytes()
    assert b"NaN" not in first.read_bytes()  # strict JSON


def test_attributes_are_the_json_keys() -> None:
    raw = release()
    r = Results.from_json(raw, "release")
    row, entry, base = r.rows[1], r.summary[1], r.baselines[0]
    assert (row.strategy, row.target, row.seed) == (raw["rows"][1]["strategy"], raw["rows"][1]["target"], 0)
    assert row.acc["lab-a"] == raw["rows"][1]["acc"]["lab-a"]
    assert row.budget.steps == raw["rows"][1]["budget"]["steps"]
    assert isinstance(row.ci.memory_integrity, Interval)
    assert row.ci.memory_integrity.to_json() == raw["rows"][1]["ci"]["memory_integrity"]
    assert entry.ci.memory_integrity.lo == raw["summary"][1]["ci"]["memory_integrity"][0]
    assert entry.memory_integrity == raw["summary"][1]["memory_integrity"]
    assert base.labels["wild"] == raw["baselines"][0]["labels"]["wild"]
    wise = next(r for r in r.rows if r.strategy == "wise-ft")
    assert wise.alpha_curve and wise.extra["alpha"] == wise.alpha_curve[-1]["alpha"] or wise.extra["alpha"]
    assert r.intervals.n_boot == raw["intervals"]["n_boot"]


def test_the_views_follow_the_rows() -> None:
    r = Results.from_json(release(), "release")
    assert r.targets_in_order() == ["lab-a", "lab-b"]
    assert r.strategies_in_order() == ["baseline", "ft-fc", "wise-ft", "fusion"]
    assert [(e.target, e.strategy) for e in r.summary_in_order()][:2] == [
        ("lab-a", "baseline"),
        ("lab-a", "ft-fc"),
    ]
    assert [m.seed for m in r.members("ft-fc", "lab-b")] == [0, 1]
    assert r.variants() == [{}] and not r.has_sweep() and r.has_intervals()


def test_a_sweep_gives_one_view_per_variant() -> None:
    raw = release()
    for row in raw["rows"]:
        row["variant"] = {"adapt.lr": 0.1 if row["seed"] == 0 else 0.2}
    r = Results.from_json(raw, "sweep")
    assert r.has_sweep() and r.variants() == [{"adapt.lr": 0.1}, {"adapt.lr": 0.2}]
    view = r.for_variant({"adapt.lr": 0.2})
    assert {row.seed for row in view.rows} == {1} and view.variant == {"adapt.lr": 0.2}
    assert all(row.variant == {} for row in view.rows)


def test_unknown_keys_are_kept_in_order_and_written_back() -> None:
    raw = release()
    raw["future_top"] = {"x": 1}
    raw["rows"][0] = {**raw["rows"][0], "future_row": [1, 2]}
    raw["baseline"]["future_base"] = "b"
    r = Results.from_json(raw, "future")
    assert r.extra == {"future_top": {"x": 1}} and r.rows[0].extra["future_row"] == [1, 2]
    again = r.to_json()
    assert again["future_top"] == {"x": 1} and again["baseline"]["future_base"] == "b"
    assert again["rows"][0]["future_row"] == [1, 2]


def test_an_unknown_key_inside_an_interval_record_is_refused_by_name() -> None:
    raw = release()
    raw["rows"][2]["ci"]["wobble"] = [0.0, 1.0]
    with pytest.raises(ReportError, match=r"f\.json: rows\[2\]\.ci: unknown key 'wobble'"):
        Results.from_json(raw, "f.json")


def test_a_newer_schema_version_is_refused() -> None:
    raw = {"schema_version": SCHEMA_VERSION + 1, **release()}
    with pytest.raises(ReportError, match=r"r\.json: schema_version 2: written by a newer fer-avalanche"):
        Results.from_json(raw, "r.json")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("rows", 0, "acc", "wild"),
            "high",
            r"x\.json: rows\[0\]\.acc\['wild'\]: expected a number, got str",
        ),
        (
            ("rows", 1, "seed"),
            [0],
            r"x\.json: rows\[1\]\.seed: expected an integer or a string or null, got list",
        ),
        (
            ("baselines", 0, "ci", "acc", "wild"),
            [0.5],
            r"x\.json: baselines\[0\]\.ci\.acc\['wild'\]: expected an interval",
        ),
        (("summary", 0, "pareto"), 1, r"x\.json: summary\[0\]\.pareto: expected true/false, got int"),
    ],
)
def test_a_wrong_type_names_the_file_and_the_key(path: tuple, value: object, message: str) -> None:
    raw = release()
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ReportError, match=message):
        Results.from_json(raw, "x.json")


@pytest.mark.parametrize("missing", ["source", "baseline", "rows"])
def test_a_missing_key_is_named(missing: str) -> None:
    raw = release()
    del raw[missing]
    with pytest.raises(ReportError, match=rf"x\.json: missing key '{missing}'"):
        Results.from_json(raw, "x.json")


def test_a_row_without_its_acc_is_named() -> None:
    raw = release()
    del raw["rows"][3]["acc"]
    with pytest.raises(ReportError, match=r"x\.json: rows\[3\]: missing key 'acc'"):
        Results.from_json(raw, "x.json")


def test_read_results_names_a_missing_or_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"results\.json: not found"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text('{"source": ')
    with pytest.raises(ReportError, match=r"results\.json: corrupt JSON at line 1"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text("[1, 2]")
    with pytest.raises(
        ReportError, match=r"results\.json: expected a JSON object with the run's results, got list"
    ):
        read_results(tmp_path)


def test_the_older_baseline_layout_becomes_one_entry_per_seed() -> None:
    raw = release()
    del raw["baselines"]
    raw["baseline"]["macro_f1"] = {"wild": 0.5}
    r = Results.from_json(raw, "old")
    per_seed = raw["baseline"]["per_seed"]
    assert [b.seed for b in r.baselines] == [int(s) for s in per_seed] == [0, 1]
    assert [b.acc for b in r.baselines] == [e["acc"] for e in per_seed.values()]
    assert r.baselines[0].macro_f1 == {"wild": 0.5} and r.baselines[1].macro_f1 == {}  # first seed only
    assert r.baselines[1].checkpoint == per_seed["1"]["checkpoint"]


def test_a_file_with_only_the_baseline_mean_gets_one_unit() -> None:
    r = Results.from_json({"source": "s", "seeds": [3], "baseline": {"acc": {"s": 0.9}}, "rows": []}, "old")
    assert [(b.seed, b.fold, b.acc) for b in r.baselines] == [(3, None, {"s": 0.9})]


def test_non_finite_numbers_are_null_and_read_back_as_nan() -> None:
    raw = release()
    r = Results.from_json(raw, "x")
    r.rows[0].target_gain = math.nan
    r.rows[0].ci.acc["wild"] = Interval(math.nan, 0.5)
    out = r.to_json()
    assert out["rows"][0]["target_gain"] is None and out["rows"][0]["ci"]["acc"]["wild"] == [None, 0.5]
    back = Results.from_json(out, "x")
    assert math.isnan(back.rows[0].ci.acc["wild"].lo) and back.to_json() == out


# ---------------------------------------------------------------- the schema
def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "run: python -m fer_avalanche.results > docs/results.schema.json"
    )


def test_the_schema_follows_the_model() -> None:
    defs = json_schema()["$defs"]
    assert defs["ResultRow"]["required"] == ["strategy", "target", "acc"]
    assert defs["ResultRow"]["additionalProperties"] is True  # extras: kept
    assert defs["RowIntervals"]["additionalProperties"] is False
    assert defs["RowIntervals"]["properties"]["memory_integrity"]["anyOf"][0] == {"type": "array",
        "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2}  # fmt: skip


def test_a_file_validates_against_the_schema_and_a_broken_one_does_not() -> None:
    good = Results.from_json(release(), "release").to_json()
    assert schema_errors(good) == []
    bad = copy.deepcopy(good)
    bad["rows"][0]["ci"]["memory_integrity"] = [0.1]
    del bad["baseline"]["acc"]
    bad["summary"][0]["n_units"] = "one"
    assert schema_errors(bad) == [
        "$.baseline: missing acc",
        "$.rows[0].ci.memory_integrity: 1 items",
        "$.summary[0].n_units: str is not ['integer']",
    ]


# ---------------------------------------------------------------- stats on the model
def _without_intervals() -> dict:
    raw = release()
    for key in ("summary", "intervals"):
        raw.pop(key)
    for record in [*raw["rows"], *raw["baselines"], raw["baseline"]]:
        record.pop("ci", None)
        record.pop("ci_scope", None)
    return raw


def test_add_intervals_of_the_model_fills_its_typed_fields_with_the_same_numbers() -> None:
    from fer_avalanche import stats

    raw = _without_intervals()
    bare = Results.from_json(raw, "bare")
    assert not bare.has_intervals() and bare.rows[1].ci is None
    done = stats.add_intervals(bare, n_boot=200)
    assert isinstance(done, Results) and done.has_intervals() and bare.rows[1].ci is None  # a new one
    assert isinstance(done.rows[1].ci.memory_integrity, Interval)
    assert isinstance(done.summary[1].ci.acc["lab-a"], Interval) and done.baseline.ci_scope == "units"
    assert done.to_json() == Results.from_json(stats.add_intervals(raw, n_boot=200), "dict").to_json()
    assert done.with_intervals() is done


def test_compare_takes_the_model() -> None:
    from fer_avalanche import stats

    raw = release()
    typed = stats.compare(Results.from_json(raw, "r"), "ft-fc", "fusion", n_boot=200)
    assert typed == stats.compare(raw, "ft-fc", "fusion", n_boot=200)
    assert [t["target"] for t in typed["targets"]] == ["lab-a", "lab-b"]
