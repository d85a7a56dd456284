"""MAS: the model that is evaluated is the model that was trained (no BatchNorm drift, no weight change)."""

import pytest
import torch
from _strategy_helpers import Spy, baseline_model, build, snapshot, tiny_benchmark

from fer_avalanche.strategies.plugins import MASPlugin
from fer_avalanche.utils import quiet_third_party


# the MAS pass alone is under test, not a warm start
@pytest.mark.filterwarnings("ignore::fer_avalanche.strategies.warm_start.NotWarmStartedWarning")
def test_mas_leaves_weights_and_batchnorm_buffers_as_training_left_them(make_fer):
    bench = tiny_benchmark(make_fer, n_targets=(70,))
    model = baseline_model()
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    left = {}
    spy = Spy("after_training_epoch", lambda s: left.update(snapshot(s.model)))
    strategy = build("mas", bench, model, plugins=[spy], epochs=2)
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    after = snapshot(strategy.model)
    buffers = [k for k in after if "running_" in k]
    assert buffers and all(torch.equal(left[k], after[k]) for k in buffers), "the importance pass moved BN"
    assert all(torch.equal(left[k], after[k]) for k in after)
    plugin = next(p for p in strategy.plugins if isinstance(p, MASPlugin))
    assert sum(float(v.data.sum()) for v in plugin.importance.values()) > 0  # importances were computed
    assert strategy.model.training  # the model's mode is what training left (train mode)
