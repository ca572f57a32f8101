from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnc.models import CNNC

CONFIGS = [
    {},
    {"filters": (8, 16, 32), "dense": 64, "image_size": 24},
    {"filters": (8, 16), "dense": 32, "image_size": 16},
    {"in_channels": 2, "image_size": 40, "n_classes": 2},
    {"n_classes": 1, "filters": (4, 8, 16), "dense": 16},
    {"batchnorm": True, "filters": (4, 8, 16), "dense": 16},
    {"n_extra_features": 4, "filters": (4, 8, 16), "dense": 16},
]


def _flops_measured(net: CNNC) -> int:
    cfg = net.config
    x = torch.zeros(1, cfg["in_channels"], cfg["image_size"], cfg["image_size"])
    extra = torch.zeros(1, cfg["n_extra_features"]) if cfg["n_extra_features"] else None
    net.eval()
    with FlopCounterMode(display=False) as counter:
        net(x, extra)
    return counter.get_total_flops()


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_output_shape_and_flops(kwargs):
    torch.manual_seed(0)
    net = CNNC(**kwargs)
    cfg = net.config
    x = torch.rand(5, cfg["in_channels"], cfg["image_size"], cfg["image_size"])
    extra = torch.rand(5, cfg["n_extra_features"]) if cfg["n_extra_features"] else None
    out = net(x, extra)
    assert out.shape == (5, cfg["n_classes"])
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    # the arithmetic count equals torch's own FLOP counter
    assert net.flops_per_pair() == _flops_measured(net)


def test_original_architecture():
    net = CNNC()
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64, 128, 128]
    assert [c.padding for c in convs] == ["same", "valid"] * 3
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert net.flatten_size == 128 * 2 * 2
    assert sum(p.numel() for p in net.parameters()) == 550_627
    drop = [m.p for m in net.modules() if isinstance(m, nn.Dropout)]
    assert drop == [0.25, 0.25, 0.25, 0.5]
    # ~48 MFLOP per pair, as in the original
    assert net.flops_per_pair() == 48_487_424
    assert 47e6 < net.flops_per_pair() < 49e6


def test_keras_initialisation_and_seeding():
    torch.manual_seed(3)
    a = CNNC(filters=(8, 16, 32), dense=64)
    torch.manual_seed(3)
    b = CNNC(filters=(8, 16, 32), dense=64)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    for m in a.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            assert torch.count_nonzero(m.bias) == 0
            fan_in = m.weight[0].numel()
            fan_out = m.weight.shape[0] * (m.weight[0, 0].numel() if m.weight.ndim == 4 else 1)
            bound = math.sqrt(6 / (fan_in + fan_out))
            w = m.weight.detach()
            assert w.abs().max() <= bound
            if w.numel() > 1000:  # uniform(-bound, bound) has std bound / sqrt(3)
                assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_batchnorm_layers_have_no_redundant_bias():
    net = CNNC(batchnorm=True, filters=(4, 8, 16), dense=16)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 6
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net.modules()) == 1
    assert all(m.bias is None for m in net.features if isinstance(m, nn.Conv2d))
    assert net.head.bias is not None


def test_extra_features_change_the_output():
    torch.manual_seed(0)
    net = CNNC(n_extra_features=2, filters=(4, 8, 16), dense=16, dense_dropout=0.0, conv_dropout=0.0).eval()
    x = torch.rand(3, 1, 32, 32)
    out0 = net(x, torch.zeros(3, 2))
    out1 = net(x, torch.full((3, 2), 5.0))
    assert not torch.allclose(out0, out1)
    assert net.hidden[0].in_features == net.flatten_size + 2


def test_dropout_only_in_training():
    torch.manual_seed(0)
    net = CNNC(filters=(4, 8, 16), dense=16)
    x = torch.rand(4, 1, 32, 32)
    net.eval()
    assert torch.equal(net(x), net(x))
    net.train()
    assert not torch.equal(net(x), net(x))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 16}, r"image_size=16 is too small for 3 convolution blocks .* at least 22"),
        ({"image_size": 21}, "at least 22"),
        ({"filters": (8, 16), "image_size": 9}, "at least 10"),
        ({"filters": ()}, "filters must be a non-empty"),
        ({"filters": (8, 0)}, "filters must be"),
        ({"n_classes": 0}, "n_classes must be a positive integer"),
        ({"dense": 1.5}, "dense must be a positive integer"),
        ({"conv_dropout": 1.0}, r"conv_dropout must be a number in \[0, 1\)"),
        ({"n_extra_features": -1}, "n_extra_features"),
        ({"batchnorm": 1}, "batchnorm must be True or False"),
        ({"in_channels": True}, "in_channels"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CNNC(**kwargs)


def test_smallest_sizes_work():
    assert CNNC(image_size=22, filters=(4, 4, 4), dense=8)(torch.zeros(1, 1, 22, 22)).shape == (1, 3)
    assert CNNC(image_size=10, filters=(4, 4), dense=8)(torch.zeros(1, 1, 10, 10)).shape == (1, 3)


def test_forward_input_errors():
    net = CNNC(filters=(4, 8, 16), dense=16)
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 1, 32, 32\), got \(2, 1, 30, 30\)"):
        net(torch.zeros(2, 1, 30, 30))
    with pytest.raises(ValueError, match="do not pass `extra`"):
        net(torch.zeros(2, 1, 32, 32), torch.zeros(2, 1))
    net2 = CNNC(filters=(4, 8, 16), dense=16, n_extra_features=3)
    with pytest.raises(ValueError, match=r"pass `extra` of shape \(N, 3\)"):
        net2(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"`extra` must have shape \(2, 3\)"):
        net2(torch.zeros(2, 1, 32, 32), torch.zeros(2, 2))


def test_from_config_round_trip_and_unknown_keys():
    net = CNNC(filters=(4, 8, 16), dense=16, n_classes=2)
    again = CNNC.from_config(net.config)
    assert again.config == net.config
    assert CNNC.from_config({"dense": 16}).config["filters"] == [32, 64, 128]
    with pytest.raises(ValueError, match=r"Unknown CNNC architecture keys \['kernel'\]"):
        CNNC.from_config({"kernel": 5})
