"""Metrics: device-side confusion matrices vs sklearn, per-sample labels and predictions, no per-batch host
sync, a real Avalanche eval, memory integrity, and the sequential-stream summaries."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, f1_score, recall_score

from fer_avalanche.errors import ConfigError
from fer_avalanche.metrics import (
    AccuracyMatrix,
    EvalResult,
    FERMetrics,
    TrainLossMetric,
    average_accuracy,
    backward_transfer,
    decode_classes,
    encode_classes,
    forgetting,
    make_evaluator,
    max_forgetting,
    memory_integrity,
    summarize_confusion,
    update_confusion,
)

C = 7
NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def _strategy(name: str | None = "ds", exp_id: int = 0, iters: int = 5) -> SimpleNamespace:
    exp = SimpleNamespace(current_experience=exp_id)
    if name is not None:
        exp.dataset_name = name
    return SimpleNamespace(experience=exp, clock=SimpleNamespace(train_iterations=iters))


def _random_batches(seed: int, n: int, absent: tuple[int, ...] = ()) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    present = torch.tensor([c for c in range(C) if c not in absent])
    y = present[torch.randint(0, len(present), (n,), generator=g)]
    logits = torch.randn(n, C, generator=g)
    logits[torch.arange(n), y] += 1.0  # better than chance, still many errors
    return y, logits


def _run_eval(
    metric: FERMetrics, strategy: SimpleNamespace, y: torch.Tensor, logits: torch.Tensor, bs: int = 17
):
    metric.before_eval(strategy)
    metric.before_eval_exp(strategy)
    for i in range(0, len(y), bs):
        strategy.mb_y, strategy.mb_output = y[i : i + bs], logits[i : i + bs]
        metric.after_eval_iteration(strategy)
    return metric.after_eval_exp(strategy)


@pytest.mark.parametrize("seed,absent", [(0, ()), (1, (1,)), (2, (1, 5))])
def test_fer_metrics_match_sklearn(seed: int, absent: tuple[int, ...]) -> None:
    y, logits = _random_batches(seed, 300, absent)
    pred = logits.argmax(1)
    metric = FERMetrics(C, NAMES, confusion_images=False)
    values = _run_eval(metric, _strategy("synth-wild"), y, logits)
    r = metric.results["synth-wild"]
    yn, pn = y.numpy(), pred.numpy()
    present = sorted(set(yn.tolist()))
    np.testing.assert_array_equal(r.confusion, confusion_matrix(yn, pn, labels=list(range(C))))
    assert r.confusion.dtype == np.int64 and r.n == 300
    assert r.acc == pytest.approx((yn == pn).mean())
    assert r.macro_f1 == pytest.approx(f1_score(yn, pn, average="macro", labels=present, zero_division=0))
    recall = recall_score(yn, pn, average=None, labels=present, zero_division=0)
    for c in range(C):
        if c in absent:
            assert r.per_class_acc[c] is None
        else:
            assert r.per_class_acc[c] == pytest.approx(recall[present.index(c)])
    assert [v.name for v in values] == ["FER/acc/synth-wild", "FER/macro_f1/synth-wild"]
    assert values[0].value == pytest.approx(r.acc) and values[0].x_plot == 5
    assert metric.last_eval.keys() == {"synth-wild"}
    # per-sample outputs in test-set order, across the 18 batches of 17
    np.testing.assert_array_equal(r.labels, yn)
    np.testing.assert_array_equal(r.predictions, pn)
    assert r.labels.dtype == np.int64 and r.predictions.dtype == np.int64


def test_per_sample_outputs_are_reset_per_experience_and_optional() -> None:
    metric = FERMetrics(C, NAMES, confusion_images=False)
    y1, l1 = _random_batches(6, 30)
    y2, l2 = _random_batches(7, 20)
    _run_eval(metric, _strategy("a"), y1, l1)
    _run_eval(metric, _strategy("b"), y2, l2)
    np.testing.assert_array_equal(metric.results["b"].labels, y2.numpy())  # not y1 + y2
    np.testing.assert_array_equal(metric.results["a"].predictions, l1.argmax(1).numpy())
    d = metric.results["b"].to_dict()
    assert d["labels"] == "".join(str(v) for v in y2.tolist())
    assert d["predictions"] == encode_classes(l2.argmax(1).numpy())
    lean = FERMetrics(C, NAMES, confusion_images=False, per_sample=False)
    strategy = _strategy("a")
    lean.before_eval(strategy)
    lean.before_eval_exp(strategy)
    strategy.mb_y, strategy.mb_output = y1, l1
    lean.after_eval_iteration(strategy)
    assert lean._y == [] and lean._pred == []  # nothing kept on the device per sample
    lean.after_eval_exp(strategy)
    assert lean.results["a"].labels is None and "predictions" not in lean.results["a"].to_dict()
    assert lean.results["a"].acc == pytest.approx(metric.results["a"].acc)


def test_class_codes_round_trip_and_fail_clearly() -> None:
    classes = np.array([0, 3, 6, 1, 9, 2])
    assert encode_classes(classes) == "036192"
    np.testing.assert_array_equal(decode_classes("036192"), classes)
    many = np.arange(62)  # more than 10 classes: letters after the digits, still one character each
    text = encode_classes(many)
    assert len(text) == 62 and text[10:12] == "ab" and text[-1] == "Z"
    np.testing.assert_array_equal(decode_classes(text), many)
    assert encode_classes(torch.tensor([4, 5])) == "45" and encode_classes([]) == ""
    with pytest.raises(ConfigError, match="class index 62 out of range"):
        encode_classes([1, 62])
    with pytest.raises(ConfigError, match="class index -1"):
        encode_classes([-1])
    with pytest.raises(ConfigError, match="must be integers"):
        encode_classes([0.5])
    with pytest.raises(ConfigError, match=r"character '\?' at position 2"):
        decode_classes("01?3")
    with pytest.raises(ConfigError, match="non-ASCII"):
        decode_classes("0é")
    r = EvalResult(1.0, 1.0, [1.0], np.ones((1, 1), dtype=int), 1, np.array([0]), np.array([0]))
    assert r.to_dict()["labels"] == "0"


def test_metrics_does_not_import_reporting() -> None:
    import ast
    from pathlib import Path

    import fer_avalanche.metrics as metrics

    tree = ast.parse(Path(metrics.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "fer_avalanche.reporting" not in imported and "fer_avalanche.figures" in imported


def test_summarize_confusion_edge_cases() -> None:
    empty = summarize_confusion(np.zeros((3, 3), dtype=int))
    assert math.isnan(empty.acc) and math.isnan(empty.macro_f1) and empty.per_class_acc == [None] * 3
    # predictions of an absent class lower the true class's recall but the absent class is not averaged
    r = summarize_confusion([[1, 1, 0], [0, 0, 0], [0, 0, 2]])
    assert r.acc == 0.75 and r.per_class_acc == [0.5, None, 1.0]
    assert r.macro_f1 == pytest.approx(f1_score([0, 0, 2, 2], [0, 1, 2, 2], average="macro", labels=[0, 2]))
    with pytest.raises(ConfigError, match=r"confusion matrix must be square \[C, C\], got shape \(2, 3\)"):
        summarize_confusion(np.zeros((2, 3)))
    d = r.to_dict()
    assert d["confusion"] == [[1, 1, 0], [0, 0, 0], [0, 0, 2]] and d["per_class_acc"][1] is None


def test_update_confusion_counts() -> None:
    cm = torch.zeros(C * C, dtype=torch.long)
    y, logits = _random_batches(3, 64)
    update_confusion(cm, y, logits)
    expected = confusion_matrix(y.numpy(), logits.argmax(1).numpy(), labels=list(range(C)))
    np.testing.assert_array_equal(cm.view(C, C).numpy(), expected)


def test_dataset_name_fallback_and_images() -> None:
    metric = FERMetrics(C, NAMES)  # confusion images on
    y, logits = _random_batches(4, 40)
    values = _run_eval(metric, _strategy(None, exp_id=3), y, logits)
    assert "exp3" in metric.results
    image = [v for v in values if v.name == "FER/confusion/exp3"][0].value
    from PIL.Image import Image

    assert isinstance(image, Image) and image.mode == "RGB" and image.size[0] > 50
    # eval with no batch at all: empty result, no crash
    metric.before_eval_exp(_strategy("none"))
    metric.after_eval_exp(_strategy("none"))
    assert metric.results["none"].n == 0


def test_label_names_must_match() -> None:
    with pytest.raises(ConfigError, match="label_names"):
        FERMetrics(7, ["a", "b"])


def _forbid_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("host sync in the per-batch path")

    for attr in ("item", "__float__", "__int__", "__bool__", "cpu", "tolist", "numpy"):
        monkeypatch.setattr(torch.Tensor, attr, boom)


def test_no_host_sync_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    metric = FERMetrics(C, NAMES, confusion_images=False)
    loss_metric = TrainLossMetric()
    y, logits = _random_batches(5, 100)
    strategy = _strategy("ds")
    metric.before_eval(strategy)
    metric.before_eval_exp(strategy)
    loss_metric.before_training_epoch(strategy)
    losses = torch.rand(5)
    with monkeypatch.context() as m:
        _forbid_sync(m)
        for i in range(5):
            strategy.mb_y, strategy.mb_output = y[i * 20 : (i + 1) * 20], logits[i * 20 : (i + 1) * 20]
            metric.after_eval_iteration(strategy)
            strategy.loss = losses[i].reshape(1)  # Avalanche's loss has shape [1]
            loss_metric.after_training_iteration(strategy)
    # exactly one device->host copy per evaluated experience
    calls = []
    original_cpu = torch.Tensor.cpu
    monkeypatch.setattr(
        torch.Tensor, "cpu", lambda self, *a, **k: calls.append(1) or original_cpu(self, *a, **k)
    )
    metric.after_eval_exp(strategy)
    assert len(calls) == 1  # confusion, labels and predictions travel together
    assert metric.results["ds"].acc == pytest.approx((logits.argmax(1) == y).float().mean().item())
    np.testing.assert_array_equal(metric.results["ds"].predictions, logits.argmax(1).numpy())
    np.testing.assert_array_equal(metric.results["ds"].labels, y.numpy())
    value = loss_metric.after_training_epoch(strategy)
    assert value.name == "FER/train_loss" and value.value == pytest.approx(losses.mean().item())


def test_train_loss_weighted_by_batch_size() -> None:
    metric = TrainLossMetric()
    s = _strategy()
    metric.before_training_epoch(s)
    for loss, n in ((1.0, 30), (4.0, 10)):
        s.loss, s.mb_y = torch.tensor(loss), torch.zeros(n)
        metric.after_training_iteration(s)
    assert metric.after_training_epoch(s).value == pytest.approx((30 + 40) / 40)
    assert metric.result() == pytest.approx(1.75)
    metric.before_training_epoch(s)
    assert metric.after_training_epoch(s) is None  # empty epoch: nothing emitted


# ---------------------------------------------------------------- memory integrity
def test_memory_integrity_hand_case() -> None:
    r = memory_integrity({"src": 0.6, "t": 0.7, "u": 0.2}, {"src": 0.8, "t": 0.3, "u": 0.25}, "src")
    assert r["memory_integrity"] == pytest.approx(0.75)
    assert r["source_drop"] == pytest.approx(0.2)
    assert r["target_gain"] == pytest.approx({"t": 0.4, "u": -0.05})
    zero = memory_integrity({"src": 0.5}, {"src": 0.0}, "src")
    assert math.isnan(zero["memory_integrity"]) and zero["source_drop"] == -0.5
    with pytest.raises(ConfigError, match="'src'"):
        memory_integrity({"t": 0.5}, {"src": 0.5}, "src")


# ---------------------------------------------------------------- sequential summaries
R = np.array(
    [
        [0.80, 0.10, 0.20],  # after the source (baseline)
        [0.50, 0.90, 0.30],  # after t1
        [0.60, 0.70, 0.95],  # after t2
    ]
)


def test_sequential_summaries_hand_case() -> None:
    assert average_accuracy(R) == pytest.approx((0.6 + 0.7 + 0.95) / 3)
    # datasets trained before the last row: source (row 0) and t1 (row 1)
    assert backward_transfer(R) == pytest.approx(((0.6 - 0.8) + (0.7 - 0.9)) / 2)
    assert forgetting(R) == pytest.approx(0.2)
    assert forgetting(R) == pytest.approx(-backward_transfer(R))
    # max-based: source max(0.8, 0.5) - 0.6 = 0.2 ; t1 max(0.9) - 0.7 = 0.2
    assert max_forgetting(R) == pytest.approx(0.2)
    R2 = np.array([[0.5, 0.1], [0.9, 0.2], [0.4, 0.3]])  # source improved then dropped
    assert forgetting(R2, [0, None]) == pytest.approx(0.1)  # Avalanche: first accuracy - last
    assert max_forgetting(R2, [0, None]) == pytest.approx(0.5)  # literature: best - last
    assert backward_transfer(R2, [0, None]) == pytest.approx(-0.1)
    for fn in (backward_transfer, forgetting, max_forgetting):
        assert math.isnan(fn(R[:1]))  # nothing trained before the last row
    with pytest.raises(ConfigError, match="trained_at has 2 entries for 3 datasets"):
        backward_transfer(R, [0, 1])
    with pytest.raises(ConfigError, match=r"accuracy matrix must be 2-D .* got shape \(3,\)"):
        average_accuracy(np.zeros(3))


def _logits_with_k_right(labels: torch.Tensor, k: int) -> torch.Tensor:
    """Logits whose argmax is right on the first ``k`` samples and wrong (label + 1) on the rest."""
    pred = torch.where(torch.arange(len(labels)) < k, labels, (labels + 1) % C)
    return torch.nn.functional.one_hot(pred, C).float()


def test_scripted_sequential_evaluations_give_the_hand_values() -> None:
    """Source -> t1 -> t2, each evaluated after every step through FERMetrics as the runner does."""
    # right answers out of 10 test images: row = after step, column = dataset
    right = {"src": [5, 9, 4], "t1": [1, 8, 6], "t2": [2, 3, 10]}
    labels = {d: torch.arange(10) % C for d in right}
    metric = FERMetrics(C, NAMES, confusion_images=False)
    am = AccuracyMatrix(["src", "t1", "t2"])
    for step, trained in enumerate(["src", "t1", "t2"]):
        strategy = _strategy(iters=step)
        metric.before_eval(strategy)  # one strategy.eval(test_stream): every dataset's experience
        for d in right:
            strategy.experience.dataset_name = d
            metric.before_eval_exp(strategy)
            logits = _logits_with_k_right(labels[d], right[d][step])
            for i in range(0, 10, 3):
                strategy.mb_y, strategy.mb_output = labels[d][i : i + 3], logits[i : i + 3]
                metric.after_eval_iteration(strategy)
            metric.after_eval_exp(strategy)
        am.append(metric.accuracies(last=True), trained=trained)
    np.testing.assert_allclose(am.matrix, [[0.5, 0.1, 0.2], [0.9, 0.8, 0.3], [0.4, 0.6, 1.0]])
    s = am.summary()
    assert s["average_accuracy"] == pytest.approx(2 / 3)  # (0.4 + 0.6 + 1.0) / 3
    assert s["bwt"] == pytest.approx(-0.15)  # ((0.4 - 0.5) + (0.6 - 0.8)) / 2
    assert s["forgetting"] == pytest.approx(0.15)
    assert s["max_forgetting"] == pytest.approx(0.35)  # ((0.9 - 0.4) + (0.8 - 0.6)) / 2
    # a dataset evaluated but never trained (a later target) is left out of BWT and forgetting
    am2 = AccuracyMatrix(["src", "t1", "t2"])
    for row, trained in zip(am.matrix[:2], ["src", "t1"], strict=True):
        am2.append(dict(zip(am2.datasets, row, strict=True)), trained=trained)
    assert am2.trained_at == [0, 1, None]
    assert am2.summary()["bwt"] == pytest.approx(0.4)  # source only: 0.9 - 0.5
    assert am2.summary()["max_forgetting"] == pytest.approx(-0.4)  # max over row 0 only: 0.5 - 0.9
    assert am2.summary()["average_accuracy"] == pytest.approx((0.9 + 0.8 + 0.3) / 3)


def test_accuracy_matrix_helper() -> None:
    am = AccuracyMatrix(["src", "t1", "t2"])
    for row, trained in zip(R, ["src", "t1", "t2"], strict=True):
        am.append(dict(zip(am.datasets, row, strict=True)), trained=trained)
    np.testing.assert_allclose(am.matrix, R)
    assert am.trained_at == [0, 1, 2]
    s = am.summary()
    assert s["bwt"] == pytest.approx(backward_transfer(R)) and s["max_forgetting"] == pytest.approx(0.2)
    with pytest.raises(ConfigError, match=r"no accuracy for \['t1', 't2'\]"):
        am.append({"src": 0.1})
    with pytest.raises(ConfigError, match="trained dataset 'nope' not in"):
        am.append({"src": 0.1, "t1": 0.1, "t2": 0.1}, trained="nope")


# ---------------------------------------------------------------- a real Avalanche evaluation
def _loggers(tb_dir, interactive: bool) -> list:
    from avalanche.logging import InteractiveLogger, TensorboardLogger

    return ([InteractiveLogger()] if interactive else []) + ([TensorboardLogger(tb_dir)] if tb_dir else [])


def _close(loggers) -> None:
    for logger in loggers:
        if hasattr(logger, "writer"):
            logger.writer.close()


def test_real_avalanche_eval_and_tensorboard(make_fer, tmp_path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from fer_avalanche.benchmarks import cross_dataset_benchmark, normalize
    from fer_avalanche.models import make_model
    from fer_avalanche.strategies.template import FERTemplate

    torch.manual_seed(0)
    src, tgt = make_fer("src", n=70, seed=0), make_fer("tgt", n=70, seed=1, shift=1.0)
    bm = cross_dataset_benchmark([src, tgt])
    model = make_model(num_classes=C, width=8)
    loggers = _loggers(tmp_path / "tb", interactive=False)
    evaluator, fer = make_evaluator(C, NAMES, loggers=loggers)
    strategy = FERTemplate(
        model=model,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
        criterion=torch.nn.CrossEntropyLoss(),
        train_mb_size=16,
        train_epochs=1,
        eval_mb_size=10,  # several batches per experience
        device="cpu",
        evaluator=evaluator,
    )
    strategy.train(bm.train_stream[0], eval_streams=[])
    strategy.eval(bm.test_stream)
    _close(loggers)

    assert set(fer.last_eval) == {"src", "tgt"}
    model.eval()
    with torch.no_grad():
        for data in (src, tgt):
            test = data.get_split("test")
            pred = model(normalize(test.images)).argmax(1)
            r = fer.last_eval[data.name]
            assert r.n == len(test)
            assert r.acc == pytest.approx((pred == test.labels).float().mean().item())
            np.testing.assert_array_equal(
                r.confusion, confusion_matrix(test.labels.numpy(), pred.numpy(), labels=list(range(C)))
            )
            np.testing.assert_array_equal(r.labels, test.labels.numpy())  # the test set's own order
            np.testing.assert_array_equal(r.predictions, pred.numpy())

    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file written"
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0, "scalars": 0}).Reload()
    tags = acc.Tags()
    for tag in ("FER/acc/src", "FER/acc/tgt", "FER/macro_f1/tgt", "FER/train_loss"):
        assert tag in tags["scalars"], tag
    assert "FER/confusion/src" in tags["images"]
    assert acc.Scalars("FER/acc/src")[-1].value == pytest.approx(fer.last_eval["src"].acc, abs=1e-6)


def test_make_evaluator_images_only_with_an_image_logger(tmp_path) -> None:

    _, fer = make_evaluator(C, NAMES, loggers=_loggers(None, interactive=True))
    assert fer.confusion_images is False  # text logger only: no rendering cost
    loggers = _loggers(tmp_path / "tb", interactive=False)
    _, fer = make_evaluator(C, NAMES, loggers=loggers)
    assert fer.confusion_images is True
    _, fer = make_evaluator(C, NAMES, loggers=loggers, confusion_images=False)
    assert fer.confusion_images is False
    _close(loggers)
