"""Strategies beyond the paper: ``lp-ft`` (probe, then fine-tune) and ``wise-ft`` (weight-space ensembles).

- ``lp-ft`` (Kumar et al., ICLR 2022): the first ``probe_fraction`` of the step budget trains the FC
  head only (as ``ft-fc``), the rest every layer
  (:class:`~fer_avalanche.strategies.plugins.ProbeThenFinetunePlugin`); one budget in total.
- ``wise-ft`` (Wortsman et al., CVPR 2022): trains a ``base`` strategy once (any named strategy that
  trains on targets: ``retrain`` by default, ``lp-ft``, ``fusion``, ...; ``base_options`` are its
  options), then reports the interpolation ``theta(a) = (1 - a) theta_baseline + a theta_adapted``
  chosen on the validation splits
  (:class:`~fer_avalanche.strategies.plugins.WeightEnsemblePlugin`); the row records ``alpha`` and the
  whole ``alpha_curve``.

Both compose with every setting of :func:`~fer_avalanche.strategies.registry.make_strategy`
(``absent_classes`` included): they are ordinary registered strategies.

Example:
    >>> from fer_avalanche.strategies.registry import get_strategy_spec
    >>> get_strategy_spec("wise-ft").options["base"], get_strategy_spec("lp-ft").options["probe_fraction"]
    ('retrain', 0.5)
    >>> strategy = make_strategy("wise-ft", copy.deepcopy(baseline), source=bm.train_stream[0],
    ...                          val_sets=val_sets, base="lp-ft", max_steps=96)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import ProbeThenFinetunePlugin, WeightEnsemblePlugin
from fer_avalanche.strategies.plugins.wiseft import DEFAULT_ALPHAS
from fer_avalanche.strategies.registry import StrategyContext, get_strategy_spec, register_strategy
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.templates import SupervisedTemplate

__all__: list[str] = []


@register_strategy(
    "lp-ft",
    description="LP-FT: the FC head alone for probe_fraction of the steps (as ft-fc), then every layer",
)
def _lp_ft(ctx: StrategyContext, *, probe_fraction: float = 0.5) -> SupervisedTemplate:
    return ctx.build(plugins=[ProbeThenFinetunePlugin(probe_fraction)])


@register_strategy(
    "wise-ft",
    description="WiSE-FT: train a base strategy, report (1-a) baseline + a adapted, a chosen on validation",
    needs_validation=True,
)
def _wise_ft(
    ctx: StrategyContext,
    *,
    base: str = "retrain",
    base_options: Mapping[str, Any] | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    rule: str = "mi_floor",
    mi_floor: float = 0.95,
) -> SupervisedTemplate:
    if not isinstance(base, str):
        raise ConfigError(f"wise-ft base must be a strategy name, got {base!r}")
    spec = get_strategy_spec(base)
    if spec.trains != "target" or spec.name == "wise-ft":
        raise ConfigError(
            f"wise-ft base must be a strategy that trains on the target (not {base!r}: "
            f"trains={spec.trains!r}); e.g. 'retrain', 'lp-ft', 'ft-fc', 'fusion'"
        )
    if base_options is not None and not isinstance(base_options, Mapping):
        raise ConfigError(f"wise-ft base_options must be a table of {base!r}'s options, got {base_options!r}")
    options = dict(base_options or {})
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(f"{k}={v!r}" for k, v in spec.options.items()) or "none"
        raise ConfigError(
            f"wise-ft base_options: {base!r} has no option(s) {unknown}; valid options: {valid}"
        )
    if spec.needs_source:
        ctx.require_source(base)
    if isinstance(alphas, int | float) or not isinstance(alphas, Sequence):
        raise ConfigError(f"wise-ft alphas must be a list of numbers in [0, 1], got {alphas!r}")
    ctx.last.append(WeightEnsemblePlugin(ctx.val_sets, alphas, rule=rule, mi_floor=mi_floor))
    return spec.builder(ctx, **{**spec.options, **options})
