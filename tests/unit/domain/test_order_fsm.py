import pytest

from crypto_ai_bot.domain.errors import IllegalTransition
from crypto_ai_bot.domain.model import OrderStatus as S
from crypto_ai_bot.domain.order_fsm import can_transition, transition


@pytest.mark.parametrize("final", [S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED])
def test_final_states_do_not_move(final: S) -> None:
    for other in S:
        if other != final:
            with pytest.raises(IllegalTransition):
                transition(final, other)
    assert transition(final, final) == final


def test_pending_can_become_unknown_then_filled() -> None:
    assert transition(S.PENDING_SUBMIT, S.UNKNOWN) == S.UNKNOWN
    assert transition(S.UNKNOWN, S.FILLED) == S.FILLED


def test_partial_fill_cannot_go_back_to_open() -> None:
    assert not can_transition(S.PARTIALLY_FILLED, S.OPEN)
    assert can_transition(S.OPEN, S.PARTIALLY_FILLED)
    assert not can_transition(S.OPEN, S.REJECTED)
