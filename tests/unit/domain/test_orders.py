"""The order's transition table: where each (status, event) leads, and the real world's rows."""

from decimal import Decimal

import pytest

from crypto_ai_bot.domain.errors import IllegalTransition
from crypto_ai_bot.domain.model import FillReport, Intent, OrderReport, OrderType, Side
from crypto_ai_bot.domain.model import OrderStatus as S
from crypto_ai_bot.domain.orders import (
    TRANSITIONS,
    OrderEvent,
    advance,
    new_record,
    next_status,
    report_event,
)

E = OrderEvent
FINAL = [S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED]


def _record(status: S):  # type: ignore[no-untyped-def]
    rec = new_record(E.RECORDED, client_order_id="c", symbol="BTC/USDT", side=Side.BUY,
                     type=OrderType.MARKET, intent=Intent.ENTRY, amount=None,
                     cost=Decimal(50), price=None, idempotency_key="k", reason="r", now_ms=1)
    return rec._replace(status=status)


def _report(status: S, filled: str, fills: tuple[str, ...] = ()) -> OrderReport:
    fs = tuple(FillReport(f"t{i}", "BTC/USDT", Side.BUY, Decimal(100), Decimal(a), Decimal(0),
                          "BTC", 1) for i, a in enumerate(fills))
    return OrderReport("x", "c", "BTC/USDT", Side.BUY, OrderType.MARKET, status,
                       Decimal(1), Decimal(filled), Decimal(0), None, Decimal(0), "", 1, fs)


def test_new_records_enter_as_recorded_or_discovered() -> None:
    assert next_status(None, E.RECORDED) is S.PENDING_SUBMIT
    assert next_status(None, E.DISCOVERED) is S.OPEN
    for event in OrderEvent:
        if event not in (E.RECORDED, E.DISCOVERED):
            with pytest.raises(IllegalTransition):
                next_status(None, event)


@pytest.mark.parametrize("final", FINAL)
def test_a_final_order_takes_late_reports_as_history_only(final: S) -> None:
    """A fill reported after a cancel, an older answer after reconcile settled it: the table
    has the row, the record stays as it was; the same final state updates its fields."""
    rec = _record(final)
    for event in (E.ACCEPTED, E.PARTIALLY_FILLED, E.FILLED, E.CANCELED, E.EXPIRED,
                  E.REJECTED, E.OUTCOME_UNKNOWN):
        assert next_status(final, event) is final
        after = advance(rec, event, 9, filled=Decimal(1))
        if after is not rec:
            assert after.status is final and after.filled == 1 and after.updated_ms == 9
            assert event.value == final.value.lower()
    for event in (E.RECORDED, E.DISCOVERED, E.NOT_FOUND):
        with pytest.raises(IllegalTransition):
            advance(rec, event, 9)


def test_pending_can_become_unknown_then_filled() -> None:
    rec = advance(_record(S.PENDING_SUBMIT), E.OUTCOME_UNKNOWN, 2, error="timeout")
    assert rec.status is S.UNKNOWN and rec.error == "timeout"
    assert advance(rec, E.FILLED, 3).status is S.FILLED


def test_only_an_unsent_order_can_be_not_found() -> None:
    assert next_status(S.PENDING_SUBMIT, E.NOT_FOUND) is S.CANCELED
    assert next_status(S.UNKNOWN, E.NOT_FOUND) is S.CANCELED
    for status in (S.OPEN, S.PARTIALLY_FILLED, *FINAL):
        with pytest.raises(IllegalTransition):
            next_status(status, E.NOT_FOUND)


def test_partial_fill_cannot_go_back_to_open_and_a_resting_order_is_never_rejected() -> None:
    with pytest.raises(IllegalTransition):
        next_status(S.PARTIALLY_FILLED, E.ACCEPTED)
    assert next_status(S.OPEN, E.PARTIALLY_FILLED) is S.PARTIALLY_FILLED
    with pytest.raises(IllegalTransition):
        next_status(S.OPEN, E.REJECTED)


def test_every_row_leads_to_a_status_and_the_table_is_total_over_reports() -> None:
    for (status, event), to in TRANSITIONS.items():
        assert isinstance(to, S), (status, event)
    for status in (S.PENDING_SUBMIT, S.UNKNOWN):
        assert all((status, e) in TRANSITIONS for e in OrderEvent
                   if e not in (E.RECORDED, E.DISCOVERED))


def test_report_events() -> None:
    assert report_event(_report(S.OPEN, "0")) is E.ACCEPTED
    assert report_event(_report(S.OPEN, "0.5", ("0.5",))) is E.PARTIALLY_FILLED
    assert report_event(_report(S.FILLED, "1", ("0.4", "0.6"))) is E.FILLED
    assert report_event(_report(S.CANCELED, "0")) is E.CANCELED
    # the exchange's trades lag its order: it stays open until they add up
    assert report_event(_report(S.FILLED, "1", ("0.4",))) is E.PARTIALLY_FILLED
    assert report_event(_report(S.CANCELED, "0.4")) is E.PARTIALLY_FILLED
    with pytest.raises(IllegalTransition):
        report_event(_report(S.PENDING_SUBMIT, "0"))
