"""One home for the argument checks of the public functions and the command line: the same words for the same mistake.

Every check raises before anything is written, with a message that names the problem and the fix: a ``ValueError``
for a value of the right kind but out of range, a ``TypeError`` for a value of the wrong kind. Numbers are accepted
whatever their numpy type (``np.float32(0.5)``, ``np.int64(3)``); booleans are not numbers. The table of what is
refused is in ``docs/refusals.md``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


class ArgumentError(ValueError, TypeError):
    """An argument of the wrong kind (e.g. a string or a bool for a number).

    Both a ``ValueError`` and a ``TypeError``, so that code catching either (as before this module) still catches it.
    """


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def as_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    example: float | None = None,
    none: bool = False,
) -> float | None:
    """``value`` as a finite float (any numpy float or integer type), within the bounds; else a clear error."""
    if value is None and none:
        return None
    where = _interval(low, high, low_open, high_open)
    wanted = f"a finite number {where}".strip() + (" or None" if none else "")
    fix = f" Pass e.g. {name}={example!r}." if example is not None else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real | np.integer | np.floating):
        raise ArgumentError(f"{name} must be {wanted}, got {value!r} ({type(value).__name__}).{fix}")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        raise ValueError(f"{name} must be {wanted}, got {value!r}.{fix}")
    return number


def as_integer(
    value,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    example: int | None = None,
    none: bool = False,
    meaning: str = "",
) -> int | None:
    """``value`` as an int (any numpy integer type, or a float with an integer value), within the bounds."""
    if value is None and none:
        return None
    where = _interval(low, high, False, False)
    wanted = f"an integer {where}".strip() + (" or None" if none else "")
    fix = f" Pass e.g. {name}={example!r}." if example is not None else ""
    meaning = f" ({meaning})" if meaning else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real | np.integer | np.floating):
        raise ArgumentError(f"{name} must be {wanted}{meaning}, got {value!r} ({type(value).__name__}).{fix}")
    if isinstance(value, Integral | np.integer):
        number = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        number = int(value)
    else:
        raise ValueError(f"{name} must be {wanted}{meaning}, got {value!r}.{fix}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be {wanted}{meaning}, got {value!r}.{fix}")
    return number


def as_bool(value, name: str, *, none: bool = False) -> bool | None:
    """``value`` as a bool (``True``/``False`` or ``np.bool_``), else a clear error."""
    if value is None and none:
        return None
    if not isinstance(value, bool | np.bool_):
        raise ArgumentError(f"{name} must be True or False{' or None' if none else ''}, got {value!r}.")
    return bool(value)


def as_seed(value, name: str = "seed") -> int:
    """A random seed: an integer >= 0."""
    return as_integer(value, name, low=0, example=0)


def as_key(value, name: str = "key_added") -> str:
    """A key of ``adata.uns``/``varp``/``varm``: a non-empty string without ``/`` (h5ad cannot store it)."""
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name} must be a non-empty string, got {value!r}. Pass e.g. {name}='cnnc_result'.")
    if "/" in value:
        raise ValueError(f"{name}={value!r} holds '/', which .h5ad files cannot store in a key. Use '_' instead.")
    return value


def as_choice(value, name: str, choices) -> str:
    """One of ``choices`` (exact), else a clear error listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}.")
    return value


def refuse_ignored(ignored: dict[str, object], reason: str, fix: str = "drop it") -> None:
    """Refuse parameters that were given but have no effect here (``{name: value}``; ``reason`` says why)."""
    if not ignored:
        return
    given = ", ".join(f"{k}={v!r}" for k, v in ignored.items())
    raise ValueError(f"{given} {'has' if len(ignored) == 1 else 'have'} no effect {reason}: {fix}.")


def check_groups_need_groupby(groups, groupby, *, option: str = "groups", by: str = "groupby") -> None:
    """``groups`` selects categories of ``groupby``: without it, it would be ignored."""
    if groups is not None and groupby is None:
        raise ValueError(
            f"{option} selects categories of {by}, but no {by} was given: pass {by} (the adata.obs column whose "
            f"categories the groups are), or drop {option}."
        )


#: Above this magnitude, sums of squares overflow float64 (1e154 squared is 1e308, the largest float64).
MAX_MAGNITUDE = 1e150


def refuse_huge(matrix, what: str) -> None:
    """Refuse values so large that variances and correlations overflow (e.g. data multiplied by 1e200)."""
    from scipy import sparse

    if getattr(matrix, "dtype", None) is None or not np.issubdtype(matrix.dtype, np.number):
        return
    if sparse.issparse(matrix):
        data = matrix.data
    elif isinstance(matrix, np.ndarray):
        data = matrix
    else:  # backed or lazy matrices: read in blocks by the computation, checked there
        return
    if data.size == 0:
        return
    finite = data[np.isfinite(data)] if np.issubdtype(data.dtype, np.floating) else data
    if finite.size and float(np.max(np.abs(finite))) > MAX_MAGNITUDE:
        raise ValueError(
            f"{what} hold values up to {float(np.max(np.abs(finite))):.3g}: variances and correlations overflow "
            f"beyond {MAX_MAGNITUDE:.0e}. Rescale the values (e.g. divide by a power of 10, or log-transform them)."
        )


def check_groups_list(groups) -> list[str] | None:
    """``groups`` as a list of names (one string is one group); an empty list is refused."""
    if groups is None:
        return None
    groups = [groups] if isinstance(groups, str) else [str(g) for g in groups]
    if not groups:
        raise ValueError("groups is empty: pass the categories to score, or groups=None for all of them.")
    return groups
