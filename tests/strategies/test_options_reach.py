"""Every strategy option reaches what it configures, at a value off its default (issue #23).

``strategy.fer_options`` only echoes what was asked for; these tests read the value back from the
plugin or template that uses it, so a builder that drops an option (or passes ``1 - f``, or the
default) fails here. Building a strategy trains nothing: each case costs a few milliseconds.
The behaviour behind the options is tested where the plugin is (``test_rehearsal.py``,
``test_batch_share.py``, ``test_beyond.py``, ...); ``docs/testing.md`` lists option -> test.
"""

import numpy as np
import pytest
from _strategy_helpers import build, tiny_benchmark

from fer_avalanche.strategies import get_strategy_spec
from fer_avalanche.strategies.plugins import GDumbPlugin, MASPlugin, SIPlugin, SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.absent import AbsentClassPlugin
from fer_avalanche.strategies.plugins.lpft import ProbeThenFinetunePlugin
from fer_avalanche.strategies.plugins.lwf import FrozenTeacherLwFPlugin
from fer_avalanche.strategies.plugins.reset import ResetModelPlugin
from fer_avalanche.strategies.plugins.wiseft import WeightEnsemblePlugin
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import AGEMPlugin, EWCPlugin


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=70, n_targets=(35, 35))


def _plugin(strategy, kind):
    found = [p for p in strategy.plugins if isinstance(p, kind)]
    assert len(found) == 1, f"{kind.__name__}: {strategy.plugins}"
    return found[0]


def _rehearsal(s):
    return _plugin(s, SourceRehearsalPlugin)


ALPHAS = [0.0, 0.3, 1.0]

# (strategy, options, what reads the value back, expected)
CASES = [
    ("fusion", {"mix": "batch", "target_fraction": 0.3}, lambda s: _rehearsal(s).target_fraction, 0.3),
    ("fusion", {"mix": "batch", "target_fraction": 0.3}, lambda s: _rehearsal(s).mix, "batch"),
    ("fusion", {"grow_with_targets": False}, lambda s: _rehearsal(s).grow_with_targets, False),
    ("fusion", {}, lambda s: _rehearsal(s).max_size, None),
    ("replay", {"mem_size": 17}, lambda s: len(_rehearsal(s)), 17),
    ("replay", {"selection": "stratified"}, lambda s: _rehearsal(s).selection, "stratified"),
    ("replay", {"grow_with_targets": False}, lambda s: _rehearsal(s).grow_with_targets, False),
    ("replay", {"mix": "batch", "target_fraction": 0.7}, lambda s: _rehearsal(s).target_fraction, 0.7),
    ("lwf", {"alpha": 0.3}, lambda s: _plugin(s, FrozenTeacherLwFPlugin).lwf.alpha, 0.3),
    ("lwf", {"temperature": 5.0}, lambda s: _plugin(s, FrozenTeacherLwFPlugin).lwf.temperature, 5.0),
    ("ewc", {"ewc_lambda": 7.0}, lambda s: _plugin(s, EWCPlugin).ewc_lambda, 7.0),
    ("ewc", {"mode": "online"}, lambda s: _plugin(s, EWCPlugin).mode, "online"),
    ("ewc", {"mode": "online"}, lambda s: _plugin(s, EWCPlugin).decay_factor, 1.0),
    ("ewc", {"mode": "online", "decay_factor": 0.3}, lambda s: _plugin(s, EWCPlugin).decay_factor, 0.3),
    ("si", {"si_lambda": 7.0}, lambda s: _plugin(s, SIPlugin).si_lambda, [7.0]),
    ("mas", {"lambda_reg": 7.0}, lambda s: _plugin(s, MASPlugin)._lambda, 7.0),
    ("mas", {"alpha": 0.2}, lambda s: _plugin(s, MASPlugin).alpha, 0.2),
    ("gdumb", {"mem_size": 17}, lambda s: _plugin(s, GDumbPlugin).mem_size, 17),
    ("der", {"mem_size": 17}, lambda s: s.mem_size, 17),
    ("der", {"alpha": 0.7}, lambda s: s.alpha, 0.7),
    ("der", {"beta": 0.2}, lambda s: s.beta, 0.2),
    ("der", {"batch_size_mem": 5}, lambda s: s.batch_size_mem, 5),
    ("der", {}, lambda s: s.batch_size_mem, 16),  # None = the training batch size
    ("agem", {"patterns_per_exp": 17}, lambda s: _plugin(s, AGEMPlugin).patterns_per_experience, 17),
    ("agem", {"sample_size": 5}, lambda s: _plugin(s, AGEMPlugin).sample_size, 5),
    ("lp-ft", {"probe_fraction": 0.2}, lambda s: _plugin(s, ProbeThenFinetunePlugin).probe_fraction, 0.2),
    ("wise-ft", {"alphas": [0.0, 0.3, 1.0]}, lambda s: list(_plugin(s, WeightEnsemblePlugin).alphas), ALPHAS),
    ("wise-ft", {"mi_floor": 0.8}, lambda s: _plugin(s, WeightEnsemblePlugin).mi_floor, 0.8),
    ("wise-ft", {"rule": "mean"}, lambda s: _plugin(s, WeightEnsemblePlugin).rule, "mean"),
    ("wise-ft", {"base": "ft-fc"}, lambda s: [type(p).__name__ for p in s.plugins].count("FreezePlugin"), 1),
    ("wise-ft", {"base": "replay", "base_options": {"mem_size": 13}}, lambda s: len(_rehearsal(s)), 13),
]  # fmt: skip


@pytest.mark.parametrize(("name", "options", "read", "expected"), CASES)
def test_an_option_off_its_default_reaches_the_plugin_that_uses_it(bench, name, options, read, expected):
    for key, value in options.items():
        if key in get_strategy_spec(name).options:
            assert get_strategy_spec(name).options[key] != value, "pick a value off the default"
    strategy = build(name, bench, **options)
    got = read(strategy)
    assert got == pytest.approx(expected) if isinstance(expected, float) else got == expected


def test_fusion_from_scratch_resets_the_model_and_the_default_does_not(bench):
    assert [p.seed for p in build("fusion", bench, seed=4, from_scratch=True).plugins
            if isinstance(p, ResetModelPlugin)] == [4]  # fmt: skip
    assert not any(isinstance(p, ResetModelPlugin) for p in build("fusion", bench).plugins)


@pytest.mark.parametrize(("mode", "plugins"), [("mask", 1), ("train", 0)])
def test_absent_classes_mask_adds_the_masking_plugin_and_train_does_not(bench, mode, plugins):
    strategy = build("retrain", bench, absent_classes=mode)
    found = [p for p in strategy.plugins if isinstance(p, AbsentClassPlugin)]
    assert len(found) == plugins and all(p.mode == "mask" for p in found)
    assert strategy.fer_absent_classes == mode


@pytest.mark.parametrize("name", ["fusion", "replay"])
def test_without_grow_with_targets_the_buffer_keeps_only_the_source(bench, name):
    # after a trained experience the plugin adds it to the buffer only when grow_with_targets is on
    from types import SimpleNamespace

    options = {"mem_size": 20} if name == "replay" else {}
    sizes = {}
    for grow in (True, False):
        plugin = _rehearsal(build(name, bench, grow_with_targets=grow, **options))
        plugin.after_training_exp(SimpleNamespace(experience=bench.train_stream[1]))
        sizes[grow] = (len(plugin.datasets), len(plugin))
    n_src = len(bench.train_stream[0].dataset)
    n_tgt = len(bench.train_stream[1].dataset)
    if name == "fusion":
        assert sizes == {True: (2, n_src + n_tgt), False: (1, n_src)}
    else:
        assert sizes == {True: (2, 20), False: (1, 20)}
        assert np.all(np.asarray(_rehearsal(build(name, bench, **options)).indices[0]) < n_src)
