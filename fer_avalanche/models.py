"""The paper-style CNN for 48x48 grey faces, with parts named so strategies can freeze them by name.

``FERNet`` is a stack of convolution blocks (conv-BN-ReLU x2, max-pool, dropout) followed by fully
connected layers. Its top-level children are ``features`` (every conv block but the last),
``last_conv`` (the last conv block) and ``classifier`` (the FC head), so
``freeze(model, ["features", "last_conv"])`` leaves only the FC layers trainable (the paper's *FC*
strategy) and ``freeze(model, ["features"])`` the last conv layer plus FC (*FC + last conv*).
``width`` scales every layer: 64 is the paper's size for GPUs, 16 runs quickly on a laptop CPU.

Example:
    >>> import torch
    >>> from fer_avalanche.models import make_model
    >>> model = make_model(width=16)
    >>> model(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    >>> [name for name, _ in model.named_children()]
    ['features', 'last_conv', 'classifier']
"""

from __future__ import annotations

import torch
from torch import nn

from fer_avalanche.errors import ConfigError

__all__ = ["FERNet", "make_model", "PART_NAMES"]

#: Names of the model's freezable parts, input to output.
PART_NAMES: tuple[str, ...] = ("features", "last_conv", "classifier")


def _conv_block(c_in: int, c_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Dropout(dropout),
    )


class FERNet(nn.Module):
    """Conv blocks + FC head for ``image_size x image_size`` grey faces.

    Args:
        num_classes: output classes (7 for ``basic7``, 8 for ``basic8``).
        width: channels of the first block; block ``i`` has ``width * 2**i`` channels.
        blocks: number of conv blocks (the last one is ``last_conv``); at least 2.
        hidden: units of the hidden FC layer (default ``4 * width``).
        dropout: dropout after each conv block and in the head.
        in_channels: 1 for grey input.
        image_size: input side in pixels; must be divisible by ``2**blocks``.
    """

    def __init__(
        self,
        num_classes: int = 7,
        width: int = 32,
        blocks: int = 3,
        hidden: int | None = None,
        dropout: float = 0.25,
        in_channels: int = 1,
        image_size: int = 48,
    ) -> None:
        super().__init__()
        if blocks < 2:
            raise ConfigError(f"model.blocks must be >= 2 (features + last_conv), got {blocks}")
        if width < 1 or num_classes < 2:
            raise ConfigError(f"model.width must be >= 1 and num_classes >= 2, got {width}, {num_classes}")
        if image_size % (2**blocks):
            raise ConfigError(f"image_size {image_size} must be divisible by 2**blocks = {2**blocks}")
        channels = [in_channels] + [width * 2**i for i in range(blocks)]
        self.features = nn.Sequential(
            *[_conv_block(channels[i], channels[i + 1], dropout) for i in range(blocks - 1)]
        )
        self.last_conv = _conv_block(channels[-2], channels[-1], dropout)
        hidden = hidden or 4 * width
        side = image_size // 2**blocks
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels[-1] * side * side, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout * 2),
            nn.Linear(hidden, num_classes),
        )
        self.config = dict(
            num_classes=num_classes,
            width=width,
            blocks=blocks,
            hidden=hidden,
            dropout=dropout,
            in_channels=in_channels,
            image_size=image_size,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` for float images ``[B, 1, H, W]``."""
        return self.classifier(self.last_conv(self.features(x)))

    def reset_parameters(self) -> None:
        """Fresh initialisation of every layer, BatchNorm running statistics included."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()


def make_model(num_classes: int = 7, width: int = 32, **kwargs: int | float) -> FERNet:
    """Build a :class:`FERNet` (the only architecture for now; kept as a factory for the registry)."""
    return FERNet(num_classes=num_classes, width=width, **kwargs)  # type: ignore[arg-type]
