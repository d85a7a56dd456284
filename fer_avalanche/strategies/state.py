"""A strategy's whole training state as plain tensors, to checkpoint between training experiences.

:func:`strategy_state` captures everything a strategy carries from one training experience to the
next: the model (weights, BatchNorm buffers, ``requires_grad`` and train/eval flags), the optimizer
(moments, keyed by parameter name), Avalanche's clock, the shuffling generator, every plugin's state
(rehearsal buffers, the augmentation generator, LwF's teacher, EWC/MAS/SI importances and anchors,
GDumb/DER/A-GEM memories) and the global random number generators (Python, NumPy, torch, CUDA).
:func:`load_strategy_state` puts it back into a freshly built strategy of the same kind, which then
continues exactly as the original would have: training the next experience gives bit-identical
weights on CPU.

The state holds only tensors, numbers, strings, lists, tuples and dicts, so ``torch.save`` /
``torch.load(..., weights_only=True)`` round-trip it without unpickling arbitrary objects. Buffers of
samples are stored as indices into the experience datasets passed in ``datasets`` (plus any per-sample
tensors such as DER's logits), never as copies of the images; objects other than tensors and
containers (Avalanche's storage policies) are rebuilt only from an allow-list of classes
(:func:`register_state_class`).

What is saved for each plugin follows the plugin contract: a plugin that defines ``state_dict()`` and
``load_state_dict(state)`` is saved through them (every plugin of this package does; a user's plugin
needs nothing else: no registration). The state a plugin returns may hold tensors, numbers, strings,
containers, ``torch.Generator`` s, ``nn.Module`` s shaped like the strategy's model (teachers),
Avalanche's ``ParamData`` and Avalanche datasets over the experience datasets (stored by reference, as
sample indices). Avalanche's own plugins and strategies, which have no ``state_dict``, go through an
adapter table keyed by class (:func:`register_state`: attribute paths, plus an optional hook run after
loading; the closest registered class in the MRO wins). A plugin with neither cannot be checkpointed
(:class:`~fer_avalanche.errors.CheckpointError` names it).

Checkpoints are taken between experiences (after ``strategy.train(exp)`` returned), never inside one.

Example:
    >>> state = strategy_state(strategy, datasets)  # doctest: +SKIP
    >>> torch.save(state, "step1.pt")  # doctest: +SKIP
    >>> fresh = make_strategy("ewc", copy.deepcopy(baseline), ...)  # doctest: +SKIP
    >>> load_strategy_state(fresh, torch.load("step1.pt", weights_only=True), datasets)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import torch
from torch import nn

from fer_avalanche.errors import CheckpointError
from fer_avalanche.loaders import gather_tensors
from fer_avalanche.models.base import load_weights
from fer_avalanche.strategies.template import FastDataMixin
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.benchmarks.utils import AvalancheDataset, make_avalanche_dataset
    from avalanche.benchmarks.utils.data_attribute import TensorDataAttribute
    from avalanche.benchmarks.utils.flat_data import FlatData
    from avalanche.benchmarks.utils.utils import concat_datasets
    from avalanche.training.plugins import (
        AGEMPlugin,
        EvaluationPlugin,
        EWCPlugin,
        GDumbPlugin,
        LwFPlugin,
        MASPlugin,
        SynapticIntelligencePlugin,
    )
    from avalanche.training.plugins.clock import Clock
    from avalanche.training.storage_policy import (
        ClassBalancedBuffer,
        ExperienceBalancedBuffer,
        ReservoirSamplingBuffer,
    )
    from avalanche.training.supervised import DER
    from avalanche.training.supervised.der import ClassBalancedBufferWithLogits
    from avalanche.training.templates.base_sgd import PeriodicEval
    from avalanche.training.utils import ParamData

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

    from fer_avalanche.strategies.protocols import StatefulPlugin

__all__ = [
    "STATE_VERSION",
    "StateSpec",
    "register_state",
    "register_state_class",
    "strategy_state",
    "load_strategy_state",
    "has_state_protocol",
    "rng_state",
    "load_rng_state",
]

#: Bumped when the layout of :func:`strategy_state` changes.
STATE_VERSION = 2

#: Data attributes every Avalanche classification dataset derives from its leaves.
_DERIVED_ATTRIBUTES = ("targets", "targets_task_labels")


@dataclass(frozen=True)
class StateSpec:
    """What to checkpoint for objects of one class: attribute paths and a hook run after loading."""

    attrs: tuple[str, ...]
    after_load: Callable[[Any, Any], None] | None = None


_SPECS: dict[type, StateSpec] = {}
_CLASSES: dict[str, type] = {}


def register_state(
    cls: type, attrs: Sequence[str], after_load: Callable[[Any, Any], None] | None = None
) -> None:
    """Adapter: checkpoint ``attrs`` (dotted paths, e.g. ``"lwf.prev_model"``) of every ``cls`` object.

    For classes you cannot give ``state_dict()`` / ``load_state_dict()`` (a third-party plugin or
    strategy); your own plugins should define those two methods instead, which take precedence.
    ``after_load(obj, strategy)`` runs once the attributes are restored (to rebuild derived objects
    such as data loaders). Subclasses inherit the spec of their closest registered base.

    Example:
        >>> class CounterPlugin(SupervisedPlugin):  # doctest: +SKIP
        ...     def __init__(self): super().__init__(); self.seen = 0
        >>> register_state(CounterPlugin, ["seen"])  # doctest: +SKIP
    """
    _SPECS[cls] = StateSpec(tuple(attrs), after_load)


def register_state_class(cls: type) -> None:
    """Allow objects of ``cls`` inside checkpointed attributes (saved and rebuilt from their ``__dict__``)."""
    _CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls


def has_state_protocol(obj: object) -> TypeGuard[StatefulPlugin]:
    """Whether ``obj`` declares its state itself (``state_dict()`` and ``load_state_dict(state)``:
    a :class:`~fer_avalanche.strategies.protocols.StatefulPlugin`)."""
    return (
        not isinstance(obj, nn.Module | type)
        and callable(getattr(obj, "state_dict", None))
        and callable(getattr(obj, "load_state_dict", None))
    )


def _spec_of(obj: object) -> StateSpec | None:
    """The merged spec of every registered class in ``type(obj).__mro__`` (``None`` if there is none)."""
    specs = [_SPECS[klass] for klass in reversed(type(obj).__mro__) if klass in _SPECS]
    if not specs:
        return None
    attrs = tuple(dict.fromkeys(a for spec in specs for a in spec.attrs))
    hooks = [spec.after_load for spec in specs if spec.after_load is not None]
    return StateSpec(attrs, hooks[-1] if hooks else None)


# ------------------------------------------------------------------------------------- the codec
class _Codec:
    """Turns attribute values into weights_only-safe trees and back (see the module docstring)."""

    def __init__(self, datasets: Sequence[Any], model: nn.Module, device: torch.device) -> None:
        self.datasets = list(datasets)
        self.model = model
        self.device = device
        self._offsets: dict[int, int] | None = None
        self._universe: Any = None

    # ---------------------------------------------------------------- datasets by reference
    def _leaf_offsets(self) -> dict[int, int]:
        if self._offsets is None:
            offsets, start = {}, 0
            for k, ds in enumerate(self.datasets):
                view = gather_tensors(ds)
                if (
                    view is None
                    or len(view.leaves) != 1
                    or not torch.equal(view.local, torch.arange(len(view.leaves[0])))
                ):
                    raise CheckpointError(
                        f"reference dataset {k} is not one whole fer-avalanche dataset; pass the "
                        "experiences' own training datasets"
                    )
                offsets.setdefault(id(view.leaves[0]), start)
                start += len(view.leaves[0])
            self._offsets = offsets
        return self._offsets

    def _encode_dataset(self, ds: AvalancheDataset) -> dict[str, Any]:
        extra = {
            name: (
                torch.stack([torch.as_tensor(v) for v in attr]) if len(attr) else torch.empty(0),
                bool(attr.use_in_getitem),
            )
            for name, attr in ds._data_attributes.items()
            if name not in _DERIVED_ATTRIBUTES
        }
        if len(ds) == 0:
            return {"__t": "dataset", "index": torch.empty(0, dtype=torch.long), "extra": {}}
        view = gather_tensors(ds)
        if view is None:
            raise CheckpointError(
                f"cannot checkpoint a buffer dataset of type {type(ds).__name__} that is not built "
                "from fer-avalanche datasets"
            )
        offsets = self._leaf_offsets()
        base = []
        for leaf in view.leaves:
            if id(leaf) not in offsets:
                raise CheckpointError(
                    f"a buffer holds samples of {leaf!r}, which is not among the experience datasets "
                    "given to strategy_state"
                )
            base.append(offsets[id(leaf)])
        index = torch.tensor(base, dtype=torch.long)[view.leaf_of] + view.local
        return {"__t": "dataset", "index": index, "extra": {k: list(v) for k, v in extra.items()}}

    def _decode_dataset(self, node: dict[str, Any]) -> AvalancheDataset:
        index = node["index"]
        if len(index) == 0:
            return concat_datasets([])
        if self._universe is None:
            self._leaf_offsets()
            universe = self.datasets[0]
            for ds in self.datasets[1:]:
                universe = universe.concat(ds)
            self._universe = universe
        out = self._universe.subset(index.tolist())
        attributes = [
            TensorDataAttribute(
                FlatData([list(values.unbind(0))], discard_elements_not_in_indices=True),
                name=name,
                use_in_getitem=in_getitem,
            )
            for name, (values, in_getitem) in node["extra"].items()
        ]
        return make_avalanche_dataset(out, data_attributes=attributes) if attributes else out

    # ---------------------------------------------------------------------------- modules
    @staticmethod
    def module_state(module: nn.Module) -> dict[str, Any]:
        return {
            "state": {k: v.detach().cpu().clone() for k, v in module.state_dict().items()},
            "training": [m.training for m in module.modules()],
            "requires_grad": [p.requires_grad for p in module.parameters()],
        }

    @staticmethod
    def load_module_state(module: nn.Module, node: dict[str, Any]) -> None:
        load_weights(module, node["state"])
        for m, training in zip(module.modules(), node["training"], strict=True):
            m.training = bool(training)
        for p, flag in zip(module.parameters(), node["requires_grad"], strict=True):
            p.requires_grad_(bool(flag))

    def _device(self, saved: str) -> torch.device:
        return torch.device(saved) if saved == "cpu" else self.device

    # ------------------------------------------------------------------------- encode
    def encode(self, value: object, where: str) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, torch.Tensor):
            return {"__t": "tensor", "v": value.detach().cpu().clone(), "device": str(value.device)}
        if isinstance(value, np.ndarray):
            return {"__t": "ndarray", "v": torch.from_numpy(value.copy()), "dtype": str(value.dtype)}
        if isinstance(value, torch.Generator):
            return {"__t": "generator", "v": value.get_state(), "device": str(value.device)}
        if isinstance(value, ParamData):
            return {
                "__t": "param",
                "name": value.name,
                "v": value.data.detach().cpu().clone(),
                "device": str(value.device),
            }
        if isinstance(value, nn.Module):
            return {"__t": "module", **self.module_state(value)}
        if isinstance(value, AvalancheDataset):
            return self._encode_dataset(value)
        if isinstance(value, defaultdict):
            factory = value.default_factory
            if factory not in (set, list, dict, int):
                raise CheckpointError(f"{where}: cannot checkpoint a defaultdict of {factory!r}")
            return {
                "__t": "defaultdict",
                "factory": factory.__name__,
                "items": [[self.encode(k, where), self.encode(v, where)] for k, v in value.items()],
            }
        if isinstance(value, dict):
            return {
                "__t": "dict",
                "items": [[self.encode(k, where), self.encode(v, where)] for k, v in value.items()],
            }
        if isinstance(value, list):
            return [self.encode(v, where) for v in value]
        if isinstance(value, tuple):
            return {"__t": "tuple", "items": [self.encode(v, where) for v in value]}
        if isinstance(value, set | frozenset):
            return {"__t": "set", "items": [self.encode(v, where) for v in value]}
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if name in _CLASSES:
            attrs = {k: self.encode(v, f"{where}.{k}") for k, v in vars(value).items()}
            return {"__t": "obj", "cls": name, "attrs": attrs}
        raise CheckpointError(
            f"{where}: cannot checkpoint a {name} (register it with register_state_class or register_state)"
        )

    # ------------------------------------------------------------------------- decode
    def decode(self, node: object) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        kind = node["__t"]
        if kind == "tensor":
            return node["v"].to(self._device(node["device"]))
        if kind == "ndarray":
            return node["v"].numpy().astype(node["dtype"], copy=True)
        if kind == "generator":
            gen = torch.Generator(device=self._device(node["device"]))
            gen.set_state(node["v"])
            return gen
        if kind == "param":
            device = self._device(node["device"])
            return ParamData(node["name"], init_tensor=node["v"].to(device), device=device)
        if kind == "module":
            module = copy.deepcopy(self.model)
            self.load_module_state(module, node)
            return module
        if kind == "dataset":
            return self._decode_dataset(node)
        if kind in ("dict", "defaultdict"):
            items = ((self.decode(k), self.decode(v)) for k, v in node["items"])
            if kind == "dict":
                return dict(items)
            factory = {"set": set, "list": list, "dict": dict, "int": int}[node["factory"]]
            return defaultdict(factory, items)
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "set":
            return {self.decode(v) for v in node["items"]}
        if kind == "obj":
            cls = _CLASSES.get(node["cls"])
            if cls is None:
                raise CheckpointError(f"checkpoint holds an object of {node['cls']}, which is not allowed")
            obj = cls.__new__(cls)
            obj.__dict__.update({k: self.decode(v) for k, v in node["attrs"].items()})
            return obj
        raise CheckpointError(f"unknown entry {kind!r} in a strategy checkpoint")


def _get_path(obj: object, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _set_path(obj: object, path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, last, value)


# ----------------------------------------------------------------------------------------- RNGs
def rng_state() -> dict[str, Any]:
    """The Python, NumPy, torch (and CUDA) global random states as tensors and numbers."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    return {
        "python": [version, torch.tensor(internal, dtype=torch.long), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def load_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(v) for v in internal.tolist()), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


# ------------------------------------------------------------------------------------ optimizer
def _optimizer_state(strategy: SupervisedTemplate) -> dict[str, Any]:
    names = {id(p): n for n, p in strategy.model.named_parameters()}
    optimizer = strategy.optimizer
    groups = [[names[id(p)] for p in g["params"]] for g in optimizer.param_groups]
    tracked = getattr(strategy, "optimized_param_id", None)
    return {
        "groups": groups,
        "state": optimizer.state_dict(),
        "optimized": None if tracked is None else list(tracked),
    }


def _load_optimizer_state(strategy: SupervisedTemplate, state: dict[str, Any]) -> None:
    params = dict(strategy.model.named_parameters())
    optimizer = strategy.optimizer
    missing = sorted({n for g in state["groups"] for n in g} - set(params))
    if missing:
        raise CheckpointError(f"optimizer checkpoint names parameters the model lacks: {missing[:3]}")
    template = optimizer.param_groups[0]
    optimizer.param_groups[:] = [{**template, "params": [params[n] for n in g]} for g in state["groups"]]
    optimizer.state = defaultdict(dict)
    optimizer.load_state_dict(state["state"])
    if state["optimized"] is not None:
        strategy.optimized_param_id = {n: params[n] for n in state["optimized"]}


# ------------------------------------------------------------------------------------ public API
def _parts(strategy: SupervisedTemplate) -> list[tuple[str, Any]]:
    """The strategy and its plugins, each with a stable key (class name and position)."""
    return [("strategy", strategy)] + [
        (f"plugin{i}:{type(p).__name__}", p) for i, p in enumerate(strategy.plugins)
    ]


def strategy_state(strategy: SupervisedTemplate, datasets: Sequence[Any]) -> dict[str, Any]:
    """Everything ``strategy`` carries to its next training experience, as a weights_only-safe dict.

    Args:
        strategy: a strategy from :func:`~fer_avalanche.strategies.registry.make_strategy` (or any
            Avalanche template whose plugins are registered), between two training experiences.
        datasets: the experiences' training datasets (source first), which buffers are stored as
            indices into. Pass the same list, in the same order, to :func:`load_strategy_state`.

    Raises:
        CheckpointError: a plugin (or buffered object) with no registered state.
    """
    codec = _Codec(datasets, strategy.model, strategy.device)
    parts: dict[str, Any] = {}
    for key, obj in _parts(strategy):
        if key != "strategy" and has_state_protocol(obj):
            parts[key] = {"state_dict": codec.encode(obj.state_dict(), f"{key}.state_dict()")}
            continue
        spec = _spec_of(obj)
        if spec is None:
            if key == "strategy":
                continue
            raise CheckpointError(
                f"strategy plugin {type(obj).__name__} declares no checkpoint state: give it "
                "state_dict() / load_state_dict(state) (return {} if it carries nothing between "
                "experiences), or register an adapter (fer_avalanche.strategies.state.register_state)"
            )
        parts[key] = {
            "attrs": {path: codec.encode(_get_path(obj, path), f"{key}.{path}") for path in spec.attrs}
        }
    return {
        "version": STATE_VERSION,
        "model": codec.module_state(strategy.model),
        "optimizer": _optimizer_state(strategy),
        "parts": parts,
        "rng": rng_state(),
    }


def _checkpointed(key: str, obj: object) -> bool:
    return (key != "strategy" and has_state_protocol(obj)) or _spec_of(obj) is not None


def load_strategy_state(strategy: SupervisedTemplate, state: dict[str, Any], datasets: Sequence[Any]) -> None:
    """Restore :func:`strategy_state` into a freshly built strategy of the same name and settings.

    Build it as the original was built (``make_strategy(..., source=source_experience)``, which
    warm-starts it, or the older ``make_strategy`` + ``warm_start``), then call this before its next
    ``train``.

    Raises:
        CheckpointError: the state was saved by another strategy, model or version.
    """
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise CheckpointError(
            f"strategy checkpoint version {state.get('version') if isinstance(state, dict) else None!r}, "
            f"expected {STATE_VERSION}"
        )
    saved_keys = set(state["parts"])
    keys = {key for key, obj in _parts(strategy) if _checkpointed(key, obj)}
    if saved_keys != keys:
        raise CheckpointError(
            f"strategy checkpoint was saved with parts {sorted(saved_keys)}, this strategy has {sorted(keys)}"
        )
    codec = _Codec(datasets, strategy.model, strategy.device)
    codec.load_module_state(strategy.model, state["model"])
    _load_optimizer_state(strategy, state["optimizer"])
    hooks = []
    for key, obj in _parts(strategy):
        node = state["parts"].get(key)
        if node is None:
            continue
        if "state_dict" in node:
            obj.load_state_dict(codec.decode(node["state_dict"]))
            continue
        for path, value in node["attrs"].items():
            _set_path(obj, path, codec.decode(value))
        spec = _spec_of(obj)
        if spec is not None and spec.after_load is not None:
            hooks.append((spec.after_load, obj))
    for hook, obj in hooks:
        hook(obj, strategy)
    load_rng_state(state["rng"])


# -------------------------------------------------------------------------------- registrations
def _rebuild_agem_loader(plugin: AGEMPlugin, strategy: SupervisedTemplate) -> None:
    """A-GEM's infinite loader over its buffers (what ``update_memory`` builds; lazily iterated)."""
    from avalanche.benchmarks.utils.data_loader import GroupBalancedInfiniteDataLoader

    if plugin.buffers:
        plugin.buffer_dataloader = GroupBalancedInfiniteDataLoader(
            plugin.buffers,
            batch_size=plugin.sample_size // len(plugin.buffers),
            num_workers=0,
            pin_memory=False,
            persistent_workers=False,
        )
        plugin.buffer_dliter = iter(plugin.buffer_dataloader)


_CLOCK_ATTRS = (
    "train_iterations",
    "train_exp_counter",
    "train_exp_epochs",
    "train_exp_iterations",
    "train_epoch_iterations",
    "total_iterations",
)

# Adapters for Avalanche's classes (every plugin of this package declares state_dict/load_state_dict).
register_state(FastDataMixin, ["data_generator"])
register_state(DER, ["storage_policy"])
register_state(Clock, _CLOCK_ATTRS)
register_state(EvaluationPlugin, [])  # evaluation results are recorded by the runner
register_state(PeriodicEval, ["_is_eval_updated"])
register_state(LwFPlugin, ["lwf.prev_model", "lwf.expcount", "lwf.prev_classes_by_task"])
register_state(EWCPlugin, ["saved_params", "importances"])
register_state(MASPlugin, ["importance", "params"])
register_state(SynapticIntelligencePlugin, ["ewc_data", "syn_data"])
register_state(GDumbPlugin, ["storage_policy", "init_model"])
register_state(AGEMPlugin, ["buffers"], after_load=_rebuild_agem_loader)
for _cls in (
    ReservoirSamplingBuffer,
    ClassBalancedBuffer,
    ExperienceBalancedBuffer,
    ClassBalancedBufferWithLogits,
):
    register_state_class(_cls)
