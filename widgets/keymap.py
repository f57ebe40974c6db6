"""Hotkeys: named actions bound to key sequences, with defaults traders already know.

Defaults follow Kite/Pi and crypto terminals: F1 / Shift+B buy ticket, F2 / Shift+S sell ticket, Esc
closes a ticket, Ctrl+Shift+X cancels everything, Ctrl+Shift+K is the kill switch, Alt+1..7 focus
panels, Ctrl+Down/Up next/previous instrument, "?" or F12 the help overlay. A binding is one or two
key sequences; conflicts (one key bound to two actions) are reported, never silently resolved.
The keymap is saved per profile as JSON of action -> [sequences in PortableText].
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QKeySequence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    defaults: tuple[str, ...]


ACTIONS: tuple[Action, ...] = (
    Action("buy_ticket", "Buy ticket for the selected instrument", ("F1", "Shift+B")),
    Action("sell_ticket", "Sell ticket for the selected instrument", ("F2", "Shift+S")),
    Action("close_ticket", "Close the ticket / dialog", ("Esc",)),
    Action("cancel_all", "Cancel all open orders", ("Ctrl+Shift+X",)),
    Action("kill_switch", "KILL SWITCH: block, cancel all, flatten", ("Ctrl+Shift+K",)),
    Action("focus_watchlist", "Focus the watchlist", ("Alt+1",)),
    Action("focus_book", "Focus the order book / ladder", ("Alt+2",)),
    Action("focus_chart", "Focus the chart", ("Alt+3",)),
    Action("focus_orders", "Focus the orders panel", ("Alt+4",)),
    Action("focus_positions", "Focus the positions panel", ("Alt+5",)),
    Action("focus_chain", "Focus the option chain", ("Alt+6",)),
    Action("focus_search", "Search instruments", ("Ctrl+K", "/")),
    Action("next_instrument", "Next instrument in the watchlist", ("Ctrl+Down",)),
    Action("prev_instrument", "Previous instrument in the watchlist", ("Ctrl+Up",)),
    Action("centre_ladder", "Centre the ladder on the last price", ("Ctrl+Space",)),
    Action("help", "Show the hotkeys", ("F12", "?")),
)
BY_NAME = {a.name: a for a in ACTIONS}


def normalise(sequence: str) -> str:
    """Canonical text of a key sequence ('shift+b' -> 'Shift+B'); ValueError if Qt cannot read it."""
    seq = QKeySequence.fromString(sequence, QKeySequence.SequenceFormat.PortableText)
    text = seq.toString(QKeySequence.SequenceFormat.PortableText)
    if not text or seq.count() == 0 or "\ufffd" in text:
        raise ValueError(f"not a key sequence: {sequence!r}")
    return text


class Keymap:
    """action name -> key sequences, with conflict detection and per-profile persistence."""

    def __init__(self, bindings: dict[str, tuple[str, ...]] | None = None) -> None:
        self.bindings: dict[str, tuple[str, ...]] = {a.name: tuple(normalise(k) for k in a.defaults) for a in ACTIONS}
        for name, keys in (bindings or {}).items():
            self.bind(name, keys)

    def bind(self, action: str, keys: tuple[str, ...] | list[str]) -> None:
        """Bind an action (unknown names raise KeyError) to key sequences."""
        if action not in BY_NAME:
            raise KeyError(f"unknown action {action!r}")
        self.bindings[action] = tuple(normalise(k) for k in keys if k.strip())

    def keys(self, action: str) -> tuple[str, ...]:
        return self.bindings.get(action, ())

    def conflicts(self) -> dict[str, list[str]]:
        """Key sequence -> the actions that share it (only where two or more do)."""
        owners: dict[str, list[str]] = {}
        for action, keys in self.bindings.items():
            for key in keys:
                owners.setdefault(key, []).append(action)
        return {key: names for key, names in owners.items() if len(names) > 1}

    def to_json(self) -> str:
        return json.dumps({name: list(keys) for name, keys in self.bindings.items()}, indent=1)

    @classmethod
    def load(cls, path: Path) -> "Keymap":
        """Load a saved keymap; defaults for what is missing; a broken file is logged and ignored."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls({k: tuple(v) for k, v in data.items() if k in BY_NAME})
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable keymap %s: %s", path, exc)
            return cls()

    def save(self, path: Path) -> None:
        conflicts = self.conflicts()
        if conflicts:
            raise ValueError("conflicting hotkeys: " + "; ".join(f"{k} -> {', '.join(v)}" for k, v in conflicts.items()))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
