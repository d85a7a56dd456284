"""Beyond the paper: absent-class masking, lp-ft and wise-ft (each test fails when its feature breaks)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from _strategy_helpers import SIZE, SMALL, baseline_model, snapshot

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.strategies import make_strategy
from fer_avalanche.strategies.plugins.wiseft import choose_alpha, interpolate
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

ABSENT = 6  # neutral


def lacking(data, absent: int = ABSENT):
    """``data`` relabelled so that class ``absent`` does not occur (its samples become class 0)."""
    labels = data.labels.clone()
    labels[labels == absent] = 0
    return dataclasses.replace(data, labels=labels)


def bench(make_fer, test_labels_shuffled: bool = False):
    source = make_fer("src", n=140, size=SIZE)
    target = lacking(make_fer("tgt", n=70, seed=1, shift=0.5, size=SIZE))
    if test_labels_shuffled:  # the same data with other test labels: what a choice must never see
        labels, test = target.labels.clone(), target.split == 2
        labels[test] = (labels[test] + 1) % 6
        target = dataclasses.replace(target, labels=labels)
    return cross_dataset_benchmark([source, target], with_validation=True)


def build(name, bm, **kwargs):
    torch.manual_seed(0)
    settings = dict(epochs=1, batch_size=16, eval_batch_size=64, seed=0, source=bm.train_stream[0])
    settings.update(kwargs)
    return make_strategy(name, baseline_model(), **settings)


def val_sets(bm):
    return {exp.dataset_name: exp.dataset for exp in bm.valid_stream}


def train(strategy, bm):
    torch.manual_seed(0)  # dropout draws from the global generator
    with quiet_third_party():
        strategy.train(bm.train_stream[1], eval_streams=[])
    return strategy


class LogitGrads(SupervisedPlugin):
    """Records the gradient of the loss on the model's output, and which rows were target samples."""

    def __init__(self) -> None:
        super().__init__()
        self.grads: list[torch.Tensor] = []
        self.own: list[torch.Tensor | None] = []

    def after_forward(self, strategy, **kwargs):
        strategy.mb_output.retain_grad()
        self._out = strategy.mb_output

    def after_backward(self, strategy, **kwargs):
        self.grads.append(self._out.grad.detach().clone())
        own = getattr(strategy.dataloader, "last_own", None)
        self.own.append(None if own is None else own.clone())


# ------------------------------------------------------------------------------------- masking
def test_mask_zeroes_the_absent_logits_gradient_on_a_pure_target_batch_and_train_does_not(make_fer):
    bm = bench(make_fer)
    for mode in ("mask", "train"):
        spy = LogitGrads()
        train(build("ft-fc", bm, max_steps=3, plugins=[spy], absent_classes=mode), bm)
        absent = torch.cat([g[:, ABSENT] for g in spy.grads])
        present = torch.cat([g[:, :ABSENT] for g in spy.grads])
        assert len(spy.grads) == 3 and bool((present != 0).any())
        if mode == "mask":
            assert torch.equal(absent, torch.zeros_like(absent))  # exactly zero: never pushed down
        else:
            assert bool((absent != 0).all())


@pytest.mark.parametrize("name", ["fusion", "der"])
def test_mask_is_per_sample_in_a_mixed_batch(make_fer, name):
    bm = bench(make_fer)
    options = {"mix": "batch", "target_fraction": 0.5} if name == "fusion" else dict(SMALL["der"])
    spy = LogitGrads()
    strategy = build(name, bm, max_steps=3, plugins=[spy], absent_classes="mask", **options)
    train(strategy, bm)
    for grad, own in zip(spy.grads, spy.own, strict=True):
        rows = torch.zeros(grad.shape[0], dtype=torch.bool)
        rows[grad.shape[0] - own.shape[0] :] = own  # DER's memory batch comes first, unmasked
        assert 0 < int(rows.sum()) < grad.shape[0]  # really a mixed batch
        assert torch.equal(grad[rows, ABSENT], torch.zeros(int(rows.sum())))
        assert bool((grad[~rows, ABSENT] != 0).all())  # source / memory samples keep every class
    assert strategy.fer_row_extras({})["masked_classes"] == [ABSENT]


def test_absent_classes_is_checked(make_fer):
    with pytest.raises(ConfigError, match=r"absent_classes must be one of \['mask', 'train'\]"):
        build("ft-fc", bench(make_fer), absent_classes="drop")


# ---------------------------------------------------------------------------------------- lp-ft
def test_lp_ft_step_split_sums_to_the_budget_and_the_probe_trains_the_head_only(make_fer):
    bm = bench(make_fer)
    before = snapshot(baseline_model())
    frozen = [k for k in before if k.startswith(("features.", "last_conv."))]
    for fraction, probe in ((0.5, 4), (1.0, 7), (0.0, 0)):
        strategy = train(build("lp-ft", bm, max_steps=7, probe_fraction=fraction, augment=False), bm)
        split = strategy.fer_row_extras({})["lp_ft"]
        assert (split["probe_steps"], split["finetune_steps"]) == (probe, 7 - probe)
        assert split["probe_steps"] + split["finetune_steps"] == strategy.fer_budget["steps"] == 7
        after = snapshot(strategy.model)
        conv_moved = any(not torch.equal(before[k], after[k]) for k in frozen)
        assert conv_moved == (fraction < 1.0)  # the probe alone leaves conv weights and BN stats as they were
        assert not torch.equal(before["classifier.1.weight"], after["classifier.1.weight"])


def test_lp_ft_probe_fraction_is_checked(make_fer):
    with pytest.raises(ConfigError, match=r"probe_fraction must be in \[0, 1\]"):
        build("lp-ft", bench(make_fer), probe_fraction=1.5)


# -------------------------------------------------------------------------------------- wise-ft
def predictions(model, bm):
    model.eval()
    with torch.no_grad():
        return torch.cat(
            [model(b[0]) for b in device_batches(bm.test_stream[1].dataset, 64, torch.device("cpu"))]
        )


def test_wise_ft_endpoints_are_the_baseline_and_the_base_strategy_exactly(make_fer):
    bm = bench(make_fer)
    at0 = train(build("wise-ft", bm, max_steps=4, val_sets=val_sets(bm), alphas=[0.0], rule="mean"), bm)
    assert at0.fer_row_extras({})["alpha"] == 0.0
    layout = torch.channels_last if at0.channels_last else torch.contiguous_format
    reference = baseline_model().to(memory_format=layout)  # the same layout: the same rounding
    baseline = predictions(reference, bm)
    assert torch.equal(predictions(at0.model, bm), baseline)
    ref = snapshot(
        reference
    )  # every float tensor (BN statistics too); num_batches_tracked is the adapted one
    assert all(torch.equal(v, ref[k]) for k, v in snapshot(at0.model).items() if torch.is_floating_point(v))
    for base in ("retrain", "lp-ft"):
        at1 = build("wise-ft", bm, max_steps=4, val_sets=val_sets(bm), alphas=[1.0], rule="mean", base=base)
        alone = train(build(base, bm, max_steps=4), bm)
        train(at1, bm)
        assert torch.equal(predictions(at1.model, bm), predictions(alone.model, bm))
        assert not torch.equal(predictions(at1.model, bm), baseline)
        assert at1.fer_budget["evaluations"] == 2  # one alpha x two validation sets; steps unchanged
        assert at1.fer_budget["steps"] == alone.fer_budget["steps"] == 4


def test_wise_ft_choice_never_looks_at_a_test_set(make_fer):
    rows = []
    for shuffled in (False, True):
        bm = bench(make_fer, test_labels_shuffled=shuffled)
        strategy = train(build("wise-ft", bm, max_steps=6, val_sets=val_sets(bm), alphas=[0, 0.5, 1]), bm)
        rows.append(strategy.fer_row_extras({exp.dataset_name: exp.dataset for exp in bm.test_stream}))
    plain, shuffled = rows
    assert plain["alpha"] == shuffled["alpha"]
    assert [p["val"] for p in plain["alpha_curve"]] == [p["val"] for p in shuffled["alpha_curve"]]
    tgt = "tgt"
    assert [p["test"][tgt] for p in plain["alpha_curve"]] != [p["test"][tgt] for p in shuffled["alpha_curve"]]


def test_interpolate_mixes_floats_and_bn_statistics_and_takes_adapted_integer_buffers():
    a, b = snapshot(baseline_model(0)), snapshot(baseline_model(1))
    tracked = next(k for k in b if k.endswith("num_batches_tracked"))
    b[tracked] = torch.tensor(9)
    mid = interpolate(a, b, 0.25)
    for key, value in mid.items():
        if torch.is_floating_point(value):
            assert torch.allclose(value, 0.75 * a[key] + 0.25 * b[key], atol=1e-6)
        else:
            assert torch.equal(value, b[key])
    assert any("running_var" in k and not torch.equal(mid[k], a[k]) for k in mid)


def test_choose_alpha_rule_and_fallback():
    curve = [
        {"alpha": 0.0, "val": {"s": 0.60, "t": 0.30}},
        {"alpha": 0.5, "val": {"s": 0.50, "t": 0.50}},
        {"alpha": 1.0, "val": {"s": 0.40, "t": 0.70}},
    ]
    assert choose_alpha(curve, "s", "t", mi_floor=0.8) == 0.5  # largest a keeping 80% of 0.60
    assert choose_alpha(curve, "s", "t", mi_floor=0.95) == 1.0  # none keeps it: best mean (0.55)
    with pytest.raises(ConfigError, match="rule must be one of"):
        choose_alpha(curve, "s", "t", rule="best")


def test_wise_ft_needs_validation_sets_and_a_target_trained_base(make_fer):
    bm = bench(make_fer)
    with pytest.raises(ConfigError, match="wise-ft chooses its interpolation on validation splits"):
        build("wise-ft", bm)
    with pytest.raises(ConfigError, match="wise-ft base must be a strategy that trains on the target"):
        build("wise-ft", bm, val_sets=val_sets(bm), base="joint")
    with pytest.raises(
        ConfigError, match=r"wise-ft base_options: 'fusion' has no option\(s\) \['mem_size'\]"
    ):
        build("wise-ft", bm, val_sets=val_sets(bm), base="fusion", base_options={"mem_size": 3})


def test_wise_ft_over_fusion_with_mask_composes(make_fer):
    bm = bench(make_fer)
    spy = LogitGrads()
    options = {"mix": "batch", "target_fraction": 0.5}
    strategy = build(
        "wise-ft", bm, max_steps=3, val_sets=val_sets(bm), alphas=[0, 1], base="fusion",
        base_options=options, absent_classes="mask", plugins=[spy],
    )  # fmt: skip
    train(strategy, bm)
    row = strategy.fer_row_extras({})
    assert row["alpha"] in (0.0, 1.0) and row["masked_classes"] == [ABSENT]
    assert strategy.fer_budget["source_samples"] > 0  # fusion's batches: half source
    for grad, own in zip(spy.grads, spy.own, strict=True):
        assert torch.equal(grad[own, ABSENT], torch.zeros(int(own.sum())))
        assert bool((grad[~own, ABSENT] != 0).all())
