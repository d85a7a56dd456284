"""GDumb without Avalanche's deprecation noise.

Avalanche 0.6's ``GDumbPlugin`` updates its buffer through ``storage_policy.update`` which its own
code has deprecated, so every training experience prints a ``DeprecationWarning`` that cannot be
filtered (Avalanche's ``deprecated`` decorator forces it on). This subclass calls the replacement,
``post_adapt``, which does the same update; everything else is Avalanche's GDumb. Its warm start
fills the memory from the source experience, as it would be after training on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import on_experience, quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import GDumbPlugin as _AvalancheGDumb

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["GDumbPlugin", "warm_start_gdumb"]


class GDumbPlugin(_AvalancheGDumb):
    """Avalanche's GDumb (retrain from the initial model on a class-balanced memory each experience).

    Args:
        mem_size: memory size (>= 1).

    Example:
        >>> from fer_avalanche.strategies.plugins import GDumbPlugin
        >>> GDumbPlugin(mem_size=200).mem_size
        200
    """

    def __init__(self, mem_size: int = 200) -> None:
        if not is_int(mem_size) or mem_size < 1:
            raise ConfigError(f"GDumb mem_size must be an int >= 1, got {mem_size!r}")
        super().__init__(mem_size=mem_size)

    warm_start_name = "gdumb"

    def after_train_dataset_adaptation(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self.storage_policy.post_adapt(strategy, strategy.experience)
        strategy.adapted_dataset = self.storage_policy.buffer

    # -------------------------------------------------------------------- plugin contract
    def warm_start(self, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
        """Fill the class-balanced memory with source samples."""
        warm_start_gdumb(self, strategy, source_experience)

    def state_dict(self) -> dict[str, Any]:
        """``{"storage_policy": ClassBalancedBuffer, "init_model": module or None}``."""
        return {"storage_policy": self.storage_policy, "init_model": self.init_model}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.storage_policy, self.init_model = state["storage_policy"], state["init_model"]


def warm_start_gdumb(
    plugin: _AvalancheGDumb, strategy: SupervisedTemplate, source_experience: CLExperience
) -> None:
    """Any ``GDumbPlugin``: its memory as it would be after training on ``source_experience``."""
    with on_experience(strategy, source_experience):
        plugin.storage_policy.post_adapt(strategy, source_experience)
