from __future__ import annotations

import logging

from pytestqt.qtbot import QtBot

from widgets.log_panel import LogPanel, QtLogHandler


def test_log_panel_shows_records_at_or_above_the_level(qtbot: QtBot) -> None:
    handler = QtLogHandler()
    logger = logging.getLogger("test.logpanel")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        panel = LogPanel(handler)
        qtbot.addWidget(panel)
        logger.debug("quiet detail")
        logger.info("order placed")
        logger.error("order rejected")
        lines = panel.lines()
        assert any("order placed" in line for line in lines)
        assert any("order rejected" in line for line in lines)
        assert not any("quiet detail" in line for line in lines)
        panel.level_box.setCurrentText("DEBUG")
        assert any("quiet detail" in line for line in panel.lines())
        panel.level_box.setCurrentText("ERROR")
        assert [line for line in panel.lines() if "order" in line] == [l for l in panel.lines() if "rejected" in l]
    finally:
        logger.removeHandler(handler)
