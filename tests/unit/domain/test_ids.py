from crypto_ai_bot.domain.ids import client_order_id, idempotency_key, is_valid_client_order_id


def test_client_order_id_is_deterministic_and_fits_gate_and_ccxt() -> None:
    key = idempotency_key("BTC/USDT", "buy", 1_767_225_659_999, 60_000)
    assert key == "BTC/USDT:buy:29453760"
    cid = client_order_id(key)
    assert cid == client_order_id(key)
    assert cid != client_order_id(key + "#1")
    assert is_valid_client_order_id(cid)
    assert len(cid) <= 28  # ccxt's gate createOrder limit, prefix included
