"""Chart widget: repaint time with 1,000,000 candles zoomed out (level of detail) and zoomed in (~200 bars),
and the cost of a live tick on the last candle (SMA 20 and RSI 14 shown) with 100 vs 1,000,000 bars loaded (goal: ratio ~1).
Repaints are widget.grab() of the plot area (900x560 offscreen, software rasteriser)."""
from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import median_time, print_table  # noqa: E402

from core.domain import Instrument, InstrumentId, InstrumentKind, Venue  # noqa: E402
from core.marketdata.series import BarSeries  # noqa: E402
from core.marketdata.timeframes import Timeframe  # noqa: E402
from widgets.chart.chart_widget import ChartWidget  # noqa: E402
from widgets.chart.time_axis import UTC  # noqa: E402

BTC = Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.001"))


def series(n: int, seed: int = 3) -> BarSeries:
    rng = np.random.default_rng(seed)
    close = 30_000 + np.cumsum(rng.normal(0, 5, n))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) + rng.uniform(0, 3, n), np.minimum(open_, close) - rng.uniform(0, 3, n)
    out = BarSeries()
    starts = (1_700_000_000 + np.arange(n) * 60) * 10**9
    for row in zip(starts.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(), rng.uniform(1, 9, n).tolist()):
        out.append(*row)
    return out


def chart_for(s: BarSeries) -> ChartWidget:
    chart = ChartWidget(None, UTC)
    chart.resize(900, 560)
    chart.set_bars(s, BTC, Timeframe.M1)
    chart.show()
    QApplication.processEvents()
    return chart


def repaint_ms(chart: ChartWidget, first: float, last: float, pan: bool) -> float:
    """ms per repaint of a view; with pan=True every repaint follows a one-view pan (the cache misses)."""
    span = last - first
    state = {"flip": False}

    def frame() -> None:
        if pan:
            state["flip"] = not state["flip"]
            shift = -span if state["flip"] else 0.0
            chart.show_range(first + shift, last + shift)
        chart.graphics.grab()

    chart.show_range(first, last)
    return median_time(frame, repeat=7, number=5) * 1e3


def tick_ms(chart: ChartWidget, paint: bool) -> float:
    s = chart.series
    start, o, low = int(s.start_ns[-1]), float(s.open[-1]), float(s.low[-1])
    state = {"k": 0}

    def tick() -> None:
        state["k"] += 1
        close = o + (state["k"] % 7) - 3
        chart.update_bar(SimpleNamespace(start_ns=start, open=o, high=max(o, close) + 1, low=min(low, close), close=close,
                                         volume=5.0))
        if paint:
            chart.graphics.grab()

    chart.show_latest(200)
    return median_time(tick, repeat=7, number=20) * 1e3


def main() -> None:
    app = QApplication.instance() or QApplication([])  # noqa: F841
    big = chart_for(series(1_000_000))
    small = chart_for(series(100))
    n = len(big.series)
    rows = [
        ["1M bars, all visible (LOD), cached repaint", f"{repaint_ms(big, 0, n - 1, pan=False):.2f}"],
        ["1M bars, all visible (LOD), pan + rebuild", f"{repaint_ms(big, 0, n - 1, pan=True):.2f}"],
        ["1M bars, 200 visible, cached repaint", f"{repaint_ms(big, n - 200, n - 1, pan=False):.2f}"],
        ["1M bars, 200 visible, pan + rebuild", f"{repaint_ms(big, n - 400, n - 201, pan=True):.2f}"],
    ]
    for chart in (small, big):
        for key in ("sma20", "rsi14"):
            chart.show_study(key)
    for paint in (False, True):
        what = "tick + repaint" if paint else "tick (update_bar only)"
        t_small, t_big = tick_ms(small, paint), tick_ms(big, paint)
        rows.append([f"live {what}, 100 bars", f"{t_small:.3f}"])
        rows.append([f"live {what}, 1M bars", f"{t_big:.3f}"])
        rows.append([f"live {what}, ratio 1M/100", f"{t_big / t_small:.2f}"])
    print_table(["case", "ms"], rows)
    for chart in (big, small):  # destroy the scenes while the application still exists
        chart.close()
        chart.deleteLater()
    QApplication.processEvents()


if __name__ == "__main__":
    main()
