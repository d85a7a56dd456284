"""Give a strategy the knowledge of the source before it adapts: ``warm_start(strategy, source_exp)``.

In the paper's protocol the baseline is trained on the source once, outside any strategy, and each
strategy starts from a copy of it. Rehearsal and fine-tuning strategies need nothing more, but the
regularisers and memory-based baselines keep state that Avalanche fills only at the end of a training
experience *inside* the strategy. Without it, LwF, EWC, SI and MAS would add no penalty on the first
target experience (Avalanche skips it on experience 0) and would regularise towards nothing.

:func:`warm_start` fills that state from the source training experience and the current (baseline)
weights, then advances the strategy's clock by one experience, so the strategy behaves exactly as
if it had just finished training on the source. The runner calls it once, after
:func:`~fer_avalanche.strategies.registry.make_strategy` and before the first ``strategy.train``, for
every strategy whose spec has ``trains == "target"`` (it is a no-op apart from the clock for strategies
that keep no such state). What each plugin gets:

- **LwF** (``LwFPlugin``): the teacher is a frozen ``eval()`` copy of the baseline and the source
  classes are the "previous classes" to distil (what Avalanche's ``post_adapt`` stores).
- **EWC** (``EWCPlugin``): importances = the diagonal empirical Fisher on the source training data,
  computed as Avalanche does (mean over mini-batches of the squared gradient of the batch loss,
  model in ``eval()`` mode); anchor = the baseline weights; stored as experience 0.
- **MAS** (``MASPlugin``): importances = mean over source mini-batches of ``|d ||f(x)||^2 / d theta|``
  (Avalanche's formula), anchor = the baseline weights. Computed in ``eval()`` mode so the
  baseline's BatchNorm statistics are not touched (Avalanche's own pass uses ``train()`` mode).
- **SI** (``SynapticIntelligencePlugin``; use :class:`~fer_avalanche.strategies.plugins.SIPlugin`, which
  works on CPU too): SI measures importance along the training trajectory,
  which happened outside the strategy. It is estimated from a *continuation*: a throw-away copy of
  the baseline trains ``si_epochs`` epoch(s) on the source with the strategy's optimizer settings, the
  path integral ``-sum g * dtheta`` is accumulated exactly as Avalanche does, importances are clipped
  to ``[0, 0.001]`` (Avalanche clips only above), and the anchor is the baseline's weights. The strategy's
  model is not changed.
- **GDumb**, **A-GEM**, **DER**: their memories are filled from the source experience as they would
  be after training on it (DER stores the baseline's logits on the source samples).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import DeviceBatchLoader, gather_tensors
from fer_avalanche.strategies.plugins.lwf import freeze_teacher
from fer_avalanche.strategies.plugins.si import accumulate_trajectory, snapshot_grads, snapshot_weights
from fer_avalanche.utils import quiet_third_party

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
    from avalanche.training.utils import ParamData, copy_params_dict, zerolike_params_dict

__all__ = ["warm_start", "source_batches"]

_SI = SynapticIntelligencePlugin


def source_batches(
    strategy: Any, dataset: Any, batch_size: int, shuffle: bool = False, seed: int = 0
) -> Iterable[list[torch.Tensor]]:
    """``[x, y, t]`` batches of ``dataset`` on the strategy's device (fast path when possible)."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    if gather_tensors(dataset) is not None:
        return DeviceBatchLoader(
            dataset, batch_size, shuffle=shuffle, device=strategy.device, generator=generator
        )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=getattr(dataset, "collate_fn", None),
    )
    return ([b.to(strategy.device) for b in batch] for batch in loader)


def warm_start(strategy: Any, source_experience: Any, *, si_epochs: int = 1) -> list[str]:
    """Fill the strategy's regularisation/memory state from the source, as if it had trained on it.

    Args:
        strategy: a strategy from :func:`~fer_avalanche.strategies.registry.make_strategy` (or any
            Avalanche ``SupervisedTemplate``) whose model holds the baseline weights, not yet trained.
        source_experience: the source's training experience (``benchmark.train_stream[0]``).
        si_epochs: epochs of the throw-away continuation that estimates SI importances.

    Returns:
        The names of the state that was filled (``["lwf"]``, ``["ewc"]``, ... ``[]`` if none).

    Raises:
        ConfigError: the strategy has already trained or been warm-started.
    """
    if getattr(strategy, "_fer_warm_started", False) or strategy.clock.train_exp_counter > 0:
        raise ConfigError(
            "warm_start must be called once, before the strategy's first training experience "
            f"(it has already seen {strategy.clock.train_exp_counter} experience(s))"
        )
    if si_epochs < 1:
        raise ConfigError(f"warm_start si_epochs must be >= 1, got {si_epochs}")
    strategy.model.to(strategy.device)
    done: list[str] = []
    previous = strategy.experience
    strategy.experience = source_experience
    try:
        for plugin in strategy.plugins:
            if isinstance(plugin, LwFPlugin):
                plugin.lwf.post_adapt(strategy, source_experience)
                freeze_teacher(plugin)
                done.append("lwf")
            elif isinstance(plugin, EWCPlugin):
                _warm_ewc(plugin, strategy, source_experience.dataset)
                done.append("ewc")
            elif isinstance(plugin, MASPlugin):
                _warm_mas(plugin, strategy, source_experience.dataset)
                done.append("mas")
            elif isinstance(plugin, SynapticIntelligencePlugin):
                _warm_si(plugin, strategy, source_experience.dataset, si_epochs)
                done.append("si")
            elif isinstance(plugin, GDumbPlugin):
                plugin.storage_policy.post_adapt(strategy, source_experience)
                done.append("gdumb")
            elif isinstance(plugin, AGEMPlugin):
                plugin.update_memory(source_experience.dataset)
                done.append("agem")
        if isinstance(strategy, DER):
            with torch.no_grad():
                strategy.storage_policy.update(strategy)
            done.append("der")
    finally:
        strategy.experience = previous
        strategy.model.zero_grad(set_to_none=True)
    strategy.clock.train_exp_counter += 1
    strategy._fer_warm_started = True
    return done


# ------------------------------------------------------------------ EWC / MAS
def _grad_pass(
    model: nn.Module, batches: Iterable[list[torch.Tensor]], loss_fn: Any, accumulate: Any
) -> dict[str, ParamData]:
    """Per-batch gradients of ``loss_fn(model, x, y)``, folded into importances by ``accumulate``."""
    was_training = model.training
    model.eval()
    importances = zerolike_params_dict(model)
    n = 0
    for batch in batches:
        x, y = batch[0], batch[1]
        model.zero_grad(set_to_none=True)
        loss_fn(model, x, y).backward()
        for name, p in model.named_parameters():
            if p.grad is not None:
                importances[name].data += accumulate(p.grad.detach())
        n += 1
    for imp in importances.values():
        imp.data /= max(n, 1)
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return importances


def _warm_ewc(plugin: EWCPlugin, strategy: Any, dataset: Any) -> None:
    criterion = strategy._criterion
    importances = _grad_pass(
        strategy.model,
        source_batches(strategy, dataset, strategy.train_mb_size),
        lambda m, x, y: criterion(m(x), y),
        lambda g: g.pow(2),
    )
    t = strategy.clock.train_exp_counter
    plugin.update_importances(importances, t)
    plugin.saved_params[t] = copy_params_dict(strategy.model)


def _warm_mas(plugin: MASPlugin, strategy: Any, dataset: Any) -> None:
    importances = _grad_pass(
        strategy.model,
        source_batches(strategy, dataset, strategy.train_mb_size),
        lambda m, x, y: torch.norm(m(x), p="fro", dim=1).pow(2).mean(),
        lambda g: g.abs(),
    )
    plugin.importance = dict(importances)
    plugin.params = dict(copy_params_dict(strategy.model))


# ------------------------------------------------------------------------ SI
def _warm_si(plugin: SynapticIntelligencePlugin, strategy: Any, dataset: Any, epochs: int) -> None:
    model = strategy.model
    excluded = plugin.excluded_parameters
    _SI.create_syn_data(model, plugin.ewc_data, plugin.syn_data, excluded)
    snapshot_weights(model, plugin.ewc_data[0], excluded)
    for trajectory in plugin.syn_data["trajectory"].values():
        trajectory.data.fill_(0.0)
    shadow = copy.deepcopy(model).train()
    trainable = [p for p in shadow.parameters() if p.requires_grad]
    optimizer = type(strategy.optimizer)(trainable, **strategy.optimizer.defaults)
    criterion = strategy._criterion
    for epoch in range(epochs):
        for batch in source_batches(strategy, dataset, strategy.train_mb_size, shuffle=True, seed=epoch):
            snapshot_weights(shadow, plugin.syn_data["old_theta"], excluded)
            optimizer.zero_grad(set_to_none=True)
            criterion(shadow(batch[0]), batch[1]).backward()
            optimizer.step()
            snapshot_weights(shadow, plugin.syn_data["new_theta"], excluded)
            snapshot_grads(shadow, plugin.syn_data["grad"], excluded)
            accumulate_trajectory(plugin.syn_data)
    _SI.update_ewc_data(shadow, plugin.ewc_data, plugin.syn_data, 0.001, excluded, 1, eps=plugin.eps)
    for imp in plugin.ewc_data[1].values():
        imp.data = imp.data.clamp(min=0.0)
    snapshot_weights(model, plugin.ewc_data[0], excluded)  # anchor: the baseline, not the shadow
