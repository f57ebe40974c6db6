"""UnlockDialog: ask the vault passphrase (or a new one, twice) and show a refusal inline.

The unlock callable is async because scrypt takes about a second: the dialog awaits it (the app runs it
in a worker thread) with the button disabled, so the loop is never blocked. A SecurityError keeps the
dialog open with its message under the field; success stores the result in `value` and accepts.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.security import SecurityError, redact

from ..order_entry import run_async

T = TypeVar("T")
MIN_NEW_PASSPHRASE = 10


class UnlockDialog(QDialog, Generic[T]):
    """Passphrase entry; create=True asks a new passphrase twice (at least MIN_NEW_PASSPHRASE characters)."""

    def __init__(self, unlock: Callable[[str], Awaitable[T]], create: bool = False, title: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title or ("Create the credentials vault" if create else "Unlock the credentials vault"))
        self._unlock = unlock
        self._create = create
        self._task: asyncio.Task[None] | None = None
        self.value: T | None = None
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setProperty("state", "bad")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        if create:
            form.addRow("Repeat", self.confirm)
        layout = QVBoxLayout(self)
        intro = ("Choose a passphrase for the encrypted credentials vault. It cannot be recovered: keep it safe."
                 if create else "Enter the passphrase of the credentials vault.")
        layout.addWidget(QLabel(intro))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        """Check the entry and start unlocking (a no-op while an attempt runs)."""
        if self._task is not None and not self._task.done():
            return
        text = self.passphrase.text()
        problem = self._problem(text)
        if problem:
            self.error.setText(problem)
            return
        self.error.setText("Unlocking…" if not self._create else "Creating…")
        self.buttons.setEnabled(False)
        self._task = run_async(self._attempt(text))

    def _problem(self, text: str) -> str:
        if not text:
            return "Enter the passphrase."
        if self._create and len(text) < MIN_NEW_PASSPHRASE:
            return f"Use at least {MIN_NEW_PASSPHRASE} characters."
        if self._create and text != self.confirm.text():
            return "The two entries differ."
        return ""

    async def _attempt(self, text: str) -> None:
        try:
            self.value = await self._unlock(text)
        except SecurityError as exc:
            self.error.setText(redact(str(exc)))
            self.passphrase.clear()
            self.passphrase.setFocus()
            return
        finally:
            self.buttons.setEnabled(True)
        self.error.clear()
        self.accept()


async def run_dialog(dialog: QDialog) -> int:
    """Show a dialog window-modally and wait for it without a nested event loop; return its result code."""
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda code: done.done() or done.set_result(int(code)))
    dialog.open()
    return await done
