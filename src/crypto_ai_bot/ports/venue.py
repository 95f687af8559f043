"""The VenueBook port: what a simulated venue must persist to be the same exchange tomorrow.

A real exchange keeps its own book — the orders it executed and the balances it holds for us —
on its side. A simulated venue (PaperBroker) has no other side, so it keeps that book through
this port: the free balance of each currency and every order it placed, in the order placed.
It is the venue's book, never the bot's: the bot's own tables (orders, trades, balances) are
what the bot believes, this is what the exchange would answer.

Two implementations, in adapters/paper/ledger.py: paper mode persists the book in SQLite (the
paper_orders and paper_balances tables), so a paper session survives a restart; backtests keep
it in memory and throw it away with the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from crypto_ai_bot.domain.model import OrderReport


class VenueBook(Protocol):
    def load_balances(self) -> dict[str, Decimal] | None:
        """The free balance of every currency saved, or None when none was ever saved."""
        ...

    def save_balances(self, balances: Mapping[str, Decimal]) -> None:
        """Store these free balances (a currency left out keeps what it had)."""
        ...

    def load_orders(self) -> list[OrderReport]:
        """Every order appended, in the order placed."""
        ...

    def append_order(self, report: OrderReport, balances: Mapping[str, Decimal]) -> None:
        """Record one placed order together with the balances after it, as one write.

        Its exchange_order_id is a positive integer, new to the book: PaperBroker numbers its
        orders 1, 2, 3… and the SQLite book keys them by that number.
        """
        ...
