"""Stream gene pairs through images and a model: batch of images → network → probabilities.

No ``n_pairs × bins × bins`` array is ever built: images exist one batch at a time, so memory
is bounded by the batch size whatever the number of pairs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scanpy import settings
from tqdm.auto import tqdm

from ._engine._images import PairImager

#: When the bin codes of all cells do not fit in memory, every batch of images costs one pass over the data
#: (from disk for backed or dask data): then batches grow until their images fill this many bytes.
UNCACHED_IMAGE_BYTES = 256 * 2**20


def pair_batches(a: np.ndarray, b: np.ndarray, batch_size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(start, a_batch, b_batch)`` slices of the pair arrays."""
    for start in range(0, len(a), batch_size):
        yield start, a[start : start + batch_size], b[start : start + batch_size]


def reads_images(model) -> bool:
    """Whether the model looks at pair images: a wide model whose image branch is off reads only its features."""
    arch = model.spec.architecture
    if not arch.get("reads_images", True):
        return False
    return not (arch.get("wide") and arch.get("deep_scale", 1.0) == 0 and not arch.get("direction_from_images"))


def symmetrize(p_ab_image: np.ndarray, p_ba_image: np.ndarray, task: str) -> np.ndarray:
    """Average the predictions of the (a, b) image and of its transpose, the (b, a) image.

    For the direction task the transposed image's "a→b" is the pair's "b→a", so its two directed
    columns are swapped before averaging; the network then reads every pair both ways.
    """
    if task == "direction":
        swapped = p_ba_image[:, [0, 2, 1]]
    else:
        swapped = p_ba_image
    return (p_ab_image + swapped) / 2


def predict_both_ways(
    model, images, extra_ab, extra_ba, *, symmetric: bool, batch_size: int, device=None, precision: str = "float32"
) -> np.ndarray:
    """Probabilities of a batch of pair images, averaged with those of the transposed images when ``symmetric``."""
    proba = model.predict_proba(images, extra_ab, batch_size=batch_size, device=device, precision=precision)
    if symmetric:
        flipped = model.predict_proba(
            np.ascontiguousarray(images.transpose(0, 2, 1)),
            extra_ba,
            batch_size=batch_size,
            device=device,
            precision=precision,
        )
        proba = symmetrize(proba, flipped, model.spec.task)
    return proba


def score_pairs(
    imager: PairImager,
    a: np.ndarray,
    b: np.ndarray,
    model,
    *,
    batch_size: int = 1024,
    device=None,
    symmetric: bool = True,
    progress: bool = True,
    extra=None,
    precision: str = "float32",
) -> np.ndarray:
    """Class probabilities ``(n_pairs, n_classes)`` of pairs (positions among the imager's genes).

    ``extra(a, b)`` returns the model's extra per-pair features of a batch, when it has any.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n_classes = model.spec.architecture["n_classes"]
    out = np.empty((len(a), n_classes), dtype=np.float32)
    bar = tqdm(
        total=len(a), desc="scoring pairs", unit="pair", unit_scale=True, disable=not progress or settings.verbosity < 2
    )
    arch = model.spec.architecture
    needs_images = reads_images(model)
    side = arch["image_size"]
    forward_batch = batch_size  # the network's batch stays the user's, whatever the image batch
    if needs_images and not imager.binner.cached:
        per_pair = side * side * 4 * (2 if symmetric else 1)
        batch_size = max(batch_size, UNCACHED_IMAGE_BYTES // per_pair)
    for start, ab, bb in pair_batches(a, b, batch_size):
        images = imager.images(ab, bb) if needs_images else np.zeros((len(ab), side, side), dtype=np.float32)
        proba = predict_both_ways(
            model,
            images,
            None if extra is None else extra(ab, bb),
            None if extra is None or not symmetric else extra(bb, ab),
            symmetric=symmetric,
            batch_size=forward_batch,
            device=device,
            precision=precision,
        )
        out[start : start + len(ab)] = proba
        bar.update(len(ab))
    bar.close()
    return out


def prediction_params(model, *, symmetric: bool, precision: str, layer: str | None, **more) -> dict:
    """What a prediction records in ``uns[key]["params"]``: the model, its recipe, the reading; ``more`` appended."""
    from ._utils import package_version

    return {
        "model": model.name,
        "model_sha256": model.sha256 or "",
        "task": model.spec.task,
        "classes": list(model.spec.classes),
        "image": model.spec.image,
        "symmetric": bool(symmetric),
        "precision": precision,
        "layer": layer or "",
        **more,
        "cnnc_version": package_version(),
    }
