"""Reusable Avalanche plugins the named strategies are built from (one class per module).

- :class:`FreezePlugin`: fine-tune a subset of the model (frozen parts out of the optimizer, BN fixed);
- :class:`SourceRehearsalPlugin`: train on target + source (fusion) or + a bounded source buffer (replay);
- :class:`ResetModelPlugin`: fresh initialisation (BN buffers and optimizer state included);
- :class:`BatchAugmentPlugin`: vectorised crop/flip/jitter of training batches on the device;
- :class:`FrozenTeacherLwFPlugin`: Avalanche's LwF with the teacher frozen in ``eval()`` mode;
- :class:`GDumbPlugin`: Avalanche's GDumb without its unfilterable deprecation warning;
- :class:`SIPlugin`: Avalanche's Synaptic Intelligence, fixed to copy its snapshots (works on CPU).
"""

from fer_avalanche.strategies.plugins.augment import BatchAugmentPlugin
from fer_avalanche.strategies.plugins.freeze import FreezePlugin
from fer_avalanche.strategies.plugins.gdumb import GDumbPlugin
from fer_avalanche.strategies.plugins.lwf import FrozenTeacherLwFPlugin
from fer_avalanche.strategies.plugins.rehearsal import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.reset import ResetModelPlugin
from fer_avalanche.strategies.plugins.si import SIPlugin

__all__ = [
    "BatchAugmentPlugin",
    "FreezePlugin",
    "FrozenTeacherLwFPlugin",
    "GDumbPlugin",
    "ResetModelPlugin",
    "SIPlugin",
    "SourceRehearsalPlugin",
]
