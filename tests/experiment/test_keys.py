"""Keys: a changed setting changes the key (so nothing stale is ever reused); no training."""

import dataclasses

from _experiment_helpers import tiny

from fer_avalanche.data.synthetic import make_domain
from fer_avalanche.experiment.keys import baseline_key, cell_key, digest, fingerprint, strategy_settings
from fer_avalanche.experiment.plan import Cell

SOURCE = make_domain("lab-a", n=70)


def test_every_setting_that_changes_the_baseline_weights_changes_its_key():
    base = tiny()
    reference = digest(baseline_key(base, SOURCE, 0, "cpu"))
    changed = [
        tiny("model.arch='paper'"),
        tiny("model.width=8"),
        tiny("model.batchnorm=false"),
        tiny("train.epochs=2"),
        tiny("train.lr=0.01"),
        tiny("train.select='best_val'"),
        tiny("train.budget='steps'", "train.steps=5"),
        tiny("image_size=32"),
        tiny("compile=true"),
    ]
    for scenario in changed:
        assert digest(baseline_key(scenario, SOURCE, 0, "cpu")) != reference, scenario.model
    assert digest(baseline_key(base, SOURCE, 1, "cpu")) != reference
    assert digest(baseline_key(base, make_domain("lab-a", n=70, seed=1), 0, "cpu")) != reference
    # what does not change the weights does not change the key
    assert digest(baseline_key(tiny("adapt.epochs=3"), SOURCE, 0, "cpu")) == reference


def test_baseline_key_carries_the_package_version(monkeypatch):
    import fer_avalanche

    before = digest(baseline_key(tiny(), SOURCE, 0, "cpu"))
    monkeypatch.setattr(fer_avalanche, "__version__", "99.0")
    assert digest(baseline_key(tiny(), SOURCE, 0, "cpu")) != before


def test_cell_key_changes_with_the_adaptation_settings_and_the_data():
    cell = Cell("ft-fc", ("lab-a",), 0)
    data = {"lab-a": SOURCE}
    key = cell_key(tiny(), cell, {"b": 1}, data)
    assert cell_key(tiny(), cell, {"b": 1}, data) == key
    assert cell_key(tiny("adapt.epochs=5"), cell, {"b": 1}, data) != key
    assert cell_key(tiny("strategies.options.ft-fc.lr=0.1"), cell, {"b": 1}, data) != key
    assert cell_key(tiny(), cell, {"b": 2}, data) != key  # another baseline
    other = dataclasses.replace(SOURCE, labels=SOURCE.labels.flip(0))
    assert cell_key(tiny(), cell, {"b": 1}, {"lab-a": other}) != key
    assert fingerprint(other) != fingerprint(SOURCE)


def test_strategy_overrides_move_into_the_adapt_settings():
    adapt, options = strategy_settings(tiny("strategies.options.replay={mem_size=50, epochs=4}"), "replay")
    assert adapt["epochs"] == 4 and options == {"mem_size": 50}
