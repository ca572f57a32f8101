"""Named training recipes: every setting that makes a shipped model, in one typed object.

A recipe groups the pair-image recipe, the network, the extra features, how labelled pairs are drawn and how the
network is fitted. ``cnnc.tl.train(..., recipe=name)`` trains it; the models in the registry were trained that
way (``benchmarks/train_pretrained.py``), so each can be re-made from the public API.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .._engine._params import PairImageParams
from .._prior import FEATURES, MARGINAL_FEATURES


def _check_positive_int(name: str, value, *, optional: bool = False, why: str = "") -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        kind = "a positive integer or None" if optional else "a positive integer"
        raise ValueError(f"{name} must be {kind}, got {value!r}{why}.")


@dataclass(frozen=True)
class FitSettings:
    """How the network is fitted (mini-batch, early stopping on validation regulators)."""

    epochs: int = 30
    batch_size: int = 256
    optimizer: str = "adam"
    learning_rate: float | None = None
    weight_decay: float = 0.0
    patience: int = 5
    validation_fraction: float = 0.2

    def __post_init__(self) -> None:
        _check_positive_int("epochs", self.epochs, why=": an untrained model says nothing")
        _check_positive_int("batch_size", self.batch_size)
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}.")
        if self.learning_rate is not None and not 0 < self.learning_rate <= 1:
            raise ValueError(f"learning_rate must be in (0, 1], got {self.learning_rate!r}.")
        if not 0 <= self.weight_decay < 1:
            raise ValueError(f"weight_decay must be in [0, 1), got {self.weight_decay!r}.")
        _check_positive_int("patience", self.patience)
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairSampling:
    """Which labelled pairs training sees (CNNC's labels: (r, t) -> 1, (t, r) -> 2, (r, random gene) -> 0).

    Parameters
    ----------
    negative_ratio
        Negative pairs per known edge of each regulator.
    negatives
        ``"random"`` (any gene, CNNC) or ``"non-target"`` (never a known partner of the regulator in any truth).
    max_pairs_per_dataset
        Subsample each data set's labelled pairs to at most this many (large data sets must not dominate).
    max_edges_per_truth
        With several ground truths per data set, at most this many known edges of each: every truth weighs
        about equally, whatever its size (STRING would otherwise decide for all).
    """

    negative_ratio: float = 1.0
    negatives: str = "random"
    max_pairs_per_dataset: int | None = None
    max_edges_per_truth: int | None = None

    def __post_init__(self) -> None:
        if not self.negative_ratio >= 0:
            raise ValueError(f"negative_ratio must be >= 0, got {self.negative_ratio!r}.")
        if self.negatives not in ("random", "non-target"):
            raise ValueError(f"negatives must be 'random' or 'non-target', got {self.negatives!r}.")
        for name in ("max_pairs_per_dataset", "max_edges_per_truth"):
            _check_positive_int(name, getattr(self, name), optional=True)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Recipe:
    """Everything that makes a model from labelled data.

    Parameters
    ----------
    name
        Name of the recipe (and the default name of the model it makes).
    description
        One paragraph for the model card.
    image
        The pair-image recipe.
    architecture
        :class:`cnnc.models.CNNC` arguments besides ``image_size``/``n_classes``/``n_extra_features``.
    features
        Extra per-pair features fed to the network (see :mod:`cnnc._prior`); empty in the original CNNC.
    wide_prior
        Fix the network's linear path to the first feature (a context score) and let the image branch learn a
        correction to it (``architecture["wide"]`` must be True).
    measure_choices
        Candidate sets of association measures for the context prior: with several data sets, the set with the
        best mean log AUPRC ratio across them (each ground truth weighed equally) becomes the first feature.
    deep_scales
        Candidate weights of the image branch, chosen by validation across data sets (train on one, score the
        others' ground truths, each truth weighed equally); ``()`` keeps the trained weight 1.
    sampling, fit
        Labelled pairs and optimisation.
    """

    name: str
    description: str
    image: PairImageParams = field(default_factory=PairImageParams)
    architecture: dict = field(default_factory=dict)
    features: tuple[str, ...] = ()
    wide_prior: bool = False
    measure_choices: tuple[tuple[str, ...], ...] = ()
    deep_scales: tuple[float, ...] = ()
    sampling: PairSampling = field(default_factory=PairSampling)
    fit: FitSettings = field(default_factory=FitSettings)

    def __post_init__(self) -> None:
        if self.wide_prior and not (self.features or self.measure_choices):
            raise ValueError(f"Recipe {self.name!r}: wide_prior needs a context feature (features or measure_choices).")
        if self.wide_prior and not self.architecture.get("wide", False):
            raise ValueError(f"Recipe {self.name!r}: wide_prior fixes the linear path: it needs architecture['wide'].")
        if any(s < 0 for s in self.deep_scales):
            raise ValueError(f"Recipe {self.name!r}: deep_scales must be >= 0, got {self.deep_scales}.")

    def with_overrides(self, **changes) -> Recipe:
        """A copy with some settings replaced (``image``, ``fit``, ``sampling`` accept dicts of their fields)."""
        for key in ("image", "fit", "sampling"):
            if isinstance(changes.get(key), dict):
                changes[key] = replace(getattr(self, key), **changes[key])
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-safe description (stored in the model spec's training record)."""
        return {
            "name": self.name,
            "image": self.image.to_dict(),
            "architecture": dict(self.architecture),
            "features": list(self.features),
            "wide_prior": self.wide_prior,
            "measure_choices": [list(m) for m in self.measure_choices],
            "deep_scales": list(self.deep_scales),
            "sampling": self.sampling.to_dict(),
            "fit": self.fit.to_dict(),
        }


# Candidate context priors of the default recipe: equal-weight means of context scores of association measures
# (see cnnc._prior). Chosen among by validation across the training data sets, never on a held-out one.
_MEASURES = ("abs_pearson", "pearson", "abs_scaled", "pc1_removed")
_MEASURE_CHOICES = tuple(
    tuple(m for i, m in enumerate(_MEASURES) if mask >> i & 1) for mask in range(1, 2 ** len(_MEASURES))
)

RECIPES: dict[str, Recipe] = {
    "cnnc-pairs": Recipe(
        name="cnnc-pairs",
        description=(
            "A small CNNC network reads the 16×16 pair image in both orientations and says which way a pair "
            "interacts (none / regulator→target / target→regulator, CNNC's labels with swapped pairs); its linear "
            "path is fixed to a context prior (an equal-weight mean of context-normalised association measures, "
            "chosen by validation across the training cell types), and the image branch's weight is chosen the "
            "same way, each ground truth weighed equally."
        ),
        image=PairImageParams(bins=16),
        architecture={"filters": [16, 32], "dense": 64, "wide": True, "direction_from_images": True},
        wide_prior=True,
        measure_choices=_MEASURE_CHOICES,
        deep_scales=(0.0, 0.25, 0.5, 1.0, 2.0),
        sampling=PairSampling(negative_ratio=1.0, negatives="non-target", max_edges_per_truth=1500),
        fit=FitSettings(epochs=8, batch_size=256, weight_decay=1e-4, patience=2),
    ),
    "cnnc-pairs-no-images": Recipe(
        name="cnnc-pairs-no-images",
        description=(
            "Ablation of cnnc-pairs: the same network, labels, context prior and choices, but each pair image is "
            "replaced by the two genes' own statistics (detection rate, mean, variance, z-scored over the genes): "
            "what cnnc-pairs gains over it is what the joint picture adds beyond the marginals."
        ),
        image=PairImageParams(bins=16),
        architecture={
            "filters": [16, 32],
            "dense": 64,
            "wide": True,
            "direction_from_images": True,
            "reads_images": False,
        },
        features=MARGINAL_FEATURES,
        wide_prior=True,
        measure_choices=_MEASURE_CHOICES,
        deep_scales=(0.0, 0.25, 0.5, 1.0, 2.0),
        sampling=PairSampling(negative_ratio=1.0, negatives="non-target", max_edges_per_truth=1500),
        fit=FitSettings(epochs=8, batch_size=256, weight_decay=1e-4, patience=2),
    ),
    "cnnc-context": Recipe(
        name="cnnc-context",
        description=(
            "CNNC network with context features (|Pearson| z-scored within each gene's correlations to all genes) on "
            "a fixed linear path; its 16-bin pair-image branch is weighted by deep_scale, chosen by validation across "
            "training cell types. Trained on STRING + Non-Specific edges."
        ),
        image=PairImageParams(bins=16),
        architecture={"filters": [16, 32], "dense": 64, "wide": True},
        features=("z_context", *(f for f in FEATURES if f != "z_context")),
        wide_prior=True,
        deep_scales=(0.0, 0.3, 1.0),
        sampling=PairSampling(negative_ratio=1.0, max_pairs_per_dataset=20_000),
        fit=FitSettings(epochs=12, batch_size=512, weight_decay=1e-4, patience=3),
    ),
    "cnnc-original": Recipe(
        name="cnnc-original",
        description=(
            "The original CNNC network and image recipe (32×32 pair images, filters 32/64/128, dense 512, 48 MFLOP "
            "per pair), CNNC's labels, trained on ChIP-seq (Specific) edges as in the paper. Adam instead of CNNC's SGD "
            "and at most 4,000 labelled pairs per data set keep training within a CPU budget."
        ),
        image=PairImageParams(bins=32),
        # CNNC's label 0 is the TF with a gene that is not its target: on ChIP-seq truths where a TF binds half the
        # genes, "any gene" would label its own targets "none" more often than not
        sampling=PairSampling(negative_ratio=1.0, negatives="non-target", max_pairs_per_dataset=4_000),
        # early stopping on held-out regulators' loss: the Specific truths stop within a few epochs, STRING later
        fit=FitSettings(epochs=20, batch_size=256, patience=4),
    ),
}
DEFAULT_RECIPE = "cnnc-pairs"


def recipe(name: str | Recipe) -> Recipe:
    """The recipe of that name (a :class:`Recipe` passes through)."""
    if isinstance(name, Recipe):
        return name
    if name not in RECIPES:
        raise ValueError(f"Unknown training recipe {name!r}; known: {sorted(RECIPES)} (or pass a Recipe).")
    return RECIPES[name]


_IMAGE_KEYS = ("bins", "pseudocount", "density_pseudocount", "transform", "scaling")
_FIT_KEYS = tuple(f for f in FitSettings.__dataclass_fields__)
_SAMPLING_KEYS = tuple(f for f in PairSampling.__dataclass_fields__)
OVERRIDES = (*_IMAGE_KEYS, *_FIT_KEYS, *_SAMPLING_KEYS, "architecture", "features", "wide_prior", "deep_scales")


def resolve_recipe(base: str | Recipe, overrides: dict) -> Recipe:
    """The recipe ``base`` with flat overrides (``epochs=2``, ``bins=16``, ``features=[...]`` ...) applied.

    ``architecture`` is merged into the recipe's; ``features`` replaces the recipe's features and its choice of
    context prior; ``wide_prior`` (a feature name) moves that feature first and fixes the linear path to it.
    """
    rec = recipe(base)
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise TypeError(
            f"cnnc.tl.train got unknown settings {unknown}; the recipe's settings are {list(OVERRIDES)} "
            f"(see cnnc.tl.recipes())."
        )
    image = {k: overrides[k] for k in _IMAGE_KEYS if k in overrides}
    fit = {k: overrides[k] for k in _FIT_KEYS if k in overrides}
    sampling = {k: overrides[k] for k in _SAMPLING_KEYS if k in overrides}
    changes: dict = {"image": image, "fit": fit, "sampling": sampling}
    if "architecture" in overrides:
        changes["architecture"] = {**rec.architecture, **(overrides["architecture"] or {})}
    if "deep_scales" in overrides:
        changes["deep_scales"] = tuple(overrides["deep_scales"])
    if "features" in overrides or "wide_prior" in overrides:
        features = list(overrides.get("features", rec.features))
        prior = overrides.get("wide_prior")
        if prior is not None:
            if prior not in features:
                raise ValueError(f"wide_prior {prior!r} must be one of the features {features}.")
            features = [prior, *(f for f in features if f != prior)]
        architecture = dict(changes.get("architecture", rec.architecture))
        fixed = prior is not None or (rec.wide_prior and "features" not in overrides)
        if prior is not None:
            architecture["wide"] = True
        if not features:
            architecture["wide"] = False
            architecture.pop("direction_from_images", None)
        changes.update(
            features=tuple(features),
            wide_prior=bool(fixed and architecture.get("wide")),
            architecture=architecture,
            measure_choices=() if "features" in overrides else rec.measure_choices,
        )
    return rec.with_overrides(**changes)
