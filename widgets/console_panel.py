"""The embedded Python console: qtconsole's widget on a Jupyter kernel in a child process.

User code never runs on the terminal's loop: `while True: pass` blocks only the kernel, and Ctrl+C
(or the Interrupt button) interrupts it; Restart starts a fresh kernel. The kernel gets a scrubbed
environment plus the engine channel's URL and token (see terminal/console_startup.py), and its
IPython history lives in the profile's folder, so it persists across sessions.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget  # noqa: E402
from qtconsole.manager import QtKernelManager  # noqa: E402
from qtconsole.rich_jupyter_widget import RichJupyterWidget  # noqa: E402

log = logging.getLogger(__name__)
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "SYSTEMROOT", "TMPDIR")


def kernel_env(engine_url: str, engine_token: str, ipython_dir: Path) -> dict[str, str]:
    """The kernel's whole environment: nothing of ours but the engine channel's address and token."""
    env = {k: v for k, v in os.environ.items() if k in SAFE_ENV}
    env.update(SQ_ENGINE_URL=engine_url, SQ_ENGINE_TOKEN=engine_token, IPYTHONDIR=str(ipython_dir))
    return env


class ConsolePanel(QWidget):
    def __init__(self, engine_url: str, engine_token: str, startup: Path, ipython_dir: Path, dark: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_url, self.engine_token, self.startup, self.ipython_dir = engine_url, engine_token, startup, ipython_dir
        self.console = RichJupyterWidget()
        if dark:
            self.console.set_default_style("linux")
        self.console.banner = "ShrivenQuant console (IPython kernel in its own process; Ctrl+C interrupts)\n"
        self.kernel_manager: QtKernelManager | None = None
        self.status = QLabel("kernel: starting…")
        interrupt = QPushButton("Interrupt")
        interrupt.clicked.connect(self.interrupt)
        restart = QPushButton("Restart")
        restart.clicked.connect(self.restart)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(interrupt)
        bar.addWidget(restart)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.console, 1)

    def start(self) -> None:
        """Start the kernel and run the startup code in it."""
        self.ipython_dir.mkdir(parents=True, exist_ok=True)
        km = QtKernelManager(kernel_name="python3")
        km.start_kernel(env=kernel_env(self.engine_url, self.engine_token, self.ipython_dir))
        client = km.client()
        client.start_channels()
        self.kernel_manager = km
        self.console.kernel_manager = km
        self.console.kernel_client = client
        client.execute(self.startup.read_text(encoding="utf-8"), silent=False)
        self.status.setText("kernel: running")
        log.info("console kernel started")

    def interrupt(self) -> None:
        if self.kernel_manager is not None:
            self.kernel_manager.interrupt_kernel()

    def restart(self) -> None:
        """Restart the kernel (fresh namespace) and reconnect it to the engine."""
        if self.kernel_manager is None:
            return
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        km, self.kernel_manager = self.kernel_manager, None
        if km is None:
            return
        client = self.console.kernel_client
        if client is not None:
            client.stop_channels()
        km.shutdown_kernel(now=True)
        self.status.setText("kernel: stopped")
