"""Take PySide6's per-import source scan off every import the terminal makes after Qt is loaded.

Importing PySide6 replaces builtins.__import__ with a hook that, for each newly imported Python module,
reads the module's whole source (inspect.getsource) to see whether it mentions PySide, so that the opt-in
`from __feature__ import snake_case, true_property` can be applied per module. This terminal never
opts in. The scan made every later import slower: scipy.signal 0.61 -> 0.83 s, and a few hundred
modules of our own, pyqtgraph and the connectors on the way to the first book.

The answer the scan gives only chooses between feature set 0 (none) and -1 ("ignore this module",
which keeps the current set, also none while nothing opts in), so answering "ignore" without reading
the source changes nothing but the time. If PySide changes this private hook, nothing is patched.
"""
from __future__ import annotations

import logging
import sys
from types import ModuleType

log = logging.getLogger(__name__)


def _never_opts_in(module: ModuleType) -> bool:
    return False


def skip_feature_scan() -> bool:
    """Patch PySide6's import-time source scan (after PySide6.QtCore is imported); True if patched."""
    import PySide6.QtCore  # noqa: F401  (installs the hook this replaces)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        log.debug("PySide6 has no per-import feature scan to skip")
        return False
    feature._mod_uses_pyside = _never_opts_in
    return True
