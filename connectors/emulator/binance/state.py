"""What one Binance protocol server (spot or USD-M) keeps besides the exchange: limits, order wire
details, execution ids, and the clock as the faults shift it."""
from __future__ import annotations

from decimal import Decimal

from ..contract import AccountBalance, ExchangeApi, Market, OrderState
from ..faults import Faults
from .errors import bad_symbol, mandatory
from .formats import OrderMeta, default_meta
from .limits import ServerLimits

SPOT = "spot"
USDM = "usdm"
FUTURES_SUFFIX = "-FUT"  # the exchange keeps the USD-M wallet as asset "USDT-FUT"


class ServerState:
    """Shared by the REST handlers, the WS API, the market streams and the user data streams of one app."""

    def __init__(self, exchange: ExchangeApi, faults: Faults, market: str, ban_s: float = 120.0) -> None:
        self.exchange = exchange
        self.faults = faults
        self.market = market
        self.futures = market == USDM
        if self.futures:
            self.limits = ServerLimits(self.server_ms, ("MINUTE", 1, 2400), (("SECOND", 10, 300), ("MINUTE", 1, 1200)), ban_s)
        else:
            self.limits = ServerLimits(self.server_ms, ("MINUTE", 1, 6000), (("SECOND", 10, 50), ("DAY", 1, 160000)), ban_s)
        self._meta: dict[int, OrderMeta] = {}
        self._execution_id = 0
        self.leverage: dict[tuple[str, str], int] = {}
        self.margin_type: dict[tuple[str, str], str] = {}
        self.dual_side: dict[str, bool] = {}

    def server_ms(self) -> int:
        """The server clock in ms, shifted by an armed clock_skew fault."""
        skew = self.faults.active("clock_skew")
        return self.exchange.now_ns() // 1_000_000 + int(skew.get("ms", 0) if skew else 0)

    def symbol(self, symbol: str | None) -> Market:
        """The market of a symbol of this product; -1121 if unknown."""
        if not symbol:
            raise mandatory("symbol")
        try:
            return self.exchange.market(self.market, symbol)
        except KeyError:
            raise bad_symbol() from None

    def markets(self) -> list[Market]:
        return [m for m in self.exchange.markets() if m.market == self.market]

    def remember(self, order_id: int, meta: OrderMeta) -> None:
        self._meta[order_id] = meta

    def meta(self, state: OrderState) -> OrderMeta:
        return self._meta.get(state.order_id) or default_meta(state, self.futures)

    def next_execution_id(self) -> int:
        self._execution_id += 1
        return self._execution_id

    def wallet(self, account: str) -> list[AccountBalance]:
        """The balances this product sees: spot assets, or the futures wallet ("USDT-FUT") as USDT."""
        out = []
        for b in self.exchange.balances(account):
            futures_asset = b.asset.endswith(FUTURES_SUFFIX)
            if futures_asset == self.futures:
                out.append(AccountBalance(b.asset.removesuffix(FUTURES_SUFFIX), b.free, b.locked))
        return out

    def reference_price(self, symbol: str) -> Decimal | None:
        """The price filters compare against: last trade, else the mid of the book."""
        summary = self.exchange.summary(self.market, symbol)
        if summary.last_price:
            return summary.last_price
        if summary.bid is not None and summary.ask is not None:
            return (summary.bid + summary.ask) / 2
        return None
