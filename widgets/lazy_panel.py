"""A tab whose panel is built the first time it is shown, not when the window is built.

Some panels are rarely opened but costly to build (the backtest panel: about 0.1 s with its imports).
Building them with the window puts that on the way to the first order book; a LazyPanel stands in
for such a panel and builds it from the factory on its first showEvent, inside the same frame, so
the user never sees it empty. `content` is None until then.

The panel sits in a frameless scroll area that resizes it to fit: where there is room it looks as
if placed directly; where there is not, it scrolls. Without that, the panel's minimum size would
reach the window only once built, and the window would grow under the user the first time the tab
is opened.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

W = TypeVar("W", bound=QWidget)


class LazyPanel(QScrollArea, Generic[W]):
    """Holds the place of a panel until it is first shown; build() makes it at once (tests, hotkeys)."""

    def __init__(self, factory: Callable[[], W], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self._factory: Callable[[], W] | None = factory
        self.content: W | None = None

    def build(self) -> W:
        """Build the panel now if it is not built yet; return it."""
        if self.content is None:
            assert self._factory is not None
            factory, self._factory = self._factory, None
            self.content = factory()
            self.setWidget(self.content)
        return self.content

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self.build()  # before the base class: the panel is laid out and painted in this same show
        super().showEvent(event)
