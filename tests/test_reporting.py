"""Reporting: results files in the contract's schema, tables with intervals and budgets, plots as valid
PNGs (error bars, Pareto front, forgetting curves), render_report, and the ``report`` CLI."""

from __future__ import annotations

import copy
import csv
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from test_stats import build_results, correct_vector

from fer_avalanche.cli import main
from fer_avalanche.errors import FERAvalancheError
from fer_avalanche.reporting import (
    ReportError,
    confusion_image,
    ensure_intervals,
    markdown_report,
    plot_accuracy_matrix,
    plot_confusion,
    plot_tradeoff,
    render_report,
    tradeoff_figure,
    write_results,
)

NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
DATASETS = ["fer2013", "jaffe", "tfeid"]
SIZES = {"fer2013": 400, "jaffe": 60, "tfeid": 40}
BUDGETS = {
    "ft-fc": {"steps": 150, "target_passes": 30.0, "source_samples": 0, "epochs": 30},
    "fusion": {"steps": 150, "target_passes": 10.0, "source_samples": 9000, "epochs": 10},
    "lwf": {"steps": 150, "target_passes": 30.0, "source_samples": 0, "epochs": 30},
}
# (source acc, target acc) after adaptation; lwf is dominated by ft-fc on both axes
AFTER = {"ft-fc": (0.60, 0.90), "fusion": (0.70, 0.85), "lwf": (0.55, 0.50)}


def _c(d: str, acc: float) -> np.ndarray:
    return correct_vector(SIZES[d], round(acc * SIZES[d]))


def make_results(
    seeds: tuple[int, ...] = (0,),
    mode: str = "pairwise",
    folds: tuple[int | None, ...] = (None,),
    predictions: bool = True,
    curves: bool = False,
) -> dict[str, Any]:
    """Baseline 80 / 30 / 25 % on fer2013 / jaffe / tfeid; three strategies on each target."""
    units = {}
    for seed in seeds:
        for fold in folds:
            baseline = {"fer2013": _c("fer2013", 0.8), "jaffe": _c("jaffe", 0.3), "tfeid": _c("tfeid", 0.25)}
            rows, budget, curve = {}, {}, {}
            for target in DATASETS[1:]:
                for strategy, (src, tgt) in AFTER.items():
                    correct = dict(baseline, fer2013=_c("fer2013", src + 0.01 * seed))
                    correct[target] = _c(target, tgt)
                    rows[(strategy, target)] = correct
                    budget[(strategy, target)] = BUDGETS[strategy]
                    if curves and target == "jaffe":
                        curve[(strategy, target)] = [
                            {
                                "epoch": e,
                                "step": 5 * e,
                                "acc": {"fer2013": 0.8 - 0.05 * e, "jaffe": 0.3 + 0.2 * e},
                            }
                            for e in (1, 2, 3)
                        ]
            units[(seed, fold)] = {"baseline": baseline, "rows": rows, "budget": budget, "curve": curve}
    results = build_results(units, source="fer2013", datasets=DATASETS, predictions=predictions)
    results.update(mode=mode, config={"anything": [1, 2]})
    for b in results["baselines"]:
        b["macro_f1"] = {d: a - 0.05 for d, a in b["acc"].items()}
    for r in results["rows"]:
        r["macro_f1"] = {d: a - 0.05 for d, a in r["acc"].items()}
    if mode != "pairwise":
        for seed in seeds:
            for fold in folds:
                results["sequences"].append(
                    {
                        "strategy": "ft-fc", "seed": seed, "fold": fold, "order": DATASETS,
                        "matrix": [[0.8, 0.3, 0.25], [0.6, 0.9, 0.3], [0.5, 0.7, 0.95]],
                        "average_accuracy": (0.5 + 0.7 + 0.95) / 3, "bwt": -0.25, "forgetting": 0.25,
                        "max_forgetting": 0.25,
                    }
                )  # fmt: skip
    return results


def _valid_png(path: Path) -> None:
    assert path.is_file(), path
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.verify()


def _line(md: str, strategy: str, target: str) -> str:
    """The (strategy, target) line of the main table (the first table of results.md)."""
    return [x for x in md.splitlines() if x.startswith(f"| {strategy} | {target} |")][0]


def _ci_text(ci: list[float], scale: float = 100.0, digits: int = 1) -> str:
    return f"[{ci[0] * scale:.{digits}f}, {ci[1] * scale:.{digits}f}]"


# ---------------------------------------------------------------- files and tables
def test_write_results_files_and_schema(tmp_path: Path) -> None:
    results = make_results()
    written = write_results(tmp_path, results)
    names = {p.name for p in written}
    assert {"results.json", "results.csv", "results.md", "tradeoff.png", "accuracy_matrix.png"} <= names
    saved = json.loads((tmp_path / "results.json").read_text())
    assert (
        saved["config"] == {"anything": [1, 2]}
        and saved["rows"][0]["predictions"] == results["rows"][0]["predictions"]
    )  # extra keys and per-sample outputs kept
    assert "summary" in saved and "ci" in saved["rows"][0] and "ci" in saved["baseline"]  # intervals added
    assert "summary" not in results  # the caller's dict is not modified

    with open(tmp_path / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    assert header[:13] == [
        "strategy", "target", "seed", "fold", "source_acc", "target_acc", "memory_integrity", "source_drop",
        "target_gain", "target_macro_f1", "source_macro_f1", "train_time_s", "budget_steps",
    ]  # fmt: skip
    assert {"budget_target_passes", "budget_source_samples", "target_acc_lo", "memory_integrity_hi"} <= set(
        header
    )
    assert rows[0]["strategy"] == "baseline" and float(rows[0]["memory_integrity"]) == 1.0
    assert len(rows) == 1 + len(results["rows"])
    fusion = [r for r in rows if r["strategy"] == "fusion" and r["target"] == "jaffe"][0]
    assert float(fusion["target_acc"]) == pytest.approx(0.85)
    assert float(fusion["acc_fer2013"]) == pytest.approx(0.7)
    assert (fusion["budget_steps"], fusion["budget_source_samples"]) == ("150", "9000")
    i = [k for k, r in enumerate(results["rows"]) if r["strategy"] == "fusion" and r["target"] == "jaffe"][0]
    ci = saved["rows"][i]["ci"]
    assert float(fusion["target_acc_lo"]) == pytest.approx(ci["acc"]["jaffe"][0], abs=1e-6)
    assert float(fusion["memory_integrity_hi"]) == pytest.approx(ci["memory_integrity"][1], abs=1e-6)
    assert (tmp_path / "confusion" / "baseline__fer2013.png").is_file()
    for path in written:
        if path.suffix == ".png":
            _valid_png(path)


def test_results_md_shows_intervals_budget_and_the_front(tmp_path: Path) -> None:
    results = ensure_intervals(make_results())
    md = markdown_report(results)
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[0] == (
        "| strategy | target | source acc (%) | target acc (%) | MI | source drop (pts) "
        "| target gain (pts) | target macro-F1 (%) | source macro-F1 (%) | steps | target passes "
        "| source samples | units | front |"
    )
    entry = {(e["strategy"], e["target"]): e for e in results.to_json()["summary"]}
    ci = entry[("ft-fc", "jaffe")]["ci"]
    i = "ⁱ"  # issue 20: one unit: the intervals cover the test images only, and say so
    expected = (
        f"| ft-fc | jaffe | 60.0 {_ci_text(ci['acc']['fer2013'])}{i} "
        f"| 90.0 {_ci_text(ci['acc']['jaffe'])}{i} "
        f"| 0.750 {_ci_text(ci['memory_integrity'], 1.0, 3)}{i} | 20.0 {_ci_text(ci['source_drop'])}{i} "
        f"| 60.0 {_ci_text(ci['target_gain'])}{i} | 85.0 | 55.0 | 150 | 30.00 | 0 | 1 | ★ |"
    )
    assert _line(md, "ft-fc", "jaffe") == expected
    assert _line(md, "fusion", "jaffe").endswith("| 150 | 10.00 | 9,000 | 1 | ★ |")
    assert _line(md, "lwf", "jaffe").endswith("| 150 | 30.00 | 0 | 1 |  |")  # dominated by ft-fc
    base_ci = results.to_json()["baseline"]["ci"]["acc"]
    base_src, base_tgt = _ci_text(base_ci["fer2013"]), _ci_text(base_ci["jaffe"])
    assert _line(md, "baseline", "jaffe").startswith(
        f"| baseline | jaffe | 80.0 {base_src}{i} | 30.0 {base_tgt}{i} |"
    )
    phrases = ["95% confidence interval", "bootstrap over the test images", "t-interval", "target passes",
               "source samples", "Pareto front", "acc_after[source] / acc_baseline[source]"]  # fmt: skip
    for phrase in phrases:
        assert phrase in md, phrase
    assert "intervals: 95% bootstrap, 1000 draws" in md
    assert "## Per seed and fold" not in md  # one unit per row: nothing to break down


def test_several_units_are_bootstrapped_over_seeds_and_folds(tmp_path: Path) -> None:
    results = make_results(seeds=(0, 1), folds=(0, 1))
    write_results(tmp_path, results, confusion_plots=False)
    md = (tmp_path / "results.md").read_text()
    saved = json.loads((tmp_path / "results.json").read_text())
    entry = [e for e in saved["summary"] if (e["strategy"], e["target"]) == ("ft-fc", "jaffe")][0]
    assert entry["n_units"] == 4
    # source acc of ft-fc: 60, 60, 61, 61 -> mean 60.5
    assert _line(md, "ft-fc", "jaffe").startswith(
        f"| ft-fc | jaffe | 60.5 {_ci_text(entry['ci']['acc']['fer2013'])} | 90.0"
    )
    assert "| 4 | ★ |" in _line(md, "ft-fc", "jaffe")
    assert "seeds: 0, 1 · folds: 0, 1" in md
    assert "## Per seed and fold" in md and "| ft-fc | jaffe | seed 1, fold 0 | 61.0 [" in md
    with open(tmp_path / "results.csv", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert len(lines) == 4 + 24  # one baseline per unit, raw rows, not aggregated
    assert {(r["seed"], r["fold"]) for r in lines if r["strategy"] == "baseline"} == {
        ("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")
    }  # fmt: skip


def test_old_runs_without_predictions_render_without_intervals(tmp_path: Path) -> None:
    results = make_results(seeds=(0, 1, 2), predictions=False)
    del results["baselines"]
    write_results(tmp_path, results, confusion_plots=False)
    md = (tmp_path / "results.md").read_text()
    # source acc of ft-fc: 60, 61, 62 -> mean 61.0, sample std 1.0; no interval without predictions
    assert _line(md, "ft-fc", "jaffe").startswith("| ft-fc | jaffe | 61.0 ± 1.0 | 90.0 ± 0.0 |")
    render_report(tmp_path, confusion_plots=False)


def test_render_report_recomputes_missing_intervals(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(make_results()))  # a run written without intervals
    before = (tmp_path / "results.json").read_bytes()
    paths = render_report(tmp_path, confusion_plots=False)
    md = (tmp_path / "results.md").read_text()
    assert tmp_path / "results.md" in paths
    assert "| ft-fc | jaffe | 60.0 [" in md and "★" in md
    assert (tmp_path / "results.json").read_bytes() == before


def test_sequences_with_folds_get_a_matrix_each(tmp_path: Path) -> None:
    for mode in ("sequential", "class-incremental"):
        results = make_results(seeds=(0,), folds=(0, 1), mode=mode)
        written = write_results(tmp_path, results, confusion_plots=False)
        md = (tmp_path / "results.md").read_text()
        assert "## Sequential streams" in md
        assert "### ft-fc (seed 0, fold 1): accuracy matrix R (%)" in md
        assert "| after step | fer2013 | jaffe | tfeid |" in md
        assert "| after tfeid | 50.0 | 70.0 | 95.0 |" in md
        for definition in ("BWT (GEM/Avalanche)", "forgetting (Avalanche)", "max forgetting (Chaudhry"):
            assert definition in md
        assert "| ft-fc | 2 | 71.7 ± 0.0 | -25.0 ± 0.0 | 25.0 ± 0.0 | 25.0 ± 0.0 |" in md
        assert "Rows: the model after the step" in md
        _valid_png(tmp_path / "accuracy_matrix.png")
        assert all(p.exists() for p in written)


def test_nan_values_become_null_and_dash(tmp_path: Path) -> None:
    results = make_results()
    results["rows"][0]["memory_integrity"] = math.nan
    write_results(tmp_path, results, confusion_plots=False)
    loaded = json.loads((tmp_path / "results.json").read_text())  # strict JSON: no NaN token
    assert loaded["rows"][0]["memory_integrity"] is None
    assert "NaN" not in (tmp_path / "results.json").read_text()
    assert _line((tmp_path / "results.md").read_text(), "ft-fc", "jaffe").split(" | ")[4] == "–"
    render_report(tmp_path, confusion_plots=False)  # None values render too


def test_render_report_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="results.json: not found"):
        render_report(tmp_path)
    (tmp_path / "results.json").write_text('{"rows": [')
    with pytest.raises(FERAvalancheError, match=r"results.json: corrupt JSON at line 1"):
        render_report(tmp_path)
    (tmp_path / "results.json").write_text('{"rows": []}')
    with pytest.raises(ReportError, match="missing key 'source'"):
        render_report(tmp_path)
    bad = copy.deepcopy(make_results())
    del bad["rows"][0]["acc"]
    with pytest.raises(ReportError, match=r"rows\[0\]"):
        write_results(tmp_path, bad)


def test_markdown_without_rows() -> None:
    results = make_results()
    results["rows"] = []
    assert "| baseline | – |" in markdown_report(results)


# ---------------------------------------------------------------- plots
def test_tradeoff_has_error_bars_on_both_axes_and_joins_the_front() -> None:
    results = ensure_intervals(make_results())
    ax = tradeoff_figure(results).axes[0]
    assert ax.get_title() == "jaffe"  # one panel per target (tests/reporting/test_plots.py)
    xbars, ybars = ([c for c in ax.collections if c.get_label() == f"_{a}bars"][0] for a in "xy")
    assert (len(xbars.get_segments()), len(ybars.get_segments())) == (3, 4)  # the baseline: vertical only
    front = sorted(
        (e.memory_integrity, e.target_acc * 100) for e in results.summary if e.target == "jaffe" and e.pareto
    )
    assert len(front) == 2
    joined = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert any(np.allclose(np.c_[line.get_xdata(), line.get_ydata()], front) for line in joined)


def test_curves_are_drawn_only_where_rows_have_them(tmp_path: Path) -> None:
    written = write_results(tmp_path / "a", make_results(curves=True), confusion_plots=False)
    assert tmp_path / "a" / "curves_jaffe.png" in written
    _valid_png(tmp_path / "a" / "curves_jaffe.png")
    assert not (tmp_path / "a" / "curves_tfeid.png").exists()  # no curve recorded for tfeid
    write_results(tmp_path / "b", make_results(), confusion_plots=False)
    assert not list((tmp_path / "b").glob("curves_*.png"))


def test_individual_plots(tmp_path: Path) -> None:
    results = make_results()
    _valid_png(plot_tradeoff(results, tmp_path / "t.png"))
    _valid_png(plot_accuracy_matrix(results, tmp_path / "m.png"))
    plot_confusion(np.eye(7, dtype=int) * 3, NAMES, title="x", path=tmp_path / "c.png")
    _valid_png(tmp_path / "c.png")
    img = confusion_image(np.ones((7, 7), dtype=int), NAMES, title="y")
    assert img.mode == "RGB" and min(img.size) > 100


def test_reading_a_run_needs_no_torch() -> None:
    code = (
        "import sys, fer_avalanche.reporting, fer_avalanche.stats, fer_avalanche.cli; "
        "print(sorted(m for m in ('torch', 'avalanche', 'fer_avalanche.metrics') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the report CLI
def test_report_cli_compare_prints_the_paired_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # issue 20: three seeds (two now draw a warning), and the text names the Holm adjustment
    write_results(tmp_path, make_results(seeds=(0, 1, 2)), confusion_plots=False)
    assert main(["report", str(tmp_path), "--compare", "fusion", "ft-fc", "--n-boot", "200"]) == 0
    text = capsys.readouterr().out
    assert "## Paired comparison: fusion - ft-fc" in text
    jaffe = [line for line in text.splitlines() if line.startswith("| jaffe | 3 |")]
    # fusion vs ft-fc on jaffe: 85 vs 90 % target, 71.0 vs 61.0 % source
    assert len(jaffe) == 1 and "| 85.0 / 90.0 | -5.0 [" in jaffe[0] and "| 71.0 / 61.0 | +10.0 [" in jaffe[0]
    assert "Holm-adjusted over the 6 comparisons" in text and "warning" not in text

    assert main(["report", str(tmp_path), "--compare", "fusion", "ft-fc", "--json", "--n-boot", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["a"], data["b"]) == ("fusion", "ft-fc") and [t["target"] for t in data["targets"]] == [
        "jaffe", "tfeid"
    ]  # fmt: skip
    assert data["targets"][0]["source_acc"]["diff"] == pytest.approx(0.10)
    lo, hi = data["targets"][0]["source_acc"]["ci"]
    assert 0 < lo < 0.10 < hi

    assert main(["report", str(tmp_path), "--compare", "fusoin", "ft-fc"]) == 2
    assert "error: compare: no rows for strategy 'fusoin'" in capsys.readouterr().err


def test_report_cli_rerenders(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_results(tmp_path, make_results(), confusion_plots=False)
    (tmp_path / "results.md").unlink()
    assert main(["report", str(tmp_path), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)["written"]
    assert str(tmp_path / "results.md") in written and (tmp_path / "results.md").is_file()


def test_curves_are_plotted_against_optimizer_steps_not_epochs(tmp_path: Path, monkeypatch) -> None:
    import fer_avalanche.reporting as reporting
    import fer_avalanche.reporting.plots as plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or Path(path))
    results = make_results(curves=True)
    for row in results["rows"]:
        if row.get("curve"):
            row["selected_epoch"] = 2
    reporting.plot_curves(results, tmp_path)
    (ax,) = figures[0].axes
    assert ax.get_xlabel() == "optimizer steps of the adaptation"
    assert all(list(line.get_xdata()) == [5.0, 10.0, 15.0] for line in ax.lines)  # step = 5 * epoch
    stars = [c.get_offsets()[0][0] for c in ax.collections]
    assert stars and all(x == 10.0 for x in stars)  # the selected epoch 2, at its step
