"""PySide6 no longer reads the source of every module imported after it (terminal.pyside_import_hook)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from terminal.pyside_import_hook import skip_feature_scan


def test_modules_imported_after_the_patch_are_not_scanned_and_qt_still_works(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    importlib.import_module("PySide6.QtCore")
    feature = sys.modules["shibokensupport.feature"]
    original = feature._mod_uses_pyside
    scanned: list[str] = []

    def recording_scan(module: ModuleType) -> bool:
        scanned.append(module.__name__)
        return bool(original(module))

    feature._mod_uses_pyside = recording_scan
    (tmp_path / "sq_probe_before.py").write_text("from PySide6.QtCore import QObject\nVALUE = 1\n")
    (tmp_path / "sq_probe_after.py").write_text("from PySide6.QtCore import QObject\nobj = QObject()\nobj.setObjectName('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__("sq_probe_before")  # through builtins.__import__, where PySide's hook sits
        assert "sq_probe_before" in scanned  # the hook reads each new module's source...
        assert skip_feature_scan() is True
        module = __import__("sq_probe_after")
        assert "sq_probe_after" not in scanned  # ...and no longer does once patched
        assert module.obj.objectName() == "x"  # Qt classes behave as before in such a module
    finally:
        feature._mod_uses_pyside = original
        for name in ("sq_probe_before", "sq_probe_after"):
            sys.modules.pop(name, None)
