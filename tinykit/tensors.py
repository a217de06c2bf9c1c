"""Tensor value helpers shared by every stage (a leaf module)."""

from __future__ import annotations

import math


def round_half_away(x: float) -> int:
    """std::round: halves away from zero (Python's round() is banker's).

    >>> round_half_away(2.5), round_half_away(-2.5), round_half_away(0.49)
    (3, -3, 0)
    """
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))
