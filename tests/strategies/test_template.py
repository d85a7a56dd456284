"""The fast path mixed into Avalanche's own strategies: they train on our benchmarks unchanged."""

import pytest
import torch

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.loaders import DeviceBatchLoader
from fer_avalanche.models import make_model
from fer_avalanche.strategies.template import FERTemplate, fast
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training import LwF, Naive
    from avalanche.training.plugins import EvaluationPlugin


@pytest.fixture
def bench(make_fer):
    return cross_dataset_benchmark([make_fer("src", n=140), make_fer("tgt", n=70, seed=1, shift=0.5)])


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
