-- The hard stop is measured from the average fill price of the entry (fees excluded), as
-- backtesters do; cost_basis keeps the fee-inclusive cost for PnL.
ALTER TABLE positions ADD COLUMN entry_price TEXT NOT NULL DEFAULT '0';
-- count_with_key runs on every order: look it up by index.
CREATE INDEX orders_idempotency_key ON orders (idempotency_key);
-- Orders not yet final: few at any time, asked for on every exit check and reconcile pass.
CREATE INDEX orders_not_final ON orders (symbol, created_ms)
    WHERE status IN ('PENDING_SUBMIT','OPEN','PARTIALLY_FILLED','UNKNOWN');
-- orders_not_final serves the status lookups; the rolling-hour count wants created_ms.
DROP INDEX orders_status;
CREATE INDEX orders_created ON orders (created_ms);
