"""core.options defers scipy.special (0.2 s of imports) to the first price, and then uses scipy's own ufuncs."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from core import options
assert "scipy.special" not in sys.modules, "imported with core.options"
assert abs(float(options.price("bsm", True, 100.0, 100.0, 1.0, 0.2)) - 7.965567455405804) < 1e-12
import scipy.special
from core.options import _normal
assert _normal.ndtr is scipy.special.ndtr and _normal.ndtri is scipy.special.ndtri
assert "__getattr__" in vars(_normal)  # the hook stays, but is no longer consulted for these names
"""


def test_scipy_special_is_imported_at_the_first_price_not_before() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_unknown_names_still_raise_attribute_error() -> None:
    from core.options import _normal

    try:
        _normal.erf  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError:
        return
    raise AssertionError("_normal.erf should not exist")
