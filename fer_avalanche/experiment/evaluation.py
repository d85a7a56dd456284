"""Evaluate a model on datasets' test sets with the package's metrics (one result per dataset)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fer_avalanche.metrics import EvalResult, FERMetrics, make_evaluator

if TYPE_CHECKING:
    from avalanche.benchmarks import CLStream
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["evaluate", "evaluator_for"]


def evaluator_for(label_names: list[str]) -> tuple[Any, Any]:
    """An evaluator with our metrics and no loggers (TensorBoard is written from the records)."""
    return make_evaluator(len(label_names), label_names, loggers=[], confusion_images=False)


def evaluate(
    strategy: SupervisedTemplate, fer_metrics: FERMetrics, test_stream: CLStream
) -> dict[str, EvalResult]:
    """``strategy.eval(test_stream)`` and the :class:`EvalResult` of every dataset of the stream."""
    fer_metrics.last_eval.clear()
    strategy.eval(test_stream)
    return {exp.dataset_name: fer_metrics.last_eval[exp.dataset_name] for exp in test_stream}
