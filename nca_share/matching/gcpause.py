"""Pausing Python's cyclic garbage collector during the matcher's bulk work.

Matching a batch allocates hundreds of thousands of short-lived, acyclic containers (rows,
observables, hits, parameter tuples) next to a large long-lived constituency index. Each
generation-2 collection then walks the whole heap, and in the benchmark those collections took
about 2 CPU-seconds of a 5-second run. Reference counting frees the acyclic garbage anyway;
the rare cycles are collected once the collector is back on.

The pause is process-wide, so it is counted: nested or concurrent users (worker threads) keep
the collector off until the last one leaves, and it is only switched back on if it was on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off for the duration of the block."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
