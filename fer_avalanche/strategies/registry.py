"""Named strategies: a registry plus a factory, ``make_strategy("ft-fc", model, ...)``.

Every named strategy is a few lines over plugins and the fast template
(:func:`~fer_avalanche.strategies.template.fast` over an Avalanche template), registered with
:func:`register_strategy` (a :class:`~fer_avalanche.registry.Registry`). Each spec says what the runner
calls (``spec.trains``):

- ``"none"``: evaluate only (``baseline``);
- ``"target"``: ``strategy.train(target_exp)`` (for sequential streams, on each target in turn);
- ``"joint"``: ``strategy.train([source_exp, target_exp, ...])`` once (Avalanche's ``JointTraining``
  refuses a second ``train`` call, so a joint upper bound is trained once on everything it must know).

``make_strategy(name, model, source=source_experience, ...)`` warm-starts ``"target"`` strategies by
construction (:mod:`~fer_avalanche.strategies.warm_start`: LwF's teacher, EWC/SI/MAS importances,
GDumb/DER/A-GEM memories). Every strategy also gets a
:class:`~fer_avalanche.strategies.plugins.BudgetPlugin` (``max_steps`` / ``target_passes`` caps and the
``fer_budget`` record) and, when asked, a :class:`~fer_avalanche.strategies.plugins.ValidationPlugin`
(``val_sets``, ``eval_every``, ``select``, ``patience``).

Example:
    >>> from fer_avalanche.strategies.registry import list_strategies, get_strategy_spec
    >>> list_strategies()[:4]
    ['baseline', 'ft-fc', 'ft-lastconv-fc', 'retrain']
    >>> get_strategy_spec("replay").options["mix"], get_strategy_spec("replay").options["selection"]
    ('concat', 'class_balanced')
    >>> strategy = make_strategy("ft-fc", copy.deepcopy(baseline), source=bm.train_stream[0],
    ...                          lr=1e-3, epochs=5, max_steps=300)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.registry import Registry
from fer_avalanche.strategies.plugins import (
    AbsentClassPlugin,
    BatchAugmentPlugin,
    BudgetPlugin,
    FreezePlugin,
    FrozenTeacherLwFPlugin,
    GDumbPlugin,
    MASPlugin,
    ResetModelPlugin,
    SIPlugin,
    SourceRehearsalPlugin,
    ValidationPlugin,
)
from fer_avalanche.strategies.plugins.absent import check_absent_mode
from fer_avalanche.strategies.template import fast
from fer_avalanche.strategies.warm_start import warm_start
from fer_avalanche.utils import quiet_third_party, resolve_device

with quiet_third_party():
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.plugins import (
        AGEMPlugin,
        EvaluationPlugin,
        EWCPlugin,
    )
    from avalanche.training.supervised import DER, JointTraining, Naive
    from avalanche.training.templates import SupervisedTemplate

__all__ = [
    "StrategySpec",
    "StrategyContext",
    "STRATEGIES",
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
#: ``make_strategy``'s ``absent_classes`` default (README, "Beyond the paper", for the evidence).
DEFAULT_ABSENT_CLASSES = "train"


@dataclass
class StrategyContext:
    """What a strategy builder receives: the model, the optimizer and the common template settings.

    ``source`` is the source's training *dataset* (whether ``make_strategy`` got the experience or the
    dataset; ``make_strategy`` warm-starts from the experience itself).
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    criterion: nn.Module
    source: object
    seed: int
    template_kwargs: dict[str, Any]
    plugins: list[Any]
    augment: BatchAugmentPlugin | None
    first: list[Any] = field(default_factory=list)
    last: list[Any] = field(default_factory=list)
    #: validation datasets by name, the source first (``make_strategy``'s ``val_sets``; may be empty)
    val_sets: dict[str, Any] = field(default_factory=dict)

    def build(
        self, template: type = Naive, plugins: Sequence[Any] = (), **kwargs: object
    ) -> SupervisedTemplate:
        """Instantiate ``fast(template)``; plugins in order: validation, ``plugins``, the user's,
        augmentation, budget (the budget reads the loader the others may have replaced)."""
        all_plugins = [
            *self.first,
            *plugins,
            *self.plugins,
            *([self.augment] if self.augment else []),
            *self.last,
        ]
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
                f"strategy {name!r} trains on source data: pass source=<the source's training experience> "
                "(e.g. benchmark.train_stream[0]) to make_strategy"
            )
        return self.source


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy: its name, what it does, what the runner calls, and its options.

    ``trains_on_source``: the strategy also trains on source data (rehearsal, memories, joint). (It no
    longer changes what ``select="best_val"`` monitors: one ``monitor`` for every strategy.)
    ``needs_validation``: the strategy chooses something on validation splits (``wise-ft``), so the
    runner always builds them and passes ``val_sets``.
    """

    name: str
    description: str
    trains: Literal["none", "target", "joint"]
    builder: Callable[..., SupervisedTemplate] = field(repr=False)
    options: dict[str, Any]
    needs_source: bool = False
    trains_on_source: bool = False
    needs_validation: bool = False


#: Registered strategies, by name.
STRATEGIES: Registry[StrategySpec] = Registry("strategy")


def register_strategy(
    name: str,
    *,
    description: str,
    trains: Literal["none", "target", "joint"] = "target",
    needs_source: bool = False,
    trains_on_source: bool | None = None,
    needs_validation: bool = False,
) -> Callable[[Callable[..., SupervisedTemplate]], Callable[..., SupervisedTemplate]]:
    """Register ``builder(ctx: StrategyContext, *, option=default, ...)`` under ``name``.

    The builder's keyword-only parameters are the strategy's options (with their defaults).
    ``trains_on_source`` defaults to ``needs_source``.

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
        if name in STRATEGIES:
            taken = STRATEGIES.get(name)
            raise ConfigError(f"strategy {name!r} is already registered ({taken.description})")
        params = inspect.signature(builder).parameters.values()
        options = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
        STRATEGIES.add(
            name,
            StrategySpec(
                name,
                description,
                trains,
                builder,
                options,
                needs_source,
                needs_source if trains_on_source is None else trains_on_source,
                needs_validation=needs_validation,
            ),
        )
        return builder

    return decorator


def list_strategies(pattern: str | None = None) -> list[str]:
    """Registered strategy names in registration order, optionally filtered by a glob (``"ft-*"``)."""
    return STRATEGIES.names(pattern)


def get_strategy_spec(name: str) -> StrategySpec:
    """The spec of ``name``.

    Raises:
        ConfigError: unknown name (the message suggests the closest registered names).
    """
    return STRATEGIES.get(name)


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


def _is_experience(source: object) -> bool:
    return source is not None and hasattr(source, "dataset") and not isinstance(source, AvalancheDataset)


def _check_common(
    model: object, optimizer: str, lr: object, weight_decay: object, momentum: object, ints: dict[str, Any]
) -> None:
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
    for key, value in ints.items():
        _check(is_int(value) and value >= 1, f"{key} must be an int >= 1, got {value!r}")
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def make_strategy(
    name: str,
    model: nn.Module,
    *,
    source: object = None,
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
    max_steps: int | None = None,
    target_passes: float | None = None,
    epoch_steps: bool = False,
    val_sets: Mapping[str, AvalancheDataset] | None = None,
    eval_every: int = 0,
    select: str = "last",
    patience: int | None = None,
    patience_steps: int | None = None,
    monitor: str = "target",
    absent_classes: str = DEFAULT_ABSENT_CLASSES,
    **options: object,
) -> SupervisedTemplate:
    """Build the named strategy over ``model`` (trained in place: pass a copy of the baseline).

    Args:
        name: a registered name (:func:`list_strategies`).
        model: the network to adapt, usually a deep copy of the source baseline.
        source: the source's training **experience** (``benchmark.train_stream[0]``): rehearsal
            strategies rehearse its dataset and ``"target"`` strategies are warm-started from it here
            (LwF's teacher, EWC/SI/MAS importances, GDumb/DER/A-GEM memories). A dataset
            (``train_stream[0].dataset``, the older call) feeds rehearsal but warm-starts nothing (then
            call :func:`~fer_avalanche.strategies.warm_start.warm_start` yourself, once). Required by
            ``fusion`` and ``replay``; regularisers without it warn at their first ``train``.
        lr, optimizer, weight_decay, momentum: the optimizer (``"adam"``, ``"adamw"`` or ``"sgd"``;
            ``momentum`` is used by SGD only). It is built over all parameters; freezing strategies
            prune it.
        epochs: training epochs per experience (the budget when neither cap below is given).
        batch_size, eval_batch_size: mini-batch sizes (Avalanche's default of 1 is never used).
        device: ``"cpu"``, ``"cuda[:N]"``, ``"auto"`` or a ``torch.device``.
        evaluator: an Avalanche ``EvaluationPlugin``; ``None`` = an empty one with no loggers.
        plugins: extra Avalanche plugins, after the strategy's own (before augmentation and budget).
        augment: add :class:`BatchAugmentPlugin` (crop + flip, seeded with ``seed``).
        seed: seeds the training order, the augmentation, fresh initialisations, buffers and the
            warm start's sample choices.
        amp: bf16 autocast (``None`` = on for CUDA).
        compile: compile the model in place with ``nn.Module.compile()`` (``torch.compile``; the model
            keeps its type, submodule names and ``state_dict`` keys). Off by default: on 2 CPU threads
            a compiled epoch ran 0.96-1.08x eager at width 16 (1.23-1.26x at width 8) after ~50 s of
            compilation from a fresh cache; not measured on a GPU yet (README, Performance;
            ``benchmarks/bench_compile.py``). Needs a C++ compiler on CPU, Triton on CUDA.
        max_steps: exactly this many optimizer steps per training experience (``epochs`` ignored).
        target_passes: train until the experience's own data was seen this often: ``P`` epochs over
            the training dataset (target alone, or a concatenation), or
            ``ceil(P * n_target / (target_fraction * batch_size))`` steps with ``mix="batch"``.
        epoch_steps: a step cap per training experience of what ``epochs`` epochs over its own
            training data alone take (``epochs * ceil(n_own / batch_size)``; the scenario's
            ``budget = "steps"`` without ``steps``).
        val_sets: validation datasets by dataset name, **the source first** (e.g.
            ``{name: exp.dataset for name, exp in zip(bm.dataset_names, bm.valid_stream)}``).
        eval_every: evaluate ``val_sets`` every this many epochs, before training and at the end
            (``strategy.fer_curve``); 0 = never (unless ``select="best_val"``).
        select: ``"last"`` (keep the trained model) or ``"best_val"``: evaluate every epoch, restore
            the state with the best monitored validation accuracy at the end of each experience.
        patience: with ``best_val``: stop after this many evaluations (epochs) without a gain.
        patience_steps: with ``best_val``: stop at the first evaluation at least this many optimizer
            steps after the best one (the same patience for strategies whose epochs differ in length).
        monitor: what ``best_val`` maximises, the same for every strategy: ``"target"`` (the
            experience's validation accuracy) or ``"mean"`` (the mean of it and the source's, the first
            of ``val_sets``).
        absent_classes: ``"train"`` (default): the loss covers every class; ``"mask"``: the loss of
            target samples covers only the classes present in the target's training split (source and
            buffer samples keep every class; distillation and evaluation are unchanged)
            (:class:`~fer_avalanche.strategies.plugins.AbsentClassPlugin`). ``strategy.fer_absent_classes``.
        **options: the strategy's own options (``get_strategy_spec(name).options``).

    Returns:
        An Avalanche ``SupervisedTemplate`` (with :class:`FastDataMixin`); ``strategy.fer_spec`` is its
        spec, ``strategy.fer_options`` the resolved options; after each ``train``,
        ``strategy.fer_budget`` (``{"steps", "target_passes", "source_samples", "epochs"}``),
        ``strategy.fer_budgets``, ``strategy.fer_curve`` and ``strategy.fer_selected_epoch``.

    Raises:
        ConfigError: unknown strategy or option, a bad value, or a missing ``source``.
    """
    spec = get_strategy_spec(name)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(f"{k}={v!r}" for k, v in spec.options.items()) or "none"
        raise ConfigError(f"strategy {spec.name!r} has no option(s) {unknown}; valid options: {valid}")
    ints = {"epochs": epochs, "batch_size": batch_size, "eval_batch_size": eval_batch_size}
    _check_common(model, optimizer, lr, weight_decay, momentum, ints)
    _check(is_int(seed), f"seed must be an int, got {seed!r}")
    _check(isinstance(compile, bool), f"compile must be True or False, got {compile!r}")
    check_absent_mode(absent_classes)
    budget = BudgetPlugin(epochs, max_steps=max_steps, target_passes=target_passes, epoch_steps=epoch_steps)
    validation = ValidationPlugin(
        val_sets,
        eval_every=eval_every,
        select=select,
        patience=patience,
        patience_steps=patience_steps,
        monitor=monitor,
    )
    resolved = {**spec.options, **options}
    if evaluator is None:
        with quiet_third_party():
            evaluator = EvaluationPlugin()
    source_experience = source if _is_experience(source) else None
    ctx = StrategyContext(
        model=model,
        optimizer=_make_optimizer(model, optimizer, float(lr), float(weight_decay), float(momentum)),
        criterion=nn.CrossEntropyLoss(),
        source=source.dataset if source_experience is not None else source,
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
        first=[validation] if validation.active else [],
        last=[*([AbsentClassPlugin(absent_classes)] if absent_classes == "mask" else []), budget],
        val_sets=dict(val_sets or {}),
    )
    if spec.needs_source:
        ctx.require_source(spec.name)
    strategy = spec.builder(ctx, **resolved)
    strategy.fer_spec = spec
    strategy.fer_options = resolved
    strategy.fer_seed = seed
    strategy.fer_absent_classes = absent_classes
    if source_experience is not None and spec.trains == "target":
        with quiet_third_party():
            warm_start(strategy, source_experience)
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
    ctx: StrategyContext,
    *,
    from_scratch: bool = False,
    grow_with_targets: bool = True,
    mix: str = "concat",
    target_fraction: float | None = None,
) -> SupervisedTemplate:
    _check(isinstance(from_scratch, bool), f"fusion from_scratch must be True or False, got {from_scratch!r}")
    plugins: list[Any] = [ResetModelPlugin(seed=ctx.seed)] if from_scratch else []
    plugins.append(
        SourceRehearsalPlugin(
            ctx.source,
            None,
            seed=ctx.seed,
            grow_with_targets=grow_with_targets,
            mix=mix,  # type: ignore[arg-type]
            target_fraction=target_fraction,
        )
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
    mix: str = "concat",
    target_fraction: float | None = None,
) -> SupervisedTemplate:
    plugin = SourceRehearsalPlugin(
        ctx.source,
        mem_size,
        selection=selection,  # type: ignore[arg-type]
        seed=ctx.seed,
        grow_with_targets=grow_with_targets,
        mix=mix,  # type: ignore[arg-type]
        target_fraction=target_fraction,
    )
    return ctx.build(plugins=[plugin])


# =====================================================================================================
# Avalanche's baselines (regularisers get their source knowledge from the warm start)
# =====================================================================================================
@register_strategy("naive", description="Avalanche Naive: plain fine-tuning of every layer (same as retrain)")
def _naive(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(Naive)


@register_strategy(
    "lwf", description="Learning without Forgetting: distil the baseline's predictions (teacher = baseline)"
)
def _lwf(ctx: StrategyContext, *, alpha: float = 1.0, temperature: float = 2.0) -> SupervisedTemplate:
    return ctx.build(plugins=[FrozenTeacherLwFPlugin(alpha=alpha, temperature=temperature)])


@register_strategy(
    "ewc", description="Elastic Weight Consolidation towards the baseline (Fisher on the source)"
)
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


@register_strategy("si", description="Synaptic Intelligence (importances from a continuation on the source)")
def _si(ctx: StrategyContext, *, si_lambda: float = 1.0) -> SupervisedTemplate:
    _check(
        isinstance(si_lambda, int | float) and si_lambda >= 0, f"si si_lambda must be >= 0, got {si_lambda!r}"
    )
    return ctx.build(plugins=[SIPlugin(si_lambda=float(si_lambda))])


@register_strategy(
    "mas", description="Memory Aware Synapses towards the baseline (importances on the source)"
)
def _mas(ctx: StrategyContext, *, lambda_reg: float = 1.0, alpha: float = 0.5) -> SupervisedTemplate:
    return ctx.build(plugins=[MASPlugin(lambda_reg=lambda_reg, alpha=alpha)])


@register_strategy(
    "gdumb",
    description="GDumb: retrain from the baseline on a class-balanced memory (source samples included)",
    trains_on_source=True,
)
def _gdumb(ctx: StrategyContext, *, mem_size: int = 500) -> SupervisedTemplate:
    _check(is_int(mem_size) and mem_size >= 1, f"gdumb mem_size must be an int >= 1, got {mem_size!r}")
    return ctx.build(plugins=[GDumbPlugin(mem_size=mem_size)])


@register_strategy(
    "der",
    description="Dark Experience Replay (++ when beta > 0); a memory of source samples and logits",
    trains_on_source=True,
)
def _der(
    ctx: StrategyContext,
    *,
    mem_size: int = 500,
    alpha: float = 0.1,
    beta: float = 0.5,
    batch_size_mem: int | None = None,
) -> SupervisedTemplate:
    _check(is_int(mem_size) and mem_size >= 1, f"der mem_size must be an int >= 1, got {mem_size!r}")
    _check(isinstance(alpha, int | float) and alpha >= 0, f"der alpha must be >= 0, got {alpha!r}")
    _check(isinstance(beta, int | float) and beta >= 0, f"der beta must be >= 0, got {beta!r}")
    _check(
        batch_size_mem is None or (is_int(batch_size_mem) and batch_size_mem >= 1),
        f"der batch_size_mem must be an int >= 1 or None, got {batch_size_mem!r}",
    )
    return ctx.build(
        DER, mem_size=mem_size, alpha=float(alpha), beta=float(beta), batch_size_mem=batch_size_mem
    )


@register_strategy(
    "agem",
    description="Averaged GEM: project gradients against a memory of source samples",
    trains_on_source=True,
)
def _agem(ctx: StrategyContext, *, patterns_per_exp: int = 500, sample_size: int = 64) -> SupervisedTemplate:
    _check(
        is_int(patterns_per_exp) and patterns_per_exp >= 1,
        f"agem patterns_per_exp must be an int >= 1, got {patterns_per_exp!r}",
    )
    _check(
        is_int(sample_size) and sample_size >= 1,
        f"agem sample_size must be an int >= 1, got {sample_size!r}",
    )
    return ctx.build(plugins=[AGEMPlugin(patterns_per_experience=patterns_per_exp, sample_size=sample_size)])


@register_strategy(
    "joint",
    description="Avalanche JointTraining on source + targets at once (upper bound; trainable once)",
    trains="joint",
    trains_on_source=True,
)
def _joint(ctx: StrategyContext) -> SupervisedTemplate:
    return ctx.build(JointTraining)
