-- Exchange-side stops, recorded before each request leaves (write-ahead, as orders are), then
-- the exchange id the answer carried. Real Gate echoes no client id on price orders: a stop
-- whose answer was lost is recognised later by these fields.
CREATE TABLE exchange_stops (
    id             INTEGER PRIMARY KEY,
    symbol         TEXT NOT NULL,
    rule           TEXT NOT NULL,
    trigger_price  TEXT NOT NULL,
    limit_price    TEXT NOT NULL,
    amount         TEXT NOT NULL,
    expiration_sec INTEGER NOT NULL,
    created_ms     INTEGER NOT NULL,
    exchange_id    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    updated_ms     INTEGER NOT NULL
);
CREATE INDEX exchange_stops_active ON exchange_stops (symbol, status, id);
CREATE INDEX exchange_stops_exchange_id ON exchange_stops (exchange_id);
