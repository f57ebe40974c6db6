"""Load a Strategy subclass from a script file (fresh module each time, so hot reload sees edits)."""
from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

from .api import Strategy

_counter = itertools.count()


class StrategyLoadError(Exception):
    """The script could not be imported or defines no single Strategy subclass."""


def load_strategy_class(path: Path, class_name: str | None = None) -> type[Strategy]:
    """Import the script and return its Strategy subclass (the named one, or the only one)."""
    name = f"sq_strategy_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's script: any error is a load error with its message
        raise StrategyLoadError(f"{path.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(name, None)
    found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Strategy) and v is not Strategy
             and v.__module__ == name]
    if class_name is not None:
        found = [c for c in found if c.__name__ == class_name]
    if len(found) != 1:
        names = ", ".join(c.__name__ for c in found) or "none"
        raise StrategyLoadError(f"{path.name}: expected one Strategy subclass{f' named {class_name}' if class_name else ''}, found {names}")
    return found[0]
