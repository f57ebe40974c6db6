"""Command-line options of the terminal."""
from __future__ import annotations

import argparse
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the terminal's command line."""
    parser = argparse.ArgumentParser(prog="shrivenquant", description="ShrivenQuant Terminal")
    parser.add_argument("--profile", help="profile to run (default: settings general.default_profile, 'demo')")
    parser.add_argument("--config", type=Path, help="settings TOML file (default: in the user config dir)")
    parser.add_argument("--data-dir", type=Path, help="data folder for journal, layouts and caches")
    parser.add_argument("--screenshot", type=Path, metavar="FILE", help="render the main window to this PNG, then exit")
    parser.add_argument("--exit-after", type=float, metavar="SECONDS",
                        help="exit 0 after this many seconds (with --screenshot: take it then)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--setup-credentials", action="store_true",
                        help="add or change venue keys in the encrypted vault (creating it if needed), then exit")
    parser.add_argument("--change-passphrase", action="store_true",
                        help="re-encrypt the credentials vault under a new passphrase, then exit")
    args = parser.parse_args(argv)
    if args.screenshot is not None and args.exit_after is None:
        args.exit_after = 5.0
    if args.exit_after is not None and args.exit_after < 0:
        parser.error("--exit-after must be >= 0")
    return args
