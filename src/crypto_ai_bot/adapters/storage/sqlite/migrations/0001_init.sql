-- Initial schema. Money columns are TEXT holding exact decimal strings.
CREATE TABLE orders (
    client_order_id   TEXT PRIMARY KEY,
    exchange_order_id TEXT,
    symbol            TEXT NOT NULL,
    side              TEXT NOT NULL,
    type              TEXT NOT NULL,
    intent            TEXT NOT NULL,
    amount            TEXT,
    cost              TEXT,
    price             TEXT,
    status            TEXT NOT NULL,
    filled            TEXT NOT NULL DEFAULT '0',
    avg_price         TEXT,
    fee               TEXT NOT NULL DEFAULT '0',
    fee_currency      TEXT NOT NULL DEFAULT '',
    idempotency_key   TEXT NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
);
CREATE INDEX orders_symbol_created ON orders (symbol, created_ms);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_exchange_id ON orders (exchange_order_id);

CREATE TABLE trades (
    id                INTEGER PRIMARY KEY,
    exchange          TEXT NOT NULL,
    trade_id          TEXT NOT NULL,
    client_order_id   TEXT NOT NULL DEFAULT '',
    exchange_order_id TEXT NOT NULL DEFAULT '',
    symbol            TEXT NOT NULL,
    side              TEXT NOT NULL,
    price             TEXT NOT NULL,
    amount            TEXT NOT NULL,
    fee               TEXT NOT NULL,
    fee_currency      TEXT NOT NULL,
    realized_pnl      TEXT NOT NULL DEFAULT '0',
    ts_ms             INTEGER NOT NULL,
    UNIQUE (exchange, trade_id)
);
CREATE INDEX trades_symbol_ts ON trades (symbol, ts_ms);
CREATE INDEX trades_ts ON trades (ts_ms);

CREATE TABLE positions (
    symbol        TEXT PRIMARY KEY,
    base_amount   TEXT NOT NULL,
    cost_basis    TEXT NOT NULL,
    peak          TEXT NOT NULL,
    realized_pnl  TEXT NOT NULL,
    opened_ms     INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    exit_attempt  INTEGER NOT NULL DEFAULT 0,
    stop_order_id TEXT NOT NULL DEFAULT '',
    stop_price    TEXT NOT NULL DEFAULT '0'
);

CREATE TABLE idempotency (
    key             TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL
);
CREATE INDEX idempotency_expires ON idempotency (expires_ms);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    ts_ms   INTEGER NOT NULL,
    topic   TEXT NOT NULL,
    symbol  TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL
);
CREATE INDEX audit_topic_ts ON audit (topic, ts_ms);

CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE balances (
    currency TEXT PRIMARY KEY,
    free     TEXT NOT NULL,
    used     TEXT NOT NULL,
    ts_ms    INTEGER NOT NULL
);

CREATE TABLE market_data (
    symbol    TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    open      TEXT NOT NULL,
    high      TEXT NOT NULL,
    low       TEXT NOT NULL,
    close     TEXT NOT NULL,
    volume    TEXT NOT NULL,
    PRIMARY KEY (symbol, timeframe, ts_ms)
) WITHOUT ROWID;

CREATE TABLE instance_owner (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_ms INTEGER NOT NULL
);

-- The paper exchange's own book: what PaperBroker would hold on a real exchange's side.
CREATE TABLE paper_orders (
    id              INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    amount          TEXT NOT NULL,
    filled          TEXT NOT NULL,
    cost            TEXT NOT NULL,
    price           TEXT,
    fee             TEXT NOT NULL,
    fee_currency    TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL
);
CREATE INDEX paper_orders_client ON paper_orders (client_order_id);

CREATE TABLE paper_balances (
    currency TEXT PRIMARY KEY,
    free     TEXT NOT NULL,
    used     TEXT NOT NULL
);
