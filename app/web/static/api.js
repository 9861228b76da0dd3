// The REST API as a mini-program would call it: bearer tokens, refresh with rotation on 401,
// errors turned into words a person understands (never a code or a stack trace).
import { S } from "./strings.js";

const TOKENS = "zt.tokens";

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(friendly(status, retryAfter));
    this.status = status;          // 0 = no network
    this.body = body || {};        // {code, status, message, errors} — for the code, never shown
  }
}

export function friendly(status, retryAfter) {
  if (status === 0) return S.err.offline;
  let text = S.err[status] || (status >= 500 ? S.err[500] : S.err.other);
  if (status === 429 && retryAfter) text += S.err.retryAfter(Math.max(1, Math.ceil(retryAfter / 60)));
  return text;
}

export const tokens = {
  get() {
    try { return JSON.parse(localStorage.getItem(TOKENS)) || null; } catch { return null; }
  },
  set(t) { localStorage.setItem(TOKENS, JSON.stringify({ access: t.access_token, refresh: t.refresh_token })); },
  clear() { localStorage.removeItem(TOKENS); },
};

let refreshing = null;

async function refresh() {
  const t = tokens.get();
  if (!t || !t.refresh) return false;
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const r = await fetch("/api/v1/auth/refresh", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: t.refresh }),
        });
        if (!r.ok) { if (r.status === 401) tokens.clear(); return false; }
        tokens.set(await r.json());
        return true;
      } catch { return false; } finally { setTimeout(() => { refreshing = null; }, 0); }
    })();
  }
  return refreshing;
}

export let onSignedOut = () => {};
export function setSignedOutHandler(fn) { onSignedOut = fn; }

export async function api(path, { method = "GET", body, auth = true, raw = false } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const t = tokens.get();
    if (auth && t) headers.Authorization = `Bearer ${t.access}`;
    let r;
    try {
      r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0);
    }
    if (r.status === 401 && auth && attempt === 0 && (await refresh())) continue;
    if (r.ok) return raw ? r : (r.status === 204 ? null : r.json());
    let data = {};
    try { data = await r.json(); } catch { /* not JSON: ignore */ }
    if (r.status === 401 && auth) { tokens.clear(); onSignedOut(); }
    throw new ApiError(r.status, data, Number(r.headers.get("Retry-After")) || 0);
  }
  throw new ApiError(401);
}

export const get = (path) => api(path);
export const post = (path, body) => api(path, { method: "POST", body: body === undefined ? {} : body });
