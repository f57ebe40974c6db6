from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from terminal.cli import parse_args
from terminal.settings import Settings


def test_defaults_are_written_and_profiles_listed(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "cfg" / "settings.toml", tmp_path / "data")
    assert (tmp_path / "cfg" / "settings.toml").exists()
    assert {"demo", "zerodha", "binance", "binance-testnet"} <= set(settings.profile_names)
    demo = settings.profile()
    assert demo.name == "demo" and demo.uses_emulator
    assert settings.profile("binance").options["binance"]["rest_url"].startswith("https://")


def test_user_values_override_defaults_and_unknown_profile_names_choices(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[general]\ndefault_profile = "mine"\n[profiles.mine]\nvenues = ["binance"]\ntheme = "light"\n')
    settings = Settings.load(path, tmp_path / "data")
    assert settings.profile().theme == "light" and settings.profile().venues == ("binance",)
    assert "demo" in settings.profile_names  # defaults still there
    with pytest.raises(KeyError, match="profiles: "):
        settings.profile("nope")


def test_broken_file_falls_back_to_defaults(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("this is [not toml")
    settings = Settings.load(path, tmp_path / "data")
    assert settings.profile().name == "demo"
    assert "unreadable" in caplog.text
    assert path.read_text() == "this is [not toml"  # never overwrite the user's file


def test_no_secret_fields_in_default_settings(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "s.toml", tmp_path / "d")
    text = (tmp_path / "s.toml").read_text()
    tomllib.loads(text)
    for word in ("secret", "password", "access_token"):
        assert word not in text.lower()
    assert settings.profile_dir("demo").is_dir()


def test_screenshot_implies_exit_after() -> None:
    args = parse_args(["--screenshot", "x.png"])
    assert args.exit_after == 5.0
    with pytest.raises(SystemExit):
        parse_args(["--exit-after", "-1"])
