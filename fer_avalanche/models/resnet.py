"""``resnet18``: torchvision's ResNet-18 for 1-channel 48x48 faces, the network the cross-dataset FER
literature reports most often.

torchvision's ``BasicBlock`` stages ``[2, 2, 2, 2]`` with ``width`` (64 = torchvision's) base channels.
The stem is torchvision's 7x7 convolution with one input channel and stride 1, without the max-pool
(a 48x48 face would otherwise be 12x12 before the first stage), so the stages run at 48, 24, 12 and 6
pixels. Parts: ``features`` = stem + stages 1-3, ``last_conv`` = stage 4 (torchvision's ``layer4``),
``classifier`` = global average pool + FC.

Initial weights come only from a local file (``weights="path/to/resnet18.pth"``), never from the
internet: either a state_dict of this model, or one in torchvision's ResNet-18 layout (e.g. the file
``torchvision.models.resnet18(weights=...)`` caches), whose RGB stem is summed into one grey channel
and whose FC layer is kept only when its class count matches.

Example:
    >>> import torch
    >>> from fer_avalanche.models import make_model
    >>> model = make_model("resnet18", width=8)
    >>> model(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.models.base import FERModel

__all__ = ["ResNet18", "load_resnet_weights"]


def _stage(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    down = None
    if stride != 1 or c_in != c_out:
        down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
    return nn.Sequential(BasicBlock(c_in, c_out, stride, down), BasicBlock(c_out, c_out))


class ResNet18(FERModel):
    """ResNet-18 for grey faces (see the module docstring).

    Args:
        num_classes: output classes.
        width: base channels (64 = torchvision's ResNet-18; stages have 1, 2, 4, 8 times that).
        in_channels: 1 for grey input.
        image_size: input side in pixels (recorded; any size >= 8 works).
        weights: a local state_dict file to start from (see the module docstring), or ``None``.
    """

    def __init__(
        self,
        num_classes: int = 7,
        width: int = 64,
        in_channels: int = 1,
        image_size: int = 48,
        weights: str | None = None,
    ) -> None:
        super().__init__()
        if width < 1 or num_classes < 2:
            raise ConfigError(f"model.width must be >= 1 and num_classes >= 2, got {width}, {num_classes}")
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 7, stride=1, padding=3, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(inplace=True),
            _stage(w, w, 1),
            _stage(w, 2 * w, 2),
            _stage(2 * w, 4 * w, 2),
        )
        self.last_conv = _stage(4 * w, 8 * w, 2)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * w, num_classes))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.config = dict(
            arch="resnet18",
            num_classes=num_classes,
            width=width,
            in_channels=in_channels,
            image_size=image_size,
            weights=weights,
        )
        if weights:
            load_resnet_weights(self, weights)


#: torchvision ResNet key prefix -> ours.
_PREFIXES = {
    "conv1.": "features.0.",
    "bn1.": "features.1.",
    "layer1.": "features.3.",
    "layer2.": "features.4.",
    "layer3.": "features.5.",
    "layer4.": "last_conv.",
    "fc.": "classifier.2.",
}


def _from_torchvision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for old, new in _PREFIXES.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def load_resnet_weights(model: ResNet18, path: str | Path) -> list[str]:
    """Load a local state_dict (ours or torchvision's ResNet-18 layout) into ``model``.

    Returns the keys that were left at their initial values (the FC layer when its class count
    differs). Raises :class:`CheckpointError` naming the file when it is missing, unreadable, or holds
    weights of another shape.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: model.weights file not found (weights are never downloaded)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot load weights ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a state_dict")
    if "conv1.weight" in state:
        state = _from_torchvision(state)
    own = model.state_dict()
    stem = state.get("features.0.weight")
    if stem is not None and stem.shape[1] != own["features.0.weight"].shape[1]:
        state["features.0.weight"] = stem.sum(dim=1, keepdim=True)  # RGB -> grey
    skipped = [
        k
        for k in ("classifier.2.weight", "classifier.2.bias")
        if k in state and state[k].shape != own[k].shape
    ]
    for key in skipped:
        state.pop(key)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(
            f"{path}: weights do not fit resnet18 width {model.config['width']} ({first})"
        ) from None
    real_missing = [k for k in missing if k not in skipped and not k.endswith("num_batches_tracked")]
    if real_missing or unexpected:
        raise CheckpointError(
            f"{path}: not ResNet-18 weights (missing {real_missing[:3]}, unexpected {list(unexpected)[:3]})"
        )
    return skipped
