"""The architectures: sizes, named parts, BatchNorm on/off, local initial weights."""

import pytest
import torch
from torch import nn

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.models import PART_NAMES, list_architectures, make_model


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("arch", ["fernet", "paper", "resnet18"])
def test_every_architecture_has_the_freezable_parts_and_classifies_48x48(arch):
    model = make_model(arch, width=8)
    assert [name for name, _ in model.named_children()] == list(PART_NAMES)
    assert model(torch.zeros(3, 1, 48, 48)).shape == (3, 7)
    assert model.config["arch"] == arch


def test_paper_architecture_has_the_replications_layout_and_size():
    model = make_model("paper", width=64)
    assert n_params(model) == 19_270_407  # about 19.3M, as PROTOCOL.md says
    first_fc = model.classifier[1]
    assert isinstance(first_fc, nn.Linear) and first_fc.in_features == 128 * 8 * 8
    assert (first_fc.out_features, model.classifier[3].out_features) == (2048, 1024)
    assert n_params(first_fc) == 16_779_264  # the 16.8M of the first FC layer
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (64, (2, 2), (0, 0)),
        (64, (2, 2), (0, 0)),
        (128, (3, 3), (0, 0)),
        (128, (3, 3), (0, 0)),
        (128, (3, 3), (0, 0)),
    ]
    last = [m for m in model.last_conv.modules() if isinstance(m, nn.Conv2d)]
    assert last == [convs[-1]]  # last_conv is the single last conv layer
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.5]


def test_paper_width_scales_every_layer():
    small = make_model("paper", width=16)
    assert small.classifier[1].out_features == 512 and small.features[0].out_channels == 16
    assert n_params(small) < n_params(make_model("paper", width=64)) / 10


def test_fernet_without_batchnorm_has_no_batchnorm_module():
    with_bn = make_model("fernet", width=8)
    without = make_model("fernet", width=8, batchnorm=False)
    assert any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in with_bn.modules())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in without.modules())
    assert all(c.bias is not None for c in without.modules() if isinstance(c, nn.Conv2d))
    assert without(torch.zeros(2, 1, 48, 48)).shape == (2, 7)


def test_resnet18_at_torchvision_width_matches_torchvisions_parameter_count():
    import torchvision

    ours = make_model("resnet18", width=64)
    theirs = torchvision.models.resnet18(num_classes=7)
    # same blocks and FC; the stem has 1 input channel instead of 3
    assert n_params(theirs) - n_params(ours) == 64 * 2 * 7 * 7


def test_resnet18_loads_torchvision_layout_weights_from_a_local_file(tmp_path):
    import torchvision

    tv = torchvision.models.resnet18(num_classes=1000)
    path = tmp_path / "resnet18.pth"
    torch.save(tv.state_dict(), path)
    model = make_model("resnet18", width=64, weights=str(path))
    assert torch.equal(model.last_conv[1].conv2.weight, tv.layer4[1].conv2.weight)
    assert torch.allclose(model.features[0].weight, tv.conv1.weight.sum(1, keepdim=True))
    assert model.classifier[2].out_features == 7  # a 1000-class FC is not loaded


def test_resnet18_weights_errors_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        make_model("resnet18", weights=str(tmp_path / "missing.pth"))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pth"):
        make_model("resnet18", weights=str(bad))


def test_unknown_architecture_or_option_is_a_config_error():
    assert list_architectures() == ["fernet", "paper", "resnet18"]
    with pytest.raises(ConfigError, match="did you mean 'paper'"):
        make_model("papr")
    with pytest.raises(ConfigError, match="no option 'blocks'"):
        make_model("paper", blocks=3)


def test_reset_parameters_reinitialises_every_layer():
    model = make_model("paper", width=8)
    before = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
