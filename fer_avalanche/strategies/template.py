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
- the model uses ``channels_last`` on CUDA and on CPUs with oneDNN (x86, most ARM builds): there
  oneDNN's convolutions, BatchNorm and max-pooling run natively in that layout; measured on a 2-core
  Xeon, a width-16 FERNet trains about 1.3x and evaluates about 1.6x faster than in NCHW
  (``benchmarks/bench_training.py``, ``bench_eval.py``). Results are the same up to float rounding.

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
from typing import Any

import torch

from fer_avalanche.loaders import DeviceBatchLoader, gather_tensors
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import AGEMPlugin, GSS_greedyPlugin
    from avalanche.training.templates import SupervisedTemplate

#: Avalanche plugins that ``view(-1)`` parameter gradients, which fails on channels_last tensors: with
#: them the model stays NCHW (unless ``channels_last=True`` is asked for explicitly).
_NCHW_ONLY_PLUGINS = (AGEMPlugin, GSS_greedyPlugin)

__all__ = ["FastDataMixin", "fast", "FERTemplate"]


class FastDataMixin:
    """Device-resident batches, seeded shuffling and mixed precision for an Avalanche template.

    Keyword args (consumed here, the rest go to the template):
        amp: bf16 autocast for the forward pass; ``None`` = on when the device is CUDA.
        fast_data: use :class:`DeviceBatchLoader` when possible (``True``).
        data_seed: seed of the shuffling generator.
        channels_last: ``None`` = on for CUDA, and for CPU when oneDNN (mkldnn) is available, except
            with plugins that need NCHW gradients (Avalanche's A-GEM and GSS-greedy).
    """

    def __init__(
        self,
        *args: Any,
        amp: bool | None = None,
        fast_data: bool = True,
        data_seed: int = 0,
        channels_last: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        cuda = self.device.type == "cuda"  # type: ignore[attr-defined]
        self.amp = cuda if amp is None else bool(amp and cuda)
        self.fast_data = fast_data
        self.data_generator = torch.Generator().manual_seed(int(data_seed))
        if channels_last is None:
            channels_last = (cuda or torch.backends.mkldnn.is_available()) and not any(
                isinstance(p, _NCHW_ONLY_PLUGINS)
                for p in self.plugins  # type: ignore[attr-defined]
            )
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[has-type]

    # ------------------------------------------------------------ data
    def make_train_dataloader(self, shuffle: bool = True, drop_last: bool = False, **kwargs: Any) -> None:
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

    def make_eval_dataloader(self, **kwargs: Any) -> None:
        view = gather_tensors(self.adapted_dataset) if self.fast_data else None  # type: ignore[attr-defined]
        if view is None:
            super().make_eval_dataloader(**kwargs)  # type: ignore[misc]
            return
        self.dataloader = DeviceBatchLoader(view, self.eval_mb_size, device=self.device)  # type: ignore[attr-defined]

    # --------------------------------------------------------- forward
    def forward(self) -> torch.Tensor:
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
