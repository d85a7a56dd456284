"""``fernet``: a compact VGG-style CNN for 48x48 grey faces, with or without BatchNorm.

Conv blocks (conv-[BN]-ReLU x2, max-pool, dropout), then an FC head (one hidden layer of ``hidden``
units). ``features`` holds every conv block but the last, ``last_conv`` the last block (two conv
layers), ``classifier`` the FC head. ``width`` is the first block's channels (block ``i`` has
``width * 2**i``); 8-16 runs quickly on a laptop CPU. It is *not* the network of the paper's line of
work (that is ``paper``, :mod:`fer_avalanche.models.paper`): it trains faster and, with BatchNorm,
re-estimates its normalisation statistics on whatever it is fine-tuned on, which counts as forgetting
(``batchnorm=False`` removes that effect).

Example:
    >>> import torch
    >>> from fer_avalanche.models import make_model
    >>> model = make_model("fernet", width=16)
    >>> model(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    >>> [name for name, _ in model.named_children()]
    ['features', 'last_conv', 'classifier']
"""

from __future__ import annotations

from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.models.base import FERModel

__all__ = ["FERNet"]


def _conv_block(c_in: int, c_out: int, dropout: float, batchnorm: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in ((c_in, c_out), (c_out, c_out)):
        layers.append(nn.Conv2d(a, b, 3, padding=1, bias=not batchnorm))
        if batchnorm:
            layers.append(nn.BatchNorm2d(b))
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers, nn.MaxPool2d(2), nn.Dropout(dropout))


class FERNet(FERModel):
    """Conv blocks + FC head for ``image_size x image_size`` grey faces.

    Args:
        num_classes: output classes (7 for ``basic7``, 8 for ``basic8``).
        width: channels of the first block; block ``i`` has ``width * 2**i`` channels.
        blocks: number of conv blocks (the last one is ``last_conv``); at least 2.
        hidden: units of the hidden FC layer (default ``4 * width``).
        dropout: dropout after each conv block (twice that in the head); default 0.25.
        batchnorm: BatchNorm after every conv and the hidden FC layer (default ``True``).
        in_channels: 1 for grey input.
        image_size: input side in pixels; must be divisible by ``2**blocks``.
    """

    def __init__(
        self,
        num_classes: int = 7,
        width: int = 32,
        blocks: int = 3,
        hidden: int | None = None,
        dropout: float | None = None,
        batchnorm: bool = True,
        in_channels: int = 1,
        image_size: int = 48,
    ) -> None:
        super().__init__()
        dropout = 0.25 if dropout is None else float(dropout)
        if blocks < 2:
            raise ConfigError(f"model.blocks must be >= 2 (features + last_conv), got {blocks}")
        if width < 1 or num_classes < 2:
            raise ConfigError(f"model.width must be >= 1 and num_classes >= 2, got {width}, {num_classes}")
        if image_size % (2**blocks):
            raise ConfigError(f"image_size {image_size} must be divisible by 2**blocks = {2**blocks}")
        channels = [in_channels] + [width * 2**i for i in range(blocks)]
        self.features = nn.Sequential(
            *[_conv_block(channels[i], channels[i + 1], dropout, batchnorm) for i in range(blocks - 1)]
        )
        self.last_conv = _conv_block(channels[-2], channels[-1], dropout, batchnorm)
        hidden = hidden or 4 * width
        side = image_size // 2**blocks
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(channels[-1] * side * side, hidden)]
        if batchnorm:
            head.append(nn.BatchNorm1d(hidden))
        head += [nn.ReLU(inplace=True), nn.Dropout(dropout * 2), nn.Linear(hidden, num_classes)]
        self.classifier = nn.Sequential(*head)
        self.config = dict(
            arch="fernet",
            num_classes=num_classes,
            width=width,
            blocks=blocks,
            hidden=hidden,
            dropout=dropout,
            batchnorm=batchnorm,
            in_channels=in_channels,
            image_size=image_size,
        )
