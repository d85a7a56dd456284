"""Train-time augmentation of whole batches on the training device (no per-sample Python).

Each training batch (already normalised by the loader) gets, in one vectorised pass: a random crop
after padding (pad, then per-sample offsets gathered by advanced indexing), a horizontal flip with
probability 0.5 (folded into the same gather) and, optionally, brightness and contrast jitter. Eval
batches are never touched. The random draws come from the plugin's own ``torch.Generator`` on the
training device, seeded, so a run is reproducible and its state can be checkpointed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from fer_avalanche.benchmarks import MEAN, STD
from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["BatchAugmentPlugin", "augment_batch"]


def augment_batch(
    x: torch.Tensor,
    generator: torch.Generator,
    crop_padding: int = 4,
    flip: bool = True,
    brightness: float = 0.0,
    contrast: float = 0.0,
) -> torch.Tensor:
    """Augment a normalised image batch ``[B, C, H, W]`` (a new tensor; ``x`` is not modified).

    Args:
        x: float images normalised with :data:`~fer_avalanche.benchmarks.MEAN`/``STD``.
        generator: random source on ``x.device``.
        crop_padding: pad each side by this many pixels (edge-replicated), then crop back to ``H x W``
            at a random offset per sample; 0 = no crop.
        flip: mirror each sample left-right with probability 0.5.
        brightness: multiply intensities (in ``[0, 1]`` units) by a factor in ``[1-b, 1+b]``.
        contrast: scale each sample's deviation from its mean by a factor in ``[1-c, 1+c]``.
    """
    b, c, h, w = x.shape
    dev = x.device
    rows = torch.arange(h, device=dev).expand(b, h)
    cols = torch.arange(w, device=dev).expand(b, w)
    src = x
    if crop_padding > 0:
        p = crop_padding
        src = F.pad(x, (p, p, p, p), mode="replicate")
        rows = rows + torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
        cols = cols + torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
    if flip:
        mirrored = torch.rand(b, 1, device=dev, generator=generator) < 0.5
        cols = torch.where(mirrored, cols.flip(1), cols)
    if crop_padding > 0 or flip:
        bi = torch.arange(b, device=dev)[:, None, None, None]
        ci = torch.arange(c, device=dev)[None, :, None, None]
        src = src[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]
    if brightness > 0 or contrast > 0:
        img = src * STD + MEAN
        if brightness > 0:
            factor = 1 + (torch.rand(b, 1, 1, 1, device=dev, generator=generator) * 2 - 1) * brightness
            img = img * factor
        if contrast > 0:
            factor = 1 + (torch.rand(b, 1, 1, 1, device=dev, generator=generator) * 2 - 1) * contrast
            mean = img.mean(dim=(1, 2, 3), keepdim=True)
            img = (img - mean) * factor + mean
        src = (img.clamp_(0, 1) - MEAN) / STD
    return src if src is not x else x.clone()


class BatchAugmentPlugin(SupervisedPlugin):
    """Random crop, flip and intensity jitter of every training batch, on the training device.

    Replaces ``strategy.mbatch[0]`` in ``before_forward`` while ``strategy.is_training``; evaluation
    batches pass unchanged. Rehearsal strategies that append memory samples after the plugins run
    (Avalanche's DER) augment the current-experience part only.

    Args:
        crop_padding: pixels of padding for the random crop (0 disables it).
        flip: random horizontal flips.
        brightness: brightness jitter amplitude in ``[0, 1)`` (0 disables it).
        contrast: contrast jitter amplitude in ``[0, 1)`` (0 disables it).
        seed: seed of the plugin's generator (created on the strategy's device at the first batch).

    Checkpointing: :meth:`state_dict` returns ``{"seed": int, "generator": uint8 tensor or None}``;
    :meth:`load_state_dict` restores it (also before the first batch).

    Example:
        >>> from fer_avalanche.strategies.plugins import BatchAugmentPlugin
        >>> BatchAugmentPlugin(crop_padding=4, flip=True, seed=0)
        BatchAugmentPlugin(crop_padding=4, flip=True, brightness=0.0, contrast=0.0, seed=0)
    """

    def __init__(
        self,
        crop_padding: int = 4,
        flip: bool = True,
        brightness: float = 0.0,
        contrast: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not is_int(crop_padding) or crop_padding < 0:
            raise ConfigError(f"BatchAugmentPlugin crop_padding must be an int >= 0, got {crop_padding!r}")
        for name, value in (("brightness", brightness), ("contrast", contrast)):
            if not isinstance(value, int | float) or not 0 <= value < 1:
                raise ConfigError(f"BatchAugmentPlugin {name} must be a number in [0, 1), got {value!r}")
        if not is_int(seed):
            raise ConfigError(f"BatchAugmentPlugin seed must be an int, got {seed!r}")
        self.crop_padding = crop_padding
        self.flip = bool(flip)
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.seed = seed
        self.generator: torch.Generator | None = None
        self._pending_state: torch.Tensor | None = None

    def _generator_on(self, device: torch.device) -> torch.Generator:
        if self.generator is None or self.generator.device != device:
            self.generator = torch.Generator(device=device).manual_seed(self.seed)
            if self._pending_state is not None:
                self.generator.set_state(self._pending_state)
                self._pending_state = None
        return self.generator

    def before_forward(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if not strategy.is_training:
            return
        x = strategy.mbatch[0]
        gen = self._generator_on(x.device)
        strategy.mbatch[0] = augment_batch(
            x, gen, self.crop_padding, self.flip, self.brightness, self.contrast
        )

    # ----------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        """``{"seed": int, "generator": uint8 CPU tensor (None before the first batch)}``."""
        state = self.generator.get_state() if self.generator is not None else self._pending_state
        return {"seed": self.seed, "generator": None if state is None else state.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the generator state saved by :meth:`state_dict`."""
        self.seed = int(state["seed"])
        gen_state = state.get("generator")
        self._pending_state = None if gen_state is None else gen_state.clone()
        if self.generator is not None:
            device = self.generator.device
            self.generator = None
            self._generator_on(device)

    def __repr__(self) -> str:
        return (
            f"BatchAugmentPlugin(crop_padding={self.crop_padding}, flip={self.flip}, "
            f"brightness={self.brightness}, contrast={self.contrast}, seed={self.seed})"
        )
