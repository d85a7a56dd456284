"""Validation during adaptation: curves, best-validation selection, patience; training is not disturbed."""

import itertools

import pytest
import torch
from _strategy_helpers import Spy, baseline_model, snapshot

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies import make_strategy
from fer_avalanche.strategies.plugins import ValidationPlugin
from fer_avalanche.strategies.plugins import validation as validation_module
from fer_avalanche.utils import quiet_third_party


@pytest.fixture(scope="module")
def bench():
    from _strategy_helpers import SIZE
    from conftest import tiny_fer

    datasets = [tiny_fer("src", n=140, size=SIZE), tiny_fer("tgt", n=70, seed=1, shift=0.5, size=SIZE)]
    return cross_dataset_benchmark(datasets, with_validation=True)


def _val_sets(bench):
    return {exp.dataset_name: exp.dataset for exp in bench.valid_stream}


def _build(name, bench, model=None, **kwargs):
    settings = dict(batch_size=16, epochs=3, augment=False, seed=1)
    settings.update(kwargs)
    return make_strategy(name, model or baseline_model(), source=bench.train_stream[0], **settings)


def _train(strategy, bench):
    with quiet_third_party():
        if strategy.fer_spec.trains == "joint":
            strategy.train([bench.train_stream[0], bench.train_stream[1]], eval_streams=[])
        else:
            strategy.train(bench.train_stream[1], eval_streams=[])
    return strategy


def test_curve_starts_before_training_and_follows_eval_every(bench):
    strategy = _train(_build("retrain", bench, epochs=5, eval_every=2, val_sets=_val_sets(bench)), bench)
    curve = strategy.fer_curve
    steps_per_epoch = -(-len(bench.train_stream[1].dataset) // 16)
    assert [c["epoch"] for c in curve] == [0, 2, 4, 5]  # and the final model
    assert [c["step"] for c in curve] == [0, 2 * steps_per_epoch, 4 * steps_per_epoch, 5 * steps_per_epoch]
    assert all(set(c["acc"]) == {"src", "tgt"} for c in curve)
    assert all(0.0 <= a <= 1.0 for c in curve for a in c["acc"].values())
    assert strategy.fer_selected_epoch is None


def test_curve_accuracy_is_the_models_accuracy_on_the_val_set(bench):
    strategy = _train(_build("ft-fc", bench, epochs=1, eval_every=1, val_sets=_val_sets(bench)), bench)
    model = strategy.model.eval()
    samples = list(bench.valid_stream[1].dataset)
    x, y = torch.stack([s[0] for s in samples]), torch.tensor([s[1] for s in samples])
    with torch.no_grad():
        expected = float((model(x).argmax(1) == y).float().mean())
    assert strategy.fer_curve[-1]["acc"]["tgt"] == pytest.approx(expected)


def test_accuracy_is_counted_per_sample_over_every_batch():
    logits = torch.eye(7)[torch.tensor([0, 1, 2, 3, 4, 5, 6, 0, 1, 2])]
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 6, 6, 6])  # 7 of 10 right
    batches = [[logits[:4], labels[:4]], [logits[4:], labels[4:]]]
    acc = validation_module.evaluate_accuracy(torch.nn.Identity(), batches, torch.device("cpu"))
    assert acc == pytest.approx(0.7)


@pytest.mark.parametrize("name", ["ft-lastconv-fc", "retrain"])
def test_validation_does_not_change_the_training_trajectory(bench, name):
    def weights(**kwargs):
        strategy = _train(_build(name, bench, augment=True, **kwargs), bench)
        return snapshot(strategy.model)

    plain = weights()
    validated = weights(eval_every=1, val_sets=_val_sets(bench))
    assert plain.keys() == validated.keys()
    assert all(torch.equal(plain[k], validated[k]) for k in plain), "evaluating changed the weights"


def test_frozen_parts_stay_in_eval_mode_after_each_evaluation(bench):
    modes = []
    spy = Spy(
        "after_training_epoch",
        lambda s: modes.append(
            (s.model.features.training, s.model.last_conv.training, s.model.classifier.training)
        ),
    )
    _train(_build("ft-fc", bench, eval_every=1, val_sets=_val_sets(bench), plugins=[spy]), bench)
    assert modes == [(False, False, True)] * 3


def _scripted(monkeypatch, values):
    """Make every evaluation return the next scripted accuracy for each val set name."""
    streams = {name: iter(v) for name, v in values.items()}
    names = itertools.cycle(values)

    def fake(model, batches, device, amp=False):
        return next(streams[next(names)])

    monkeypatch.setattr(validation_module, "evaluate_accuracy", fake)


def test_best_val_restores_the_weights_of_the_best_epoch(bench, monkeypatch):
    _scripted(monkeypatch, {"src": [0.5] * 6, "tgt": [0.1, 0.5, 0.9, 0.3, 0.2]})
    states = []
    spy = Spy("after_training_epoch", lambda s: states.append(snapshot(s.model)))
    strategy = _build("retrain", bench, epochs=4, select="best_val", val_sets=_val_sets(bench), plugins=[spy])
    _train(strategy, bench)
    assert strategy.fer_selected_epoch == 2
    final = snapshot(strategy.model)
    assert all(torch.equal(final[k], states[1][k]) for k in final)  # epoch 2 = the second snapshot
    assert not all(torch.equal(final[k], states[-1][k]) for k in final)
    assert strategy.fer_budget["epochs"] == 4  # it trained all four


def test_best_val_can_keep_the_model_before_training(bench, monkeypatch):
    _scripted(monkeypatch, {"src": [0.5] * 3, "tgt": [0.9, 0.5, 0.4]})
    model = baseline_model()
    before = snapshot(model)
    strategy = _train(
        _build("retrain", bench, model, epochs=2, select="best_val", val_sets=_val_sets(bench)), bench
    )
    assert strategy.fer_selected_epoch == 0
    assert all(torch.equal(before[k], v) for k, v in snapshot(strategy.model).items())


def test_patience_stops_after_that_many_evaluations_without_a_gain(bench, monkeypatch):
    _scripted(monkeypatch, {"src": [0.5] * 11, "tgt": [0.1, 0.5, 0.4, 0.5, 0.9, 0.9]})
    strategy = _build("retrain", bench, epochs=10, select="best_val", patience=2, val_sets=_val_sets(bench))
    _train(strategy, bench)
    assert [c["epoch"] for c in strategy.fer_curve] == [0, 1, 2, 3]
    assert strategy.fer_budget["epochs"] == 3 and strategy.fer_selected_epoch == 1


@pytest.mark.parametrize("name", ["ft-fc", "fusion", "joint"])
@pytest.mark.parametrize(
    ("monitor", "selected"), [(None, 2), ("target", 2), ("mean", 1), ("target+source", 1)]
)
def test_every_strategy_monitors_what_monitor_says(bench, monkeypatch, name, monitor, selected):
    # target alone: best at epoch 2; mean of target and source: 0.5, 0.65, 0.4 -> epoch 1. The same
    # for a strategy that trains on the target alone and for ones that train on the source too.
    _scripted(monkeypatch, {"src": [0.9, 0.8, 0.2], "tgt": [0.1, 0.5, 0.6]})
    kwargs = {} if monitor is None else {"monitor": monitor}
    strategy = _build(name, bench, epochs=2, select="best_val", val_sets=_val_sets(bench), **kwargs)
    _train(strategy, bench)
    assert strategy.fer_selected_epoch == selected
    plugin = next(p for p in strategy.plugins if isinstance(p, ValidationPlugin))
    assert plugin.selection()["monitor"] == ("target" if selected == 2 else "mean")


def test_patience_in_steps_gives_every_strategy_the_same_steps_after_its_best(bench, monkeypatch):
    # retrain's epoch is L steps; fusion's (half of every batch from the target) is 2L. Best at epoch 1
    # for both, then no gain: with patience_steps = 2L both stop 2L steps after their best (retrain
    # after epoch 3 = 3L steps, fusion after epoch 2 = 4L steps). Patience counted in epochs (2) would
    # stop retrain after 3L steps but fusion after 6L: 5L steps past its best.
    L = -(-len(bench.train_stream[1].dataset) // 16)
    stopped_after_best = {}
    for name, options in (("retrain", {}), ("fusion", {"mix": "batch", "target_fraction": 0.5})):
        _scripted(monkeypatch, {"src": [0.5] * 20, "tgt": [0.1, 0.9] + [0.2] * 18})
        strategy = _build(
            name, bench, epochs=10, max_steps=20 * L, select="best_val", patience_steps=2 * L,
            val_sets=_val_sets(bench), **options,
        )  # fmt: skip
        _train(strategy, bench)
        assert strategy.fer_selected_epoch == 1
        best_step = strategy.fer_curve[1]["step"]
        stopped_after_best[name] = strategy.fer_budget["steps"] - best_step
    assert stopped_after_best == {"retrain": 2 * L, "fusion": 2 * L}


def test_best_val_needs_a_validation_set_for_the_target(bench):
    strategy = _build("retrain", bench, select="best_val", val_sets={"src": bench.valid_stream[0].dataset})
    with pytest.raises(ConfigError, match=r"'tgt'.*val_sets has only \['src'\]"):
        _train(strategy, bench)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"select": "best"}, "select"),
        ({"select": "last", "patience": 3, "val_sets": {"a": [1]}}, "patience=3 needs select='best_val'"),
        ({"eval_every": 2}, "need validation sets"),
        ({"eval_every": -1}, "eval_every"),
        ({"select": "last", "patience_steps": 5, "val_sets": {"a": [1]}}, "patience_steps=5 needs"),
        ({"select": "best_val", "patience": 2, "patience_steps": 5, "val_sets": {"a": [1]}}, "not both"),
        ({"select": "best_val", "monitor": "source", "val_sets": {"a": [1]}}, "monitor must be one of"),
    ],
)
def test_bad_validation_settings_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy("retrain", baseline_model(), **kwargs)


def test_without_validation_there_is_no_plugin_and_no_curve(bench):
    strategy = _train(_build("retrain", bench, epochs=1), bench)
    assert not any(isinstance(p, ValidationPlugin) for p in strategy.plugins)
    assert strategy.fer_curve == [] and strategy.fer_selected_epoch is None
