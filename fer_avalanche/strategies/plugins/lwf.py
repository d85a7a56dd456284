"""Learning without Forgetting with a frozen teacher in ``eval()`` mode.

Avalanche's ``LwFPlugin`` deep-copies the model at the end of an experience while it is in training
mode, so the teacher's forward passes use batch statistics and dropout and keep updating the
teacher's BatchNorm running statistics with new-domain batches. This subclass keeps the teacher in
``eval()`` mode with ``requires_grad=False``: the distillation targets are the previous model's real
predictions. Everything else (loss, ``alpha``/``temperature``, seen-class bookkeeping) is Avalanche's.

Its warm start makes the baseline the teacher before the first target experience (what Avalanche's
``post_adapt`` would store after training on the source), and the source classes the "previous
classes" to distil.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import on_experience, quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import LwFPlugin

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["FrozenTeacherLwFPlugin", "freeze_teacher", "warm_start_lwf"]


def freeze_teacher(plugin: LwFPlugin) -> None:
    """Put an ``LwFPlugin``'s previous model (if any) in ``eval()`` mode without gradients."""
    teacher = plugin.lwf.prev_model
    if teacher is not None:
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)


def warm_start_lwf(plugin: LwFPlugin, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
    """Any ``LwFPlugin``: the strategy's current model becomes the frozen teacher for the source."""
    with on_experience(strategy, source_experience):
        plugin.lwf.post_adapt(strategy, source_experience)
    freeze_teacher(plugin)


class FrozenTeacherLwFPlugin(LwFPlugin):
    """Avalanche's LwF with the previous model frozen in ``eval()`` mode.

    Args:
        alpha: distillation weight (> 0), or one weight per experience.
        temperature: softmax temperature (> 0).

    Example:
        >>> from fer_avalanche.strategies.plugins import FrozenTeacherLwFPlugin
        >>> FrozenTeacherLwFPlugin(alpha=1.0, temperature=2.0).lwf.temperature
        2.0
    """

    def __init__(self, alpha: float | list[float] = 1.0, temperature: float = 2.0) -> None:
        alphas = alpha if isinstance(alpha, list | tuple) else [alpha]
        if not alphas or any(not isinstance(a, int | float) or a < 0 for a in alphas):
            raise ConfigError(f"LwF alpha must be a number >= 0 (or a list of them), got {alpha!r}")
        if not isinstance(temperature, int | float) or temperature <= 0:
            raise ConfigError(f"LwF temperature must be a number > 0, got {temperature!r}")
        super().__init__(alpha=alpha, temperature=float(temperature))

    warm_start_name = "lwf"

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        super().after_training_exp(strategy, **kwargs)
        freeze_teacher(self)

    # -------------------------------------------------------------------- plugin contract
    def warm_start(self, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
        """The current (baseline) model becomes the frozen teacher; the source's classes are distilled."""
        warm_start_lwf(self, strategy, source_experience)

    def state_dict(self) -> dict[str, Any]:
        """``{"prev_model": module or None, "expcount": int, "prev_classes_by_task": {task: set}}``."""
        lwf = self.lwf
        return {
            "prev_model": lwf.prev_model,
            "expcount": lwf.expcount,
            "prev_classes_by_task": lwf.prev_classes_by_task,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (the teacher stays frozen)."""
        self.lwf.prev_model = state["prev_model"]
        self.lwf.expcount = int(state["expcount"])
        self.lwf.prev_classes_by_task = state["prev_classes_by_task"]
        freeze_teacher(self)
