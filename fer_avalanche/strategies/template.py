"""The fast path every strategy of the package shares, as a mixin over any Avalanche template.

:class:`FastDataMixin` changes how a ``SupervisedTemplate`` (or any subclass: ``LwF``, ``EWC``,
``GDumb``, ...) gets its batches and runs its forward pass, and nothing else:

- batches come from :class:`~fer_avalanche.loaders.DeviceBatchLoader` (images resident on the
  training device, formed by index, normalised there) whenever the adapted dataset is one of ours;
  otherwise Avalanche's own loaders are used, so foreign datasets and plugins that swap the loader
  (Avalanche's ``ReplayPlugin``) keep working;
- the training order is drawn from a seeded generator, so a run is reproducible;
- on CUDA the forward pass runs under bf16 autocast (``amp=True`` by default there); logits are
  returned as float32 so losses and penalties are computed in full precision;
- ``compile=True`` (off by default) compiles the model in place with ``torch.compile`` (see
  :func:`compile_in_place`; measured in the README's Performance section);
- after every ``train`` the strategy exposes what it was given and what validation saw:
  ``fer_budget`` / ``fer_budgets`` (from :class:`~fer_avalanche.strategies.plugins.BudgetPlugin`),
  ``fer_curve`` and ``fer_selected_epoch`` (from
  :class:`~fer_avalanche.strategies.plugins.ValidationPlugin`); a strategy without those plugins reports
  zeros, ``[]`` and ``None``;
- ``train`` warns (:class:`~fer_avalanche.strategies.warm_start.NotWarmStartedWarning`) when a
  strategy that needs the source reaches its first experience without a warm start;
- the model uses ``channels_last`` on CUDA and on CPUs with oneDNN (x86, most ARM builds): there
  oneDNN's convolutions, BatchNorm and max-pooling run natively in that layout; measured on a 2-core
  Xeon, a width-16 FERNet trains about 1.3x and evaluates about 1.6x faster than in NCHW
  (``benchmarks/bench_training.py``, ``bench_eval.py``). Results are the same up to float rounding.
  Not on CPU for models with a strided 1x1 convolution over fewer than 16 channels (a ResNet-18
  shortcut at ``width < 16``): torch 2.14.1's oneDNN backward of such a layer in ``channels_last``
  corrupts the heap and kills the process on batch sizes other than the first (reproduced with a
  single ``Conv2d(8, 16, 1, stride=2)``, batches 16 then 5); those models stay NCHW on CPU.

Example:
    >>> from avalanche.training import LwF
    >>> from fer_avalanche.strategies.template import fast
    >>> FastLwF = fast(LwF)
    >>> strategy = FastLwF(model=model, optimizer=opt, alpha=1.0, temperature=2.0,
    ...                    train_mb_size=64, device="cpu", data_seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import DeviceBatchLoader, gather_tensors
from fer_avalanche.strategies.plugins.budget import ZERO_BUDGET, BudgetPlugin
from fer_avalanche.strategies.plugins.validation import ValidationPlugin
from fer_avalanche.strategies.warm_start import check_warm_started
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import AGEMPlugin, GSS_greedyPlugin
    from avalanche.training.templates import SupervisedTemplate

_P = TypeVar("_P")

#: Avalanche plugins that ``view(-1)`` parameter gradients, which fails on channels_last tensors: with
#: them the model stays NCHW (unless ``channels_last=True`` is asked for explicitly).
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from avalanche.benchmarks import CLExperience
    from avalanche.benchmarks.utils import AvalancheDataset

    from fer_avalanche.strategies.registry import StrategySpec

_NCHW_ONLY_PLUGINS = (AGEMPlugin, GSS_greedyPlugin)

__all__ = [
    "FastDataMixin",
    "fast",
    "FERTemplate",
    "compile_in_place",
    "mark_batch_dynamic",
    "check_compile_backend",
]


#: Recompilations allowed per code object (torch's default is 8). Every module compiled with
#: ``nn.Module.compile()`` shares one code object (``Module._call_impl``), and each strategy's freezing
#: pattern, and train and eval mode, are separate graphs (so are the batch sizes, unless marked): a run
#: of the protocol reaches 8 within a few cells, after which torch silently runs every model eagerly.
RECOMPILE_LIMIT = 64


def compile_in_place(model: torch.nn.Module) -> torch.nn.Module:
    """Compile ``model`` in place with ``model.compile()`` unless it already is; returns ``model``.

    ``nn.Module.compile()`` (unlike ``torch.compile(model)``, which wraps the module in an
    ``OptimizedModule`` and prefixes every ``state_dict`` key with ``_orig_mod.``) keeps the object, its
    type, its submodule names and its ``state_dict`` keys, so checkpoints, :class:`FreezePlugin` and
    ``copy.deepcopy`` (the copy is eager: torch drops the compilation when a module is copied or
    pickled) work unchanged. ``dynamic=None`` (torch's default) with the batch dimension marked
    symbolic by :meth:`FastDataMixin.forward` (:func:`mark_batch_dynamic`): one graph per train/eval
    mode and frozen-parameter pattern serves every batch size, image sizes stay static.
    ``dynamic=True`` (every dimension symbolic) measured no faster and compiled 4x slower from a warm
    cache. Raises torch's recompilation limit to :data:`RECOMPILE_LIMIT` (process-wide) if it is lower.
    """
    if getattr(model, "_compiled_call_impl", None) is None:
        import torch._dynamo  # here: importing it costs ~2 s, paid only by those who compile

        config = torch._dynamo.config
        if getattr(config, "cache_size_limit", RECOMPILE_LIMIT) < RECOMPILE_LIMIT:
            config.cache_size_limit = RECOMPILE_LIMIT
        model.compile(dynamic=None)
    return model


def mark_batch_dynamic(x: torch.Tensor) -> None:
    """Compile ``x``'s batch dimension as symbolic from the first batch on (image sizes stay static).

    Without it, torch compiles a graph for the first batch size, then one with a symbolic size at the
    first other size, and which of the two a later batch runs (they round differently) depends on what
    was compiled before in the process: a resumed run would not repeat an uninterrupted one. With it,
    every batch size >= 2 runs the same graph (size 1, an evaluation remainder, gets its own).
    """
    import torch._dynamo

    mark = getattr(torch._dynamo, "maybe_mark_dynamic", None)
    if mark is not None and isinstance(x, torch.Tensor) and x.dim() > 0:
        mark(x, 0)


def check_compile_backend(device: torch.device) -> None:
    """Raise :class:`ConfigError` when inductor cannot compile for ``device`` here (cheap checks only).

    CPU needs a C++ compiler (``$CXX`` or ``g++``; checked by running ``--version``), CUDA needs
    Triton. Anything else that fails shows up at the first forward pass, as torch reports it.
    """
    if device.type == "cuda":
        try:
            from torch.utils._triton import has_triton
        except ImportError:  # pragma: no cover - older torch: let torch.compile report it
            return
        if not has_triton():
            raise ConfigError(
                "compile=True on CUDA needs Triton (pip install triton); set compile = false to train eagerly"
            )
        return
    try:
        from torch._inductor import exc as inductor_exc
        from torch._inductor.cpp_builder import get_cpp_compiler
    except ImportError:  # pragma: no cover - older torch: let torch.compile report it
        return
    try:
        get_cpp_compiler()
    except inductor_exc.InvalidCxxCompiler:
        raise ConfigError(
            "compile=True on CPU needs a C++ compiler for torch.compile's inductor backend (none found: "
            "install g++ or set $CXX); set compile = false to train eagerly"
        ) from None


def _has_unsafe_cpu_conv(model: torch.nn.Module) -> bool:
    """A strided 1x1 ``Conv2d`` over < 16 channels: crashes oneDNN's channels_last backward on CPU."""
    return any(
        isinstance(m, torch.nn.Conv2d)
        and m.kernel_size == (1, 1)
        and m.stride != (1, 1)
        and m.in_channels < 16
        for m in model.modules()
    )


class FastDataMixin:
    """Device-resident batches, seeded shuffling and mixed precision for an Avalanche template.

    Keyword args (consumed here, the rest go to the template):
        amp: bf16 autocast for the forward pass; ``None`` = on when the device is CUDA.
        fast_data: use :class:`DeviceBatchLoader` when possible (``True``).
        data_seed: seed of the shuffling generator.
        channels_last: ``None`` = on for CUDA, and for CPU when oneDNN (mkldnn) is available (and the
            model has no layer that crashes it there, see the module docstring), except with plugins
            that need NCHW gradients (Avalanche's A-GEM and GSS-greedy).
        compile: compile the model in place with ``nn.Module.compile()`` (``torch.compile``, inductor;
            see :func:`compile_in_place`). Off by default: on 2 threads of a Xeon (torch 2.14.1) a
            compiled training epoch ran 0.96-1.08x eager at width 16 and 1.23-1.26x at width 8, after
            47-50 s of compilation from a fresh cache (2-3 s cached), and the whole demo ran slower
            (170 s fresh, 107 s cached, vs 92 s eager). Not measured on a GPU yet
            (``benchmarks/bench_compile.py``).
    """

    def __init__(
        self,
        *args: object,
        amp: bool | None = None,
        fast_data: bool = True,
        data_seed: int = 0,
        channels_last: bool | None = None,
        compile: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        #: Set by ``make_strategy``: the registry spec, the resolved options, the seed and the
        #: ``absent_classes`` mode (``None``/empty for a strategy built otherwise).
        self.fer_spec: StrategySpec | None = None
        self.fer_options: dict[str, Any] = {}
        self.fer_seed: int | None = None
        self.fer_absent_classes: str | None = None
        #: Set by :func:`~fer_avalanche.strategies.warm_start.warm_start` and its first-``train`` check.
        self.fer_warm_started = False
        self._fer_warned_cold = False
        cuda = self.device.type == "cuda"  # type: ignore[attr-defined]
        self.amp = cuda if amp is None else bool(amp and cuda)
        self.fast_data = fast_data
        self.data_generator = torch.Generator().manual_seed(int(data_seed))
        if channels_last is None:
            cpu_ok = torch.backends.mkldnn.is_available() and not _has_unsafe_cpu_conv(self.model)  # type: ignore[has-type]
            channels_last = (cuda or cpu_ok) and not any(
                isinstance(p, _NCHW_ONLY_PLUGINS)
                for p in self.plugins  # type: ignore[attr-defined]
            )
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[has-type]
        self.compile = bool(compile)
        if self.compile:
            check_compile_backend(self.device)  # type: ignore[attr-defined]
            compile_in_place(self.model)

    # ----------------------------------------------------------- train
    def train(
        self,
        experiences: CLExperience | Iterable[CLExperience],
        eval_streams: Sequence[CLExperience | Iterable[CLExperience]] | None = None,
        **kwargs: object,
    ) -> object:
        check_warm_started(self)
        return super().train(experiences, eval_streams, **kwargs)  # type: ignore[misc]

    # ------------------------------------------------------- reporting
    def _plugin(self, cls: type[_P]) -> _P | None:
        return next((p for p in self.plugins if isinstance(p, cls)), None)  # type: ignore[attr-defined]

    @property
    def fer_budget(self) -> dict[str, Any]:
        """``{"steps", "target_passes", "source_samples", "epochs"}`` of the last training experience."""
        plugin = self._plugin(BudgetPlugin)
        return plugin.last if plugin is not None else dict(ZERO_BUDGET)

    @property
    def fer_budgets(self) -> list[dict[str, Any]]:
        """:attr:`fer_budget` of every training experience so far, in order."""
        plugin = self._plugin(BudgetPlugin)
        return [dict(r) for r in plugin.records] if plugin is not None else []

    @property
    def fer_curve(self) -> list[dict[str, Any]]:
        """Validation accuracies during the last training experience: ``[{"epoch", "step", "acc"}]``."""
        plugin = self._plugin(ValidationPlugin)
        return [dict(c, acc=dict(c["acc"])) for c in plugin.curve] if plugin is not None else []

    @property
    def fer_selected_epoch(self) -> int | None:
        """The epoch whose state ``select="best_val"`` restored (``None`` otherwise)."""
        plugin = self._plugin(ValidationPlugin)
        return plugin.selected_epoch if plugin is not None else None

    def fer_row_extras(self, test_sets: Mapping[str, AvalancheDataset]) -> dict[str, Any]:
        """What the strategy's plugins add to a results row, merged (plugins that define
        ``row_extras(strategy, test_sets)``; ``test_sets``: test datasets by name, for reporting only,
        after every choice was made): e.g. ``wise-ft``'s ``alpha`` and ``alpha_curve``."""
        out: dict[str, Any] = {}
        for plugin in self.plugins:  # type: ignore[attr-defined]
            extras = getattr(plugin, "row_extras", None)
            if callable(extras):
                out.update(extras(self, test_sets))
        return out

    # ------------------------------------------------------------ data
    def make_train_dataloader(self, shuffle: bool = True, drop_last: bool = False, **kwargs: object) -> None:
        view = gather_tensors(self.adapted_dataset) if self.fast_data else None  # type: ignore[attr-defined]
        if view is None:
            super().make_train_dataloader(shuffle=shuffle, drop_last=drop_last, **kwargs)  # type: ignore[misc]
            return
        self.dataloader = DeviceBatchLoader(
            view,
            self.train_mb_size,  # type: ignore[attr-defined]
            shuffle=shuffle,
            device=self.device,  # type: ignore[attr-defined]
            # a last batch of one sample breaks BatchNorm in training: drop it (reshuffled every epoch)
            drop_last=drop_last or len(view) % self.train_mb_size == 1,  # type: ignore[attr-defined]
            generator=self.data_generator,
        )

    def make_eval_dataloader(self, **kwargs: object) -> None:
        view = gather_tensors(self.adapted_dataset) if self.fast_data else None  # type: ignore[attr-defined]
        if view is None:
            super().make_eval_dataloader(**kwargs)  # type: ignore[misc]
            return
        self.dataloader = DeviceBatchLoader(view, self.eval_mb_size, device=self.device)  # type: ignore[attr-defined]

    # --------------------------------------------------------- forward
    def forward(self) -> torch.Tensor:
        if self.compile:  # a plugin may have swapped the model (or a pickled one lost its compilation)
            compile_in_place(self.model)  # type: ignore[has-type]
            mark_batch_dynamic(self.mb_x)  # type: ignore[attr-defined]
        ctx = (
            torch.autocast(device_type="cuda", dtype=torch.bfloat16) if self.amp else contextlib.nullcontext()
        )
        with ctx:
            out = super().forward()  # type: ignore[misc]
        return out.float()


@cache
def fast(template: type) -> type:
    """``template`` with :class:`FastDataMixin` mixed in (cached, so the class is created once).

    Example:
        >>> from avalanche.training import Naive
        >>> fast(Naive).__name__
        'FastNaive'
    """
    if issubclass(template, FastDataMixin):
        return template
    return type(f"Fast{template.__name__}", (FastDataMixin, template), {"__module__": __name__})


#: The plain supervised template with the fast path: the base of every named strategy.
FERTemplate = fast(SupervisedTemplate)
