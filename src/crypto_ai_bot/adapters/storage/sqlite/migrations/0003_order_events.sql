-- Each order's history: every event applied through the transition table, in order, with the
-- status it left the order in. Orders recorded before this migration start their history here.
CREATE TABLE order_events (
    id              INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    ts_ms           INTEGER NOT NULL,
    event           TEXT NOT NULL,
    status          TEXT NOT NULL,
    filled          TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (client_order_id, id);
