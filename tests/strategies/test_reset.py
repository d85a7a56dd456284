"""ResetModelPlugin / retrain-scratch: fresh weights, fresh BatchNorm buffers, empty optimizer state."""

import torch
from _strategy_helpers import Spy, baseline_model, build, snapshot, tiny_benchmark

from fer_avalanche.models import make_model
from fer_avalanche.strategies.plugins.reset import ResetModelPlugin, reset_model
from fer_avalanche.utils import quiet_third_party


def _record_start(strategy, records):
    def record(s):
        if s.clock.train_exp_epochs == 0:
            records.append((snapshot(s.model), len(s.optimizer.state)))

    strategy.plugins.append(Spy("before_training_epoch", record))


def test_retrain_scratch_reinitialises_weights_and_batchnorm_buffers(make_fer):
    bench = tiny_benchmark(make_fer)
    model = baseline_model()
    base = snapshot(model)
    strategy = build("retrain-scratch", bench, model)
    records = []
    _record_start(strategy, records)
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    start, n_state = records[0]
    assert n_state == 0
    for key, value in base.items():
        if key.endswith("num_batches_tracked"):
            assert int(start[key]) == 0
        elif key.endswith("running_mean"):
            assert torch.equal(start[key], torch.zeros_like(value)) and not torch.equal(value, start[key])
        elif key.endswith("running_var"):
            assert torch.equal(start[key], torch.ones_like(value)) and not torch.equal(value, start[key])
        elif key.endswith("weight") and value.dim() > 1:
            assert not torch.equal(value, start[key]), f"{key} kept its baseline value"


def test_optimizer_state_is_cleared_before_every_experience(make_fer):
    bench = tiny_benchmark(make_fer, n_targets=(35, 35))
    strategy = build("retrain-scratch", bench)
    records = []
    _record_start(strategy, records)
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        assert len(strategy.optimizer.state) > 0  # Adam moments exist after training
        strategy.train(bench.train_stream[2], eval_streams=[])
    assert [n for _, n in records] == [0, 0]


def test_reset_is_reproducible_from_the_seed_and_leaves_global_rng_alone():
    a, b = make_model(width=8, image_size=24), make_model(width=8, image_size=24)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    reset_model(a, seed=5)
    reset_model(b, seed=5)
    assert torch.equal(torch.rand(3), expected)
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_reset_only_once_when_asked(make_fer):
    bench = tiny_benchmark(make_fer, n_targets=(35, 35))
    plugin = ResetModelPlugin(every_experience=False, seed=0)
    strategy = build("naive", bench, plugins=[plugin])
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.train(bench.train_stream[2], eval_streams=[])
    assert plugin.resets == 1
