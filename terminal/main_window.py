"""The main window: a document area of tabs in the centre (charts, option chain, strategy builder...),
dockable panels around it, menus, the status bar, and the layout saved per profile.

The centre is a real central widget so that it, not the side columns, takes the room a window gains.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QTabWidget, QWidget

from widgets.style import THEMES, load_theme

from .status_bar import TerminalStatusBar

log = logging.getLogger(__name__)
# Qt's raster engine hands a fill of more than ~96 spans (a translucent grid line is one span a pixel, a
# shaded area one a row) to its GUI thread pool and waits for it: about 0.1 ms a grid line when idle,
# and 5-10 ms for a gridded plot when the cores are busy with the engine, the emulator and the feeds.
# The window paints on one thread and wants latency, not fill throughput. Qt reads this when the pool is
# first wanted (the first paint), so it is set when the window's module is imported.
os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
LAYOUT_VERSION = 2  # 2: chain and builder moved from docks to the central document tabs

Area = Qt.DockWidgetArea


class MainWindow(QMainWindow):
    """Hosts every panel as a QDockWidget; the composition root decides which panels exist."""

    def __init__(self, status_bar: TerminalStatusBar, layout_path: Path, on_close: Callable[[], None]) -> None:
        super().__init__()
        self.setWindowTitle("ShrivenQuant Terminal")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AnimatedDocks)
        self.setStatusBar(status_bar)
        self.status = status_bar
        self.layout_path = layout_path
        self.docks: dict[str, QDockWidget] = {}
        self.documents: dict[str, QWidget] = {}
        self.before_save: list[Callable[[], None]] = []  # parts that persist their own state with the layout
        self.workspace = QTabWidget()
        self.workspace.setObjectName("workspace")
        self.workspace.setDocumentMode(True)
        self.workspace.setMovable(True)
        self.workspace.setTabsClosable(True)
        self.workspace.tabCloseRequested.connect(self._close_document)
        self.setCentralWidget(self.workspace)
        self._on_close = on_close
        self._closing = False
        self._build_menus()
        self.resize(1600, 1000)

    # panels ---------------------------------------------------------------------------------------
    def add_panel(self, key: str, title: str, widget: QWidget, area: Area = Area.RightDockWidgetArea,
                  tabify_with: str | None = None) -> QDockWidget:
        """Dock a panel; key must be unique and stable (it names the panel in saved layouts)."""
        if key in self.docks:
            raise ValueError(f"panel {key!r} already exists")
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        if tabify_with is not None:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[key] = dock
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_document(self, key: str, title: str, widget: QWidget, closable: bool = False, index: int | None = None) -> None:
        """Add a tab to the central area (at index, else last); closable tabs get a close button."""
        if key in self.documents or key in self.docks:
            raise ValueError(f"panel {key!r} already exists")
        index = self.workspace.insertTab(self.workspace.count() if index is None else index, widget, title)
        self.documents[key] = widget
        if not closable:
            for side in (self.workspace.tabBar().ButtonPosition.RightSide, self.workspace.tabBar().ButtonPosition.LeftSide):
                self.workspace.tabBar().setTabButton(index, side, None)  # type: ignore[arg-type]

    def remove_document(self, key: str) -> None:
        """Close a tab; a document holding feeds releases them first (close_feeds)."""
        widget = self.documents.pop(key)
        release = getattr(widget, "close_feeds", None)
        if callable(release):
            release()
        self.workspace.removeTab(self.workspace.indexOf(widget))
        widget.deleteLater()

    def _close_document(self, index: int) -> None:
        widget = self.workspace.widget(index)
        for key, doc in list(self.documents.items()):
            if doc is widget:
                self.remove_document(key)

    def focus_panel(self, key: str) -> None:
        """Show, raise and focus a panel or a document tab (used by hotkeys)."""
        if key in self.documents:
            widget = self.documents[key]
            self.workspace.setCurrentWidget(widget)
            widget.setFocus()
            return
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        dock.widget().setFocus()

    # layout ---------------------------------------------------------------------------------------
    def save_layout(self) -> None:
        """Write window geometry and dock state to the profile's layout file."""
        for save in self.before_save:
            try:
                save()
            except Exception:  # one part failing to save must not lose the layout
                log.exception("saving a part of the layout failed")
        payload = {
            "version": LAYOUT_VERSION,
            "geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode(),
            "state": base64.b64encode(bytes(self.saveState(LAYOUT_VERSION).data())).decode(),
            "theme": self.property("theme") or "dark",
        }
        try:
            self.layout_path.parent.mkdir(parents=True, exist_ok=True)
            self.layout_path.write_text(json.dumps(payload), encoding="utf-8")
        except OSError as exc:
            log.warning("could not save layout to %s: %s", self.layout_path, exc)

    def restore_layout(self) -> bool:
        """Restore the saved layout if there is one; return True if it was applied."""
        try:
            payload = json.loads(self.layout_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable layout %s: %s", self.layout_path, exc)
            return False
        if payload.get("version") != LAYOUT_VERSION:
            return False
        self.restoreGeometry(QByteArray(base64.b64decode(payload["geometry"])))
        ok = self.restoreState(QByteArray(base64.b64decode(payload["state"])), LAYOUT_VERSION)
        if payload.get("theme") in THEMES:
            self.apply_theme(payload["theme"])
        return bool(ok)

    def apply_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(load_theme(name))
        self.setProperty("theme", name)

    # menus ----------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.view_menu = bar.addMenu("&View")
        theme_menu = self.view_menu.addMenu("Theme")
        for name in THEMES:
            action = QAction(name.title(), self)
            action.triggered.connect(lambda _=False, n=name: self.apply_theme(n))
            theme_menu.addAction(action)
        self.view_menu.addSeparator()
        self.help_menu = bar.addMenu("&Help")
        about = QAction("About", self)
        about.triggered.connect(lambda: QMessageBox.about(self, "ShrivenQuant Terminal",
                                                          "ShrivenQuant Terminal — Zerodha Kite and Binance."))
        self.help_menu.addAction(about)

    # shutdown -------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        """Save the layout and hand shutdown to the app (which closes connections, then quits)."""
        if not self._closing:
            self._closing = True
            self.save_layout()
            self._on_close()
        event.accept()
