"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Each wait's timeout is what the condition needs on a quiet machine; CI shares two cores between the broker, the
# database, the gateway, a browser and the test, so every wait is given this factor more. A wait ends as soon as its
# condition holds: the slack lengthens only a failing test, and a test never passes because of it.
WAIT_SLACK = float(os.environ.get("VIGIE_TEST_WAIT_SLACK", "3"))


def wait_until(
    predicate: Callable[[], T],
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
    message: str = "",
) -> T:
    """Poll `predicate` until it returns something truthy and return that value.

    A bounded wait instead of a sleep: fast when the condition comes true early, and a clear
    AssertionError (not a hang) when it never does. ``timeout_s`` is scaled by ``WAIT_SLACK``.
    """
    timeout_s *= WAIT_SLACK
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
