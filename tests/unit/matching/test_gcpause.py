"""The counted garbage-collector pause used around bulk matching."""

from __future__ import annotations

import gc

from nca_share.matching.gcpause import gc_paused


def test_nested_pause_restores_collector_only_at_the_outermost_exit() -> None:
    """The collector stays off inside nested pauses and is back on after the last one."""
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_pause_keeps_a_disabled_collector_disabled() -> None:
    """A collector that was off before the pause is not switched on by it."""
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pause_restores_collector_after_an_exception() -> None:
    """An error inside the block still switches the collector back on."""
    try:
        with gc_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
