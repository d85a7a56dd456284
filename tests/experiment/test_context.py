"""The experiment context: each dataset loaded once per (seed, fold) it depends on, variants sharing
data, models, baseline files and strategies built as the scenario says (no training here)."""

from __future__ import annotations

import pytest
import torch
from _experiment_helpers import tiny

from fer_avalanche.data.cache import default_cache_dir
from fer_avalanche.experiment.context import ExperimentContext, stable_seed
from fer_avalanche.experiment.keys import digest
from fer_avalanche.strategies.plugins import BudgetPlugin, FreezePlugin
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import EvaluationPlugin

RUN_SPLIT = "targets.lab-a.split={method='fractions', fractions=[0.6, 0.2, 0.2], seed='run'}"
FOLDS = "targets.lab-a.split={method='kfold', k=3, folds='all'}"


def _ctx(*overrides: str, cache=None) -> ExperimentContext:
    return ExperimentContext(tiny(*overrides), "cpu", cache)


def test_stable_seed_is_the_same_in_every_process_and_31_bits():
    assert stable_seed("retrain", "lab-a", 0, "") == 588571385  # crc32 of "retrain|lab-a|0|"
    assert stable_seed("retrain", "lab-a", 0, "") != stable_seed("lab-a", "retrain", 0, "")
    assert stable_seed("a", 1) != stable_seed("a1")  # parts are separated
    assert all(0 <= stable_seed("x", i) < 2**31 for i in range(200))
    assert max(stable_seed("x", i) for i in range(200)) >= 2**30  # the 31st bit is used


def test_the_cache_folder_defaults_and_expands(tmp_path, monkeypatch):
    assert ExperimentContext(tiny(), "cpu", None).cache_dir == default_cache_dir()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ExperimentContext(tiny(), "cpu", "~/c").cache_dir == tmp_path / "c"
    assert ExperimentContext(tiny(), "cpu", None).device == torch.device("cpu")


# ------------------------------------------------------------------------------------ data
def test_a_dataset_is_loaded_once_and_the_source_comes_first():
    ctx = _ctx()
    source, target = ctx.datasets(["lab-a"], seed=0)
    assert (source.name, target.name) == ("wild", "lab-a")
    assert ctx.dataset("lab-a", 0) is target and ctx.source(0) is source
    # a fixed split seed: every run seed shares the dataset, and a target without folds ignores a fold
    assert ctx.dataset("lab-a", 1) is target and ctx.dataset("lab-a", 0, fold=2) is target
    assert [d.name for d in ctx.datasets(("lab-b", "lab-a"), seed=0)] == ["wild", "lab-b", "lab-a"]


def test_a_split_seeded_by_the_run_loads_once_per_run_seed():
    ctx = _ctx(RUN_SPLIT)
    a0, a1 = ctx.dataset("lab-a", 0), ctx.dataset("lab-a", 1)
    assert a0 is not a1 and ctx.dataset("lab-a", 0) is a0
    assert not torch.equal(a0.split_mask("test"), a1.split_mask("test"))
    assert ctx.dataset("lab-b", 0) is ctx.dataset("lab-b", 1)  # lab-b's split keeps its own seed


def test_a_target_with_folds_loads_once_per_fold():
    ctx = _ctx(FOLDS)
    f0, f1 = ctx.dataset("lab-a", 0, fold=0), ctx.dataset("lab-a", 0, fold=1)
    assert f0 is not f1 and ctx.dataset("lab-a", 0, fold=0) is f0
    assert not (f0.split_mask("test") & f1.split_mask("test")).any()  # disjoint test folds
    assert ctx.dataset("lab-a", 1, fold=1) is f1  # a fixed split seed: shared between run seeds


def test_an_unknown_dataset_name_is_a_key_error():
    with pytest.raises(KeyError, match="nope"):
        _ctx().dataset("nope", 0)


def test_class_incremental_names_and_loads_the_class_groups_of_the_source():
    ctx = _ctx(
        "mode='class-incremental'", "targets=[]", "classes_per_exp=[['angry', 'disgust'], ['happy', 'sad']]"
    )
    assert ctx.source_name == "wild/angry+disgust"
    first = ctx.source(0)
    assert first.name == "wild/angry+disgust" and ctx.dataset("wild/angry+disgust", 0) is first
    second = ctx.dataset("wild/happy+sad", 0)
    assert set(second.labels.tolist()) == {3, 4} and set(first.labels.tolist()) == {0, 1}
    assert ctx.dataset("wild/angry+disgust", 1) is not first  # per run seed
    run = _ctx(
        "mode='class-incremental'", "targets=[]", "classes_per_exp=[['angry', 'disgust'], ['happy', 'sad']]",
        "source.split={method='fractions', fractions=[0.6, 0.2, 0.2], seed='run'}",
    )  # fmt: skip
    assert not torch.equal(run.source(0).split_mask("test"), run.source(1).split_mask("test"))


def test_the_label_names_are_the_scenarios_label_space():
    assert _ctx().label_names == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


@pytest.mark.parametrize("validation", [True, False])
def test_a_benchmark_has_a_validation_stream_only_when_asked(validation):
    ctx = _ctx()
    bm = ctx.benchmark(ctx.datasets(["lab-a"], 0), validation=validation)
    assert [e.dataset_name for e in bm.train_stream] == ["wild", "lab-a"]
    assert (getattr(bm, "valid_stream", None) is not None) is validation


# ------------------------------------------------------------------------------------ variants
def test_without_a_sweep_the_empty_variant_is_the_context_itself():
    ctx = _ctx()
    assert ctx.variant(()) is ctx


def test_a_variant_of_training_settings_shares_the_loaded_data_and_is_built_once(tmp_path):
    ctx = _ctx("sweep.values={'adapt.lr'=[0.01, 0.1]}", cache=tmp_path)
    dataset = ctx.dataset("lab-a", 0)
    fast = ctx.variant([["adapt.lr", 0.1]])
    assert fast is ctx.variant((("adapt.lr", 0.1),)) and fast is not ctx
    assert fast.scenario.adapt.lr == 0.1 and fast.scenario.sweep is None
    assert fast.dataset("lab-a", 0) is dataset  # not loaded again
    assert fast.cache_dir == tmp_path and fast.device == ctx.device
    # with a sweep, even the empty variant is a scenario of its own (without the sweep)
    plain = ctx.variant(())
    assert plain is not ctx and plain.scenario.sweep is None and plain is ctx.variant(())


def test_a_variant_of_data_settings_loads_its_own_data():
    ctx = _ctx("sweep.values={'image_size'=[24, 32]}")
    small = ctx.variant((("image_size", 24),))
    assert small.dataset("lab-a", 0) is not ctx.dataset("lab-a", 0)
    assert small.dataset("lab-a", 0).images.shape[-1] == 24


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("source.n", [210, 280]),
        ("targets.lab-a.n", [70, 90]),
        ("label_space", ["basic8", "basic7"]),  # the first off the scenario's own
    ],
)
def test_a_variant_that_changes_what_is_loaded_does_not_share_the_data(key, values):
    ctx = _ctx(f"sweep.values={{'{key}'={values}}}")
    loaded = ctx.dataset("lab-a", 0)
    assert ctx.variant(((key, values[0]),)).dataset("lab-a", 0) is not loaded


def test_a_variant_with_other_class_groups_does_not_share_the_data():
    ctx = _ctx(
        "mode='class-incremental'",
        "targets=[]",
        "classes_per_exp=2",
        "sweep.values={'classes_per_exp'=[3, 2]}",
    )
    loaded = ctx.source(0)
    other = ctx.variant((("classes_per_exp", 3),))
    assert other.source(0) is not loaded
    assert (ctx.source_name, other.source_name) == ("wild/angry+disgust", "wild/angry+disgust+fear")


# ------------------------------------------------------------------------------------ models
def test_a_new_model_has_the_scenarios_architecture_and_classes():
    model = _ctx("model.width=6", "image_size=32").new_model()
    logits = model(torch.zeros(2, 1, 32, 32))
    assert logits.shape == (2, 7) and model.config["arch"] == "fernet"
    paper = _ctx("model.arch='paper'", "label_space='basic8'").new_model()
    assert paper.config["arch"] == "paper" and paper.config["num_classes"] == 8
    assert (model.config["width"], model.config["image_size"]) == (6, 32)  # the scenario's model options


def test_the_baseline_file_is_named_by_the_source_and_the_baseline_key(tmp_path):
    ctx = _ctx(cache=tmp_path)
    path = ctx.baseline_path(0)
    assert path == tmp_path / "baselines" / f"wild-{digest(ctx.baseline_key(0))}.pt"
    assert ctx.baseline_path(1) != path  # one per seed
    assert ctx.baseline_key(0)["seed"] == 0 and ctx.baseline_key(1)["seed"] == 1
    assert ctx.baseline_key(0)["device"] == "cpu"
    run = _ctx("source.split={method='fractions', fractions=[0.6, 0.2, 0.2], seed='run'}")
    assert run.baseline_key(0)["source"] != run.baseline_key(1)["source"]  # each seed's training split


def test_a_recipe_is_resolved_once_per_strategy():
    ctx = _ctx("adapt.lr=0.25", "train.lr=0.5")
    assert ctx.recipe("ft-fc") is ctx.recipe("ft-fc")
    assert ctx.recipe("ft-fc").strategy == "ft-fc" and ctx.recipe("ft-fc").train.lr == 0.25
    assert ctx.recipe(None) is not ctx.recipe("ft-fc") and ctx.recipe(None).train.lr == 0.5


def test_a_strategy_is_built_on_the_contexts_device_with_the_given_parts():
    ctx = _ctx("adapt.lr=0.25", "adapt.batch_size=8")
    bm = ctx.benchmark(ctx.datasets(["lab-a"], 0), validation=False)
    evaluator, mine = EvaluationPlugin(), FreezePlugin(["features"])
    strategy = ctx.strategy(
        ctx.recipe("ft-fc"), ctx.new_model(), 3, source=bm.train_stream[0], evaluator=evaluator,
        plugins=[mine], val_sets=None,
    )  # fmt: skip
    assert strategy.fer_spec.name == "ft-fc" and strategy.fer_seed == 3
    assert strategy.device == ctx.device and strategy.evaluator is evaluator
    assert mine in strategy.plugins and any(isinstance(p, BudgetPlugin) for p in strategy.plugins)
    assert strategy.optimizer.param_groups[0]["lr"] == 0.25 and strategy.train_mb_size == 8


def test_every_load_gets_the_contexts_cache_folder_the_run_seed_and_the_fold(tmp_path, monkeypatch):
    from fer_avalanche.experiment import context as context_module

    calls = []
    real = context_module.load_scenario_spec

    def spy(spec, scenario, cache_dir, seed, fold):
        calls.append((spec.name, cache_dir, seed, fold))
        return real(spec, scenario, cache_dir, seed, fold)

    monkeypatch.setattr(context_module, "load_scenario_spec", spy)
    ctx = _ctx(FOLDS, cache=tmp_path)
    ctx.datasets(["lab-a", "lab-b"], seed=3, fold=1)
    assert calls == [("wild", tmp_path, 3, None), ("lab-a", tmp_path, 3, 1), ("lab-b", tmp_path, 3, None)]
    calls.clear()
    groups = _ctx(
        "mode='class-incremental'", "targets=[]", "classes_per_exp=[['angry'], ['happy']]", cache=tmp_path
    )
    groups.source(4)
    assert calls == [("wild", tmp_path, 4, None)]


def test_the_datasets_of_a_run_seed_and_fold_are_those_of_that_seed_and_fold():
    ctx = _ctx(FOLDS, "source.split={method='fractions', fractions=[0.6, 0.2, 0.2], seed='run'}")
    source, target = ctx.datasets(["lab-a"], seed=1, fold=2)
    assert source is ctx.source(1) and source is not ctx.source(0)
    assert target is ctx.dataset("lab-a", 1, fold=2) and target is not ctx.dataset("lab-a", 1, fold=0)
    run = _ctx(RUN_SPLIT)
    assert run.datasets(["lab-a"], seed=1)[1] is run.dataset("lab-a", 1) is not run.dataset("lab-a", 0)


def test_a_strategy_gets_the_source_experience_and_the_validation_sets():
    ctx = _ctx("adapt.select='best_val'")
    bm = ctx.benchmark(ctx.datasets(["lab-a"], 0), validation=True)
    val_sets = {exp.dataset_name: exp.dataset for exp in bm.valid_stream}
    strategy = ctx.strategy(
        ctx.recipe("fusion"), ctx.new_model(), 0, source=bm.train_stream[0], evaluator=None, plugins=[],
        val_sets=val_sets,
    )  # fmt: skip
    from fer_avalanche.strategies.plugins import SourceRehearsalPlugin, ValidationPlugin

    rehearsal = next(p for p in strategy.plugins if isinstance(p, SourceRehearsalPlugin))
    assert rehearsal.datasets[0] is bm.train_stream[0].dataset
    validation = next(p for p in strategy.plugins if isinstance(p, ValidationPlugin))
    assert validation.select == "best_val" and list(validation.val_sets) == ["wild", "lab-a"]
