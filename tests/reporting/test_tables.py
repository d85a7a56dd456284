"""The tables read the typed model: today's release renders to the same results.md and results.csv,
a column is declared once (a field with a ``column``, or an entry of ``METRICS``) and shows up in the
CSV and both Markdown tables, and ``render_plots`` draws once per variant of a sweep."""

from __future__ import annotations

import dataclasses
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fer_avalanche.reporting import plots, tables
from fer_avalanche.reporting import render_plots as render_plots_public
from fer_avalanche.reporting.tables import csv_text, markdown_report, results_csv_rows
from fer_avalanche.results import Column, ResultRow, Results

HERE = Path(__file__).parent


def release() -> Results:
    return Results.from_json(
        json.loads(gzip.decompress((HERE / "release_results.json.gz").read_bytes())), "r"
    )


def saved(name: str) -> str:
    return gzip.decompress((HERE / name).read_bytes()).decode("utf-8")


def test_a_file_of_the_release_renders_to_the_tables_it_was_written_with() -> None:
    results = release()
    assert markdown_report(results) == saved("release_results.md.gz")
    assert csv_text(results) == saved("release_results_csv.gz")


@dataclass
class WobbleRow(ResultRow):
    """A results row with one more number: the throwaway column of the test below."""

    wobble: float | None = field(default=None, metadata={"column": Column("wobble (%)", digits=2)})


def test_a_field_declared_with_a_column_shows_in_the_csv_and_both_markdown_tables() -> None:
    results = release()
    results.rows = [
        WobbleRow(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)}, wobble=0.1 + 0.2 * r.seed)
        for r in results.rows
    ]
    header, rows = results_csv_rows(results)
    assert header[header.index("source_macro_f1") + 1] == "wobble"  # after the declared metrics
    n_base = len(results.baselines)
    assert [r["wobble"] for r in rows[n_base:]] == [round(0.1 + 0.2 * r.seed, 6) for r in results.rows]
    assert all("wobble" not in r for r in rows[:n_base])  # the baseline's own rows: empty
    md = markdown_report(results).splitlines()
    main = next(line for line in md if line.startswith("| strategy | target | source acc"))
    assert "| source macro-F1 (%) | wobble (%) | steps |" in main
    ft = next(line for line in md if line.startswith("| ft-fc | lab-a | "))
    assert "| 4.6 | 20.00 ± 14.14 | 3 |" in ft  # the mean over the two seeds (0.1, 0.3), in %, 2 digits
    per_unit = md[md.index("## Per seed and fold") :]
    assert any("| wobble (%) |" in line for line in per_unit)
    assert any(line.startswith("| ft-fc | lab-a | seed 1 |") and "| 30.00 |" in line for line in per_unit)


def test_removing_a_metric_from_its_one_list_removes_it_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    results = release()
    kept = tuple(m for m in tables.METRICS if m.name != "source_drop")
    monkeypatch.setattr(tables, "METRICS", kept)
    header, _ = results_csv_rows(results)
    assert "source_drop" not in header and "source_drop_lo" not in header and "target_gain_lo" in header
    md = markdown_report(results)
    assert "| source drop (pts) |" not in md and "| target gain (pts) |" in md


def test_render_plots_draws_each_plot_once_per_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, str, list[str]]] = []

    def recorder(kind: str):
        def draw(obj: Results | dict, where: Path, suffix: str = "") -> Path | list[Path]:
            rows = obj.rows if isinstance(obj, Results) else Results.from_json(obj, "plot").rows
            seeds = sorted({str(r.seed) for r in rows})
            calls.append((kind, Path(where).name + suffix, seeds))
            return [] if kind == "curves" else Path(where)

        return draw

    for kind in ("tradeoff", "accuracy_matrix", "curves"):
        monkeypatch.setattr(plots, f"plot_{kind}" if kind != "accuracy_matrix" else "plot_accuracy_matrix",
                            recorder(kind))  # fmt: skip
    monkeypatch.setattr(plots, "_plot_confusions", lambda obj, where: [])
    monkeypatch.setattr(plots, "plot_forgetting_classes", lambda obj, where: None, raising=False)
    raw = release().to_json()
    for row in raw["rows"]:
        row["variant"] = {"adapt.lr": 0.1 if row["seed"] == 0 else 0.2}
    written = render_plots_public(Results.from_json(raw, "sweep"), tmp_path)
    names = [n for _, n, _ in calls]
    assert names[:2] == ["tradeoff__lr=0.1.png", "accuracy_matrix__lr=0.1.png"]
    assert [seeds for kind, _, seeds in calls if kind == "tradeoff"] == [["0"], ["1"]]
    assert tmp_path / "tradeoff__lr=0.2.png" in written
    calls.clear()
    render_plots_public(release(), tmp_path, confusion_plots=False)
    assert [n for _, n, _ in calls] == ["tradeoff.png", "accuracy_matrix.png", tmp_path.name]


def test_render_report_of_a_release_run_directory_rewrites_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fer_avalanche.reporting as reporting

    drawn: list[Results] = []
    monkeypatch.setattr(reporting, "render_plots", lambda r, out, confusion_plots: drawn.append(r) or [])
    raw = gzip.decompress((HERE / "release_results.json.gz").read_bytes())
    (tmp_path / "results.json").write_bytes(raw)
    written = reporting.render_report(tmp_path, confusion_plots=False)
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == saved("release_results.md.gz")
    assert (tmp_path / "results.csv").read_text(encoding="utf-8") == saved("release_results_csv.gz")
    assert (tmp_path / "results.json").read_bytes() == raw  # left untouched
    assert [p.name for p in written] == ["results.csv", "results.md"]
    assert [r.scenario for r in drawn] == ["demo"] and drawn[0].has_intervals()  # the plots: of the file
