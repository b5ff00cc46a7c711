"""Merging helpers shared by the additive daily tallies."""

from __future__ import annotations


def max_or_none(a: float | None, b: float | None) -> float | None:
    """The larger of two optional maxima; None stands for "nothing measured" and is the identity."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
