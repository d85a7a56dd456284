"""Scenario settings: the dataclasses behind ``scenarios/*.toml`` and the ``--set key=value`` overrides.

A scenario says which datasets to use (a source and one or more targets, each synthetic or a real
dataset on disk with its split), the model, how the baseline is trained on the source, how targets are
adapted, which strategies to compare, the protocol mode and the seeds. The same objects are the
Python API's settings, so a script and a scenario file are interchangeable.

Every key is checked: an unknown key is rejected with the closest valid one, a value of the wrong type
or out of range names the key, the file and what was expected.

Example:
    >>> from fer_avalanche.config import Scenario
    >>> scenario = Scenario.demo()
    >>> scenario.source.name, [t.name for t in scenario.targets]
    ('wild', ['lab-a', 'lab-b'])
    >>> scenario = scenario.with_overrides(["adapt.epochs=2", "strategies.names=['ft-fc', 'fusion']"])
    >>> scenario.adapt.epochs
    2
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError, LabelError
from fer_avalanche.registry import did_you_mean

__all__ = [
    "Scenario",
    "DatasetSpec",
    "SplitSpec",
    "ModelSpec",
    "TrainSpec",
    "StrategiesSpec",
    "load_scenario",
    "bundled_scenarios",
    "scenario_to_toml",
    "MODES",
    "BUDGETS",
    "SELECTIONS",
    "parse_value",
    "MONITORS",
    "SweepSpec",
    "SWEEP_MODES",
    "variant_label",
    "variant_slug",
]

MODES = ("pairwise", "sequential", "class-incremental")


@dataclass
class SplitSpec:
    """How a dataset is split: ``official`` (its own), ``fractions``, ``subject`` or ``kfold``.

    - ``fractions``: image-level, stratified by class and group-aware (a CK+ sequence or MUG take never
      spans two splits); ``counts = [train, val, test]`` instead gives exact sizes (the paper's Table I:
      JAFFE ``[131, 15, 67]``).
    - ``subject``: subject holdout by ``fractions`` of the subjects; ``kfold``: fold ``fold`` of ``k``
      subject folds, ``val_fraction`` of the other subjects for validation; ``folds = "all"`` runs
      every fold (:meth:`fold_indices`).
    - ``seed``: an int, or ``"run"``: the seed of the run (each of the scenario's ``seeds`` then gets
      its own split).

    Example:
        >>> SplitSpec(method="kfold", k=5, folds="all").fold_indices()
        [0, 1, 2, 3, 4]
        >>> SplitSpec(method="fractions", counts=[131, 15, 67], seed="run").resolve(run_seed=3)["seed"]
        3
    """

    method: str = "official"
    fractions: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    counts: list[int] | None = None
    seed: int | str = 0
    k: int = 10
    fold: int = 0
    folds: str | None = None
    val_fraction: float = 0.1

    def validate(self, where: str) -> None:
        from fer_avalanche.data.splits import SPLIT_METHODS, check_counts, check_fractions

        _choice(self.method, SPLIT_METHODS, f"{where}.method")
        try:
            check_fractions(self.fractions)
        except ConfigError as exc:
            raise ConfigError(f"{where}.fractions: {exc}") from None
        if self.counts is not None:
            if self.method != "fractions":
                raise ConfigError(
                    f"{where}.counts: exact sizes apply to method = 'fractions' (image-level), "
                    f"not {self.method!r}"
                )
            try:
                check_counts(self.counts)
            except ConfigError as exc:
                raise ConfigError(f"{where}.counts: {exc}") from None
        if isinstance(self.seed, str) and self.seed != "run":
            raise ConfigError(
                f'{where}.seed must be an integer or "run" (the run\'s seed), got {self.seed!r}'
            )
        if self.k < 2 or not 0 <= self.fold < self.k:
            raise ConfigError(f"{where}: need k >= 2 and 0 <= fold < k, got k={self.k}, fold={self.fold}")
        if self.folds is not None:
            if self.folds != "all":
                raise ConfigError(f'{where}.folds must be "all" (every fold) or unset, got {self.folds!r}')
            if self.method != "kfold":
                raise ConfigError(f"{where}.folds = \"all\" needs method = 'kfold', not {self.method!r}")
        _range(self.val_fraction, 0.0, 0.9, f"{where}.val_fraction")

    @property
    def has_folds(self) -> bool:
        """Whether a run iterates every fold of this split (``folds = "all"``)."""
        return self.folds == "all"

    def fold_indices(self) -> list[int | None]:
        """The folds a run iterates: ``list(range(k))`` with ``folds = "all"``, else ``[None]``."""
        return list(range(self.k)) if self.has_folds else [None]

    def resolve(self, run_seed: int = 0, fold: int | None = None) -> dict[str, Any]:
        """The keyword arguments of :func:`fer_avalanche.data.splits.apply_split`, with ``seed = "run"``
        resolved to ``run_seed`` and ``folds = "all"`` to ``fold`` (required then; ignored otherwise).

        Raises:
            ConfigError: ``folds = "all"`` without a fold in ``0..k-1``.
        """
        out: dict[str, Any] = {
            "method": self.method,
            "fractions": list(self.fractions),
            "counts": None if self.counts is None else list(self.counts),
            "seed": int(run_seed) if self.seed == "run" else int(self.seed),
            "k": self.k,
            "fold": self.fold,
            "val_fraction": self.val_fraction,
        }
        if self.has_folds:
            if not is_int(fold) or not 0 <= fold < self.k:
                raise ConfigError(
                    f'split.folds = "all" needs the fold to load (0..{self.k - 1}), got {fold!r}; '
                    "iterate SplitSpec.fold_indices()"
                )
            out["fold"] = fold
        return out


@dataclass
class DatasetSpec:
    """One dataset of the experiment.

    ``format = "synthetic"`` draws an embedded synthetic domain (``domain``, default ``name``; ``n``
    samples); any other format is a registered loader reading ``root``. ``face_crop`` (``none``,
    ``center``, ``detect``, ``auto``; unset = the format's default), ``face_margin`` (the face box grown
    or shrunk by this factor) and ``detect_fallback`` (``center`` or ``skip``) frame the faces;
    ``options`` holds the format's own settings. ``max_train`` caps the number of training samples
    (seeded, stratified: every class keeps its share of train within one sample) for quick runs.
    """

    name: str = ""
    format: str = "synthetic"
    root: str | None = None
    domain: str | None = None
    n: int | None = None
    seed: int = 0
    face_crop: str | None = None
    face_margin: float | None = None
    detect_fallback: str | None = None
    skip_corrupt: bool = False
    max_train: int | None = None
    split: SplitSpec = field(default_factory=SplitSpec)
    options: dict[str, Any] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        from fer_avalanche.data.imageio import DETECT_FALLBACKS, FACE_CROPS

        if not self.name:
            raise ConfigError(f"{where}.name: every dataset needs a name")
        if self.format != "synthetic" and not self.root:
            raise ConfigError(
                f"{where}.root: dataset {self.name!r} (format {self.format!r}) needs a data root; "
                f"set it in the scenario file or with --set {where}.root=/path/to/{self.name}"
            )
        if self.n is not None and self.n < 7:
            raise ConfigError(f"{where}.n must be >= 7, got {self.n}")
        if self.max_train is not None and self.max_train < 7:
            raise ConfigError(f"{where}.max_train must be >= 7, got {self.max_train}")
        if self.face_crop is not None:
            _choice(self.face_crop, FACE_CROPS, f"{where}.face_crop")
        if self.face_margin is not None:
            _range(self.face_margin, 0.2, 4.0, f"{where}.face_margin")
        if self.detect_fallback is not None:
            _choice(self.detect_fallback, DETECT_FALLBACKS, f"{where}.detect_fallback")
        self.split.validate(f"{where}.split")

    def load_settings(self) -> dict[str, Any]:
        """The loader settings this spec sets (the format's own ``options`` included)."""
        settings: dict[str, Any] = {"skip_corrupt": self.skip_corrupt, **self.options}
        for key in ("face_crop", "face_margin", "detect_fallback"):
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        return settings


@dataclass
class ModelSpec:
    """The network: an architecture by name (:mod:`fer_avalanche.models`) and its settings.

    ``arch``: ``fernet`` (default), ``paper`` or ``resnet18``. ``width`` scales every layer (``paper``
    and ``resnet18`` are full-size at 64). ``dropout`` ``None`` = the architecture's default.
    ``blocks``, ``hidden``, ``batchnorm`` are ``fernet``'s; ``weights`` (a local file) is ``resnet18``'s.
    Settings an architecture does not have must stay unset.
    """

    arch: str = "fernet"
    width: int = 32
    dropout: float | None = None
    blocks: int | None = None
    hidden: int | None = None
    batchnorm: bool | None = None
    weights: str | None = None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`fer_avalanche.models.make_model` (unset ones left out)."""
        fields = ("width", "dropout", "blocks", "hidden", "batchnorm", "weights")
        return {k: getattr(self, k) for k in fields if getattr(self, k) is not None}

    def validate(self, where: str) -> None:
        from fer_avalanche.models import ARCHITECTURES, architecture_options

        try:
            self.arch = ARCHITECTURES.canonical(self.arch)
        except ConfigError as exc:
            raise ConfigError(f"{where}.arch: {exc}") from None
        valid = [k for k in architecture_options(self.arch) if k not in ("num_classes", "in_channels")]
        for key in self.options():
            if key not in valid:
                raise ConfigError(
                    f"{where}.{key}: architecture {self.arch!r} has no such setting "
                    f"(its settings: {', '.join(valid)})"
                )
        _range(self.width, 1, 1024, f"{where}.width")
        if self.blocks is not None:
            _range(self.blocks, 2, 5, f"{where}.blocks")
        if self.dropout is not None:
            _range(self.dropout, 0.0, 0.9, f"{where}.dropout")


#: How a training budget is stated (:class:`TrainSpec` ``budget``).
BUDGETS: tuple[str, ...] = ("epochs", "steps", "target_passes")
#: Which weights a training run keeps (:class:`TrainSpec` ``select``).
SELECTIONS: tuple[str, ...] = ("last", "best_val")
#: What ``select = "best_val"`` monitors (:class:`TrainSpec` ``monitor``): the target's validation
#: accuracy, or the mean of the source's and the target's.
MONITORS: tuple[str, ...] = ("target", "mean")


@dataclass
class TrainSpec:
    """Optimisation settings: ``train`` trains the baseline on the source, ``adapt`` adapts to targets.

    The budget is the same for every strategy of a run (per-strategy overrides are recorded in each
    result row's ``budget``):

    - ``budget = "epochs"``: ``epochs`` epochs of each strategy's own data (fusion's epoch is a pass
      over source + target);
    - ``budget = "steps"``: every strategy takes the same number of optimizer steps per training
      experience: ``steps``, or, when unset, what ``epochs`` epochs over the target alone take
      (``epochs * ceil(n_target_train / batch_size)``);
    - ``budget = "target_passes"``: every strategy sees the target's training set ``target_passes``
      times (default ``epochs``), whatever else it mixes in.

    ``select = "best_val"`` keeps the weights of the epoch with the best monitored validation
    accuracy, the same monitor for every strategy: ``monitor = "target"`` (default) the target's
    validation split, ``"mean"`` the mean of the source's and the target's. ``patience_steps = s``
    stops once ``s`` optimizer steps have passed since the best evaluation (fair across strategies
    whose epochs differ in length under a step budget); ``patience = p`` stops after ``p`` epochs
    without improvement (epochs, not steps: kept for the baseline and older scenarios).
    ``eval_every = k`` evaluates the source's and the target's validation splits every k epochs
    (forgetting curves, recorded with the optimizer step of each point).

    ``absent_classes``: ``"train"`` (default) computes the loss over every class, ``"mask"`` the loss of
    target samples over the classes present in the target's training split only (source and buffer
    samples keep every class): it keeps the source's recall of a class the target lacks, at a cost in
    target accuracy (README, "Beyond the paper", for the evidence behind the default).
    """

    epochs: int = 10
    lr: float = 1e-3
    batch_size: int = 64
    optimizer: str = "adam"
    weight_decay: float = 0.0
    augment: bool = True
    budget: str = "epochs"
    steps: int | None = None
    target_passes: float | None = None
    select: str = "last"
    patience: int | None = None
    patience_steps: int | None = None
    monitor: str = "target"
    eval_every: int = 0
    absent_classes: str = "train"

    def validate(self, where: str) -> None:
        _range(self.epochs, 0, 10_000, f"{where}.epochs")
        _range(self.lr, 1e-8, 10.0, f"{where}.lr")
        _range(self.batch_size, 1, 65_536, f"{where}.batch_size")
        _choice(self.optimizer, ("adam", "sgd", "adamw"), f"{where}.optimizer")
        _range(self.weight_decay, 0.0, 1.0, f"{where}.weight_decay")
        _choice(self.budget, BUDGETS, f"{where}.budget")
        _choice(self.select, SELECTIONS, f"{where}.select")
        self._only_with("steps", "budget", "steps", 1, 10_000_000, where)
        self._only_with("target_passes", "budget", "target_passes", 1e-3, 10_000, where)
        self._only_with("patience", "select", "best_val", 1, 10_000, where)
        if self.patience_steps is not None and self.patience is not None:  # select is best_val: checked
            raise ConfigError(f"{where}: set patience (epochs) or patience_steps (steps), not both")
        self._only_with("patience_steps", "select", "best_val", 1, 10_000_000, where)
        _choice(self.monitor, MONITORS, f"{where}.monitor")
        _range(self.eval_every, 0, 10_000, f"{where}.eval_every")
        _choice(self.absent_classes, ("mask", "train"), f"{where}.absent_classes")

    def _only_with(self, name: str, switch: str, needed: str, lo: float, hi: float, where: str) -> None:
        """Check a setting used only with ``switch = needed`` (``steps`` with ``budget = 'steps'``)."""
        value = getattr(self, name)
        if value is None:
            return
        if getattr(self, switch) != needed:
            raise ConfigError(f"{where}.{name} is used only with {where}.{switch} = '{needed}'")
        _range(value, lo, hi, f"{where}.{name}")


#: ``adapt`` settings a strategy's options may override (recorded in its rows' ``budget``).
STRATEGY_OVERRIDES: tuple[str, ...] = (
    "epochs", "lr", "batch_size", "budget", "steps", "target_passes", "absent_classes",
)  # fmt: skip


@dataclass
class StrategiesSpec:
    """Which strategies to compare, and per-strategy options (``options.<name>.<option>``).

    Per-strategy options may also override ``adapt``'s ``epochs``, ``lr``, ``batch_size``, ``budget``,
    ``steps`` and ``target_passes`` (:data:`STRATEGY_OVERRIDES`).
    """

    names: list[str] = field(
        default_factory=lambda: ["baseline", "ft-fc", "ft-lastconv-fc", "retrain", "fusion"]
    )
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        from fer_avalanche.strategies.registry import get_strategy_spec

        if not self.names:
            raise ConfigError(f"{where}.names: list at least one strategy")
        for name in self.names:
            try:
                get_strategy_spec(name)
            except ConfigError as exc:
                raise ConfigError(f"{where}.names: {exc}") from None
        for name, options in self.options.items():  # options of unlisted strategies are kept, unused
            try:
                spec = get_strategy_spec(name)
            except ConfigError as exc:
                raise ConfigError(f"{where}.options.{name}: {exc}") from None
            if not isinstance(options, dict):
                raise ConfigError(f"{where}.options.{name} must be a table, got {options!r}")
            valid = {*STRATEGY_OVERRIDES, *spec.options}
            for key in options:
                if key not in valid:
                    raise ConfigError(
                        f"unknown key '{where}.options.{name}.{key}'{did_you_mean(key, sorted(valid))} "
                        f"(valid: {', '.join(sorted(valid))})"
                    )


#: How a sweep combines its lists (:class:`SweepSpec` ``mode``).
SWEEP_MODES: tuple[str, ...] = ("grid", "zip")
#: Keys a sweep may not vary (they name the run, or are the sweep itself).
_UNSWEPT = ("name", "description", "sweep")

#: One variant of a sweep: ``((dotted key, value), ...)`` in the sweep's key order (``()``: no sweep).
Variant = tuple[tuple[str, Any], ...]


def variant_label(variant: Variant | dict[str, Any]) -> str:
    """A variant for people: ``adapt.budget=steps, strategies.options.fusion.target_fraction=0.25``.

    Example:
        >>> variant_label((("adapt.budget", "steps"), ("adapt.lr", 0.001)))
        'adapt.budget=steps, adapt.lr=0.001'
        >>> variant_label(())
        ''
    """
    pairs = variant.items() if isinstance(variant, dict) else variant
    return ", ".join(f"{k}={v}" for k, v in pairs)


def variant_slug(variant: Variant | dict[str, Any]) -> str:
    """A variant in a file name: the last part of each key and its value (``budget=steps_lr=0.001``).

    Example:
        >>> variant_slug((("adapt.budget", "steps"), ("strategies.options.fusion.target_fraction", 0.25)))
        'budget=steps_target_fraction=0.25'
    """
    pairs = variant.items() if isinstance(variant, dict) else variant
    text = "_".join(f"{k.split('.')[-1]}={v}" for k, v in pairs)
    return re.sub(r"[^A-Za-z0-9._=+-]", "-", text)


@dataclass
class SweepSpec:
    """Many settings as one run: every variant is the scenario with some keys set to other values.

    ``values`` maps dotted scenario keys (the ``--set`` keys: ``adapt.budget``,
    ``strategies.options.fusion.target_fraction``, ``targets.jaffe.split.seed``) to lists of values;
    ``mode = "grid"`` (default) runs every combination, ``"zip"`` the i-th value of every list
    together (the lists must have equal lengths). Each variant is applied through the same code as
    ``--set`` (:meth:`Scenario.with_overrides`), so a bad key or value is reported the same way. In
    TOML::

        [sweep]
        mode = "grid"
        [sweep.values]
        "adapt.budget" = ["steps", "target_passes"]
        "strategies.options.fusion.target_fraction" = [0.25, 0.5]

    (unquoted dotted keys, ``adapt.budget = [...]``, mean the same). Values are scalars (strings,
    numbers, booleans).

    Example:
        >>> SweepSpec(values={"adapt.lr": [1e-4, 3e-4], "adapt.budget": ["steps"]}).variants()
        [(('adapt.lr', 0.0001), ('adapt.budget', 'steps')), (('adapt.lr', 0.0003), ('adapt.budget', 'steps'))]
        >>> len(SweepSpec(mode="zip", values={"adapt.lr": [1e-4, 3e-4], "adapt.epochs": [2, 4]}).variants())
        2
    """

    mode: str = "grid"
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = dict(self.items())  # one flat table of dotted keys (what scenario.toml records)

    def items(self) -> list[tuple[str, list[Any]]]:
        """``(dotted key, values)`` pairs, nested tables flattened (``adapt = {lr = [..]}``: ``adapt.lr``)."""
        out: list[tuple[str, list[Any]]] = []

        def walk(prefix: str, node: object) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            else:
                out.append((prefix, node))

        walk("", self.values)
        return out

    def validate(self, where: str) -> None:
        _choice(self.mode, SWEEP_MODES, f"{where}.mode")
        items = self.items()
        if not items:
            raise ConfigError(
                f'{where}.values: list at least one key to sweep, e.g. "adapt.lr" = [1e-4, 3e-4]'
            )
        for key, values in items:
            if key.split(".")[0] in _UNSWEPT:
                raise ConfigError(f"{where}.values.{key}: {key.split('.')[0]!r} cannot be swept")
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{where}.values.{key} must be a non-empty list of values, got {values!r}")
            for v in values:
                if not isinstance(v, str | int | float | bool):
                    raise ConfigError(
                        f"{where}.values.{key}: sweep values are strings, numbers or booleans, got {v!r}"
                    )
            if len(set(map(repr, values))) != len(values):
                raise ConfigError(f"{where}.values.{key}: every value at most once, got {values!r}")
        lengths = {key: len(values) for key, values in items}
        if self.mode == "zip" and len(set(lengths.values())) > 1:
            raise ConfigError(f"{where}: mode = 'zip' needs lists of one length, got {lengths}")

    def variants(self) -> list[Variant]:
        """Every variant, in order (grid: the last key varies fastest)."""
        import itertools

        items = self.items()
        keys = [k for k, _ in items]
        if self.mode == "zip":
            combos = list(zip(*(v for _, v in items), strict=True))
        else:
            combos = list(itertools.product(*(v for _, v in items)))
        return [tuple(zip(keys, combo, strict=True)) for combo in combos]


@dataclass
class Scenario:
    """A whole experiment: datasets, model, training, strategies, protocol mode and seeds."""

    name: str = "experiment"
    description: str = ""
    mode: str = "pairwise"
    seeds: list[int] = field(default_factory=lambda: [0])
    label_space: str = "basic7"
    image_size: int = 48
    source: DatasetSpec = field(default_factory=DatasetSpec)
    targets: list[DatasetSpec] = field(default_factory=list)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    adapt: TrainSpec = field(default_factory=lambda: TrainSpec(epochs=10, batch_size=32))
    strategies: StrategiesSpec = field(default_factory=StrategiesSpec)
    #: ``mode = "class-incremental"``: the source is split into experiences of expression classes,
    #: ``classes_per_exp`` classes each (an int: label order, the last group takes the rest) or
    #: explicit groups (``[["happy", "sad"], ["angry", "fear"], ...]``); the baseline is trained on
    #: the first group, every strategy then learns the others in order (no ``[[targets]]``).
    classes_per_exp: int | list[list[int | str]] | None = None
    eval_batch_size: int = 512
    amp: bool = True
    #: ``torch.compile`` the model of every strategy (in place, see ``make_strategy(compile=...)``);
    #: off by default: it did not pay off where it was measured (README, Performance).
    compile: bool = False
    #: Write the baseline of every seed and every cell's adapted network to ``RUN_DIR/models``
    #: (:mod:`fer_avalanche.models.saved`; ``fer-avalanche run --save-models``).
    save_models: bool = False
    #: The run's loggers by name (:data:`fer_avalanche.experiment.loggers.LOGGERS`): ``tensorboard``,
    #: ``csv``, ``text``, ``interactive``, ``wandb`` (offline; the ``[wandb]`` extra).
    loggers: list[str] = field(default_factory=lambda: ["tensorboard"])
    #: Bit-reproducible GPU runs: ``torch.backends.cudnn.benchmark`` off, deterministic algorithms
    #: (``torch.use_deterministic_algorithms``) and ``CUBLAS_WORKSPACE_CONFIG`` set; slower. Off by
    #: default (cuDNN picks the fastest kernels; GPU results then vary in the last bits run to run).
    deterministic: bool = False
    #: Many settings as one run (:class:`SweepSpec`); ``None``: one variant, the scenario itself.
    sweep: SweepSpec | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dict(cls, raw: dict[str, Any], origin: str = "scenario") -> Scenario:
        """Build and validate from a plain dict (a parsed TOML file); ``origin`` names it in errors."""
        try:
            scenario = _build(cls, raw, "")
            scenario.validate()
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        return scenario

    @classmethod
    def demo(cls) -> Scenario:
        """The built-in demo (synthetic source ``wild`` -> targets ``lab-a`` and ``lab-b``), CPU-sized.

        The settings are ``scenarios/demo.toml`` (shipped inside the package).
        """
        return load_scenario("demo")

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML/JSON-ready; ``None`` values dropped)."""
        return _drop_none(dataclasses.asdict(self))

    def with_overrides(self, assignments: list[str], origin: str = "--set") -> Scenario:
        """A copy with ``key=value`` overrides applied (dotted keys; values in TOML syntax).

        Targets are addressed by name or index: ``targets.jaffe.root=/data/jaffe``,
        ``targets.0.split.method=subject``. Unquoted values that are not valid TOML are taken as strings.
        """
        pairs = []
        for assignment in assignments:
            key, sep, value = assignment.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"{origin} {assignment!r}: expected key=value, e.g. adapt.epochs=5")
            pairs.append((key.strip(), parse_value(value.strip())))
        return _with_values(self.to_dict(), pairs, origin, f"{origin} overrides")

    # ----------------------------------------------------------------- sweeps
    def variants(self) -> list[Variant]:
        """The variants of the scenario's sweep (``[()]`` without one: the scenario itself).

        Example:
            >>> Scenario.demo().variants()
            [()]
        """
        return self.sweep.variants() if self.sweep is not None else [()]

    def for_variant(self, variant: Variant) -> Scenario:
        """The scenario of one variant: the sweep's values applied as ``--set`` would, no sweep left.

        Example:
            >>> s = Scenario.demo().with_overrides(["sweep.values.adapt.lr=[1e-4, 3e-4]"])
            >>> [s.for_variant(v).adapt.lr for v in s.variants()]
            [0.0001, 0.0003]
        """
        if not variant:
            return self if self.sweep is None else dataclasses.replace(self, sweep=None)
        raw = self.to_dict()
        raw.pop("sweep", None)
        return _with_values(raw, list(variant), "sweep", "sweep")

    # -------------------------------------------------------------- validate
    def validate(self) -> None:
        """Check every value; raise :class:`ConfigError` naming the key."""
        _choice(self.mode, MODES, "mode")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError("seeds: list one or more distinct integers")
        from fer_avalanche.labels import get_label_space

        get_label_space(self.label_space)
        _range(self.image_size, 16, 256, "image_size")
        blocks = self.model.blocks or 3
        if self.model.arch == "fernet" and self.image_size % 2**blocks:
            raise ConfigError(
                f"image_size {self.image_size} must be divisible by 2**model.blocks ({2**blocks})"
            )
        _range(self.eval_batch_size, 1, 65_536, "eval_batch_size")
        from fer_avalanche.experiment.loggers import LOGGERS

        for i, name in enumerate(self.loggers):
            try:
                self.loggers[i] = LOGGERS.canonical(name)
            except ConfigError as exc:
                raise ConfigError(f"loggers.{i}: {exc}") from None
        if len(set(self.loggers)) != len(self.loggers):
            raise ConfigError(f"loggers: each logger at most once, got {self.loggers}")
        self.source.validate("source")
        if self.mode == "class-incremental":
            self._validate_class_groups()
        elif self.classes_per_exp is not None:
            raise ConfigError("classes_per_exp is used only with mode = 'class-incremental'")
        elif not self.targets:
            raise ConfigError("targets: list at least one target dataset ([[targets]] tables)")
        for i, target in enumerate(self.targets):
            target.validate(f"targets.{i}")
        names = [self.source.name] + [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ConfigError(f"dataset names must be unique, got {names}")
        self.model.validate("model")
        self.train.validate("train")
        self.adapt.validate("adapt")
        self.strategies.validate("strategies")
        if self.sweep is not None:
            self.sweep.validate("sweep")
            for variant in self.sweep.variants():
                self.for_variant(variant)  # a bad key or value fails here, as --set would

    def _validate_class_groups(self) -> None:
        if self.targets:
            raise ConfigError(
                "targets: mode = 'class-incremental' splits the source into experiences of classes; "
                "remove the [[targets]] tables"
            )
        groups = self.classes_per_exp
        if groups is None:
            raise ConfigError(
                "classes_per_exp: mode = 'class-incremental' needs it (e.g. classes_per_exp = 2)"
            )
        if isinstance(groups, int):
            _range(groups, 1, 7, "classes_per_exp")
            return
        if len(groups) < 2 or not all(isinstance(g, list) and g for g in groups):
            raise ConfigError(
                f"classes_per_exp: need two or more non-empty groups of classes, got {groups!r}"
            )
        from fer_avalanche.labels import get_label_space

        space = get_label_space(self.label_space)
        flat = []
        for g in groups:
            for c in g:
                try:
                    flat.append(c if isinstance(c, int) else space.index(c))
                except LabelError:
                    raise ConfigError(
                        f"classes_per_exp: unknown class {c!r} (classes: {', '.join(space.names)})"
                    ) from None
        if len(flat) != len(set(flat)) or not all(0 <= c < space.num_classes for c in flat):
            raise ConfigError(f"classes_per_exp: every class at most once, in 0..{space.num_classes - 1}")

    @property
    def datasets(self) -> list[DatasetSpec]:
        """Source first, then the targets."""
        return [self.source, *self.targets]


# --------------------------------------------------------------------- TOML
def bundled_scenarios() -> dict[str, Any]:
    """The scenarios shipped with the package (the repository's ``scenarios/*.toml``), by name.

    Found through :mod:`importlib.resources`, so they work from any directory after a normal install.

    Example:
        >>> sorted(bundled_scenarios())[:3]
        ['beyond', 'class_incremental', 'demo']
    """
    from importlib.resources import files

    try:
        folder: Any = files("fer_avalanche.scenarios")
    except ModuleNotFoundError:  # imported from a source checkout: the repository's own folder
        folder = Path(__file__).resolve().parents[1] / "scenarios"
    entries = sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    return {p.name[: -len(".toml")]: p for p in entries}


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read a scenario TOML file, or a bundled scenario by name (``"demo"``, ``"paper"``), and apply
    ``key=value`` overrides.

    A path that exists wins over a bundled name.

    Raises:
        ConfigError: missing file, TOML syntax error (with line), unknown key, bad value; the message
            names the file.
    """
    bundled = bundled_scenarios()
    if not Path(path).exists() and str(path) in bundled:
        source: object = bundled[str(path)]
        origin, stem = f"{path} (bundled scenario)", str(path)
    else:
        source = Path(path)
        origin, stem = str(source), source.stem
        if not source.is_file():
            hint = f"; bundled scenarios: {', '.join(bundled)}" if bundled else ""
            hint += did_you_mean(str(path), list(bundled))
            raise ConfigError(f"{source}: scenario file not found{hint}")
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{origin}: cannot read ({exc})") from None
    raw.setdefault("name", stem)
    scenario = Scenario.from_dict(raw, origin)
    return scenario.with_overrides(overrides, f"{origin} --set") if overrides else scenario


def scenario_to_toml(scenario: Scenario) -> str:
    """The scenario as TOML text (what a run directory records as ``scenario.toml``)."""
    lines: list[str] = []
    _toml_table(scenario.to_dict(), [], lines)
    return "\n".join(lines).strip() + "\n"


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml_key(k: str) -> str:
    return k if k.replace("-", "").replace("_", "").isalnum() else _toml_value(k)


def _toml_table(d: dict[str, Any], prefix: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and not _is_table_list(v)}
    for k, v in scalars.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"\n[{'.'.join(_toml_key(p) for p in [*prefix, k])}]")
            _toml_table(v, [*prefix, k], lines)
        elif _is_table_list(v):
            for item in v:
                lines.append(f"\n[[{'.'.join(_toml_key(p) for p in [*prefix, k])}]]")
                _toml_table(item, [*prefix, k], lines)


def _is_table_list(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


# ------------------------------------------------------------- validation
def _range(value: object, lo: float, hi: float, key: str) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{key} must be in [{lo}, {hi}], got {value!r}")


def _choice(value: object, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise ConfigError(
            f"{key} must be one of {', '.join(choices)}, got {value!r}{did_you_mean(value, choices)}"
        )


def _type_name(tp: object) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: object, tp: object, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table, got {type(value).__name__} {value!r}")
        return _build(tp, value, key)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {type(value).__name__} {value!r}")
        return [_coerce(v, item_tp, f"{key}.{i}") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table, got {type(value).__name__} {value!r}")
        return copy.deepcopy(value)
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool) or not isinstance(value, tp):
        raise ConfigError(f"{key} must be {_type_name(tp)}, got {type(value).__name__} {value!r}")
    return value


def _build(cls: type, raw: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        full = f"{where}.{key}" if where else key
        if key not in fields:
            hint = did_you_mean(key, sorted(fields))
            raise ConfigError(f"unknown key {full!r}{hint} (valid keys: {', '.join(sorted(fields))})")
        kwargs[key] = _coerce(value, hints[key], full)
    return cls(**kwargs)


def _drop_none(obj: object) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def parse_value(text: str) -> Any:
    """A ``--set``/``--option`` value as TOML (``3``, ``[1, 2]``, ``"x"``), else the text itself.

    Example:
        >>> parse_value("[1, 2]"), parse_value("fusion")
        ([1, 2], 'fusion')
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _with_values(raw: dict[str, Any], pairs: list[tuple[str, Any]], where: str, origin: str) -> Scenario:
    """``raw`` with every ``(dotted key, value)`` assigned, built and validated (``--set``, sweeps)."""
    raw = copy.deepcopy(raw)
    for key, value in pairs:
        _assign(raw, key.split("."), copy.deepcopy(value), f"{where} {key}")
    return Scenario.from_dict(raw, origin)


def _assign(raw: dict[str, Any], path: list[str], value: object, where: str) -> None:
    node: Any = raw
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            index = next(
                (j for j, item in enumerate(node) if isinstance(item, dict) and item.get("name") == part),
                None,
            )
            if index is None and part.isdigit() and int(part) < len(node):
                index = int(part)
            if index is None:
                names = [item.get("name") for item in node if isinstance(item, dict)]
                raise ConfigError(
                    f"{where}: no entry {part!r} (by name: {names}, or index 0..{len(node) - 1})"
                )
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(f"{where}: {'.'.join(path[:i])} is a value, not a table")
