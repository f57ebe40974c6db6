"""The whole terminal as a user starts it: a real process, offscreen, writing a screenshot and exiting 0."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage


def test_screenshot_flag_writes_a_png_and_exits_cleanly(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "terminal", "--config", str(tmp_path / "s.toml"), "--data-dir", str(tmp_path / "data"),
         "--screenshot", str(shot), "--exit-after", "2"],
        capture_output=True, text=True, timeout=90, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    image = QImage(str(shot))
    assert image.width() >= 1200 and image.height() >= 700
    assert "stopped" in proc.stderr  # clean shutdown ran


def test_unknown_profile_exits_with_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "terminal", "--config", str(tmp_path / "s.toml"), "--data-dir", str(tmp_path / "d"),
         "--profile", "nope", "--exit-after", "0"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert proc.returncode == 2 and "no profile 'nope'" in proc.stderr
