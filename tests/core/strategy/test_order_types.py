"""What a strategy's buy/sell means when it names no order type."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.domain import OrderType
from core.strategy.api import order_type_for


@pytest.mark.parametrize(("price", "trigger", "expected"), [
    (None, None, OrderType.MARKET),
    (D("100"), None, OrderType.LIMIT),
    (None, D("105"), OrderType.STOP_MARKET),
    (D("106"), D("105"), OrderType.STOP_LIMIT),
])
def test_order_type_for(price: D | None, trigger: D | None, expected: OrderType) -> None:
    assert order_type_for(price, trigger) is expected
