"""Named strategies: a registry plus a factory, ``make_strategy("ft-fc", model, ...)``.

Every named strategy is a few lines over plugins and the fast template
(:func:`~fer_avalanche.strategies.template.fast` over an Avalanche template), registered with
:func:`register_strategy`. Each spec says what the protocol runner must call (``spec.trains``):

- ``"none"``: evaluate only (``baseline``);
- ``"target"``: ``warm_start(strategy, source_experience)`` once, then ``strategy.train(target_exp)``
  (for sequential streams, ``train`` on each target in turn);
- ``"joint"``: ``strategy.train([source_exp, target_exp, ...])`` once (Avalanche's ``JointTraining``
  refuses a second ``train`` call, so a joint upper bound is trained once on everything it must know).

:func:`~fer_avalanche.strategies.warm_start.warm_start` is what gives LwF/EWC/SI/MAS (and the memory
baselines) their knowledge of the source; read its module docstring for what each one gets.

Example:
    >>> from fer_avalanche.strategies.registry import list_strategies, get_strategy_spec
    >>> list_strategies()[:4]
    ['baseline', 'ft-fc', 'ft-lastconv-fc', 'retrain']
    >>> get_strategy_spec("replay").options
    {'mem_size': 500, 'selection': 'class_balanced', 'grow_with_targets': True}
    >>> strategy = make_strategy("ft-fc", copy.deepcopy(baseline), lr=1e-3, epochs=5)  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import (
    BatchAugmentPlugin,
    FreezePlugin,
    FrozenTeacherLwFPlugin,
    GDumbPlugin,
    ResetModelPlugin,
    SIPlugin,
    SourceRehearsalPlugin,
)
from fer_avalanche.strategies.template import fast
from fer_avalanche.strategies.warm_start import warm_start
from fer_avalanche.utils import quiet_third_party, resolve_device

with quiet_third_party():
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.plugins import (
        AGEMPlugin,
        EvaluationPlugin,
        EWCPlugin,
        MASPlugin,
    )
    from avalanche.training.supervised import DER, JointTraining, Naive
    from avalanche.training.templates import SupervisedTemplate

__all__ = [
    "StrategySpec",
    "StrategyContext",
    "register_strategy",
    "list_strategies",
    "get_strategy_spec",
    "make_strategy",
    "warm_start",
    "OPTIMIZERS",
    "TRAINS",
]

#: What the runner calls for a strategy (see the module docstring).
TRAINS: tuple[str, ...] = ("none", "target", "joint")
#: Optimizer names accepted by :func:`make_strategy`.
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")


@dataclass
class StrategyContext:
    """What a strategy builder receives: the model, the optimizer and the common template settings."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    criterion: nn.Module
    source: Any
    seed: int
    template_kwargs: dict[str, Any]
    plugins: list[Any]
    augment: BatchAugmentPlugin | None

    def build(self, template: type = Naive, plugins: Sequence[Any] = (), **kwargs: Any) -> SupervisedTemplate:
        """Instantiate ``fast(template)`` with ``plugins`` first, then the user's, then augmentation."""
        all_plugins = [*plugins, *self.plugins, *([self.augment] if self.augment else [])]
        with quiet_third_party():
            return fast(template)(
                model=self.model,
                optimizer=self.optimizer,
                criterion=self.criterion,
                plugins=all_plugins,
                **self.template_kwargs,
                **kwargs,
            )

    def require_source(self, name: str) -> AvalancheDataset:
        if self.source is None:
            raise ConfigError(
                f"strategy {name!r} trains on source data: pass source=<the source's training dataset> "
                "(e.g. benchmark.train_stream[0].dataset) to make_strategy"
            )
        return self.source


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy: its name, what it does, what the runner calls, and its options."""

    name: str
    description: str
    trains: Literal["none", "target", "joint"]
    builder: Callable[..., SupervisedTemplate] = field(repr=False)
    options: dict[str, Any]
    needs_source: bool = False
    #: What the runner calls once before the first ``train`` (``warm_start(strategy, source_exp)``)
    #: for ``trains == "target"``; ``None`` for the others.
    warm_start: Callable[..., list[str]] | None = field(default=None, repr=False)


_REGISTRY: dict[str, StrategySpec] = {}


def register_strategy(
    name: str,
    *,
    description: str,
    trains: Literal["none", "target", "joint"] = "target",
    needs_source: bool = False,
) -> Callable[[Callable[..., SupervisedTemplate]], Callable[..., SupervisedTemplate]]:
    """Register ``builder(ctx: StrategyContext, *, option=default, ...)`` under ``name``.

    The builder's keyword-only parameters are the strategy's options (with their defaults).

    Raises:
        ConfigError: ``name`` already registered, or ``trains`` not one of :data:`TRAINS`.

    Example:
        >>> @register_strategy("my-naive", description="plain fine-tuning")  # doctest: +SKIP
        ... def _my_naive(ctx):
        ...     return ctx.build()
    """
    if trains not in TRAINS:
        raise ConfigError(
            f"register_strategy({name!r}): trains must be one of {list(TRAINS)}, got {trains!r}"
        )

    def decorator(builder: Callable[..., SupervisedTemplate]) -> Callable[..., SupervisedTemplate]:
        if name in _REGISTRY:
            raise ConfigError(f"strategy {name!r} is already registered ({_REGISTRY[name].description})")
        params = inspect.signature(builder).parameters.values()
        options = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
        _REGISTRY[name] = StrategySpec(
            name,
            description,
            trains,
            builder,
            options,
            needs_source,
            warm_start=warm_start if trains == "target" else None,
        )
        return builder

    return decorator


def list_strategies(pattern: str | None = None) -> list[str]:
    """Registered strategy names in registration order, optionally filtered by a glob (``"ft-*"``)."""
    names = list(_REGISTRY)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def get_strategy_spec(name: str) -> StrategySpec:
    """The spec of ``name``.

    Raises:
        ConfigError: unknown name (the message suggests the closest registered names).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"unknown strategy {name!r}{hint} (registered: {', '.join(_REGISTRY)})") from None


def _make_optimizer(
    model: nn.Module, name: str, lr: float, weight_decay: float, momentum: float
) -> torch.optim.Optimizer:
    params = model.parameters()
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def make_strategy(
    name: str,
    model: nn.Module,
    *,
    source: AvalancheDataset | None = None,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    epochs: int = 10,
    batch_size: int = 64,
    eval_batch_size: int = 512,
    device: str | torch.device = "cpu",
    evaluator: EvaluationPlugin | None = None,
    plugins: Sequence[Any] = (),
    augment: bool = True,
    seed: int = 0,
    amp: bool | None = None,
    compile: bool = False,
    **options: Any,
) -> SupervisedTemplate:
    """Build the named strategy over ``model`` (trained in place: pass a copy of the baseline).

    Args:
        name: a registered name (:func:`list_strategies`).
        model: the network to adapt, usually a deep copy of the source baseline.
        source: the source's training dataset (``benchmark.train_stream[0].dataset``); required by
            ``fusion`` and ``replay``.
        lr, optimizer, weight_decay, momentum: the optimizer (``"adam"``, ``"adamw"`` or ``"sgd"``;
            ``momentum`` is used by SGD only). It is built over all parameters; freezing strategies
            prune it.
        epochs: training epochs per experience.
        batch_size, eval_batch_size: mini-batch sizes (Avalanche's default of 1 is never used).
        device: ``"cpu"``, ``"cuda[:N]"``, ``"auto"`` or a ``torch.device``.
        evaluator: an Avalanche ``EvaluationPlugin``; ``None`` = an empty one with no loggers.
        plugins: extra Avalanche plugins, appended after the strategy's own.
        augment: add :class:`BatchAugmentPlugin` (crop + flip, seeded with ``seed``).
        seed: seeds the training order, the augmentation, fresh initialisations and buffers.
        amp: bf16 autocast (``None`` = on for CUDA).
        compile: compile the model in place with ``nn.Module.compile()`` (``torch.compile``; the model
            keeps its type, submodule names and ``state_dict`` keys). Off by default: on 2 CPU threads
            a compiled epoch ran 0.96-1.08x eager at width 16 (1.23-1.26x at width 8) after ~50 s of
            compilation from a fresh cache; not measured on a GPU yet (README, Performance;
            ``benchmarks/bench_compile.py``). Needs a C++ compiler on CPU, Triton on CUDA.
        **options: the strategy's own options (``get_strategy_spec(name).options``).

    Returns:
        An Avalanche ``SupervisedTemplate`` (with :class:`FastDataMixin`); ``strategy.fer_spec`` is its
        spec and ``strategy.fer_options`` the resolved options.

    Raises:
        ConfigError: unknown strategy or option, a bad value, or a missing ``source``.
    """
    spec = get_strategy_spec(name)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(f"{k}={v!r}" for k, v in spec.options.items()) or "none"
        raise ConfigError(f"strategy {name!r} has no option(s) {unknown}; valid options: {valid}")
    _check(optimizer in OPTIMIZERS, f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    _check(isinstance(lr, int | float) and lr > 0, f"lr must be a number > 0, got {lr!r}")
    _check(
        isinstance(weight_decay, int | float) and weight_decay >= 0,
        f"weight_decay must be >= 0, got {weight_decay!r}",
    )
    _check(
        isinstance(momentum, int | float) and 0 <= momentum < 1,
        f"momentum must be in [0, 1), got {momentum!r}",
    )
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
        _check(_is_int(value) and value >= 1, f"{key} must be an int >= 1, got {value!r}")
    _check(_is_int(seed), f"seed must be an int, got {seed!r}")
    _check(isinstance(compile, bool), f"compile must be True or False, got {compile!r}")
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    resolved = {**spec.options, **options}
    if evaluator is None:
        with quiet_third_party():
            evaluator = EvaluationPlugin()
    ctx = StrategyContext(
        model=model,
        optimizer=_make_optimizer(model, optimizer, float(lr), float(weight_decay), float(momentum)),
        criterion=nn.CrossEntropyLoss(),
        source=source,
        seed=seed,
        template_kwargs=dict(
            train_mb_size=batch_size,
            eval_mb_size=eval_batch_size,
            train_epochs=epochs,
            device=resolve_device(device),
            evaluator=evaluator,
            amp=amp,
            compile=compile,
            data_seed=seed,
        ),
        plugins=list(plugins),
        augment=BatchAugmentPlugin(seed=seed) if augment else None,
    )
    if spec.needs_source:
        ctx.require_source(name)
    strategy = spec.builder(ctx, **resolved)
    strategy.fer_spec = spec
    strategy.fer_options = resolved
    return strategy


# =====================================================================================================
# The paper's strategies
# =====================================================================================================
@register_strategy(
    "baseline", description="the source-trained network, not adapted (evaluation only)", trains="none"
)
def _baseline(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build()


@register_strategy("ft-fc", description="paper 'FC': fine-tune the FC head only (all conv layers frozen)")
def _ft_fc(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(plugins=[FreezePlugin(["features", "last_conv"])])


@register_strategy(
    "ft-lastconv-fc", description="paper 'FC + last conv': fine-tune the last conv block and the FC head"
)
def _ft_lastconv_fc(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(plugins=[FreezePlugin(["features"])])


@register_strategy(
    "retrain", description="paper 'Retrain': train every layer on the target, from the baseline weights"
)
def _retrain(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build()


@register_strategy(
    "retrain-scratch",
    description="paper 'Retrain' from a fresh initialisation (BN buffers and optimizer state reset too)",
)
def _retrain_scratch(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(plugins=[ResetModelPlugin(seed=ctx.seed)])


@register_strategy(
    "fusion",
    description="paper 'Fusion': train on the union of the source and target training sets",
    needs_source=True,
)
def _fusion(
    ctx: StrategyContext, *, from_scratch: bool = False, grow_with_targets: bool = True
) -> SupervisedTemplate:
    _check(isinstance(from_scratch, bool), f"fusion from_scratch must be True or False, got {from_scratch!r}")
    plugins: list[Any] = [ResetModelPlugin(seed=ctx.seed)] if from_scratch else []
    plugins.append(
        SourceRehearsalPlugin(ctx.source, None, seed=ctx.seed, grow_with_targets=grow_with_targets)
    )
    return ctx.build(plugins=plugins)


@register_strategy(
    "replay",
    description="target + a bounded buffer of source samples (the cheap cousin of fusion)",
    needs_source=True,
)
def _replay(
    ctx: StrategyContext,
    *,
    mem_size: int = 500,
    selection: str = "class_balanced",
    grow_with_targets: bool = True,
) -> SupervisedTemplate:
    plugin = SourceRehearsalPlugin(
        ctx.source,
        mem_size,
        selection=selection,
        seed=ctx.seed,
        grow_with_targets=grow_with_targets,  # type: ignore[arg-type]
    )
    return ctx.build(plugins=[plugin])


# =====================================================================================================
# Avalanche's baselines (regularisers get their source knowledge from warm_start)
# =====================================================================================================
@register_strategy("naive", description="Avalanche Naive: plain fine-tuning of every layer (same as retrain)")
def _naive(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(Naive)


@register_strategy(
    "lwf", description="Learning without Forgetting: distil the baseline's predictions (needs warm_start)"
)
def _lwf(ctx: StrategyContext, *, alpha: float = 1.0, temperature: float = 2.0) -> SupervisedTemplate:
    return ctx.build(plugins=[FrozenTeacherLwFPlugin(alpha=alpha, temperature=temperature)])


@register_strategy("ewc", description="Elastic Weight Consolidation towards the baseline (needs warm_start)")
def _ewc(
    ctx: StrategyContext,
    *,
    ewc_lambda: float = 1000.0,
    mode: str = "separate",
    decay_factor: float | None = None,
) -> SupervisedTemplate:
    _check(
        isinstance(ewc_lambda, int | float) and ewc_lambda >= 0,
        f"ewc ewc_lambda must be >= 0, got {ewc_lambda!r}",
    )
    _check(mode in ("separate", "online"), f"ewc mode must be 'separate' or 'online', got {mode!r}")
    if mode == "online" and decay_factor is None:
        decay_factor = 1.0
    _check(
        decay_factor is None
        or (mode == "online" and isinstance(decay_factor, int | float) and 0 <= decay_factor <= 1),
        f"ewc decay_factor must be in [0, 1] and is used only with mode='online', "
        f"got {decay_factor!r} (mode={mode!r})",
    )
    return ctx.build(plugins=[EWCPlugin(float(ewc_lambda), mode=mode, decay_factor=decay_factor)])


@register_strategy(
    "si", description="Synaptic Intelligence (importances from a source continuation in warm_start)"
)
def _si(ctx: StrategyContext, *, si_lambda: float = 1.0) -> SupervisedTemplate:
    _check(
        isinstance(si_lambda, int | float) and si_lambda >= 0, f"si si_lambda must be >= 0, got {si_lambda!r}"
    )
    return ctx.build(plugins=[SIPlugin(si_lambda=float(si_lambda))])


@register_strategy("mas", description="Memory Aware Synapses towards the baseline (needs warm_start)")
def _mas(ctx: StrategyContext, *, lambda_reg: float = 1.0, alpha: float = 0.5) -> SupervisedTemplate:
    _check(
        isinstance(lambda_reg, int | float) and lambda_reg >= 0,
        f"mas lambda_reg must be >= 0, got {lambda_reg!r}",
    )
    _check(isinstance(alpha, int | float) and 0 <= alpha <= 1, f"mas alpha must be in [0, 1], got {alpha!r}")
    return ctx.build(plugins=[MASPlugin(lambda_reg=float(lambda_reg), alpha=float(alpha))])


@register_strategy(
    "gdumb",
    description="GDumb: retrain from the baseline on a class-balanced memory (source filled by warm_start)",
)
def _gdumb(ctx: StrategyContext, *, mem_size: int = 500) -> SupervisedTemplate:
    _check(_is_int(mem_size) and mem_size >= 1, f"gdumb mem_size must be an int >= 1, got {mem_size!r}")
    return ctx.build(plugins=[GDumbPlugin(mem_size=mem_size)])


@register_strategy(
    "der", description="Dark Experience Replay (++ when beta > 0); memory of source logits via warm_start"
)
def _der(
    ctx: StrategyContext,
    *,
    mem_size: int = 500,
    alpha: float = 0.1,
    beta: float = 0.5,
    batch_size_mem: int | None = None,
) -> SupervisedTemplate:
    _check(_is_int(mem_size) and mem_size >= 1, f"der mem_size must be an int >= 1, got {mem_size!r}")
    _check(isinstance(alpha, int | float) and alpha >= 0, f"der alpha must be >= 0, got {alpha!r}")
    _check(isinstance(beta, int | float) and beta >= 0, f"der beta must be >= 0, got {beta!r}")
    _check(
        batch_size_mem is None or (_is_int(batch_size_mem) and batch_size_mem >= 1),
        f"der batch_size_mem must be an int >= 1 or None, got {batch_size_mem!r}",
    )
    return ctx.build(
        DER, mem_size=mem_size, alpha=float(alpha), beta=float(beta), batch_size_mem=batch_size_mem
    )


@register_strategy(
    "agem", description="Averaged GEM: project gradients against a source memory (filled by warm_start)"
)
def _agem(ctx: StrategyContext, *, patterns_per_exp: int = 500, sample_size: int = 64) -> SupervisedTemplate:
    _check(
        _is_int(patterns_per_exp) and patterns_per_exp >= 1,
        f"agem patterns_per_exp must be an int >= 1, got {patterns_per_exp!r}",
    )
    _check(
        _is_int(sample_size) and sample_size >= 1,
        f"agem sample_size must be an int >= 1, got {sample_size!r}",
    )
    return ctx.build(plugins=[AGEMPlugin(patterns_per_experience=patterns_per_exp, sample_size=sample_size)])


@register_strategy(
    "joint",
    description="Avalanche JointTraining on source + targets at once (upper bound; trainable once)",
    trains="joint",
)
def _joint(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(JointTraining)
