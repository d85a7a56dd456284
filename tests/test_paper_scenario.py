"""The paper's scenario runs on real FER2013 (when present) with a JAFFE target built from fixtures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "formats"))
from fixtures import write_image  # noqa: E402

from fer_avalanche.config import load_scenario  # noqa: E402
from fer_avalanche.experiment import run_scenario  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
PAPER = Path(__file__).resolve().parents[1] / "scenarios" / "paper.toml"


def _jaffe(root: Path) -> Path:
    for s, subject in enumerate(("KA", "KL", "KM", "KR", "MK")):
        for e, code in enumerate(("AN", "DI", "FE", "HA", "NE", "SA", "SU")):
            write_image(root / f"{subject}.{code}1.{100 + 7 * s + e}.tiff", size=(64, 64), seed=7 * s + e)
    return root


def test_paper_scenario_short_run_on_real_fer2013(tmp_path, fer2013_gz):
    jaffe = _jaffe(tmp_path / "jaffe")
    scenario = load_scenario(
        PAPER,
        [
            f"source.root='{fer2013_gz}'",
            "source.max_train=600",
            f"targets=[{{name='jaffe', format='jaffe', root='{jaffe}', face_crop='center', "
            "split={method='fractions', fractions=[0.615, 0.07, 0.315]}}]",
            "seeds=[0]",
            "model.width=4",
            "train.epochs=1",
            "adapt.epochs=1",
            "adapt.eval_every=0",
            "sweep.values.adapt.budget=['steps']",  # one of the paper's two budget views
            "strategies.names=['baseline', 'ft-fc', 'fusion']",
        ],
    )
    run = run_scenario(
        scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache", tensorboard=False
    )
    results = run.results
    assert results["datasets"] == ["fer2013", "jaffe"]
    assert {r["strategy"] for r in results["rows"]} == {"baseline", "ft-fc", "fusion"}
    # the official FER2013 test split (PrivateTest) is evaluated whole; training was capped
    fer = next(d for d in json.loads((run.run_dir / "datasets.json").read_text()) if d["name"] == "fer2013")
    assert fer["per_split"]["train"] == 600 and fer["per_split"]["test"] in (3573, 3589)
    assert sum(results["baseline"]["confusion"]["fer2013"][0]) > 0
    fusion = next(r for r in results["rows"] if r["strategy"] == "fusion")
    ft_fc = next(r for r in results["rows"] if r["strategy"] == "ft-fc")
    assert fusion["budget"]["steps"] == ft_fc["budget"]["steps"] > 0  # one budget for every strategy
    assert fusion["budget"]["source_samples"] > 0 == ft_fc["budget"]["source_samples"]
