"""The fast path mixed into Avalanche's own strategies: they train on our benchmarks unchanged."""

import copy

import pytest
import torch
from _strategy_helpers import baseline_model, build, tiny_benchmark

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import DeviceBatchLoader
from fer_avalanche.models import make_model
from fer_avalanche.strategies.template import FERTemplate, check_compile_backend, fast
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training import LwF, Naive
    from avalanche.training.plugins import EvaluationPlugin


@pytest.fixture
def bench(make_fer):
    return cross_dataset_benchmark([make_fer("src", n=140), make_fer("tgt", n=70, seed=1, shift=0.5)])


# no source to warm-start from: this checks the data path only
@pytest.mark.filterwarnings("ignore::fer_avalanche.strategies.warm_start.NotWarmStartedWarning")
@pytest.mark.parametrize("template", [Naive, LwF])
def test_avalanche_strategies_train_a_step_on_device_batches(bench, template):
    torch.manual_seed(0)
    model = make_model(width=4)
    before = [p.detach().clone() for p in model.parameters()]
    extra = {"alpha": 1.0, "temperature": 2.0} if template is LwF else {}
    with quiet_third_party():
        strategy = fast(template)(
            model=model,
            optimizer=torch.optim.Adam(model.parameters(), 1e-3),
            criterion=torch.nn.CrossEntropyLoss(),
            train_mb_size=32,
            eval_mb_size=64,
            train_epochs=1,
            evaluator=EvaluationPlugin(),
            **extra,
        )
        for exp in bench.train_stream:
            strategy.train(exp, eval_streams=[])
        strategy.eval(bench.test_stream)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_training_uses_device_batch_loader(bench):
    model = make_model(width=4)
    seen = []

    class Spy(FERTemplate):
        def training_epoch(self, **kwargs):
            seen.append(type(self.dataloader))
            super().training_epoch(**kwargs)

    with quiet_third_party():
        Spy(
            model=model,
            optimizer=torch.optim.SGD(model.parameters(), 0.01),
            train_mb_size=16,
            evaluator=EvaluationPlugin(),
        ).train(bench.train_stream[0], eval_streams=[])
    assert seen == [DeviceBatchLoader]


def test_same_data_seed_gives_identical_training(bench):
    def train(seed):
        torch.manual_seed(0)
        model = make_model(width=4)
        with quiet_third_party():
            FERTemplate(
                model=model,
                optimizer=torch.optim.SGD(model.parameters(), 0.05),
                train_mb_size=16,
                evaluator=EvaluationPlugin(),
                data_seed=seed,
            ).train(bench.train_stream[0], eval_streams=[])
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(train(3), train(3))
    assert not torch.equal(train(3), train(4))


# ------------------------------------------------------------------------------------ torch.compile
def _compiled(model: torch.nn.Module) -> bool:
    return getattr(model, "_compiled_call_impl", None) is not None


def test_compile_is_off_by_default(make_fer):
    strategy = build("retrain", tiny_benchmark(make_fer))
    assert strategy.compile is False and not _compiled(strategy.model)


def test_compile_keeps_the_model_its_type_and_its_state_dict_keys(make_fer):
    """Compilation is lazy: building the strategy compiles nothing yet, and needs no C++ compiler."""
    model = baseline_model()
    keys = list(model.state_dict())
    strategy = build("ft-fc", tiny_benchmark(make_fer), model=model, compile=True)
    assert strategy.model is model and type(model).__name__ == "FERNet"
    assert _compiled(model)
    assert list(model.state_dict()) == keys  # no ``_orig_mod.`` prefix: checkpoints load unchanged
    assert not _compiled(copy.deepcopy(model))  # copies (teachers, warm-start shadows) are eager


def test_compile_must_be_a_bool(make_fer):
    with pytest.raises(ConfigError, match="compile must be True or False, got 'yes'"):
        build("retrain", tiny_benchmark(make_fer), compile="yes")


def test_compile_without_a_cpp_compiler_is_a_config_error(monkeypatch):
    pytest.importorskip("torch._inductor.cpp_builder")
    from torch._inductor import cpp_builder
    from torch._inductor import exc as inductor_exc

    def missing():
        raise inductor_exc.InvalidCxxCompiler()

    monkeypatch.setattr(cpp_builder, "get_cpp_compiler", missing)
    with pytest.raises(ConfigError, match="compile=True on CPU needs a C\\+\\+ compiler"):
        check_compile_backend(torch.device("cpu"))


@pytest.mark.slow
def test_compiled_strategy_trains_with_frozen_parts(make_fer):
    """One tiny experience, one batch (one graph to compile: ~30 s cold on 2 cores, ~3 s cached)."""
    try:
        check_compile_backend(torch.device("cpu"))
    except ConfigError as exc:
        pytest.skip(str(exc))
    bench = tiny_benchmark(make_fer)
    model = baseline_model()
    keys = list(model.state_dict())
    frozen = {k: v.detach().clone() for k, v in model.features.state_dict().items()}
    strategy = build("ft-fc", bench, model=model, compile=True, batch_size=256, augment=False)
    with quiet_third_party():
        try:
            strategy.train(bench.train_stream[1], eval_streams=[])
        except torch._dynamo.exc.BackendCompilerFailed as exc:  # e.g. a compiler without Python headers
            pytest.skip(f"inductor cannot compile here: {str(exc).splitlines()[0]}")
    assert torch.isfinite(strategy.loss).all()
    assert strategy.model is model and list(model.state_dict()) == keys
    assert all(torch.equal(v, model.features.state_dict()[k]) for k, v in frozen.items())
