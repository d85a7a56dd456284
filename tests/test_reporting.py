"""Reporting: results files with the runner's schema, plots as valid PNGs, render_report and its errors."""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_avalanche.errors import FERAvalancheError
from fer_avalanche.reporting import (
    ReportError,
    confusion_image,
    markdown_report,
    plot_accuracy_matrix,
    plot_confusion,
    plot_tradeoff,
    render_report,
    write_results,
)

NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
DATASETS = ["fer2013", "jaffe", "tfeid"]


def _eval(rng: np.random.Generator, acc: dict[str, float]) -> dict:
    cms = {d: rng.integers(0, 9, size=(7, 7)).tolist() for d in acc}
    return {
        "acc": acc,
        "macro_f1": {d: max(a - 0.05, 0.0) for d, a in acc.items()},
        "per_class_acc": {d: [0.5, None, 0.4, 0.9, 0.3, 0.7, 0.6] for d in acc},
        "confusion": cms,
    }


def make_results(seeds: tuple[int, ...] = (0,), mode: str = "pairwise") -> dict:
    rng = np.random.default_rng(0)
    base_acc = {"fer2013": 0.8, "jaffe": 0.3, "tfeid": 0.25}
    results = {
        "scenario": "unit",
        "mode": mode,
        "source": "fer2013",
        "datasets": DATASETS,
        "label_names": NAMES,
        "seeds": list(seeds),
        "baseline": {"source": "fer2013", **_eval(rng, base_acc)},
        "rows": [],
        "sequences": [],
        "config": {"anything": [1, 2]},
    }
    for seed in seeds:
        for target in DATASETS[1:]:
            for k, strategy in enumerate(["ft-fc", "fusion"]):
                after = {"fer2013": 0.6 + 0.1 * k + 0.01 * seed, "jaffe": 0.3, "tfeid": 0.25}
                after[target] = 0.9 - 0.05 * k
                results["rows"].append(
                    {
                        "strategy": strategy,
                        "target": target,
                        "seed": seed,
                        **_eval(rng, after),
                        "memory_integrity": after["fer2013"] / 0.8,
                        "source_drop": 0.8 - after["fer2013"],
                        "target_gain": after[target] - base_acc[target],
                        "train_time_s": 1.5,
                    }
                )
    if mode == "sequential":
        for seed in seeds:
            results["sequences"].append(
                {
                    "strategy": "ft-fc",
                    "seed": seed,
                    "order": DATASETS,
                    "matrix": [[0.8, 0.3, 0.25], [0.6, 0.9, 0.3], [0.5, 0.7, 0.95]],
                    "average_accuracy": (0.5 + 0.7 + 0.95) / 3,
                    "bwt": -0.25,
                    "forgetting": 0.25,
                    "max_forgetting": 0.25,
                }
            )
    return results


def _valid_png(path: Path) -> None:
    assert path.is_file(), path
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.verify()


def test_write_results_files_and_schema(tmp_path: Path) -> None:
    results = make_results()
    written = write_results(tmp_path, results)
    names = {p.name for p in written}
    assert {"results.json", "results.csv", "results.md", "tradeoff.png", "accuracy_matrix.png"} <= names
    assert json.loads((tmp_path / "results.json").read_text()) == results  # round trip, extra keys kept

    with open(tmp_path / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    assert header[:11] == [
        "strategy", "target", "seed", "source_acc", "target_acc", "memory_integrity", "source_drop",
        "target_gain", "target_macro_f1", "source_macro_f1", "train_time_s",
    ]  # fmt: skip
    assert {f"acc_{d}" for d in DATASETS} <= set(header)
    assert rows[0]["strategy"] == "baseline" and float(rows[0]["memory_integrity"]) == 1.0
    assert len(rows) == 1 + len(results["rows"])
    fusion_jaffe = [r for r in rows if r["strategy"] == "fusion" and r["target"] == "jaffe"][0]
    assert float(fusion_jaffe["target_acc"]) == pytest.approx(0.85)
    assert float(fusion_jaffe["acc_fer2013"]) == pytest.approx(0.7)

    md = (tmp_path / "results.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| strategy | target | source acc (%)")
    assert table[2].startswith("| baseline | jaffe | 80.0 | 30.0 | 1.000 |")  # baseline first
    # percentages with 1 decimal, MI with 3: ft-fc on jaffe: source 60.0, target 90.0, MI 0.750
    assert "| ft-fc | jaffe | 60.0 | 90.0 | 0.750 | 20.0 | 60.0 | 85.0 | 55.0 |" in md
    for strategy in ("ft-fc", "fusion"):
        assert f"| {strategy} |" in md
    assert "acc_after[source] / acc_baseline[source]" in md and "macro-F1" in md
    assert (tmp_path / "confusion" / "baseline__fer2013.png").is_file()
    for path in written:
        if path.suffix == ".png":
            _valid_png(path)


def test_several_seeds_are_aggregated(tmp_path: Path) -> None:
    results = make_results(seeds=(0, 1, 2))
    write_results(tmp_path, results, confusion_plots=False)
    md = (tmp_path / "results.md").read_text()
    # source acc of ft-fc: 60, 61, 62 -> mean 61.0, sample std 1.0
    assert "| ft-fc | jaffe | 61.0 ± 1.0 | 90.0 ± 0.0 |" in md
    assert "mean ± sample std" in md
    with open(tmp_path / "results.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 1 + 12  # raw rows, not aggregated


def test_sequential_tables_and_matrix_plot(tmp_path: Path) -> None:
    results = make_results(seeds=(0, 1), mode="sequential")
    written = write_results(tmp_path, results, confusion_plots=False)
    md = (tmp_path / "results.md").read_text()
    assert "## Sequential streams" in md
    assert "| after step | fer2013 | jaffe | tfeid |" in md
    assert "| after tfeid | 50.0 | 70.0 | 95.0 |" in md
    for definition in ("BWT (GEM/Avalanche)", "forgetting (Avalanche)", "max forgetting (Chaudhry"):
        assert definition in md
    assert "| ft-fc | 2 | 71.7 ± 0.0 | -25.0 ± 0.0 | 25.0 ± 0.0 | 25.0 ± 0.0 |" in md
    _valid_png(tmp_path / "accuracy_matrix.png")
    assert all(p.exists() for p in written)


def test_nan_values_become_null_and_dash(tmp_path: Path) -> None:
    results = make_results()
    results["rows"][0]["memory_integrity"] = math.nan
    write_results(tmp_path, results, confusion_plots=False)
    loaded = json.loads((tmp_path / "results.json").read_text())  # strict JSON: no NaN token
    assert loaded["rows"][0]["memory_integrity"] is None
    assert "NaN" not in (tmp_path / "results.json").read_text()
    assert "| ft-fc | jaffe | 60.0 | 90.0 | – |" in (tmp_path / "results.md").read_text()
    render_report(tmp_path, confusion_plots=False)  # None values render too


def test_render_report_regenerates(tmp_path: Path) -> None:
    write_results(tmp_path, make_results(mode="sequential"), confusion_plots=False)
    before = (tmp_path / "results.json").read_bytes()
    for name in ("results.md", "results.csv", "tradeoff.png", "accuracy_matrix.png"):
        (tmp_path / name).unlink()
    paths = render_report(tmp_path, confusion_plots=False)
    for name in ("results.md", "results.csv", "tradeoff.png", "accuracy_matrix.png"):
        assert tmp_path / name in paths and (tmp_path / name).is_file()
    assert (tmp_path / "results.json").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


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


def test_individual_plots(tmp_path: Path) -> None:
    results = make_results()
    _valid_png(plot_tradeoff(results, tmp_path / "t.png"))
    _valid_png(plot_accuracy_matrix(results, tmp_path / "m.png"))
    plot_confusion(np.eye(7, dtype=int) * 3, NAMES, title="x", path=tmp_path / "c.png")
    _valid_png(tmp_path / "c.png")
    img = confusion_image(np.ones((7, 7), dtype=int), NAMES, title="y")
    assert img.mode == "RGB" and min(img.size) > 100


def test_markdown_without_rows() -> None:
    results = make_results()
    results["rows"] = []
    text = markdown_report(results)
    assert "| baseline |" in text
