"""Every metric by hand on both sides of its boundaries (issue #23).

Accuracy at 0 and 1, per-class accuracy of an empty class, macro-F1 with a class never predicted and
a class predicted but absent, forgetting and BWT with a dataset forgotten and one improved, source
drop and target gain negative and positive, the training loss of one sample and of a float loss,
and the bookkeeping of :class:`FERMetrics` / :class:`AccuracyMatrix` a user reads after ``eval``.
Memory integrity above and below 1 is in ``test_memory_integrity_boundaries.py``.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.metrics import (
    AccuracyMatrix,
    EvalResult,
    FERMetrics,
    TrainLossMetric,
    average_accuracy,
    backward_transfer,
    forgetting,
    make_evaluator,
    max_forgetting,
    memory_integrity,
    summarize_confusion,
    update_confusion,
)


# ------------------------------------------------------------------------------ accuracy, F1, per class
def test_no_right_answer_is_zero_accuracy_and_zero_f1():
    r = summarize_confusion([[0, 3], [2, 0]])
    assert (r.acc, r.macro_f1, r.per_class_acc, r.n) == (0.0, 0.0, [0.0, 0.0], 5)


def test_every_answer_right_is_accuracy_and_f1_one():
    r = summarize_confusion([[3, 0, 0], [0, 2, 0], [0, 0, 0]])
    assert (r.acc, r.macro_f1, r.per_class_acc) == (1.0, 1.0, [1.0, 1.0, None])


def test_a_class_predicted_but_absent_costs_its_true_class_and_is_left_out_of_f1():
    # class 2 has no test sample but takes one prediction of class 0
    r = summarize_confusion([[2, 0, 1], [0, 1, 0], [0, 0, 0]])
    assert r.acc == pytest.approx(3 / 4) and r.per_class_acc == [pytest.approx(2 / 3), 1.0, None]
    assert r.macro_f1 == pytest.approx((2 * 2 / (2 + 3) + 1.0) / 2)  # F1 of classes 0 and 1 only


def test_a_present_class_never_predicted_counts_as_f1_zero():
    r = summarize_confusion([[2, 0], [1, 0]])
    assert r.per_class_acc == [1.0, 0.0]
    assert r.macro_f1 == pytest.approx((2 * 2 / (3 + 2) + 0.0) / 2)


def test_an_empty_test_set_is_nan_not_zero():
    r = summarize_confusion(np.zeros((3, 3), dtype=int))
    assert math.isnan(r.acc) and math.isnan(r.macro_f1) and r.per_class_acc == [None, None, None]


def test_a_result_as_json_keeps_per_class_values_and_integer_counts():
    r = EvalResult(
        acc=0.75, macro_f1=0.5, per_class_acc=[0.75, None], confusion=np.array([[3.0, 1.0], [0, 0]]), n=4
    )
    out = r.to_dict()
    assert out["per_class_acc"] == [0.75, None]
    assert out["confusion"] == [[3, 1], [0, 0]] and all(
        type(v) is int for row in out["confusion"] for v in row
    )


def test_float_labels_are_counted_as_classes():
    cm = torch.zeros(4, dtype=torch.long)
    update_confusion(cm, torch.tensor([0.0, 1.0, 1.0]), torch.tensor([[2.0, 0], [0, 1], [3, 0]]))
    assert cm.tolist() == [1, 0, 1, 1]


# ------------------------------------------------------------------------------ memory integrity
@pytest.mark.parametrize(
    ("after", "base", "drop", "gain"),
    [
        ({"s": 0.5, "t": 0.2}, {"s": 0.6, "t": 0.4}, 0.1, -0.2),
        ({"s": 0.7, "t": 0.6}, {"s": 0.6, "t": 0.4}, -0.1, 0.2),
    ],
)
def test_source_drop_and_target_gain_take_either_sign(after, base, drop, gain):
    r = memory_integrity(after, base, "s")
    assert r["source_drop"] == pytest.approx(drop) and r["target_gain"] == {"t": pytest.approx(gain)}


def test_a_target_missing_from_the_baseline_has_no_gain():
    assert memory_integrity({"s": 0.5, "t": 0.5}, {"s": 0.5}, "s")["target_gain"] == {}


@pytest.mark.parametrize(
    ("after", "base", "match"),
    [({"t": 0.5}, {"s": 0.5}, r"source 's' not in acc_after \(has \['t'\]\)"),
     ({"s": 0.5}, {"t": 0.5}, r"source 's' not in acc_baseline \(has \['t'\]\)")],
)  # fmt: skip
def test_a_missing_source_names_the_dict_it_is_missing_from(after, base, match):
    with pytest.raises(ConfigError, match=match):
        memory_integrity(after, base, "s")


# ------------------------------------------------------------------------------ sequential summaries
def test_forgetting_is_positive_for_a_forgotten_dataset_and_negative_for_an_improved_one():
    forgot = [[0.8, 0.1], [0.5, 0.9]]
    improved = [[0.5, 0.1], [0.8, 0.9]]
    assert forgetting(forgot) == pytest.approx(0.3) and backward_transfer(forgot) == pytest.approx(-0.3)
    assert forgetting(improved) == pytest.approx(-0.3) and backward_transfer(improved) == pytest.approx(0.3)
    assert max_forgetting(improved) == pytest.approx(-0.3)  # the best since learning it is its start
    assert forgetting([[0.8, 0.1], [0.8, 0.9]]) == 0.0


def test_one_dataset_and_one_row_are_valid_matrices():
    assert average_accuracy([[0.8], [0.6]]) == pytest.approx(0.6)
    assert forgetting([[0.8], [0.6]]) == pytest.approx(0.2)
    assert math.isnan(forgetting([[0.8, 0.2]]))  # one row: nothing was trained before the last


def test_an_empty_matrix_is_refused():
    with pytest.raises(
        ConfigError, match=r"accuracy matrix must be 2-D \[steps\+1, datasets\], got shape \(0, 2\)"
    ):
        average_accuracy(np.zeros((0, 2)))


def test_a_missing_accuracy_makes_the_average_nan():
    assert math.isnan(average_accuracy([[0.5, None]]))


def test_a_dataset_never_trained_is_skipped_not_the_end_of_the_list():
    R = [[0.1, 0.8], [0.9, 0.6]]
    assert forgetting(R, trained_at=[None, 0]) == pytest.approx(0.2)
    assert max_forgetting(R, trained_at=[None, 0]) == pytest.approx(0.2)


def test_a_negative_training_row_is_refused_naming_the_dataset():
    with pytest.raises(ConfigError, match=r"trained_at\[1\] = -1 must be a row index >= 0"):
        forgetting([[0.5, 0.5], [0.5, 0.5]], trained_at=[0, -1])


def test_the_matrix_summary_follows_the_order_datasets_were_trained_in():
    am = AccuracyMatrix(["t1", "src"])  # columns not in training order
    am.append({"src": 0.8, "t1": 0.1}, trained="src")
    am.append({"src": 0.6, "t1": 0.9}, trained="t1")
    assert am.trained_at == [1, 0]
    summary = am.summary()
    assert summary["forgetting"] == pytest.approx(0.2) and summary["bwt"] == pytest.approx(-0.2)
    assert summary["max_forgetting"] == pytest.approx(0.2)


def test_a_row_can_train_several_datasets_or_none():
    am = AccuracyMatrix(["src", "t1", "t2"])
    am.append({"src": 0.8, "t1": 0.1, "t2": 0.1}, trained=["src", "t1"])
    am.append({"src": 0.7, "t1": 0.6, "t2": 0.2}, trained=None)
    assert am.trained_at == [0, 0, None]
    assert am.summary()["forgetting"] == pytest.approx((0.1 - 0.5) / 2)


# ------------------------------------------------------------------------------ FERMetrics bookkeeping
def _evaluate(metric, name, y, pred, iters=5):
    strategy = SimpleNamespace(
        experience=SimpleNamespace(dataset_name=name), clock=SimpleNamespace(train_iterations=iters)
    )
    metric.before_eval_exp(strategy)
    strategy.mb_y, strategy.mb_output = (
        torch.tensor(y),
        torch.nn.functional.one_hot(torch.tensor(pred), 2).float(),
    )
    metric.after_eval_iteration(strategy)
    return metric.after_eval_exp(strategy)


def test_accuracies_are_those_of_the_latest_eval_unless_asked_for_all():
    metric = FERMetrics(2, ["a", "b"], confusion_images=False)
    metric.before_eval(None)
    _evaluate(metric, "src", [0, 1], [0, 1])
    _evaluate(metric, "tgt", [0, 1], [1, 1])
    metric.before_eval(None)
    _evaluate(metric, "tgt", [0, 1], [0, 0])
    assert metric.accuracies() == {"tgt": 0.5} == metric.accuracies(last=True)
    assert metric.accuracies(last=False) == {"src": 1.0, "tgt": 0.5}
    assert {k: r.acc for k, r in metric.result().items()} == {"src": 1.0, "tgt": 0.5}
    metric.reset()
    assert metric.result() == {} and metric.accuracies() == {}


def test_the_evaluator_lists_its_metrics_by_name():
    evaluator, _ = make_evaluator(2, ["a", "b"])
    assert [str(m) for m in evaluator.metrics] == ["FERMetrics", "TrainLossMetric"]


# ------------------------------------------------------------------------------ training loss
def _epoch(metric, batches, iters=12):
    strategy = SimpleNamespace(clock=SimpleNamespace(train_iterations=iters))
    metric.before_training_epoch(strategy)
    for loss, n in batches:
        strategy.loss, strategy.mb_y = loss, torch.zeros(n)
        metric.after_training_iteration(strategy)
    return metric.after_training_epoch(strategy)


def test_the_loss_of_a_one_sample_epoch_is_emitted_at_the_training_step():
    metric = TrainLossMetric()
    assert metric.result() is None
    value = _epoch(metric, [(torch.tensor(0.25), 1)], iters=12)
    assert (value.name, value.value, value.x_plot, value.origin) == ("FER/train_loss", 0.25, 12, metric)


def test_a_plain_float_loss_is_averaged_like_a_tensor():
    metric = TrainLossMetric()
    assert _epoch(metric, [(0.5, 2), (2, 2)]).value == pytest.approx(1.25)


def test_an_epoch_of_empty_batches_emits_nothing():
    metric = TrainLossMetric()
    assert _epoch(metric, [(torch.tensor(1.0), 0)]) is None and metric.result() is None


def test_reset_forgets_the_last_loss():
    metric = TrainLossMetric()
    _epoch(metric, [(torch.tensor(1.0), 3)])
    metric.reset()
    assert metric.result() is None
    assert _epoch(metric, [(torch.tensor(2.0), 1)]).value == 2.0


# ------------------------------------------------------------------------------ what an eval emits
def test_counts_stay_integers_and_a_class_of_one_sample_is_present():
    r = summarize_confusion([[1.0, 0.0], [0.0, 2.0]])
    assert r.confusion.dtype == np.int64 and r.per_class_acc == [1.0, 1.0] and r.macro_f1 == 1.0


def test_an_empty_test_set_is_summarised_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(summarize_confusion([[0, 0], [0, 0]]).acc)


def test_fer_metrics_keeps_its_settings_and_starts_empty():
    metric = FERMetrics(2, ("a", 3), confusion_images=False)
    assert metric.label_names == ["a", "3"] and metric.num_classes == 2
    assert metric.accuracies() == {} and metric.last_eval == {} and metric.result() == {}
    with pytest.raises(ConfigError, match=r"^FERMetrics: num_classes must be >= 2, got 1$"):
        FERMetrics(1, ["a"])


@pytest.mark.parametrize("per_sample", [True, False])
def test_an_experience_with_no_batch_gives_an_empty_integer_result(per_sample):
    metric = FERMetrics(2, ["a", "b"], confusion_images=False, per_sample=per_sample)
    strategy = SimpleNamespace(experience=SimpleNamespace(dataset_name="none"))
    metric.before_eval_exp(strategy)
    metric.after_eval_exp(strategy)
    r = metric.results["none"]
    assert r.confusion.tolist() == [[0, 0], [0, 0]] and r.confusion.dtype == np.int64
    if per_sample:
        assert r.labels.dtype == r.predictions.dtype == np.int64 and r.labels.size == r.predictions.size == 0
    else:
        assert r.labels is None and r.predictions is None


def test_without_per_sample_outputs_the_confusion_is_integer_counts():
    metric = FERMetrics(2, ["a", "b"], confusion_images=False, per_sample=False)
    _evaluate(metric, "d", [0, 1, 1], [0, 0, 1])
    r = metric.results["d"]
    assert r.confusion.tolist() == [[1, 0], [1, 1]] and r.confusion.dtype == np.int64 and r.labels is None


def test_float_labels_of_a_batch_are_counted_as_classes():
    metric = FERMetrics(2, ["a", "b"], confusion_images=False)
    strategy = SimpleNamespace(experience=SimpleNamespace(dataset_name="d"))
    metric.before_eval_exp(strategy)
    strategy.mb_y, strategy.mb_output = torch.tensor([0.0, 1.0]), torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    metric.after_eval_iteration(strategy)
    metric.after_eval_exp(strategy)
    assert metric.results["d"].confusion.tolist() == [[1, 0], [1, 0]]


def test_every_value_an_eval_emits_names_its_metric_and_the_training_step(monkeypatch):
    import fer_avalanche.figures as figures

    titles = []
    monkeypatch.setattr(
        figures, "confusion_image", lambda cm, names, title="": titles.append((names, title)) or "img"
    )
    metric = FERMetrics(2, ["a", "b"], confusion_images=True)
    values = _evaluate(metric, "jaffe", [0, 1, 1, 0], [0, 1, 0, 0], iters=9)
    assert [(v.name, v.value, v.x_plot, v.origin is metric) for v in values] == [
        ("FER/acc/jaffe", 0.75, 9, True),
        ("FER/macro_f1/jaffe", pytest.approx((0.8 + 2 / 3) / 2), 9, True),
        ("FER/confusion/jaffe", "img", 9, True),
    ]
    assert titles == [(["a", "b"], "jaffe (acc 75.0%, n=4)")]


def test_an_experience_without_a_name_or_a_clock_is_exp0_at_step_0():
    metric = FERMetrics(2, ["a", "b"], confusion_images=False)
    strategy = SimpleNamespace(experience=SimpleNamespace())
    metric.before_eval_exp(strategy)
    values = metric.after_eval_exp(strategy)
    assert list(metric.results) == ["exp0"] and values[0].x_plot == 0
    bare = SimpleNamespace()
    metric.before_eval_exp(bare)
    assert metric.after_eval_exp(bare)[0].name == "FER/acc/exp0"
    metric.before_eval_exp(strategy)
    strategy.clock = SimpleNamespace(train_iterations=0)
    assert metric.after_eval_exp(strategy)[0].x_plot == 0
