"""Settings and profiles: a TOML file under the user's config dir; data (journal, caches) under the data dir.

Nothing secret lives in the TOML file: credentials are in the vault. A profile names the venues it
connects to (the demo profile: the built-in emulator), its risk limits, theme and keymap overrides.
"""
from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

log = logging.getLogger(__name__)

APP_NAME = "ShrivenQuant"
DEFAULT_PROFILE = "demo"

DEFAULT_TOML: dict[str, Any] = {
    "general": {"default_profile": DEFAULT_PROFILE, "frame_rate_hz": 25},
    "profiles": {
        "demo": {
            "description": "Paper trading on the built-in exchange emulator",
            "venues": ["emulator"],
            "theme": "dark",
            "confirm_orders": False,
        },
        "zerodha": {
            "description": "Zerodha Kite Connect (live)",
            "venues": ["zerodha"],
            "theme": "dark",
            "confirm_orders": True,
            "kite": {"api_key": "", "rest_url": "https://api.kite.trade", "ws_url": "wss://ws.kite.trade",
                     "login_url": "https://kite.zerodha.com/connect/login",
                     "redirect_url": "http://127.0.0.1:5010/callback"},  # the Kite app's redirect URL: loopback
        },
        "binance": {
            "description": "Binance Spot and USD-M (live)",
            "venues": ["binance"],
            "theme": "dark",
            "confirm_orders": True,
            "binance": {"rest_url": "https://api.binance.com", "ws_url": "wss://stream.binance.com:9443",
                        "fapi_url": "https://fapi.binance.com", "fstream_url": "wss://fstream.binance.com"},
        },
        "paper": {
            "description": "Paper trading: live market data from the emulator, every order filled locally",
            "venues": ["emulator"],
            "theme": "dark",
            "confirm_orders": False,
            "paper": True,
        },
        "binance-testnet": {
            "description": "Binance Spot testnet",
            "venues": ["binance"],
            "theme": "dark",
            "confirm_orders": False,
            "binance": {"rest_url": "https://testnet.binance.vision", "ws_url": "wss://stream.testnet.binance.vision",
                        "fapi_url": "https://testnet.binancefuture.com", "fstream_url": "wss://fstream.binancefuture.com"},
        },
    },
}


@dataclass(frozen=True)
class Profile:
    """One named way to run the terminal."""

    name: str
    description: str = ""
    venues: tuple[str, ...] = ("emulator",)
    theme: str = "dark"
    confirm_orders: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # venue tables, risk limits, keymap overrides

    @property
    def uses_emulator(self) -> bool:
        return "emulator" in self.venues


@dataclass
class Settings:
    """The whole settings file plus where things live on disk."""

    path: Path
    data: dict[str, Any]
    config_dir: Path
    data_dir: Path

    @classmethod
    def load(cls, path: Path | None = None, data_dir: Path | None = None) -> "Settings":
        """Load settings from path (default: the user config dir), creating it with defaults."""
        config_dir = Path(platformdirs.user_config_dir(APP_NAME))
        path = path or config_dir / "settings.toml"
        data_dir = data_dir or Path(platformdirs.user_data_dir(APP_NAME))
        data = _merge(DEFAULT_TOML, {})
        if path.exists():
            try:
                data = _merge(DEFAULT_TOML, tomllib.loads(path.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, OSError) as exc:
                log.error("settings file %s is unreadable (%s); using defaults", path, exc)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(tomli_w.dumps(data), encoding="utf-8")
            except OSError as exc:
                log.warning("could not write default settings to %s: %s", path, exc)
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(path=path, data=data, config_dir=path.parent, data_dir=data_dir)

    @property
    def profile_names(self) -> list[str]:
        return sorted(self.data.get("profiles", {}))

    def profile(self, name: str | None = None) -> Profile:
        """Return the named profile (default: general.default_profile); KeyError names the choices."""
        name = name or self.data.get("general", {}).get("default_profile", DEFAULT_PROFILE)
        table = self.data.get("profiles", {}).get(name)
        if table is None:
            raise KeyError(f"no profile {name!r}; profiles: {', '.join(self.profile_names)}")
        known = {"description", "venues", "theme", "confirm_orders"}
        return Profile(
            name=name,
            description=str(table.get("description", "")),
            venues=tuple(table.get("venues", ("emulator",))),
            theme=str(table.get("theme", "dark")),
            confirm_orders=bool(table.get("confirm_orders", False)),
            options={k: v for k, v in table.items() if k not in known},
        )

    def set_profile_option(self, name: str, key: str, value: Any) -> None:
        """Set one key of a profile (a value or a table, e.g. its risk limits) and write the settings file atomically.

        Only the user's own file is rewritten (defaults stay out of it); nothing secret belongs here."""
        if name not in self.data.get("profiles", {}):
            raise KeyError(f"no profile {name!r}")
        try:
            own = tomllib.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise OSError(f"settings file {self.path} is unreadable ({exc}); not overwriting it") from None
        own.setdefault("profiles", {}).setdefault(name, {})[key] = value
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(tomli_w.dumps(own), encoding="utf-8")
        os.replace(tmp, self.path)
        self.data = _merge(DEFAULT_TOML, own)

    def profile_dir(self, name: str) -> Path:
        """Per-profile data folder (journal, layout, caches)."""
        path = self.data_dir / "profiles" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def frame_rate_hz(self) -> float:
        return float(self.data.get("general", {}).get("frame_rate_hz", 25))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = {k: (_merge(v, {}) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class ProfileRisk:
    """A profile's risk limits as the setup dialog edits them: the [profiles.NAME.risk.default] table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def load(self, profile: str) -> dict[str, Any]:
        return dict(self.settings.profile(profile).options.get("risk", {}).get("default", {}))

    def save(self, profile: str, table: dict[str, Any]) -> None:
        risk = dict(self.settings.profile(profile).options.get("risk", {}))
        risk["default"] = table
        self.settings.set_profile_option(profile, "risk", risk)
