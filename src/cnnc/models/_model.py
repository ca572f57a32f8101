"""The user-facing model: a CNNC network together with its spec."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from .._utils import sha256_file
from ._cnnc import CNNC, normalize_config
from ._device import resolve_device
from ._spec import ModelSpec

__all__ = ["Model"]

FORMAT = "cnnc-model"
FORMAT_VERSION = "1"
SUFFIX = ".safetensors"
_STORE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
#: Precisions of the forward pass: ``float32`` (exact) or ``bfloat16`` autocast (faster where the CPU has bf16 units).
PRECISIONS = ("float32", "bfloat16")
#: Pairs per forward pass on the CPU: the faithful network's activations of 128 pairs (~8 MiB) stay in cache,
#: which runs ~1.5-2x faster than passes of 1,024 pairs (benchmarks/limits.py measures it).
CPU_FORWARD_PAIRS = 128


def _store_dtype(dtype: str | torch.dtype) -> torch.dtype:
    for name, dt in _STORE_DTYPES.items():
        if dtype == name or dtype == dt:
            return dt
    raise ValueError(f"dtype must be one of {list(_STORE_DTYPES)} (or the torch dtype), got {dtype!r}.")


def _fmt_value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v, default=str)
    return str(v)


class Model:
    """A trained CNNC network and the :class:`~cnnc.models.ModelSpec` that says how to feed it.

    Parameters
    ----------
    module
        The network; its configuration must equal ``spec.architecture``.
    spec
        What the network was trained on and how its input is made.

    Examples
    --------
    >>> import cnnc
    >>> model = cnnc.models.load("path/to/model.safetensors")  # doctest: +SKIP
    >>> proba = model.predict_proba(images)  # (n_pairs, n_classes)  # doctest: +SKIP
    """

    def __init__(self, module: CNNC, spec: ModelSpec) -> None:
        if not isinstance(module, CNNC):
            raise TypeError(f"module must be a cnnc.models.CNNC, got {type(module).__name__}.")
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"spec must be a cnnc.models.ModelSpec, got {type(spec).__name__}.")
        if normalize_config(module.config) != spec.architecture:
            diff = {
                k: (module.config.get(k), spec.architecture.get(k))
                for k in spec.architecture
                if module.config.get(k) != spec.architecture.get(k)
            }
            raise ValueError(
                f"The network's configuration differs from spec.architecture in {sorted(diff)} "
                f"(network, spec): {diff}. Build the spec with architecture=module.config."
            )
        self._module = module
        self._spec = spec
        self._path: Path | None = None
        self._sha256: str | None = None

    @property
    def module(self) -> CNNC:
        """The torch network."""
        return self._module

    @property
    def spec(self) -> ModelSpec:
        """The model spec."""
        return self._spec

    @property
    def name(self) -> str:
        """The model's name (``spec.name``)."""
        return self._spec.name

    @property
    def path(self) -> Path | None:
        """File this model was loaded from or last saved to, or ``None``."""
        return self._path

    @property
    def sha256(self) -> str | None:
        """SHA256 of the file this model was loaded from or last saved to, or ``None`` if never saved."""
        return self._sha256

    def __repr__(self) -> str:
        n_params = sum(p.numel() for p in self._module.parameters())
        where = f", file={str(self._path)!r}" if self._path is not None else ""
        return (
            f"Model(name={self.name!r}, task={self._spec.task!r}, classes={self._spec.classes}, "
            f"parameters={n_params:,}{where})"
        )

    @property
    def n_classes(self) -> int:
        """Number of output columns of :meth:`predict_proba` (one per entry of ``spec.classes``, or 1 for a sigmoid)."""
        return int(self._spec.architecture["n_classes"])

    @property
    def image_size(self) -> int:
        """Side of the square pair images the network reads (the image recipe's ``bins``)."""
        return int(self._spec.architecture["image_size"])

    @property
    def reads_images(self) -> bool:
        """Whether the network looks at pair images; when not, callers may pass blank images of the right shape.

        A network built with ``reads_images=False`` never reads them; a wide network whose image branch has weight
        0 (``deep_scale == 0``) and that does not take the direction from the images reads only its features.
        """
        arch = self._spec.architecture
        if not arch.get("reads_images", True):
            return False
        return not (arch.get("wide") and arch.get("deep_scale", 1.0) == 0 and not arch.get("direction_from_images"))

    def evidence_from_features(self) -> bool:
        """Whether the evidence of an interaction (not its direction) is a function of the features alone.

        True for a network that reads no images, and for a wide network whose image branch has no weight on the
        evidence (``deep_scale == 0``) and at most splits the direction (``direction_from_images``), provided the
        linear path gives both directions the same logit: then ``P(none)`` does not depend on the image.
        """
        arch = self._spec.architecture
        if not arch.get("reads_images", True):
            return True  # an ablation that never sees an image
        if not (arch.get("wide") and arch.get("deep_scale", 1.0) == 0):
            return False
        if not arch.get("direction_from_images"):
            return True  # the image branch is off altogether
        wide = self._module.wide
        if wide is None or wide.weight.shape[0] != 3:
            return False
        weight, bias = wide.weight.detach().cpu().numpy(), wide.bias.detach().cpu().numpy()
        return bool(np.array_equal(weight[1], weight[2]) and bias[1] == bias[2])

    def linear_evidence(self) -> list[tuple[dict[str, float], float]]:
        """The evidence of an interaction as ``log(P(class) / P(none)) = Σ w_f · feature_f + d``, per class.

        For a wide network whose evidence comes from its features alone (:meth:`evidence_from_features`). With
        ``direction_from_images`` the two directed classes share one evidence (equal linear rows), counted once.
        """
        if self._module.wide is None or not self.evidence_from_features():
            raise ValueError(f"Model {self.name!r}'s evidence of an interaction is not a linear map of its features.")
        weight = self._module.wide.weight.detach().cpu().numpy().astype(np.float64)
        bias = self._module.wide.bias.detach().cpu().numpy().astype(np.float64)
        if weight.shape[0] == 1:  # one sigmoid output: P(interaction) / P(none) = exp(logit)
            rows = [(weight[0], bias[0])]
        else:  # softmax: class c against class 0 ("none")
            classes = [1] if self._spec.architecture.get("direction_from_images") else range(1, len(bias))
            rows = [(weight[k] - weight[0], bias[k] - bias[0]) for k in classes]
        names = list(self._spec.features)
        return [({n: float(v) for n, v in zip(names, w, strict=True)}, float(d)) for w, d in rows]

    def blank_images(self, n: int) -> np.ndarray:
        """``n`` all-zero pair images of the shape the network takes: the input of a model that does not read them."""
        return np.zeros((n, self.image_size, self.image_size), dtype=np.float32)

    def _attach_file(self, path: Path, sha256: str) -> None:
        """Record the file this model was loaded from or saved to (:attr:`path`, :attr:`sha256`)."""
        self._path = path
        self._sha256 = sha256

    @property
    def deep_scale(self) -> float | None:
        """Weight of the image branch of a wide network (``None`` for a network without a linear path)."""
        return self._module.deep_scale if self._module.wide is not None else None

    def set_deep_scale(self, value: float) -> None:
        """Set the image branch's weight of a wide network, in the network and in the spec alike."""
        self._module.set_deep_scale(value)
        self._spec.architecture["deep_scale"] = self._module.deep_scale

    def save(self, path: str | os.PathLike, *, dtype: str | torch.dtype = "float32") -> Path:
        """Write the model to one safetensors file (weights + spec as metadata), atomically.

        Parameters
        ----------
        path
            Destination; ``.safetensors`` is appended if the name has another suffix.
        dtype
            Storage precision of floating-point weights: ``"float32"`` (exact), ``"float16"`` or
            ``"bfloat16"`` (half the size; weights are cast back to float32 on load).

        Returns
        -------
        The path written. :attr:`path` and :attr:`sha256` now refer to it.
        """
        store = _store_dtype(dtype)
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        if not path.parent.is_dir():
            raise FileNotFoundError(
                f"Cannot save model to {path}: folder {path.parent} does not exist; create it first."
            )
        tensors = {}
        for k, v in self._module.state_dict().items():
            t = v.detach().to("cpu")
            if t.is_floating_point():
                t = t.to(store)
                if not torch.isfinite(t).all():
                    raise ValueError(
                        f"Weight {k!r} is not finite when stored as {store} (NaN, or outside the range of {store}); "
                        "save with dtype='float32' or check the training."
                    )
            tensors[k] = t.contiguous()
        metadata = {"cnnc_spec": self._spec.to_json(), "format": FORMAT, "format_version": FORMAT_VERSION}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=metadata)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
            sha = sha256_file(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._attach_file(path, sha)
        return path

    def predict_proba(
        self,
        images: np.ndarray,
        extra: np.ndarray | None = None,
        *,
        batch_size: int = 1024,
        device: str | torch.device | None = None,
        precision: str = "float32",
    ) -> np.ndarray:
        """Class probabilities for pair images.

        Runs the network in evaluation mode (no dropout) under :func:`torch.inference_mode`,
        then softmax (or sigmoid for a single output) of the logits. The network is moved to ``device`` and stays there.
        Images go through the convolutions in channels-last layout (same values, faster on CPUs);
        on the CPU at most ``CPU_FORWARD_PAIRS`` pairs go through per forward pass.

        Parameters
        ----------
        images
            Pair images, shape ``(N, C, H, W)``, or ``(N, H, W)`` for single-channel networks.
        extra
            Extra per-pair features ``(N, n_features)`` in the order of ``spec.features``;
            required if and only if the spec has features.
        batch_size
            Number of pairs per forward pass.
        device
            ``None`` (CUDA if available, else CPU), a device name or a :class:`torch.device`.
        precision
            ``"float32"`` (default) or ``"bfloat16"``: run the network under bfloat16 autocast, about twice
            as fast on CPUs with bf16 instructions (AVX512-BF16, AMX) and on GPUs; probabilities move by
            ~1e-3 (benchmarks/limits.py reports the change in AUROC).

        Returns
        -------
        ``float32`` array ``(N, n_classes)``; column ``j`` is the probability of ``spec.classes[j]``.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
        cfg = self._spec.architecture
        c, s, k = cfg["in_channels"], cfg["image_size"], cfg["n_classes"]
        images = np.asarray(images)
        if images.ndim == 3 and c == 1:
            images = images[:, None]
        if images.ndim != 4 or images.shape[1:] != (c, s, s):
            accepted = f"(N, {c}, {s}, {s})" + (f" or (N, {s}, {s})" if c == 1 else "")
            raise ValueError(
                f"Model {self.name!r} expects pair images of shape {accepted} "
                f"(pair-image bins={self._spec.image['bins']}), got {images.shape}."
            )
        if not (np.issubdtype(images.dtype, np.floating) or np.issubdtype(images.dtype, np.integer)):
            raise ValueError(f"images must be numeric, got dtype {images.dtype}.")
        n = images.shape[0]
        n_extra = cfg["n_extra_features"]
        if n_extra:
            if extra is None:
                raise ValueError(
                    f"Model {self.name!r} needs extra per-pair features {self._spec.features}; pass extra=."
                )
            extra = np.asarray(extra, dtype=np.float32)
            if extra.ndim == 1 and n_extra == 1:
                extra = extra[:, None]
            if extra.shape != (n, n_extra):
                raise ValueError(
                    f"extra must have shape ({n}, {n_extra}) for features {self._spec.features}, got {extra.shape}."
                )
            if not np.isfinite(extra).all():
                raise ValueError(
                    f"extra features contain NaN or infinite values (row {int(np.argmin(np.isfinite(extra).all(1)))})."
                )
        elif extra is not None:
            raise ValueError(f"Model {self.name!r} takes no extra features; do not pass extra.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")

        dev = resolve_device(device)
        module = self._module.to(dev)
        out = np.empty((n, k), dtype=np.float32)
        was_training = module.training
        step = min(int(batch_size), CPU_FORWARD_PAIRS) if dev.type == "cpu" else int(batch_size)
        autocast = (
            torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
            if dev.type in ("cpu", "cuda")
            else contextlib.nullcontext()
        )
        module.eval()
        # channels-last convolution kernels are faster on CPU and GPU; the weights go back to the usual layout
        # afterwards because safetensors stores contiguous tensors only
        module.to(memory_format=torch.channels_last)
        try:
            with torch.inference_mode(), autocast:
                for start in range(0, n, step):
                    stop = min(start + step, n)
                    xb = np.ascontiguousarray(images[start:stop], dtype=np.float32)
                    finite = np.isfinite(xb).reshape(len(xb), -1).all(1)
                    if not finite.all():
                        raise ValueError(
                            f"Pair image {start + int(np.argmin(finite))} contains NaN or infinite values; "
                            "pair images are finite by construction, check how they were made."
                        )
                    x = torch.from_numpy(xb).to(dev).contiguous(memory_format=torch.channels_last)
                    e = torch.from_numpy(extra[start:stop]).to(dev) if n_extra else None
                    logits = module(x, e).float()
                    p = torch.sigmoid(logits) if k == 1 else torch.softmax(logits, dim=1)
                    out[start:stop] = p.cpu().numpy()
        finally:
            module.to(memory_format=torch.contiguous_format)
            module.train(was_training)
        return out

    def card(self) -> str:
        """Return the model card: what the model was trained on, what input it expects, how well it did, its limits."""
        sp = self._spec
        arch = sp.architecture
        n_params = sum(p.numel() for p in self._module.parameters())
        lines = [
            f"cnnc model {sp.name!r}",
            f"  task: {sp.task}; outputs: {', '.join(sp.classes)}",
            f"  species: {', '.join(sp.species)}; gene matching: {sp.gene_matching}",
            f"  expects: {sp.expects}",
            "  pair images: " + ", ".join(f"{k}={v}" for k, v in sp.image.items()),
            f"  extra features: {', '.join(sp.features) if sp.features else 'none'}",
            f"  network: filters={arch['filters']}, dense={arch['dense']}, in_channels={arch['in_channels']}, "
            f"batchnorm={arch['batchnorm']}; {n_params:,} parameters, "
            f"{self._module.flops_per_pair() / 1e6:.1f} MFLOP per pair",
        ]
        if sp.training:
            lines.append("  training:")
            lines += [f"    {k}: {_fmt_value(v)}" for k, v in sp.training.items()]
        else:
            lines.append("  training: not recorded")
        if sp.metrics:
            lines.append("  metrics:")
            lines += [f"    {k}: {_fmt_value(v)}" for k, v in sp.metrics.items()]
        else:
            lines.append("  metrics: not recorded")
        lines.append(
            "  limits: predictions are only meaningful for data like the training data (same species, "
            "comparable normalisation); pairs whose genes are not expressed give uninformative images."
        )
        lines.append(f"  created: {sp.created} with cnnc {sp.cnnc_version}")
        if self._sha256:
            lines.append(f"  sha256: {self._sha256}")
        return "\n".join(lines)
