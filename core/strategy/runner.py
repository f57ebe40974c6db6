"""StrategyRunner: drives one Strategy's callbacks and contains its failures.

A callback that raises is logged with its traceback and counted; `max_errors` failures stop the
strategy (state FAILED) and apply the order policy (cancel its open orders, or keep them). A stopped
or failed strategy receives nothing more. The runner is synchronous and I/O free: the live host and
the backtester feed it events in order.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from enum import Enum
from typing import Any

from core.domain import BarEvent, BookDelta, Fill, Order, Tick

from .api import Strategy, StrategyContext, StrategyMetrics, StrategyState

log = logging.getLogger(__name__)


class OrderPolicy(str, Enum):
    CANCEL = "cancel"  # cancel the strategy's open orders when it stops or fails
    KEEP = "keep"


class StrategyRunner:
    def __init__(self, strategy_class: type[Strategy], ctx: StrategyContext, params: dict[str, Any] | None = None,
                 max_errors: int = 3, order_policy: OrderPolicy = OrderPolicy.CANCEL,
                 on_state: Callable[["StrategyRunner"], None] | None = None) -> None:
        self.strategy_class = strategy_class
        self.ctx = ctx
        self.params = dict(params or {})
        self.max_errors = max_errors
        self.order_policy = order_policy
        self.metrics = StrategyMetrics()
        self.state = StrategyState.LOADED
        self.last_error = ""
        self.strategy: Strategy | None = None
        self._on_state = on_state

    @property
    def strategy_id(self) -> str:
        return self.ctx.strategy_id

    def start(self) -> None:
        """Instantiate the strategy with its parameters and call on_start."""
        if self.state is StrategyState.RUNNING:
            return
        try:
            self.strategy = self.strategy_class(self.ctx, **self.params)
        except Exception as exc:
            self._fail(exc)
            return
        self._set(StrategyState.RUNNING)
        self._call("on_start")

    def pause(self) -> None:
        if self.state is StrategyState.RUNNING:
            self._set(StrategyState.PAUSED)

    def resume(self) -> None:
        if self.state is StrategyState.PAUSED:
            self._set(StrategyState.RUNNING)

    def stop(self) -> None:
        """Call on_stop and apply the order policy; a stopped strategy receives no more events."""
        if self.state in (StrategyState.STOPPED, StrategyState.FAILED, StrategyState.LOADED):
            return
        self._call("on_stop", always=True)
        self._apply_policy()
        self._set(StrategyState.STOPPED)

    # events --------------------------------------------------------------------------------------------
    def on_tick(self, tick: Tick) -> None:
        self._call("on_tick", tick)

    def on_bar(self, bar: BarEvent) -> None:
        self._call("on_bar", bar)

    def on_book(self, book: BookDelta) -> None:
        self._call("on_book", book)

    def on_order(self, order: Order) -> None:
        self._call("on_order", order)

    def on_fill(self, fill: Fill) -> None:
        self.metrics.fills += 1
        self._call("on_fill", fill)

    def on_timer(self) -> None:
        self._call("on_timer")

    # internals -----------------------------------------------------------------------------------------
    def _call(self, name: str, *args: Any, always: bool = False) -> None:
        if self.strategy is None or (self.state is not StrategyState.RUNNING and not always):
            return
        try:
            getattr(self.strategy, name)(*args)
        except Exception as exc:
            self.metrics.errors += 1
            self.last_error = f"{name}: {type(exc).__name__}: {exc}"
            self.ctx.log.error("strategy %s raised in %s:\n%s", self.strategy_id, name, traceback.format_exc())
            if self.metrics.errors >= self.max_errors and self.state is StrategyState.RUNNING:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.last_error = self.last_error or f"{type(exc).__name__}: {exc}"
        self.ctx.log.error("strategy %s stopped after %d error(s): %s", self.strategy_id, self.metrics.errors, self.last_error)
        self._apply_policy()
        self._set(StrategyState.FAILED)

    def _apply_policy(self) -> None:
        if self.order_policy is OrderPolicy.CANCEL:
            try:
                self.ctx.cancel_all()
            except Exception:
                log.exception("could not cancel the orders of strategy %s", self.strategy_id)

    def _set(self, state: StrategyState) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(self)
