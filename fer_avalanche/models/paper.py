"""``paper``: the CNN of the paper's line of work, as a public replication of Tannugi et al. lays it out.

conv 64 2x2, conv 64 2x2, max-pool 2, conv 128 3x3, conv 128 3x3, conv 128 3x3, max-pool 2, FC 2048,
FC 1024, dropout 0.5, 7 outputs; ReLU after every layer, no padding, no BatchNorm: about 19.3M
parameters at full width (16.8M of them in the first FC layer). The paper's own architecture section
could not be retrieved; this is the replication's layout (``docs/protocol.md``).

Parts: ``features`` = the first four conv layers (and the first pool), ``last_conv`` = the single last
conv layer (and the second pool), ``classifier`` = the three FC layers. ``width`` scales every layer
(``width / 64`` of the full size: conv ``width``, ``2 * width`` channels; FC ``32 * width``,
``16 * width`` units), so ``width=64`` is the full network and ``width=16`` a CPU-sized one.

Example:
    >>> import torch
    >>> from fer_avalanche.models import make_model
    >>> model = make_model("paper", width=64)
    >>> sum(p.numel() for p in model.parameters())
    19270407
    >>> model(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
"""

from __future__ import annotations

from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.models.base import FERModel

__all__ = ["PaperNet"]


class PaperNet(FERModel):
    """The paper-style CNN (see the module docstring).

    Args:
        num_classes: output classes.
        width: first conv layer's channels (64 = the full network).
        dropout: dropout before the output layer (default 0.5).
        in_channels: 1 for grey input.
        image_size: input side in pixels (at least 28, so that the last feature map is not empty).
    """

    def __init__(
        self,
        num_classes: int = 7,
        width: int = 64,
        dropout: float | None = None,
        in_channels: int = 1,
        image_size: int = 48,
    ) -> None:
        super().__init__()
        dropout = 0.5 if dropout is None else float(dropout)
        if width < 1 or num_classes < 2:
            raise ConfigError(f"model.width must be >= 1 and num_classes >= 2, got {width}, {num_classes}")
        side = ((image_size - 2) // 2 - 6) // 2  # two 2x2 convs, pool, three 3x3 convs, pool
        if side < 1:
            raise ConfigError(f"the paper architecture needs image_size >= 28, got {image_size}")
        c1, c2, f1, f2 = width, 2 * width, 32 * width, 16 * width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c1, 2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3),
            nn.ReLU(inplace=True),
            nn.Conv2d(c2, c2, 3),
            nn.ReLU(inplace=True),
        )
        self.last_conv = nn.Sequential(nn.Conv2d(c2, c2, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, f1),
            nn.ReLU(inplace=True),
            nn.Linear(f1, f2),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(f2, num_classes),
        )
        self.config = dict(
            arch="paper",
            num_classes=num_classes,
            width=width,
            dropout=dropout,
            in_channels=in_channels,
            image_size=image_size,
        )
