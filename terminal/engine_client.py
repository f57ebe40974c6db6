"""Client of the engine channel, used inside the console kernel and the strategy host (no Qt here).

    client = await EngineClient.connect(url, token, role="console")
    order = await client.buy("BTCUSDT", "0.01")            # a market order (give a price for a limit)
    await client.cancel(order.client_order_id)

Symbols may be given as 'SYMBOL.VENUE' or as a bare symbol that the catalogue resolves uniquely.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from core.domain import InstrumentId, Order, OrderRequest, OrderType, Side, TimeInForce
from core.domain.wire import decode, encode

log = logging.getLogger(__name__)


class EngineCallError(Exception):
    """The engine refused a request; the message is the engine's (e.g. a risk rule and its numbers)."""


class EngineClient:
    def __init__(self, connection: ClientConnection, role: str) -> None:
        self.connection = connection
        self.role = role
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.handlers: dict[str, list[Callable[[Any], None]]] = {}
        self.on_command: Callable[[dict[str, Any]], None] | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._symbols: dict[str, InstrumentId] = {}

    @classmethod
    async def connect(cls, url: str, token: str, role: str = "console", name: str = "") -> "EngineClient":
        """Open the channel and authenticate."""
        connection = await connect(url, max_size=2**22)
        await connection.send(json.dumps({"op": "hello", "id": 0, "token": token, "role": role, "name": name or role}))
        try:
            answer = json.loads(await connection.recv())
        except websockets.ConnectionClosed as exc:
            raise EngineCallError(f"engine refused the connection ({exc.rcvd.reason if exc.rcvd else 'closed'})") from None
        if not answer.get("ok"):
            await connection.close()
            raise EngineCallError(f"engine refused the connection: {answer}")
        return cls(connection, role)

    @property
    def closed(self) -> bool:
        """True once the channel has closed (the engine went away or close() was called)."""
        return self._reader.done()

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.connection.close()

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        """Call handler with the decoded object for each pushed event ('tick', 'bar', 'order', 'fill')."""
        self.handlers.setdefault(event, []).append(handler)

    async def call(self, op: str, **args: Any) -> Any:
        """Send a request and wait for its answer (raises EngineCallError on refusal)."""
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self.connection.send(json.dumps({"id": request_id, "op": op, "args": args}))
        return await future

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if "event" in message:
                    data = decode(message["data"])
                    for handler in self.handlers.get(message["event"], ()):
                        try:
                            handler(data)
                        except Exception:
                            log.exception("event handler failed")
                elif "command" in message:
                    if self.on_command is not None:
                        self.on_command(message)
                else:
                    future = self._pending.pop(message.get("id"), None)
                    if future is not None and not future.done():
                        if message.get("ok"):
                            future.set_result(decode(message.get("result")))
                        else:
                            future.set_exception(EngineCallError(message.get("error", "refused")))
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(EngineCallError("engine channel closed"))
            self._pending.clear()

    # convenience ---------------------------------------------------------------------------------------
    async def resolve(self, symbol: str | InstrumentId) -> InstrumentId:
        """'BTCUSDT' or 'BTCUSDT.BINANCE' -> InstrumentId (a bare symbol must match exactly one instrument)."""
        if isinstance(symbol, InstrumentId):
            return symbol
        if "." in symbol and symbol.rsplit(".", 1)[1] in {"BINANCE", "BINANCE_USDM", "ZERODHA"}:
            return InstrumentId.parse(symbol)
        if symbol not in self._symbols:
            hits = [i for i in await self.call("search", query=symbol, limit=50) if i.symbol.upper() == symbol.upper()]
            if len(hits) != 1:
                venues = ", ".join(str(h.id) for h in hits) or "none"
                raise EngineCallError(f"{symbol!r} matches {len(hits)} instruments ({venues}); use SYMBOL.VENUE")
            self._symbols[symbol] = hits[0].id
        return self._symbols[symbol]

    async def order(self, side: Side, symbol: str | InstrumentId, quantity: Decimal | str | float,
                    price: Decimal | str | float | None = None, order_type: OrderType | None = None,
                    time_in_force: TimeInForce | None = None, strategy_id: str = "", **fields: Any) -> Order:
        """Place an order: a limit if a price is given, else a market order."""
        iid = await self.resolve(symbol)
        instrument = await self.call("instrument", instrument_id=str(iid))
        otype = order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET)
        tif = time_in_force or (TimeInForce.GTC if iid.venue.value.startswith("BINANCE") else TimeInForce.DAY)
        request = OrderRequest(iid, side, Decimal(str(quantity)), otype, price=None if price is None else Decimal(str(price)),
                               time_in_force=tif, product=fields.pop("product", instrument.default_product), **fields)
        return await self.call("place", request=encode(request), strategy_id=strategy_id)  # type: ignore[no-any-return]

    async def buy(self, symbol: str | InstrumentId, quantity: Decimal | str | float, price: Decimal | str | float | None = None,
                  **fields: Any) -> Order:
        """Buy: a limit order at price, or a market order without one."""
        return await self.order(Side.BUY, symbol, quantity, price, **fields)

    async def sell(self, symbol: str | InstrumentId, quantity: Decimal | str | float, price: Decimal | str | float | None = None,
                   **fields: Any) -> Order:
        """Sell: a limit order at price, or a market order without one."""
        return await self.order(Side.SELL, symbol, quantity, price, **fields)

    async def cancel(self, client_order_id: str) -> Any:
        return await self.call("cancel", client_order_id=client_order_id)

    async def cancel_all(self, symbol: str | None = None, strategy_id: str = "") -> int:
        """Cancel working orders (of one instrument, and from a host of one strategy); return how many."""
        iid = str(await self.resolve(symbol)) if symbol else None
        return await self.call("cancel_all", instrument_id=iid, strategy_id=strategy_id)  # type: ignore[no-any-return]

    async def orders(self) -> list[Order]:
        return await self.call("orders")  # type: ignore[no-any-return]

    async def positions(self) -> list[Any]:
        return await self.call("positions")  # type: ignore[no-any-return]

    async def quote(self, symbol: str | InstrumentId) -> dict[str, Any]:
        return await self.call("quote", instrument_id=str(await self.resolve(symbol)))  # type: ignore[no-any-return]

    async def book(self, symbol: str | InstrumentId, depth: int = 10) -> dict[str, Any]:
        return await self.call("book", instrument_id=str(await self.resolve(symbol)), depth=depth)  # type: ignore[no-any-return]

    async def heartbeat(self) -> dict[str, Any]:
        return await self.call("heartbeat")  # type: ignore[no-any-return]
