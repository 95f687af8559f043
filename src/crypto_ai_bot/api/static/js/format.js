// Numbers for people. The API sends money, prices and amounts as decimal strings; they are
// rounded here as decimals (BigInt), never through a float, so what is shown is exact.

const GROUP = new Intl.NumberFormat("en-US");

/** Round a decimal string to `places` (half away from zero) and group the thousands. */
export function decimal(value, places) {
  if (value === null || value === undefined || value === "") return "—";
  const s = String(value).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return s;
  let [, sign, int, frac = ""] = m;
  const exp = m[4] ? parseInt(m[4], 10) : 0;
  int = int || "0";
  if (exp) { // move the point (e.g. "1E-8", which Decimal may print)
    let digits = int + frac;
    let point = int.length + exp;
    if (point < 0) { digits = "0".repeat(-point) + digits; point = 0; }
    if (point > digits.length) digits += "0".repeat(point - digits.length);
    int = digits.slice(0, point) || "0";
    frac = digits.slice(point);
  }
  places = Math.max(0, Math.min(18, places | 0));
  const scaled = BigInt(int + (frac + "0".repeat(places + 1)).slice(0, places + 1));
  let rounded = (scaled + 5n) / 10n; // the extra digit decides
  const text = rounded.toString().padStart(places + 1, "0");
  const whole = text.slice(0, text.length - places) || "0";
  const part = places ? "." + text.slice(text.length - places) : "";
  const negative = sign === "-" && rounded !== 0n;
  return (negative ? "-" : "") + GROUP.format(BigInt(whole)) + part;
}

/** A decimal string with its trailing zeros dropped (at most `max` places). */
export function trimmed(value, max = 8) {
  const s = decimal(value, max);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Money to cents, with its sign when asked (PnL). */
export function money(value, { signed = false } = {}) {
  const s = decimal(value, 2);
  if (s === "—" || !signed) return s;
  return s.startsWith("-") || s === "0.00" ? s : "+" + s;
}

export function pct(value, { signed = true } = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const s = decimal(value, 2);
  return (signed && !s.startsWith("-") && s !== "0.00" ? "+" : "") + s + " %";
}

/** A price at the market's precision (decimal places), or trimmed when unknown. */
export function price(value, precision) {
  if (value === null || value === undefined || value === "") return "—";
  return Number.isInteger(precision) ? decimal(value, precision) : trimmed(value, 8);
}

export const amount = price;

/** The CSS class a signed number gets. */
export function tone(value) {
  if (value === null || value === undefined || value === "") return "";
  const s = String(value).trim();
  if (/^-/.test(s) && /[1-9]/.test(s)) return "neg";
  return /[1-9]/.test(s) ? "pos" : "";
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** UTC, as the logs and the API count time. */
export function time(ms, { seconds = true } = {}) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return `${day} ${hm}${seconds ? ":" + pad(d.getUTCSeconds()) : ""}`;
}

export function clock(ms) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}
