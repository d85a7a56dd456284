"""ValidationPlugin without training: its hooks driven in Avalanche's order on a stand-in strategy.

Every evaluation returns the next scripted accuracy per validation set, so each case is milliseconds
and the selected epoch, the stop and the curve follow from the script by hand
(``test_validation.py`` trains real strategies).
"""

import itertools
from types import SimpleNamespace

import pytest
import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import ValidationPlugin
from fer_avalanche.strategies.plugins import validation as validation_module
from fer_avalanche.strategies.plugins.validation import evaluate_accuracy, uses_validation

VAL = {"src": [(torch.zeros(2), 0)] * 3, "tgt": [(torch.zeros(2), 1)] * 5}


class Strategy(SimpleNamespace):
    """What the plugin reads of a strategy: model, device, eval_mb_size, clock, experience."""

    def __init__(self, target="tgt", steps_per_epoch=4, **kwargs):
        torch.manual_seed(0)
        settings = dict(
            model=torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()),
            device=torch.device("cpu"),
            eval_mb_size=64,
            clock=SimpleNamespace(train_exp_iterations=0),
            experience=SimpleNamespace(dataset_name=target),
            stopped_at=None,
            steps_per_epoch=steps_per_epoch,
        )
        super().__init__(**{**settings, **kwargs})

    def stop_training(self):
        self.stopped_at = self.clock.train_exp_iterations


class Calls(list):
    """(val set, batches, amp) of every evaluation, and the device of each in ``devices``."""

    def __init__(self):
        super().__init__()
        self.devices = []


def _script(monkeypatch, values):
    """Every evaluation returns the next value of the val set being evaluated (in val_sets order)."""
    streams = {name: iter(v) for name, v in values.items()}
    names = itertools.cycle(values)
    calls = Calls()

    def fake(model, batches, device, amp=False):
        name = next(names)
        calls.append((name, len(batches), amp))
        calls.devices.append(device)
        return next(streams[name])

    monkeypatch.setattr(validation_module, "evaluate_accuracy", fake)
    return calls


def _run(plugin, strategy, epochs, marks=None):
    """before_training_exp, then epochs (until stop_training), then after_training_exp."""
    plugin.before_training_exp(strategy)
    for epoch in range(1, epochs + 1):
        strategy.clock.train_exp_iterations += strategy.steps_per_epoch
        with torch.no_grad():
            strategy.model[0].weight.fill_(float(epoch))  # the weights trained up to this epoch
        plugin.after_training_epoch(strategy)
        if strategy.stopped_at is not None:
            break
    plugin.after_training_exp(strategy)
    return plugin


# ------------------------------------------------------------------------------ pure functions
def test_uses_validation_only_for_best_val_or_curves():
    cases = [("last", 0), ("best_val", 0), ("last", 3), ("best_val", 2)]
    assert [uses_validation(s, e) for s, e in cases] == [False, True, True, True]


def test_accuracy_of_no_batch_is_nan_and_of_one_batch_its_share():
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 1])
    assert evaluate_accuracy(torch.nn.Identity(), [[logits, labels]], torch.device("cpu")) == 0.5
    acc = evaluate_accuracy(torch.nn.Identity(), [], torch.device("cpu"))
    assert acc != acc  # NaN


@pytest.mark.filterwarnings("ignore:CUDA is not available")
def test_accuracy_under_amp_is_the_same_where_autocast_is_off():
    # amp asks for CUDA's bf16 autocast; on a CPU-only machine that autocast is off, not an error
    logits, labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), torch.tensor([0, 0, 1])
    acc = evaluate_accuracy(torch.nn.Identity(), [[logits, labels]], torch.device("cpu"), amp=True)
    assert acc == pytest.approx(2 / 3)


# ------------------------------------------------------------------------------ settings
BEST = {"select": "best_val"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eval_every": True}, r"^eval_every must be an int >= 0, got True$"),
        ({"eval_every": 1.0}, r"^eval_every must be an int >= 0, got 1.0$"),
        ({"select": "first"}, r"^select must be one of \['last', 'best_val'\], got 'first'$"),
        ({**BEST, "patience": 0}, r"^patience must be an int >= 1 or None, got 0$"),
        ({**BEST, "patience": True}, r"^patience must be an int >= 1 or None, got True$"),
        ({**BEST, "patience": 2.0}, r"^patience must be an int >= 1 or None, got 2.0$"),
        ({"select": "last", "patience": 2}, r"^patience=2 needs select='best_val' \(got select='last'\)$"),
        ({**BEST, "patience_steps": 0}, r"^patience_steps must be an int >= 1 or None, got 0$"),
        ({**BEST, "patience_steps": True}, r"^patience_steps must be an int >= 1 or None, got T"),
        ({**BEST, "patience_steps": 2.5}, r"^patience_steps must be an int >= 1 or None, got 2"),
        ({"patience_steps": 4}, r"^patience_steps=4 needs select='best_val' \(got 'last'\)$"),
        ({**BEST, "patience": 1, "patience_steps": 1}, r"^give patience \(evaluations\) or"),
        ({**BEST, "monitor": "source"}, r"^monitor must be one of \['target', 'mean'\], got 's"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_with_a_message_naming_it(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ValidationPlugin(VAL, **kwargs)


@pytest.mark.parametrize(
    ("val_sets", "match"),
    [
        (None, r"^eval_every=1 / select='last' need validation sets: pass val_sets=\{dataset_name"),
        ({3: VAL["src"]}, r"^val_sets must map dataset names to datasets; bad entries: \[3\]$"),
        ({"src": 3}, r"^val_sets must map dataset names to datasets; bad entries: \['src'\]$"),
    ],
)
def test_bad_validation_sets_are_refused(val_sets, match):
    with pytest.raises(ConfigError, match=match):
        ValidationPlugin(val_sets, eval_every=1)


def test_best_val_without_validation_sets_is_refused():
    with pytest.raises(ConfigError, match=r"^eval_every=0 / select='best_val' need validation sets"):
        ValidationPlugin({}, select="best_val")


def test_a_plugin_that_has_not_trained_has_an_empty_state():
    plugin = ValidationPlugin(VAL, select="best_val")
    assert plugin.curve == [] and plugin.selected_epoch is None
    assert plugin.state_dict() == {"curve": [], "selected_epoch": None}


def test_the_smallest_patiences_are_accepted_and_kept():
    assert ValidationPlugin(VAL, select="best_val", patience=1).patience == 1
    plugin = ValidationPlugin(VAL, select="best_val", patience_steps=1, batch_size=3)
    assert (plugin.patience_steps, plugin.patience, plugin.batch_size) == (1, None, 3)
    assert ValidationPlugin(VAL, select="best_val", monitor="target+source").monitor == "mean"


def test_without_validation_the_plugin_is_inactive_and_needs_no_sets():
    plugin = ValidationPlugin(None)
    assert not plugin.active
    strategy = Strategy()
    _run(plugin, strategy, epochs=2)
    assert plugin.curve == [] and plugin.selected_epoch is None


def test_selection_records_the_settings_and_no_monitor_under_last():
    assert ValidationPlugin(VAL, eval_every=1, monitor="mean").selection() == {
        "select": "last",
        "monitor": None,
        "patience": None,
        "patience_steps": None,
    }
    assert ValidationPlugin(VAL, select="best_val", monitor="mean", patience=2).selection() == {
        "select": "best_val", "monitor": "mean", "patience": 2, "patience_steps": None}  # fmt: skip


def test_repr_names_every_setting():
    plugin = ValidationPlugin(VAL, select="best_val", patience_steps=5, monitor="mean")
    assert repr(plugin) == (
        "ValidationPlugin(val_sets=['src', 'tgt'], eval_every=0, select='best_val', patience=None, "
        "patience_steps=5, monitor='mean')"
    )


# ------------------------------------------------------------------------------ curves
def test_curve_every_second_epoch_ends_at_the_final_model(monkeypatch):
    calls = _script(monkeypatch, {"src": [0.1, 0.2, 0.3, 0.4], "tgt": [0.5, 0.6, 0.7, 0.8]})
    plugin = _run(ValidationPlugin(VAL, eval_every=2, batch_size=2), Strategy(), epochs=5)
    assert plugin.curve == [
        {"epoch": 0, "step": 0, "acc": {"src": 0.1, "tgt": 0.5}},
        {"epoch": 2, "step": 8, "acc": {"src": 0.2, "tgt": 0.6}},
        {"epoch": 4, "step": 16, "acc": {"src": 0.3, "tgt": 0.7}},
        {"epoch": 5, "step": 20, "acc": {"src": 0.4, "tgt": 0.8}},
    ]
    # batches of batch_size (2): 3 source samples -> 2 batches, 5 target samples -> 3
    assert calls[:2] == [("src", 2, False), ("tgt", 3, False)]
    assert plugin.selected_epoch is None


def test_a_curve_that_ends_on_an_evaluated_epoch_is_not_evaluated_twice(monkeypatch):
    _script(monkeypatch, {"src": [0.1, 0.2, 0.3], "tgt": [0.5, 0.6, 0.7]})
    plugin = _run(ValidationPlugin(VAL, eval_every=2), Strategy(), epochs=4)
    assert [c["epoch"] for c in plugin.curve] == [0, 2, 4]


def test_evaluation_uses_the_strategys_batch_size_and_amp(monkeypatch):
    calls = _script(monkeypatch, {"src": [0.1] * 2, "tgt": [0.5] * 2})
    strategy = Strategy(eval_mb_size=4, amp=True, device=torch.device("cpu", 0))
    _run(ValidationPlugin(VAL, eval_every=1), strategy, epochs=1)
    assert calls[:2] == [("src", 1, True), ("tgt", 2, True)]
    assert calls.devices and all(d is strategy.device for d in calls.devices)


def test_evaluating_restores_every_modules_train_flag(monkeypatch):
    seen = []

    def fake(model, batches, device, amp=False):
        seen.append([m.training for m in model.modules()])
        return 0.5

    monkeypatch.setattr(validation_module, "evaluate_accuracy", fake)
    strategy = Strategy()
    strategy.model.train()
    strategy.model[1].eval()  # a frozen part
    plugin = ValidationPlugin(VAL, eval_every=1)
    plugin.before_training_exp(strategy)
    assert seen and all(modes == [False, False, False] for modes in seen)
    assert [m.training for m in strategy.model.modules()] == [True, True, False]


# ------------------------------------------------------------------------------ best_val
def test_best_val_keeps_the_first_of_equal_best_values(monkeypatch):
    _script(monkeypatch, {"src": [0.5] * 5, "tgt": [0.1, 0.6, 0.6, 0.3, 0.6]})
    strategy = Strategy()
    plugin = _run(ValidationPlugin(VAL, select="best_val"), strategy, epochs=4)
    assert plugin.selected_epoch == 1
    assert torch.all(strategy.model[0].weight == 1.0)  # the weights after epoch 1 were restored
    assert plugin.curve[-1]["epoch"] == 4 and len(plugin.curve) == 5


def test_best_val_restores_buffers_too(monkeypatch):
    _script(monkeypatch, {"src": [0.5] * 3, "tgt": [0.9, 0.1, 0.1]})
    strategy = Strategy()
    strategy.model.register_buffer("seen", torch.tensor(0.0))
    plugin = ValidationPlugin(VAL, select="best_val")
    plugin.before_training_exp(strategy)
    strategy.model.seen += 5
    plugin.after_training_epoch(strategy)
    plugin.after_training_exp(strategy)
    assert plugin.selected_epoch == 0 and float(strategy.model.seen) == 0.0


def test_the_mean_monitor_averages_the_target_and_the_first_val_set(monkeypatch):
    # target: best at 2; mean with the source: (0.9+0.1)/2, (0.8+0.5)/2, (0.2+0.6)/2 -> best at 1
    _script(monkeypatch, {"src": [0.9, 0.8, 0.2], "tgt": [0.1, 0.5, 0.6]})
    plugin = _run(ValidationPlugin(VAL, select="best_val", monitor="mean"), Strategy(), epochs=2)
    assert plugin.selected_epoch == 1


def test_the_mean_monitor_on_the_source_itself_is_its_accuracy(monkeypatch):
    _script(monkeypatch, {"src": [0.1, 0.5, 0.4], "tgt": [0.9, 0.1, 0.9]})
    plugin = _run(ValidationPlugin(VAL, select="best_val", monitor="mean"), Strategy("src"), epochs=2)
    assert plugin.selected_epoch == 1


def test_best_val_names_the_missing_target_and_the_sets_it_has():
    with pytest.raises(ConfigError, match=r"dataset 'jaffe', but val_sets has only \['src', 'tgt'\]$"):
        ValidationPlugin(VAL, select="best_val").before_training_exp(Strategy("jaffe"))


def test_curves_need_no_validation_set_of_the_experiences_dataset(monkeypatch):
    _script(monkeypatch, {"src": [0.1, 0.2], "tgt": [0.5, 0.6]})
    plugin = _run(ValidationPlugin(VAL, eval_every=1), Strategy("jaffe"), epochs=1)
    assert [c["epoch"] for c in plugin.curve] == [0, 1] and plugin.selected_epoch is None


def test_best_val_on_an_experience_without_a_dataset_name_says_so():
    strategy = Strategy()
    strategy.experience = SimpleNamespace()
    with pytest.raises(ConfigError, match=r"of the experience's dataset None, but val_sets has only"):
        ValidationPlugin(VAL, select="best_val").before_training_exp(strategy)


@pytest.mark.parametrize(("patience", "stopped"), [(1, 8), (2, 12), (3, None)])
def test_patience_counts_evaluations_without_a_strict_gain(monkeypatch, patience, stopped):
    # best after epoch 1 (0.6); epoch 2 equals it (no gain), epoch 3 is lower; epoch 4 the best
    _script(monkeypatch, {"src": [0.5] * 6, "tgt": [0.1, 0.6, 0.6, 0.2, 0.9]})
    strategy = Strategy()
    plugin = _run(ValidationPlugin(VAL, select="best_val", patience=patience), strategy, epochs=4)
    assert strategy.stopped_at == stopped
    assert plugin.selected_epoch == (1 if stopped else 4)


@pytest.mark.parametrize(("patience_steps", "stopped"), [(4, 8), (8, 12), (9, None)])
def test_patience_steps_stops_at_the_first_evaluation_that_many_steps_after_the_best(
    monkeypatch, patience_steps, stopped
):
    # 4 steps per epoch; best after epoch 1 (step 4); epoch 4 (step 16) would be the best
    _script(monkeypatch, {"src": [0.5] * 6, "tgt": [0.1, 0.6, 0.3, 0.2, 0.9]})
    strategy = Strategy()
    _run(ValidationPlugin(VAL, select="best_val", patience_steps=patience_steps), strategy, epochs=4)
    assert strategy.stopped_at == stopped


def test_a_new_experience_starts_a_new_curve_and_selection(monkeypatch):
    _script(monkeypatch, {"src": [0.5] * 6, "tgt": [0.1, 0.9, 0.2, 0.9, 0.1, 0.2]})
    plugin = ValidationPlugin(VAL, select="best_val", patience=1)
    first = Strategy()
    _run(plugin, first, epochs=3)
    assert (first.stopped_at, plugin.selected_epoch) == (8, 1)
    second = Strategy()
    _run(plugin, second, epochs=2)
    assert plugin.selected_epoch == 0 and [c["epoch"] for c in plugin.curve] == [0, 1]
    assert second.stopped_at == 4  # the stale count started again at 0


# ------------------------------------------------------------------------------ checkpoint
def test_the_curve_and_selection_round_trip_as_copies(monkeypatch):
    _script(monkeypatch, {"src": [0.5] * 3, "tgt": [0.1, 0.9, 0.2]})
    plugin = _run(ValidationPlugin(VAL, select="best_val"), Strategy(), epochs=2)
    state = plugin.state_dict()
    assert state == {"curve": plugin.curve, "selected_epoch": 1}
    state["curve"][0]["acc"]["tgt"] = -1.0
    assert plugin.curve[0]["acc"]["tgt"] == 0.1  # the state is a copy
    restored = ValidationPlugin(VAL, select="best_val")
    restored.load_state_dict({"curve": plugin.curve, "selected_epoch": torch.tensor(1)})
    assert restored.curve == plugin.curve and restored.curve is not plugin.curve
    assert restored.selected_epoch == 1 and type(restored.selected_epoch) is int
    restored.curve[0]["acc"]["src"] = -1.0
    assert plugin.curve[0]["acc"]["src"] == 0.5
    restored.load_state_dict({"curve": [], "selected_epoch": None})
    assert restored.selected_epoch is None
