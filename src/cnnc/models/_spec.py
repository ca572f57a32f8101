"""The model spec: everything a prediction needs to reproduce the input the model was trained on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime

import numpy as np
import torch

from cnnc._engine._params import PairImageParams

from .._version import __version__
from ._cnnc import CNNC, normalize_config

__all__ = ["ModelSpec"]

TASKS = ("direction", "interaction")
GENE_MATCHING = ("case-insensitive", "exact")
EDGE_SCORES = ("p_ab", "interaction")
#: Spec fields that files written before they existed may lack, with the value those files mean.
OPTIONAL_FIELDS = {"edge_score": "p_ab"}
DEFAULT_EXPECTS = "log-normalized expression (e.g. sc.pp.normalize_total + sc.pp.log1p); raw counts are refused"


def _cnnc_version() -> str:
    return __version__


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_default(obj: object) -> object:
    """Make numpy / torch scalars and arrays JSON-serialisable (metrics often hold them)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    if isinstance(obj, tuple | set | frozenset):
        return list(obj)
    raise TypeError(
        f"Object of type {type(obj).__name__} is not JSON serializable; store plain numbers, strings, lists and dicts."
    )


@dataclass
class ModelSpec:
    """Everything a prediction needs to reproduce the input a model was trained on.

    Stored as JSON in the metadata of the model file (see :meth:`cnnc.models.Model.save`).

    Parameters
    ----------
    name
        Short name of the model, e.g. ``"cnnc-direction-mesc"``.
    task
        ``"direction"`` (3 classes: no edge, regulator→target, target→regulator) or
        ``"interaction"`` (1 sigmoid output or 2 softmax classes).
    classes
        One name per network output, in output order, e.g.
        ``["none", "regulator->target", "target->regulator"]``. With a single sigmoid output
        the one name is the positive class, e.g. ``["interaction"]``.
    image
        The :class:`~cnnc._engine._params.PairImageParams` of the training pair images, as a dict.
    architecture
        The :class:`~cnnc.models.CNNC` constructor arguments; missing keys take the defaults.
    features
        Names of the extra per-pair features, in the order the network expects them.
    gene_matching
        How gene symbols are matched to the names in the data: ``"case-insensitive"``
        (CNNC lower-cases symbols) or ``"exact"``.
    species
        Species the model was trained on, e.g. ``["mouse"]``, or ``["any"]``.
    expects
        Plain-language description of the expression values the model expects.
    training
        Provenance: data sets, ground truths, number of pairs, seed, epochs, ...
    metrics
        Held-out performance, e.g. ``{"auroc": 0.9}``.
    edge_score
        What ranks the edges of a direction model: ``"p_ab"`` (P(regulator → target), CNNC's reading) or
        ``"interaction"`` (``1 - p_none``: evidence of an interaction either way; the direction is then read from
        ``p_ab`` vs ``p_ba``). Interaction models always rank by their interaction probability.
    cnnc_version
        Version of cnnc that created the model.
    created
        ISO 8601 time of creation (UTC).
    """

    name: str
    task: str
    classes: list[str]
    image: dict
    architecture: dict
    features: list[str] = field(default_factory=list)
    gene_matching: str = "case-insensitive"
    species: list[str] = field(default_factory=lambda: ["any"])
    expects: str = DEFAULT_EXPECTS
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    edge_score: str = "p_ab"
    cnnc_version: str = field(default_factory=_cnnc_version)
    created: str = field(default_factory=_now)

    def __post_init__(self) -> None:
        def fail(msg: str) -> None:
            raise ValueError(f"Invalid model spec{f' {self.name!r}' if isinstance(self.name, str) else ''}: {msg}")

        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Invalid model spec: name must be a non-empty string, got {self.name!r}.")
        if self.task not in TASKS:
            fail(f"task must be one of {TASKS}, got {self.task!r}.")
        if isinstance(self.image, PairImageParams):
            self.image = self.image.to_dict()
        if not isinstance(self.image, dict):
            fail(f"image must be a dict of pair-image parameters, got {type(self.image).__name__}.")
        try:
            self.image = PairImageParams.from_dict(self.image).to_dict()
        except (TypeError, ValueError) as e:
            fail(f"image: {e}")
        try:
            self.architecture = normalize_config(self.architecture)
            with torch.device("meta"):  # validates all values without allocating weights
                CNNC(**self.architecture)
        except (TypeError, ValueError) as e:
            fail(f"architecture: {e}")
        arch = self.architecture
        if arch["image_size"] != self.image["bins"]:
            fail(
                f"architecture image_size={arch['image_size']} but the pair images have bins={self.image['bins']}; "
                "they must be equal."
            )
        if not isinstance(self.classes, list | tuple) or not all(isinstance(c, str) and c for c in self.classes):
            fail(f"classes must be a list of non-empty strings, got {self.classes!r}.")
        self.classes = list(self.classes)
        if len(set(self.classes)) != len(self.classes):
            fail(f"classes must be distinct, got {self.classes}.")
        if len(self.classes) != arch["n_classes"]:
            fail(
                f"{len(self.classes)} class names {self.classes} for a network with n_classes={arch['n_classes']}; "
                "give one name per output (the positive class for a single sigmoid output)."
            )
        if self.task == "direction" and arch["n_classes"] != 3:
            fail(
                f"task 'direction' needs n_classes=3 (none, regulator->target, target->regulator), got {arch['n_classes']}."
            )
        if self.task == "interaction" and arch["n_classes"] not in (1, 2):
            fail(f"task 'interaction' needs n_classes 1 (sigmoid) or 2 (softmax), got {arch['n_classes']}.")
        if not isinstance(self.features, list | tuple) or not all(isinstance(f, str) and f for f in self.features):
            fail(f"features must be a list of feature names, got {self.features!r}.")
        self.features = list(self.features)
        if len(self.features) != arch["n_extra_features"]:
            fail(
                f"{len(self.features)} feature names {self.features} for a network with "
                f"n_extra_features={arch['n_extra_features']}; they must match."
            )
        if self.gene_matching not in GENE_MATCHING:
            fail(f"gene_matching must be one of {GENE_MATCHING}, got {self.gene_matching!r}.")
        if (
            not isinstance(self.species, list | tuple)
            or not self.species
            or not all(isinstance(s, str) and s for s in self.species)
        ):
            fail(f"species must be a non-empty list of names (or ['any']), got {self.species!r}.")
        self.species = list(self.species)
        for key in ("expects", "cnnc_version", "created"):
            if not isinstance(getattr(self, key), str):
                fail(f"{key} must be a string, got {getattr(self, key)!r}.")
        for key in ("training", "metrics"):
            if not isinstance(getattr(self, key), dict):
                fail(f"{key} must be a dict, got {type(getattr(self, key)).__name__}.")
        if self.edge_score not in EDGE_SCORES:
            fail(f"edge_score must be one of {EDGE_SCORES}, got {self.edge_score!r}.")

    @property
    def image_params(self) -> PairImageParams:
        """The pair-image parameters as a :class:`~cnnc._engine._params.PairImageParams`."""
        return PairImageParams.from_dict(self.image)

    def to_dict(self) -> dict:
        """Plain dict of all fields."""
        return asdict(self)

    def to_json(self) -> str:
        """JSON text of all fields (the inverse of :meth:`from_json`)."""
        return json.dumps(self.to_dict(), default=_json_default, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        """Strict inverse of :meth:`to_dict`: every field must be present and no other key."""
        if not isinstance(d, dict):
            raise ValueError(f"A model spec must be a JSON object, got {type(d).__name__}.")
        known = [f.name for f in fields(cls)]
        if d.get("calibration", 0) is None:  # files of earlier versions carry an unused, empty calibration
            d = {k: v for k, v in d.items() if k != "calibration"}
        # fields added after format 1 was published take their defaults in older files
        d = {**{k: v for k, v in OPTIONAL_FIELDS.items() if k not in d}, **d}
        missing = [k for k in known if k not in d]
        unknown = sorted(set(d) - set(known))
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unknown:
                parts.append(f"unknown keys {unknown}")
            hint = " (written by a newer cnnc? upgrade cnnc)" if unknown else ""
            raise ValueError(f"Invalid model spec: {' and '.join(parts)}{hint}; expected exactly {known}.")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelSpec:
        """Parse and validate a spec written by :meth:`to_json`."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"Invalid model spec: not valid JSON ({e}).") from None
        return cls.from_dict(d)
