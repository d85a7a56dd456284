"""BatchAugmentPlugin: vectorised crop/flip on training batches only, reproducible from its seed."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from _strategy_helpers import Spy, build, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import BatchAugmentPlugin
from fer_avalanche.strategies.plugins.augment import augment_batch
from fer_avalanche.utils import quiet_third_party


def _batch(n=16, seed=0):
    return torch.rand(n, 1, 12, 12, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _apply(plugin, x, training=True):
    strategy = SimpleNamespace(is_training=training, mbatch=[x, torch.zeros(len(x)), torch.zeros(len(x))])
    plugin.before_forward(strategy)
    return strategy.mbatch[0]


def test_training_batches_change_and_eval_batches_do_not():
    x = _batch()
    plugin = BatchAugmentPlugin(crop_padding=2, seed=0)
    out = _apply(plugin, x)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert _apply(plugin, x, training=False) is x


def test_augmentation_is_reproducible_from_the_seed():
    x = _batch()
    a = [_apply(BatchAugmentPlugin(seed=1), x) for _ in range(2)]
    assert torch.equal(a[0], a[1])
    assert not torch.equal(a[0], _apply(BatchAugmentPlugin(seed=2), x))


def test_generator_state_round_trips():
    x = _batch()
    plugin = BatchAugmentPlugin(seed=0)
    _apply(plugin, x)
    state = plugin.state_dict()
    expected = _apply(plugin, x)
    fresh = BatchAugmentPlugin(seed=9)
    fresh.load_state_dict(state)  # before the generator exists
    assert torch.equal(_apply(fresh, x), expected)


def test_each_sample_is_a_window_of_the_padded_image_maybe_mirrored():
    x = _batch(8)
    out = augment_batch(x, torch.Generator().manual_seed(0), crop_padding=2, flip=True)
    padded = F.pad(x, (2, 2, 2, 2), mode="replicate")
    for i in range(len(x)):
        windows = [
            w
            for dy in range(5)
            for dx in range(5)
            for w in (
                padded[i, :, dy : dy + 12, dx : dx + 12],
                padded[i, :, dy : dy + 12, dx : dx + 12].flip(-1),
            )
        ]
        assert any(torch.equal(out[i], w) for w in windows)


def test_flip_only_mirrors_about_half_the_samples():
    x = _batch(64)
    out = augment_batch(x, torch.Generator().manual_seed(0), crop_padding=0, flip=True)
    flipped = [torch.equal(o, s.flip(-1)) for o, s in zip(out, x, strict=True)]
    assert all(f or torch.equal(o, s) for f, o, s in zip(flipped, out, x, strict=True))
    assert 16 < sum(flipped) < 48


def test_intensity_jitter_stays_in_the_normalised_range():
    out = augment_batch(_batch(), torch.Generator().manual_seed(0), 0, False, brightness=0.5, contrast=0.5)
    assert out.min() >= -1 and out.max() <= 1 and not torch.equal(out, _batch())


def test_strategy_trains_on_augmented_batches_and_evaluates_on_raw_ones(make_fer):
    bench = tiny_benchmark(make_fer)
    seen = {"train": [], "eval": []}
    spies = [
        Spy("before_training_iteration", lambda s: seen["train"].append(s.mbatch[0].clone())),
        Spy("after_forward", lambda s: seen["train"][-1].__setitem__(..., seen["train"][-1] - s.mbatch[0])),
        Spy("before_eval_forward", lambda s: seen["eval"].append(s.mbatch[0].clone())),
        Spy(
            "after_eval_forward", lambda s: seen["eval"][-1].__setitem__(..., seen["eval"][-1] - s.mbatch[0])
        ),
    ]
    strategy = build("naive", bench, plugins=spies, augment=True)
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.eval(bench.test_stream)
    assert seen["train"] and all(d.abs().sum() > 0 for d in seen["train"])
    assert seen["eval"] and all(d.abs().sum() == 0 for d in seen["eval"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"crop_padding": -1}, "crop_padding"), ({"brightness": 1.5}, "brightness"), ({"seed": "a"}, "seed")],
)
def test_bad_settings_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BatchAugmentPlugin(**kwargs)
