"""The standard normal CDF and its inverse (scipy.special.ndtr, ndtri), imported on first use.

Importing scipy.special costs about 0.2 s (it pulls in scipy's array-API layer and much of NumPy's
optional submodules). The terminal imports core.options at start-up but prices its first option only
after the first order book is on screen, so the import waits until then. The first lookup of `ndtr`
or `ndtri` replaces this module's __getattr__ hook with the ufuncs themselves: later calls cost one
plain module attribute read, and the maths (scipy's accuracy, deep into the tails) is unchanged.

Use as `_normal.ndtr(x)`; a `from ._normal import ndtr` would defeat the point.
"""
from __future__ import annotations

from typing import Any

__all__ = ["ndtr", "ndtri"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from scipy import special

    globals().update(ndtr=special.ndtr, ndtri=special.ndtri)  # __getattr__ is not consulted again
    return globals()[name]
