"""Keys by content: the names and values a baseline/cell key holds, a pinned digest, and ``differing``.

A key is saved in every cell file and baseline checkpoint and compared on the next run: renaming one
of its entries, or hashing it differently, silently invalidates every stored result (hours of
recomputation) and must be a deliberate change of this test. No training.
"""

import dataclasses
from pathlib import Path

import pytest
from _experiment_helpers import tiny

import fer_avalanche
from fer_avalanche.data.synthetic import make_domain
from fer_avalanche.experiment.keys import (
    BASELINE_CODE_VERSION,
    CELL_CODE_VERSION,
    NEWER_TRAIN_DEFAULTS,
    baseline_key,
    cell_key,
    differing,
    digest,
    fingerprint,
    strategy_settings,
)
from fer_avalanche.experiment.plan import Cell

SOURCE = make_domain("lab-a", n=70)


def test_a_baseline_key_holds_every_setting_under_its_name():
    scenario = tiny("image_size=32", "compile=true")
    key = baseline_key(scenario, SOURCE, 3, "cpu")
    assert key == {
        "source": fingerprint(SOURCE),
        "model": dataclasses.asdict(scenario.model),
        "train": {  # the newer settings at their defaults stay out (cached baselines remain valid)
            k: v for k, v in dataclasses.asdict(scenario.train).items() if (k, v) not in NEWER_TRAIN_DEFAULTS
        },
        "image_size": 32,
        "label_space": scenario.label_space,
        "seed": 3,
        "device": "cpu",
        "amp": False,
        "compile": True,
        "fer_avalanche": fer_avalanche.__version__,
        "code": BASELINE_CODE_VERSION,
    }


@pytest.mark.parametrize(
    "setting", ["train.monitor='mean'", "train.absent_classes='mask'", "train.select='best_val'"]
)
def test_a_newer_train_setting_away_from_its_default_changes_the_baseline_key(setting):
    plain = baseline_key(tiny(), SOURCE, 0, "cpu")
    changed = baseline_key(tiny(setting), SOURCE, 0, "cpu")
    name, value = setting.removeprefix("train.").split("=")
    assert name not in plain["train"] or plain["train"][name] != value.strip("'")
    assert changed["train"][name] == value.strip("'") and digest(changed) != digest(plain)


@pytest.mark.parametrize(
    ("amp", "device", "expected"), [(True, "cuda", True), (True, "cpu", False), (False, "cuda", False)]
)
def test_amp_is_in_the_baseline_key_only_where_it_is_used(amp, device, expected):
    key = baseline_key(tiny(f"amp={str(amp).lower()}"), SOURCE, 0, device)
    assert key["amp"] is expected and key["device"] == device


def test_a_cell_key_holds_every_setting_under_its_name():
    scenario = tiny("strategies.options.replay={mem_size=50, epochs=4}", "eval_batch_size=128")
    cell = Cell("replay", ("lab-a",), 1)
    key = cell_key(scenario, cell, {"b": 1}, {"lab-a": SOURCE})
    adapt, options = strategy_settings(scenario, "replay")
    assert key == {
        "cell": cell.to_dict(),
        "adapt": adapt,
        "options": options,
        "baseline": digest({"b": 1}),
        "data": {"lab-a": fingerprint(SOURCE)},
        "eval_batch_size": 128,
        "fer_avalanche": fer_avalanche.__version__,
        "code": CELL_CODE_VERSION,
    }
    assert adapt["epochs"] == 4 and options == {"mem_size": 50}


def test_digest_is_pinned_independent_of_entry_order_and_hashes_paths():
    assert digest({"b": 2, "a": [1, Path("x")]}) == "65989928e381c0cc6911"
    assert digest({"a": [1, Path("x")], "b": 2}) == "65989928e381c0cc6911"
    assert len(fingerprint(SOURCE)) == 16 and len(digest({})) == 20


def test_differing_names_entries_changed_added_or_removed_and_nothing_else():
    before = {"a": 1, "b": 2, "c": 3, "e": None}
    now = {"a": 1, "b": 5, "d": 4, "e": None}
    assert differing(before, now) == ["b", "c", "d"]
    assert differing(now, now) == []
