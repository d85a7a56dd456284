"""Reusable Avalanche plugins the named strategies are built from (one class per module).

- :class:`FreezePlugin`: fine-tune a subset of the model (frozen parts out of the optimizer, BN fixed);
- :class:`SourceRehearsalPlugin`: train on target + source (fusion) or + a bounded source buffer
  (replay), concatenated or mixed at a fixed target share per batch;
- :class:`ResetModelPlugin`: fresh initialisation (BN buffers and optimizer state included);
- :class:`BatchAugmentPlugin`: vectorised crop/flip/jitter of training batches on the device;
- :class:`BudgetPlugin`: count steps, target passes and source samples; cap steps or target passes;
- :class:`ValidationPlugin`: validation curves during training and best-validation model selection;
- :class:`FrozenTeacherLwFPlugin`: Avalanche's LwF with the teacher frozen in ``eval()`` mode;
- :class:`GDumbPlugin`: Avalanche's GDumb without its unfilterable deprecation warning;
- :class:`SIPlugin`: Avalanche's Synaptic Intelligence, fixed to copy its snapshots (works on CPU);
- :class:`MASPlugin`: Avalanche's MAS with an importance pass that leaves BatchNorm statistics alone;
- :class:`AbsentClassPlugin`: the loss of target samples over the target's present classes only;
- :class:`ProbeThenFinetunePlugin`: LP-FT, the head alone for part of the budget, then every layer;
- :class:`WeightEnsemblePlugin`: WiSE-FT, interpolate start and trained weights, chosen on validation.

The plugin contract (read by :mod:`~fer_avalanche.strategies.state` and
:mod:`~fer_avalanche.strategies.warm_start`): a plugin that carries state from one training experience
to the next defines ``state_dict()`` / ``load_state_dict(state)``; a plugin that needs the source
before the first target defines ``warm_start(strategy, source_experience)``. Nothing else to register.
"""

from fer_avalanche.strategies.plugins.absent import AbsentClassPlugin
from fer_avalanche.strategies.plugins.augment import BatchAugmentPlugin
from fer_avalanche.strategies.plugins.budget import BudgetPlugin
from fer_avalanche.strategies.plugins.freeze import FreezePlugin
from fer_avalanche.strategies.plugins.gdumb import GDumbPlugin
from fer_avalanche.strategies.plugins.lpft import ProbeThenFinetunePlugin
from fer_avalanche.strategies.plugins.lwf import FrozenTeacherLwFPlugin
from fer_avalanche.strategies.plugins.mas import MASPlugin
from fer_avalanche.strategies.plugins.rehearsal import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.reset import ResetModelPlugin
from fer_avalanche.strategies.plugins.si import SIPlugin
from fer_avalanche.strategies.plugins.validation import ValidationPlugin
from fer_avalanche.strategies.plugins.wiseft import WeightEnsemblePlugin

__all__ = [
    "AbsentClassPlugin",
    "BatchAugmentPlugin",
    "BudgetPlugin",
    "FreezePlugin",
    "FrozenTeacherLwFPlugin",
    "GDumbPlugin",
    "MASPlugin",
    "ProbeThenFinetunePlugin",
    "ResetModelPlugin",
    "SIPlugin",
    "SourceRehearsalPlugin",
    "ValidationPlugin",
    "WeightEnsemblePlugin",
]
