// The bot's /api/v1, read with the operator's token as a Bearer header. The token lives in
// this tab's sessionStorage only: never in a URL, a cookie or the console.

const KEY = "cab.api_token";

export class Unauthorized extends Error {
  constructor() { super("the bot refused the token"); this.name = "Unauthorized"; }
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
  }
}

export const session = {
  token() { return sessionStorage.getItem(KEY) || ""; },
  save(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); },
};

function headers(token, extra = {}) {
  const h = { Accept: "application/json", ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function detailOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((e) => e.msg).join("; ");
    if (typeof body.message === "string") return body.message;
  } catch { /* not JSON */ }
  return `HTTP ${response.status}`;
}

async function call(method, path, { body, token = session.token() } = {}) {
  const init = { method, headers: headers(token), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) {
    const detail = await detailOf(response);
    // a refused control call still answers {ok: false, message}: hand it back as such
    if (method === "POST" && response.status < 500) return { ok: false, message: detail };
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

export const get = (path, opts) => call("GET", path, opts);
export const post = (path, body = {}) => call("POST", path, { body });

/** /health is open: the mode is known before anyone signs in. */
export async function health() {
  const response = await fetch("/health", { headers: headers(""), cache: "no-store" });
  return response.json();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
});

/** Parse one SSE block ("id: 1\nevent: x\ndata: {...}") into {id, event, data} or null. */
export function parseBlock(block) {
  let id = null; let event = "message"; const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue; // a comment: the server's ping
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { id, event, data: data.join("\n") } : null;
}

/**
 * Follow /api/v1/stream until `signal` aborts: fetch() and a ReadableStream, because
 * EventSource cannot send the Bearer header. Reconnects with a growing pause, resuming after
 * the last id seen. Calls onEvent({id, topic, ts_ms, symbol, payload}) and onState(state).
 */
export async function follow({ signal, onEvent, onState, onUnauthorized }) {
  let lastId = null;
  let pause = 500;
  while (!signal.aborted) {
    try {
      const extra = { Accept: "text/event-stream" };
      if (lastId !== null) extra["Last-Event-ID"] = lastId;
      const response = await fetch("/api/v1/stream", {
        headers: headers(session.token(), extra), signal, cache: "no-store",
      });
      if (response.status === 401) { onUnauthorized(); return; }
      if (!response.ok || !response.body) throw new ApiError(response.status, "stream");
      onState("on");
      pause = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = parseBlock(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (!block) continue;
          if (block.id !== null) lastId = block.id;
          let body = {};
          try { body = JSON.parse(block.data); } catch { body = { payload: block.data }; }
          onEvent({ id: block.id, topic: body.topic || block.event, ts_ms: body.ts_ms,
                    symbol: body.symbol || null, payload: body.payload ?? {} });
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof ApiError) && !(err instanceof TypeError)) throw err;
    }
    if (signal.aborted) return;
    onState("off");
    await sleep(pause, signal);
    pause = Math.min(pause * 2, 10_000);
  }
}
