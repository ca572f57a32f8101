"""The CNNC convolutional network (pure torch, no AnnData)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["CNNC"]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _side_after_blocks(image_size: int, n_blocks: int) -> list[int]:
    """Side length after each block: 'same' conv keeps it, valid 3×3 conv removes 2, max-pool 2 halves (floor)."""
    sides = []
    s = image_size
    for _ in range(n_blocks):
        s = (s - 2) // 2
        sides.append(s)
    return sides


def _min_image_size(n_blocks: int) -> int:
    s = 1
    for _ in range(n_blocks):
        s = 2 * s + 2
    return s


def split_direction(logits: torch.Tensor, scale: float) -> torch.Tensor:
    """Logits whose evidence of an interaction is weighted by ``scale`` and whose direction is not.

    With ``I = logsumexp(l1, l2)`` (the image branch's evidence of an interaction either way), the classes get
    ``[scale * l0, scale * I + log σ(l1 - l2), scale * I + log σ(l2 - l1)]``: the probability of an interaction
    depends on ``scale`` and never on how one-sided the direction is, the split between the two directions is the
    image branch's own, and ``scale = 1`` gives back the plain logits.
    """
    evidence = torch.logsumexp(logits[:, 1:], dim=1, keepdim=True)
    toward = torch.nn.functional.logsigmoid(logits[:, 1:2] - logits[:, 2:3])
    backward = torch.nn.functional.logsigmoid(logits[:, 2:3] - logits[:, 1:2])
    return torch.cat([scale * logits[:, :1], scale * evidence + toward, scale * evidence + backward], dim=1)


def _checked_config(
    *,
    in_channels,
    image_size,
    filters,
    dense,
    n_classes,
    conv_dropout,
    dense_dropout,
    n_extra_features,
    batchnorm,
    wide,
    deep_scale,
    direction_from_images,
    reads_images,
) -> dict:
    """The network's config, each value checked (the error names the value and what it must be)."""
    filters = tuple(filters)
    for name, value in (("in_channels", in_channels), ("dense", dense), ("n_classes", n_classes)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if not _is_int(n_extra_features) or n_extra_features < 0:
        raise ValueError(f"n_extra_features must be a non-negative integer, got {n_extra_features!r}.")
    if not filters or not all(_is_int(f) and f >= 1 for f in filters):
        raise ValueError(f"filters must be a non-empty sequence of positive integers, got {filters!r}.")
    for name, value in (("conv_dropout", conv_dropout), ("dense_dropout", dense_dropout)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")
    if not isinstance(batchnorm, bool):
        raise ValueError(f"batchnorm must be True or False, got {batchnorm!r}.")
    if not isinstance(wide, bool):
        raise ValueError(f"wide must be True or False, got {wide!r}.")
    if isinstance(deep_scale, bool) or not isinstance(deep_scale, int | float) or not 0 <= deep_scale:
        raise ValueError(f"deep_scale must be a number >= 0, got {deep_scale!r}.")
    if not isinstance(reads_images, bool):
        raise ValueError(f"reads_images must be True or False, got {reads_images!r}.")
    if not isinstance(direction_from_images, bool):
        raise ValueError(f"direction_from_images must be True or False, got {direction_from_images!r}.")
    if direction_from_images and (not wide or n_classes != 3):
        raise ValueError("direction_from_images needs a wide network with 3 classes (none, a->b, b->a).")
    if wide and not n_extra_features:
        raise ValueError("wide=True maps extra features to the logits: it needs n_extra_features > 0.")
    min_size = _min_image_size(len(filters))
    if not _is_int(image_size) or image_size < min_size:
        raise ValueError(
            f"image_size={image_size!r} is too small for {len(filters)} convolution blocks "
            f"(filters={filters}): each block maps side s to (s - 2) // 2, so at least {min_size} is needed. "
            f"Use larger pair images (more bins) or fewer blocks, e.g. filters={filters[:-1] or filters}."
        )
    return {
        "in_channels": in_channels,
        "image_size": image_size,
        "filters": list(filters),
        "dense": dense,
        "n_classes": n_classes,
        "conv_dropout": float(conv_dropout),
        "dense_dropout": float(dense_dropout),
        "n_extra_features": n_extra_features,
        "batchnorm": batchnorm,
        "wide": wide,
        "deep_scale": float(deep_scale),
        "direction_from_images": direction_from_images,
        "reads_images": reads_images,
    }


def _conv_blocks(in_channels: int, filters, batchnorm: bool, conv_dropout: float) -> tuple[nn.Sequential, int]:
    """The convolution blocks (two 3 × 3 convolutions, max-pooling, dropout each) and their output channels."""
    layers: list[nn.Module] = []
    c = in_channels
    for f in filters:
        for padding, c_in in (("same", c), ("valid", f)):
            layers.append(nn.Conv2d(c_in, f, kernel_size=3, padding=padding, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(f))
            layers.append(nn.ReLU())
        layers += [nn.MaxPool2d(2), nn.Dropout(conv_dropout)]
        c = f
    return nn.Sequential(*layers), c


class CNNC(torch.nn.Module):
    """The VGG-style network of CNNC (Yuan & Bar-Joseph, PNAS 2019) that classifies pair images.

    A faithful port of the original Keras model: for each entry of ``filters`` one block of
    ``[Conv2d 3×3 'same', ReLU, Conv2d 3×3 valid, ReLU, MaxPool 2, Dropout]``, then Flatten,
    ``Linear(dense)`` + ReLU, Dropout, and a final ``Linear(n_classes)``. Weights are initialised
    like Keras (Glorot-uniform weights, zero biases); seed with :func:`torch.manual_seed` before
    construction for reproducible weights.

    Parameters
    ----------
    in_channels
        Number of image channels (1 for a single pair image).
    image_size
        Side of the square input image (the number of histogram bins; CNNC: 32).
    filters
        Number of filters of each convolution block (CNNC: ``(32, 64, 128)``). Each block shrinks
        the side ``s`` to ``(s - 2) // 2``, so three blocks need ``image_size >= 22`` and two
        blocks ``image_size >= 10``.
    dense
        Width of the hidden fully connected layer (CNNC: 512).
    n_classes
        Number of outputs (logits). 3 for direction (``none``, ``regulator->target``,
        ``target->regulator``), 1 (sigmoid) or 2 (softmax) for plain interaction.
    conv_dropout
        Dropout rate after each convolution block (CNNC: 0.25).
    dense_dropout
        Dropout rate after the hidden dense layer (CNNC: 0.5).
    n_extra_features
        Number of extra per-pair scalar features (e.g. correlations) concatenated to the
        flattened convolution output before the hidden dense layer. 0 in the original CNNC.
    batchnorm
        Add batch normalisation after every convolution and after the hidden dense layer
        (not in the original CNNC; the layers before a batch norm then have no bias).
    wide
        Also map the extra features straight to the logits with a linear layer ("wide and deep"): the
        network starts as a linear model of the features (the image branch's output layer starts at
        zero) and the images can only add to it. Needs ``n_extra_features > 0``; not in the original CNNC.
    deep_scale
        Factor on the image branch's logits when ``wide=True`` (1: as trained; chosen on validation data
        to say how much the images may move the linear model of the features). Set it with
        :meth:`set_deep_scale` (validated, and kept in :attr:`config`).
    reads_images
        False for an ablation that never sees a pair image: prediction feeds it blank images (the network then
        reads only its extra features).
    direction_from_images
        With ``wide=True``: ``deep_scale`` weighs only how much the image branch moves the evidence of an
        interaction (none vs. either direction), while the split between the two directions always comes from
        the image branch at full weight (the linear path is symmetric and cannot tell a direction); see
        :func:`split_direction`. Training (``deep_scale=1``) is plain softmax.

    Examples
    --------
    >>> import torch
    >>> from cnnc.models import CNNC
    >>> net = CNNC()
    >>> net(torch.zeros(4, 1, 32, 32)).shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 32,
        filters: Sequence[int] = (32, 64, 128),
        dense: int = 512,
        n_classes: int = 3,
        conv_dropout: float = 0.25,
        dense_dropout: float = 0.5,
        n_extra_features: int = 0,
        batchnorm: bool = False,
        wide: bool = False,
        deep_scale: float = 1.0,
        direction_from_images: bool = False,
        reads_images: bool = True,
    ) -> None:
        super().__init__()
        self.config: dict = _checked_config(
            in_channels=in_channels,
            image_size=image_size,
            filters=filters,
            dense=dense,
            n_classes=n_classes,
            conv_dropout=conv_dropout,
            dense_dropout=dense_dropout,
            n_extra_features=n_extra_features,
            batchnorm=batchnorm,
            wide=wide,
            deep_scale=deep_scale,
            direction_from_images=direction_from_images,
            reads_images=reads_images,
        )
        self.features, c = _conv_blocks(in_channels, self.config["filters"], batchnorm, conv_dropout)
        side = _side_after_blocks(image_size, len(self.config["filters"]))[-1]
        self.flatten_size = c * side * side
        hidden: list[nn.Module] = [nn.Linear(self.flatten_size + n_extra_features, dense, bias=not batchnorm)]
        if batchnorm:
            hidden.append(nn.BatchNorm1d(dense))
        hidden += [nn.ReLU(), nn.Dropout(dense_dropout)]
        self.hidden = nn.Sequential(*hidden)
        self.head = nn.Linear(dense, n_classes)
        self.wide = nn.Linear(n_extra_features, n_classes) if wide else None
        self.reset_parameters()

    @classmethod
    def from_config(cls, config: dict) -> CNNC:
        """Build a network from a (possibly partial) config dict; unknown keys are an error."""
        return cls(**normalize_config(config))

    def reset_parameters(self) -> None:
        """Keras initialisation: Glorot-uniform weights, zero biases; batch norms to identity."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
                m.reset_parameters()
        if self.wide is not None:
            # start as the linear model of the features; the image branch learns a correction from zero
            nn.init.zeros_(self.head.weight)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of shape ``(N, n_classes)`` for images ``x`` of shape ``(N, in_channels, image_size, image_size)``.

        ``extra`` holds the ``(N, n_extra_features)`` per-pair features, required if and only if
        the network was built with ``n_extra_features > 0``.
        """
        cfg = self.config
        expected = (cfg["in_channels"], cfg["image_size"], cfg["image_size"])
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"CNNC expects images of shape (N, {', '.join(map(str, expected))}), got {tuple(x.shape)}."
            )
        n_extra = cfg["n_extra_features"]
        if (
            self.wide is not None
            and cfg["deep_scale"] == 0
            and not cfg["direction_from_images"]
            and extra is not None
            and tuple(extra.shape) == (x.shape[0], n_extra)
        ):
            # the image branch is switched off (validation chose the prior alone): skip its cost
            return self.wide(extra.to(self.wide.weight.dtype))
        logits, wide = self.branches(x, extra)
        if wide is not None:
            scale = cfg["deep_scale"]
            if cfg["direction_from_images"]:
                logits = split_direction(logits, scale)
            else:
                logits = scale * logits
            logits = logits + wide
        return logits

    def branches(self, x: torch.Tensor, extra: torch.Tensor | None = None):
        """The image branch's logits (at full weight, before any direction split) and the linear path's (or None).

        What :meth:`forward` combines by ``deep_scale`` and ``direction_from_images``; read separately when those
        are chosen by validation.
        """
        cfg = self.config
        n_extra = cfg["n_extra_features"]
        if cfg["reads_images"]:
            h = torch.flatten(self.features(x), 1)
        else:  # an ablation that never sees an image: no convolution output at all
            h = x.new_zeros((x.shape[0], self.flatten_size))
        if n_extra:
            if extra is None:
                raise ValueError(
                    f"This network was built with n_extra_features={n_extra}; pass `extra` of shape (N, {n_extra})."
                )
            if extra.ndim != 2 or tuple(extra.shape) != (x.shape[0], n_extra):
                raise ValueError(f"`extra` must have shape ({x.shape[0]}, {n_extra}), got {tuple(extra.shape)}.")
            h = torch.cat([h, extra.to(h.dtype)], dim=1)
        elif extra is not None:
            raise ValueError("This network was built with n_extra_features=0; do not pass `extra`.")
        logits = self.head(self.hidden(h))
        return logits, (self.wide(extra.to(logits.dtype)) if self.wide is not None else None)

    @property
    def deep_scale(self) -> float:
        """Weight of the image branch on a wide network (see the class parameters)."""
        return self.config["deep_scale"]

    def set_deep_scale(self, value: float) -> None:
        """Set the image branch's weight (validated: a number >= 0, on a wide network)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ValueError(f"deep_scale must be a number >= 0, got {value!r}.")
        if self.wide is None:
            raise ValueError("deep_scale weighs the image branch against the linear path: it needs wide=True.")
        self.config["deep_scale"] = float(value)

    def set_wide_prior(self, feature: int, weight: float = 0.25) -> None:
        """Fix the linear part to a prior: the logits of every interaction class rise with feature ``feature``.

        The "none" class gets 0, every other class ``weight × feature``; the weights are then frozen, so
        training only learns the image branch's correction to that prior. A small weight keeps the
        probabilities of strongly supported pairs from saturating (float32 ties at the top of a ranking).
        """
        if self.wide is None:
            raise ValueError("set_wide_prior needs a network built with wide=True.")
        with torch.no_grad():
            self.wide.weight.zero_()
            self.wide.bias.zero_()
            self.wide.weight[1:, feature] = weight
        for p in self.wide.parameters():
            p.requires_grad_(False)

    def flops_per_pair(self) -> int:
        """Floating-point operations (2 × multiply-adds) of the convolution and linear layers for one pair image.

        The original CNNC (1×32×32 input, filters 32/64/128, dense 512, 3 classes) needs about 48.5 MFLOP.
        """
        flops = 0
        side = self.config["image_size"]
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                if m.padding == "valid":
                    side -= 2
                k = m.kernel_size[0] * m.kernel_size[1]
                flops += 2 * side * side * m.out_channels * m.in_channels * k
            elif isinstance(m, nn.MaxPool2d):
                side //= 2
        for m in (*self.hidden, self.head, *([self.wide] if self.wide is not None else [])):
            if isinstance(m, nn.Linear):
                flops += 2 * m.in_features * m.out_features
        return flops

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


_CONFIG_KEYS = tuple(p for p in inspect.signature(CNNC.__init__).parameters if p != "self")


def normalize_config(config: dict) -> dict:
    """Complete a (possibly partial) CNNC config with the defaults, JSON-safe; unknown keys are an error."""
    if not isinstance(config, dict):
        raise ValueError(f"A CNNC architecture must be a dict of constructor arguments, got {type(config).__name__}.")
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"Unknown CNNC architecture keys {unknown}; known: {list(_CONFIG_KEYS)}.")
    params = inspect.signature(CNNC.__init__).parameters
    full = {k: config.get(k, params[k].default) for k in _CONFIG_KEYS}
    if isinstance(full["filters"], list | tuple):
        full["filters"] = list(full["filters"])
    for k in ("conv_dropout", "dense_dropout", "deep_scale"):
        if _is_int(full[k]):
            full[k] = float(full[k])
    return full
