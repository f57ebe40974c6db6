"""The strategy host: a child process that runs user strategies, so a hung or hostile script cannot
freeze the terminal or read its secrets.

    python -m terminal.strategy_host        (URL and token arrive in SQ_ENGINE_URL / SQ_ENGINE_TOKEN)

The process has no credentials (the terminal starts it with a scrubbed environment) and an address
space limit, so a memory bomb ends in MemoryError inside the strategy. It heartbeats from its own
loop; a callback that never returns stops the heartbeat, the engine revokes the host's right to
trade, and the terminal kills and restarts the process. Commands come from the terminal:
{"command": "load"|"start"|"stop"|"pause"|"resume"|"unload", "strategy_id": ..., ...}; reports go
back as {"report": "state"|"log", ...}.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.domain import BarEvent, Fill, Instrument, InstrumentId, Order, OrderType, Position, Side, Tick, TimeInForce
from core.strategy import load_strategy_class
from core.strategy.api import order_type_for
from core.strategy.runner import OrderPolicy, StrategyRunner

from .engine_client import EngineClient

log = logging.getLogger("strategy_host")
HEARTBEAT_S = 0.5
MEMORY_LIMIT_BYTES = 2 * 1024**3


class _ReportHandler(logging.Handler):
    """Sends a strategy's log lines to the terminal."""

    def __init__(self, host: "StrategyHost", strategy_id: str) -> None:
        super().__init__(logging.INFO)
        self.host, self.strategy_id = host, strategy_id

    def emit(self, record: logging.LogRecord) -> None:
        self.host.report({"report": "log", "strategy_id": self.strategy_id, "level": record.levelname, "message": self.format(record)})


class HostContext:
    """StrategyContext over the engine channel. Order calls return an asyncio Task of the Order."""

    def __init__(self, host: "StrategyHost", strategy_id: str) -> None:
        self.host = host
        self.strategy_id = strategy_id
        self.log = logging.getLogger(f"strategy.{strategy_id}")
        self.log.addHandler(_ReportHandler(host, strategy_id))
        self.timer_s: float | None = None
        self.order_ids: set[str] = set()
        self.subscribed: set[InstrumentId] = set()

    def now_ns(self) -> int:
        return time.time_ns()

    def _order(self, side: Side, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None,
               order_type: OrderType | None, time_in_force: TimeInForce, trigger_price: Decimal | None) -> asyncio.Task[Order]:
        otype = order_type or order_type_for(price, trigger_price)
        trigger = None if trigger_price is None else Decimal(str(trigger_price))

        async def send() -> Order:
            order = await self.host.client.order(side, instrument_id, quantity, price, otype, time_in_force,
                                                 strategy_id=self.strategy_id, trigger_price=trigger)
            self.order_ids.add(order.client_order_id)
            return order

        task = asyncio.get_running_loop().create_task(send())
        task.add_done_callback(lambda t: self.log.error("order refused: %s", t.exception()) if not t.cancelled() and t.exception() else None)
        return task

    def buy(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
            order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
            trigger_price: Decimal | None = None) -> asyncio.Task[Order]:
        return self._order(Side.BUY, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def sell(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
             order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
             trigger_price: Decimal | None = None) -> asyncio.Task[Order]:
        return self._order(Side.SELL, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def cancel(self, client_order_id: str) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(self.host.client.cancel(client_order_id))

    def cancel_all(self, instrument_id: InstrumentId | None = None) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(
            self.host.client.cancel_all(str(instrument_id) if instrument_id else None, strategy_id=self.strategy_id))

    def position(self, instrument_id: InstrumentId) -> Position | None:
        return self.host.positions.get(instrument_id)

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [o for o in self.host.orders.values() if o.client_order_id in self.order_ids and o.status.is_working
                and instrument_id in (None, o.instrument_id)]

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        tick = self.host.ticks.get(instrument_id)
        return tick.last_price if tick else None

    def set_timer(self, seconds: float) -> None:
        self.timer_s = seconds

    def record(self, name: str, value: float) -> None:
        self.host.report({"report": "metric", "strategy_id": self.strategy_id, "name": name, "value": value})

    def derivatives(self, underlying: str) -> list[Instrument]:
        if underlying not in self.host.derivatives:
            raise ValueError(f"{underlying!r} is not in the strategy's `underlyings`")
        return list(self.host.derivatives[underlying])

    def subscribe(self, instrument_ids: list[InstrumentId]) -> None:
        self.subscribed |= set(instrument_ids)
        asyncio.get_running_loop().create_task(self.host.client.call("subscribe", instruments=[str(i) for i in instrument_ids]))


class StrategyHost:
    def __init__(self, client: EngineClient) -> None:
        self.client = client
        self.runners: dict[str, StrategyRunner] = {}
        self.ticks: dict[InstrumentId, Tick] = {}
        self.orders: dict[str, Order] = {}
        self.positions: dict[InstrumentId, Position] = {}
        self.derivatives: dict[str, list[Instrument]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())
        client.on_command = self._commands.put_nowait
        client.on("tick", self._on_tick)
        client.on("bar", self._on_bar)
        client.on("order", self._on_order)
        client.on("fill", self._on_fill)

    def report(self, message: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(self.client.connection.send(json.dumps(message, default=str)))

    def _report_state(self, runner: StrategyRunner) -> None:
        m = runner.metrics
        self.report({"report": "state", "strategy_id": runner.strategy_id, "state": runner.state.value, "error": runner.last_error,
                     "orders": m.orders, "fills": m.fills, "errors": m.errors})

    async def _work(self) -> None:
        while True:
            await self.command(await self._commands.get())

    async def command(self, message: dict[str, Any]) -> None:
        """Apply a command from the terminal, in arrival order; failures are reported, never raised."""
        sid = str(message.get("strategy_id", ""))
        try:
            kind = message["command"]
            if kind == "load":
                cls = load_strategy_class(Path(message["path"]), message.get("class"))
                for name in cls.underlyings:
                    if name not in self.derivatives:
                        self.derivatives[name] = await self.client.call("derivatives", underlying=name)
                ctx = HostContext(self, sid)
                ctx.subscribed = set(cls.instrument_ids())
                runner = StrategyRunner(cls, ctx, message.get("params") or {}, max_errors=int(message.get("max_errors", 3)),
                                        order_policy=OrderPolicy(message.get("order_policy", "cancel")), on_state=self._report_state)
                self.runners[sid] = runner
                await self.client.call("subscribe", instruments=list(cls.instruments))
                self._report_state(runner)
            elif kind == "start":
                self.runners[sid].start()
                self._start_timer(sid)
            elif kind == "stop":
                self.runners[sid].stop()
                self._stop_timer(sid)
            elif kind == "pause":
                self.runners[sid].pause()
            elif kind == "resume":
                self.runners[sid].resume()
            elif kind == "unload":
                self.runners.pop(sid).stop()
                self._stop_timer(sid)
            else:
                raise ValueError(f"unknown command {kind!r}")
        except Exception as exc:
            self.report({"report": "state", "strategy_id": sid, "state": "FAILED", "error": f"{type(exc).__name__}: {exc}"})

    def _start_timer(self, sid: str) -> None:
        runner = self.runners[sid]
        ctx = runner.ctx
        if not isinstance(ctx, HostContext) or not ctx.timer_s:
            return

        async def tick() -> None:
            while True:
                await asyncio.sleep(ctx.timer_s or 1.0)
                runner.on_timer()

        self._timers[sid] = asyncio.get_running_loop().create_task(tick())

    def _stop_timer(self, sid: str) -> None:
        task = self._timers.pop(sid, None)
        if task is not None:
            task.cancel()

    def _wants(self, runner: StrategyRunner, instrument_id: InstrumentId) -> bool:
        ctx = runner.ctx
        return isinstance(ctx, HostContext) and instrument_id in ctx.subscribed

    def _on_tick(self, tick: Tick) -> None:
        self.ticks[tick.instrument_id] = tick
        for runner in list(self.runners.values()):
            if self._wants(runner, tick.instrument_id):
                runner.on_tick(tick)

    def _on_bar(self, bar: BarEvent) -> None:
        for runner in list(self.runners.values()):
            if self._wants(runner, bar.instrument_id) and bar.timeframe in runner.strategy_class.timeframes:
                runner.on_bar(bar)

    def _on_order(self, order: Order) -> None:
        self.orders[order.client_order_id] = order
        for sid, runner in list(self.runners.items()):
            if order.request.source == f"strategy:{sid}":
                if order.status.value == "PENDING_NEW":
                    runner.metrics.orders += 1
                runner.on_order(order)

    def _on_fill(self, fill: Fill) -> None:
        for runner in list(self.runners.values()):
            ctx = runner.ctx
            if isinstance(ctx, HostContext) and fill.client_order_id in ctx.order_ids:
                runner.on_fill(fill)


def limit_memory(limit: int = MEMORY_LIMIT_BYTES) -> None:
    """Cap the address space so a runaway allocation fails inside the strategy, not the machine."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError) as exc:  # not every OS allows it
        log.warning("could not limit strategy host memory: %s", exc)


async def run(url: str, token: str, name: str = "strategy-host") -> None:
    """Connect, serve commands and heartbeat until the engine closes the channel."""
    client = await EngineClient.connect(url, token, "strategy-host", name)
    StrategyHost(client)
    while not client.closed:
        try:
            await client.heartbeat()
        except Exception:
            break
        await asyncio.sleep(HEARTBEAT_S)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url, token = os.environ.pop("SQ_ENGINE_URL", ""), os.environ.pop("SQ_ENGINE_TOKEN", "")
    if not url or not token:
        print("strategy host: SQ_ENGINE_URL and SQ_ENGINE_TOKEN must be set", file=sys.stderr)
        return 2
    limit_memory(int(os.environ.get("SQ_HOST_MEMORY", MEMORY_LIMIT_BYTES)))
    asyncio.run(run(url, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
