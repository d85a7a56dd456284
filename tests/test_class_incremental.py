"""Class-incremental ("NC") streams learned for real: naive forgets the earlier classes, replay keeps some.

A baseline learns the first class group of a small synthetic ``wild`` set; ``naive`` and ``replay``
(``make_strategy``, warm-started from the first experience) then learn the other groups in turn, and
the whole test stream is evaluated after every step with ``make_evaluator``'s :class:`FERMetrics`. The
settings (groups, epochs, learning rate) were chosen so that every assertion holds on seeds 0 and 1,
checked here; replay's last experience is its tightest margin (0.56 on seed 0 on this test machine,
0.64 on another CPU, where a step that learnt nothing scores near 0). The slow test runs
``scenarios/class_incremental.toml`` through the CLI and reads the run directory.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from fer_avalanche import (
    class_incremental_benchmark,
    load_scenario,
    make_domain,
    make_evaluator,
    make_model,
    make_strategy,
)
from fer_avalanche.benchmarks import class_group_names
from fer_avalanche.cli import main
from fer_avalanche.metrics import AccuracyMatrix
from fer_avalanche.utils import seed_everything

#: Easy-to-separate pairs of the synthetic ``wild`` domain, in training order.
GROUPS = [["angry", "fear"], ["happy", "sad"], ["surprise", "neutral"]]
NUM_CLASSES = 7  # the basic-7 expressions of the synthetic domains
STRATEGIES = {"naive": {}, "replay": {"mem_size": 150}}


@dataclass
class Stream:
    """What one seed's run left: the accuracy matrices, naive's last predictions, the test sets."""

    names: list[str]
    groups: list[list[int]]
    matrices: dict[str, AccuracyMatrix]
    last_predictions: dict[str, np.ndarray]  # naive after the last step, per test set


@pytest.fixture(scope="module", params=[0, 1], ids=lambda s: f"seed{s}")
def stream(request) -> Stream:
    seed = request.param
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: on 2 busy shared cores, 2 threads run many times slower
    try:
        return _learn(seed)
    finally:
        torch.set_num_threads(threads)


def _learn(seed: int) -> Stream:
    seed_everything(seed)  # the model's initial weights
    data = make_domain("wild", n=1000, seed=seed, fractions=(0.6, 0.1, 0.3))
    bm = class_incremental_benchmark(data, GROUPS)
    names = list(bm.dataset_names)
    evaluator, fm = make_evaluator(data.num_classes, data.label_space.names)
    settings = dict(batch_size=16, device="cpu", evaluator=evaluator, seed=seed, augment=False)
    baseline = make_strategy("naive", make_model(width=8, dropout=0.1), epochs=8, lr=2e-3, **settings)
    baseline.train(bm.train_stream[0], eval_streams=[])
    baseline.eval(bm.test_stream)
    assert list(fm.last_eval) == names  # one result per experience, keyed by its dataset name
    after_first = fm.accuracies()
    matrices, last_predictions = {}, {}
    for name, options in STRATEGIES.items():
        strategy = make_strategy(
            name,
            copy.deepcopy(baseline.model),
            source=bm.train_stream[0],
            epochs=6,
            lr=3e-3,
            **settings,
            **options,
        )
        matrix = AccuracyMatrix(names)
        matrix.append(after_first, trained=names[0])
        for k in range(1, len(names)):
            strategy.train(bm.train_stream[k], eval_streams=[])
            strategy.eval(bm.test_stream)
            matrix.append(fm.accuracies(), trained=names[k])
        matrices[name] = matrix
        if name == "naive":
            last_predictions = {d: fm.last_eval[d].predictions for d in names}
    return Stream(names, [list(g) for g in bm.classes_per_exp], matrices, last_predictions)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_experience_is_learned_in_its_own_step(stream, strategy):
    R = stream.matrices[strategy].matrix
    for k in range(len(stream.groups)):
        # far above what the model scored on these classes before this step (a step that did not learn
        # its experience stays near 0: its classes were never predicted before) and above a uniform
        # guess over all classes (no task labels in class-incremental learning, so "chance among the
        # group's classes" is not what an unlearnt model scores). Not "above the majority share":
        # replay's last step scored 0.56 against a 0.61 majority on one CPU and 0.64 on another (float
        # rounding moves a 6-epoch run that much).
        before = R[k - 1, k] if k else 0.0
        assert R[k, k] > max(1 / NUM_CLASSES + 0.1, before + 0.25), (strategy, k, R.round(2).tolist())


def test_naive_forgets_the_first_experience_when_it_learns_the_second(stream):
    R = stream.matrices["naive"].matrix
    assert R[1, 0] < R[0, 0] - 0.5, R.round(2).tolist()
    assert R[2, 0] < 0.1, R.round(2).tolist()


def test_replay_keeps_more_of_the_first_experience_than_naive(stream):
    naive, replay = stream.matrices["naive"], stream.matrices["replay"]
    for step in (1, 2):
        assert replay.matrix[step, 0] > naive.matrix[step, 0] + 0.25, (replay.rows, naive.rows)
    assert replay.summary()["forgetting"] < naive.summary()["forgetting"] - 0.1


def test_naive_predicts_mostly_the_newest_classes_after_the_last_step(stream):
    predictions = np.concatenate(list(stream.last_predictions.values()))
    share = np.isin(predictions, stream.groups[-1]).mean()
    assert share > 0.9, (share, np.bincount(predictions, minlength=7).tolist())


@pytest.mark.slow
def test_class_incremental_scenario_runs_from_the_cli_and_reports_the_accuracy_matrix(tmp_path):
    scenario = load_scenario("class_incremental")
    names = class_group_names(scenario.source.name, scenario.classes_per_exp)
    assert names[0] == "wild/angry+disgust+fear" and len(names) == 3
    out = tmp_path / "run"
    argv = ["run", "class_incremental", "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    argv += ["--device", "cpu", "--threads", "1", "--quiet", "--no-tensorboard"]
    for override in ("source.n=900", "model.width=4", "train.epochs=2", "adapt.epochs=3"):
        argv += ["--set", override]
    argv += ["--set", "strategies.names=['naive','replay']"]
    assert main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "class-incremental"
    assert results["datasets"] == names and results["source"] == names[0]
    assert sorted(s["strategy"] for s in results["sequences"]) == ["naive", "replay"]
    report = (out / "results.md").read_text()
    for seq in results["sequences"]:
        assert seq["order"] == names
        R = np.asarray(seq["matrix"], dtype=float)
        assert R.shape == (3, 3) and np.all((R >= 0) & (R <= 1))
        for key in ("forgetting", "bwt", "max_forgetting", "average_accuracy"):
            assert isinstance(seq[key], float) and math.isfinite(seq[key]), (key, seq)
        assert seq["forgetting"] == pytest.approx(-seq["bwt"])
        assert seq["average_accuracy"] == pytest.approx(R[-1].mean())
        # results.md: the matrix table of this strategy, its cells as the JSON has them (in %)
        assert f"### {seq['strategy']} (seed 0): accuracy matrix R (%)" in report
        assert f"| after step | {' | '.join(names)} |" in report
        table = report.split(f"### {seq['strategy']} (seed 0): accuracy matrix R (%)")[1].split("###")[0]
        rows = [line for line in table.splitlines() if line.startswith(("| baseline", "| after "))][1:]
        cells = [[float(c) for c in row.strip("|").split("|")[1:]] for row in rows]
        assert np.allclose(cells, R * 100, atol=0.051), (cells, R)
