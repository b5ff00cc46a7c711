"""Small helpers shared by the tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
    message: str = "",
) -> T:
    """Poll `predicate` until it returns something truthy and return that value.

    A bounded wait instead of a sleep: fast when the condition comes true early, and a clear
    AssertionError (not a hang) when it never does.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            name = getattr(predicate, "__name__", repr(predicate))
            what = message or f"{name} stayed falsy"
            raise AssertionError(f"{what} after {timeout_s:.2f} s (last value: {value!r})")
        time.sleep(interval_s)
