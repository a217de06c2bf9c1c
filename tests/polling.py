"""Deadline polls instead of fixed sleeps: wait for a condition, not for a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01, what: str = "") -> T:
    """Call ``predicate`` until it returns something true and return that; raise
    AssertionError after ``timeout`` seconds (``what`` names the condition).

    >>> wait_for(lambda: 42)
    42
    >>> wait_for(lambda: 0, timeout=0.02, what="the answer")
    Traceback (most recent call last):
    ...
    AssertionError: timed out after 0.02 s waiting for the answer
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or repr(predicate)}")
        time.sleep(interval)
