"""A grid for pyqtgraph plots that stays cheap to repaint.

pyqtgraph draws a grid line at every tick of every tick level, and replays all of them on each
repaint of the view. The minor levels are most of those lines: on a 640x150 plot they took a redraw
from 3.5 to 10 ms, on the one loop that also runs the order path. The grid here follows the major
ticks only (the labelled ones), which is also the grid a trader reads prices against.
"""
from __future__ import annotations

import pyqtgraph as pg


def show_grid(plot: pg.PlotItem | pg.PlotWidget, alpha: float) -> None:
    """Grid lines at the major ticks of both axes, at the given opacity."""
    plot.showGrid(x=True, y=True, alpha=alpha)
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).setStyle(maxTickLevel=0)
