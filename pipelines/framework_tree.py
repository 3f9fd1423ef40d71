"""The shape of the index framework: which code is the index and which are its pillars.

Read from the framework's own rows (assets/framework.csv, or the warehouse's copy), so no
module keeps a list of pillar names of its own: a framework with other pillars gives a mart,
a gate and a report with those pillars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrameworkTree:
    """``index``: the one code without a parent; ``pillars``: its children, in file order."""

    index: str
    pillars: tuple[str, ...]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> FrameworkTree:
        """From rows with ``icode`` and ``parent`` (an empty parent marks the top)."""
        listed = [(str(r["icode"]), (r.get("parent") or "").strip()) for r in rows]
        tops = [code for code, parent in listed if not parent]
        if len(tops) != 1:
            raise ValueError(f"a framework has exactly one top code, not {tops or 'none'}")
        pillars = tuple(code for code, parent in listed if parent == tops[0])
        return cls(index=tops[0], pillars=pillars)
