"""Give a strategy the knowledge of the source before it adapts: the ``warm_start`` plugin hook.

In the paper's protocol the baseline is trained on the source once, outside any strategy, and each
strategy starts from a copy of it. Rehearsal and fine-tuning strategies need nothing more, but the
regularisers and memory-based baselines keep state that Avalanche fills only at the end of a training
experience *inside* the strategy. Without it, LwF, EWC, SI and MAS would add no penalty on the first
target experience (Avalanche skips it on experience 0) and would regularise towards nothing.

**By construction**: ``make_strategy(name, model, source=source_experience)`` warm-starts every
strategy that trains on targets (``spec.trains == "target"``) before returning it. Given a dataset
instead of an experience (the older call), nothing is warm-started; :func:`warm_start` can still be
called once, before the first ``train``. A second warm start (either way) raises
:class:`~fer_avalanche.errors.ConfigError`.

**No source**: a strategy whose plugins need the source (LwF, EWC, SI, MAS, GDumb, DER, A-GEM) that
reaches its first ``train`` without a warm start emits :class:`NotWarmStartedWarning` once (it then
behaves as Avalanche's strategy does on experience 0: no penalty, an empty memory). That is right when
the stream itself starts with the source; otherwise pass ``source=<the source's training experience>``.

:func:`warm_start` fills that state from the source training experience and the current (baseline)
weights, then advances the strategy's clock by one experience, so the strategy behaves exactly as if it
had just finished training on the source. It dispatches to each plugin's own
``warm_start(strategy, source_experience)`` hook (the plugin contract:
:class:`~fer_avalanche.strategies.plugins.FrozenTeacherLwFPlugin`,
:class:`~fer_avalanche.strategies.plugins.SIPlugin`, :class:`~fer_avalanche.strategies.plugins.MASPlugin`,
:class:`~fer_avalanche.strategies.plugins.GDumbPlugin` say in their docstrings what they get); Avalanche's
own classes, which have no such hook, go through the adapter table :data:`ADAPTERS`:

- **LwF** (``LwFPlugin``): the teacher is a frozen ``eval()`` copy of the baseline and the source
  classes are the "previous classes" to distil (what Avalanche's ``post_adapt`` stores).
- **EWC** (``EWCPlugin``): importances = the diagonal empirical Fisher on the source training data,
  computed as Avalanche does (mean over mini-batches of the squared gradient of the batch loss),
  model in ``eval()`` mode; anchor = the baseline weights; stored as experience 0.
- **MAS** (``MASPlugin``): importances = mean over source mini-batches of ``|d ||f(x)||^2 / d theta|``
  (Avalanche's formula), anchor = the baseline weights, ``eval()`` mode.
- **SI** (``SynapticIntelligencePlugin``): importances from a continuation on the source (see
  :mod:`~fer_avalanche.strategies.plugins.si`).
- **GDumb**, **A-GEM**, **DER**: their memories are filled from the source experience as they would
  be after training on it (DER stores the baseline's logits on the source samples).

The warm start draws its random numbers (A-GEM's and GDumb's sample choices) with the Python, NumPy
and torch generators seeded from the strategy's ``seed`` and restores them afterwards: its result does
not depend on, and does not change, the caller's global random state.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.strategies.plugins.gdumb import warm_start_gdumb
from fer_avalanche.strategies.plugins.lwf import warm_start_lwf
from fer_avalanche.strategies.plugins.mas import gradient_importance, mas_importance
from fer_avalanche.strategies.plugins.si import warm_start_si
from fer_avalanche.utils import on_experience, quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import (
        AGEMPlugin,
        EWCPlugin,
        GDumbPlugin,
        LwFPlugin,
        MASPlugin,
        SynapticIntelligencePlugin,
    )
    from avalanche.training.supervised import DER
    from avalanche.training.utils import copy_params_dict

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.templates import SupervisedTemplate

    from fer_avalanche.strategies.template import FastDataMixin

__all__ = [
    "warm_start",
    "needs_warm_start",
    "check_warm_started",
    "source_batches",
    "ADAPTERS",
    "NotWarmStartedWarning",
]


class NotWarmStartedWarning(UserWarning):
    """A strategy that needs the source reached its first training experience without it."""


def source_batches(
    strategy: SupervisedTemplate,
    dataset: AvalancheDataset,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
) -> Iterable[list[torch.Tensor]]:
    """``[x, y, t]`` batches of ``dataset`` on the strategy's device (fast path when possible)."""
    return device_batches(dataset, batch_size, strategy.device, shuffle=shuffle, seed=seed)


# ----------------------------------------------------------------------- Avalanche's classes
def _warm_ewc(plugin: EWCPlugin, strategy: SupervisedTemplate, experience: CLExperience) -> None:
    criterion = strategy._criterion
    importances = gradient_importance(
        strategy.model,
        source_batches(strategy, experience.dataset, strategy.train_mb_size),
        lambda m, x, y: criterion(m(x), y),
        lambda g: g.pow(2),
    )
    t = strategy.clock.train_exp_counter
    plugin.update_importances(importances, t)
    plugin.saved_params[t] = copy_params_dict(strategy.model)


def _warm_mas(plugin: MASPlugin, strategy: SupervisedTemplate, experience: CLExperience) -> None:
    plugin.importance = mas_importance(
        strategy.model, experience.dataset, strategy.train_mb_size, strategy.device
    )
    plugin.params = dict(copy_params_dict(strategy.model))


def _warm_agem(plugin: AGEMPlugin, strategy: SupervisedTemplate, experience: CLExperience) -> None:
    plugin.update_memory(experience.dataset)


def _warm_der(der: DER, strategy: SupervisedTemplate, experience: CLExperience) -> None:
    with on_experience(strategy, experience), torch.no_grad():
        der.storage_policy.update(strategy)


#: ``(class, name, warm(obj, strategy, source_experience))`` for Avalanche's plugins and strategies,
#: which define no ``warm_start`` hook; the closest class in an object's MRO wins.
ADAPTERS: list[tuple[type, str, Callable[[Any, Any, Any], None]]] = [
    (LwFPlugin, "lwf", warm_start_lwf),
    (EWCPlugin, "ewc", _warm_ewc),
    (MASPlugin, "mas", _warm_mas),
    (SynapticIntelligencePlugin, "si", lambda p, s, e: warm_start_si(p, s, e.dataset)),
    (GDumbPlugin, "gdumb", warm_start_gdumb),
    (AGEMPlugin, "agem", _warm_agem),
    (DER, "der", _warm_der),
]


def _hook(obj: object) -> tuple[str, Callable[[Any, Any], None]] | None:
    """``(name, warm(strategy, source_experience))`` of ``obj``: its own hook, else its adapter."""
    own = getattr(obj, "warm_start", None)
    if callable(own) and not isinstance(obj, type):
        return getattr(obj, "warm_start_name", type(obj).__name__), own
    for klass in type(obj).__mro__:
        for cls, name, fn in ADAPTERS:
            if klass is cls:
                return name, lambda strategy, exp, _fn=fn, _obj=obj: _fn(_obj, strategy, exp)
    return None


def _targets(strategy: SupervisedTemplate) -> list[Any]:
    return [strategy, *strategy.plugins]


def needs_warm_start(strategy: SupervisedTemplate) -> list[str]:
    """Names of the strategy's parts that need the source before the first target (``[]`` if none)."""
    return [hook[0] for obj in _targets(strategy) if (hook := _hook(obj)) is not None]


@contextlib.contextmanager
def _seeded_rngs(seed: int | None) -> Iterator[None]:
    """Python, NumPy and torch (CPU) generators seeded with ``seed`` inside, restored after."""
    if seed is None:
        yield
        return
    py, npy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py)
            np.random.set_state(npy)


def warm_start(
    strategy: SupervisedTemplate, source_experience: CLExperience, *, si_epochs: int | None = None
) -> list[str]:
    """Fill the strategy's regularisation/memory state from the source, as if it had trained on it.

    ``make_strategy(..., source=source_experience)`` calls this for you; call it yourself only for a
    strategy built with ``source=<a dataset>`` or none (older code), once, before its first ``train``.

    Args:
        strategy: a strategy from :func:`~fer_avalanche.strategies.registry.make_strategy` (or any
            Avalanche ``SupervisedTemplate``) whose model holds the baseline weights, not yet trained.
        source_experience: the source's training experience (``benchmark.train_stream[0]``).
        si_epochs: epochs of SI's source continuation (``None`` = the plugin's ``warm_start_epochs``).

    Returns:
        The names of the state that was filled (``["lwf"]``, ``["ewc"]``, ... ``[]`` if none).

    Raises:
        ConfigError: the strategy has already trained or been warm-started.

    Example:
        >>> strategy = make_strategy("ewc", model, source=bm.train_stream[0].dataset)  # doctest: +SKIP
        >>> warm_start(strategy, bm.train_stream[0])  # doctest: +SKIP
        ['ewc']
    """
    if getattr(strategy, "fer_warm_started", False) or strategy.clock.train_exp_counter > 0:
        how = "already warm-started" if getattr(strategy, "fer_warm_started", False) else "already trained"
        raise ConfigError(
            f"warm_start must be called once, before the strategy's first training experience (it is {how}"
            f"; make_strategy(..., source=<experience>) warm-starts by construction: drop the extra "
            f"warm_start call)"
        )
    if not hasattr(source_experience, "dataset"):
        raise ConfigError(
            f"warm_start needs the source's training *experience* (benchmark.train_stream[0]), got "
            f"{type(source_experience).__name__}"
        )
    if si_epochs is not None:
        if not is_int(si_epochs) or si_epochs < 1:
            raise ConfigError(f"warm_start si_epochs must be >= 1, got {si_epochs}")
        for plugin in strategy.plugins:
            if hasattr(plugin, "warm_start_epochs"):
                plugin.warm_start_epochs = si_epochs
    strategy.model.to(strategy.device)
    done: list[str] = []
    try:
        with _seeded_rngs(getattr(strategy, "fer_seed", None)):
            for obj in _targets(strategy):
                hook = _hook(obj)
                if hook is not None:
                    hook[1](strategy, source_experience)
                    done.append(hook[0])
    finally:
        strategy.model.zero_grad(set_to_none=True)
    strategy.clock.train_exp_counter += 1
    strategy.fer_warm_started = True
    return done


def check_warm_started(strategy: FastDataMixin) -> None:
    """Warn once (:class:`NotWarmStartedWarning`) if ``strategy`` needs the source and never got it.

    Called by the fast template at the start of ``train``; silent after a warm start, after the first
    training experience, and for strategies that need no source.
    """
    if strategy.fer_warm_started or strategy._fer_warned_cold:
        return
    if strategy.clock.train_exp_counter > 0:
        return
    names = needs_warm_start(strategy)
    if not names:
        return
    strategy._fer_warned_cold = True
    warnings.warn(
        f"{', '.join(names)}: training starts without the source's knowledge (no warm start), so this "
        "first experience is not regularised towards the source and memories start empty. Pass "
        "source=<the source's training experience> to make_strategy (or call warm_start(strategy, "
        "source_experience) before train); ignore this if the stream you train starts with the source.",
        NotWarmStartedWarning,
        stacklevel=3,
    )
