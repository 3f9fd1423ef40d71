"""imported_meanwhile (pipelines/background_import.py): the modules are imported, in order, by
the end of the block; one that fails to import is left to its step and stops nothing."""

from __future__ import annotations

import sys

import pytest

from pipelines.background_import import imported_meanwhile


def test_every_module_is_imported_when_the_block_ends() -> None:
    for name in ("colorsys", "wave"):
        sys.modules.pop(name, None)
    with imported_meanwhile("colorsys", "no_such_module_here", "wave"):
        pass
    assert "colorsys" in sys.modules
    assert "wave" in sys.modules  # after a module that failed
    assert "no_such_module_here" not in sys.modules


def test_the_switch_interval_is_short_during_the_block_and_restored_after() -> None:
    before = sys.getswitchinterval()
    with imported_meanwhile("colorsys", switch_interval=0.0001):
        assert sys.getswitchinterval() == pytest.approx(0.0001)  # kept in microseconds
    assert sys.getswitchinterval() == before
