"""/orchestrator/status in live mode (real ccxt against the emulator): dust is no position,
and the numbers for people sit beside the exact ones at Gate's precision."""

from __future__ import annotations

from decimal import Decimal

from cab_exchange_sim.testing import SimServer

from .conftest import SYMBOL, ContainerFactory


async def test_dust_left_by_an_exit_shows_no_stop(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    market = c.broker.market(SYMBOL)
    pos = c.repos.positions.get(SYMBOL)
    pos.base_amount, pos.cost_basis = Decimal("1.12E-9"), Decimal("0.0000672")
    pos.entry_price, pos.peak = Decimal("60000"), Decimal("60500")
    c.repos.positions.save(pos)
    row = c.orchestrator.status()["positions"][SYMBOL]
    assert pos.base_amount < market.min_amount
    assert row["in_position"] is False and row["stop"] is None, row
    assert row["base_amount"] == "1.12E-9"

    pos.base_amount = Decimal("0.00166")  # a real position: its stop, exact and rounded
    c.repos.positions.save(pos)
    row = c.orchestrator.status()["positions"][SYMBOL]
    assert row["in_position"] is True and Decimal(row["stop"]) == Decimal("59895.00")
    step = market.price_step.normalize()
    shown = Decimal(row["display"]["stop"])
    assert shown == Decimal("59895") and shown.as_tuple().exponent == min(
        int(step.as_tuple().exponent), 0)
