// Offline check of a proof-of-benefit code (docs/proof.md): "ZT1:" + Base45 → zlib → COSE_Sign1 (ES256) → CWT.
// Only the trust list is needed: WebCrypto verifies the P-256 signature in the browser.
// Returns {ok, reason, claims}; reasons match the verification API's (malformed, unknown_key, bad_signature, …).

const PREFIX = "ZT1:";
const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const ALG_ES256 = -7;
const CLAIM_BENEFIT = -65537;
const MAX_INFLATED = 4096;

class Bad extends Error { constructor(reason) { super(reason); this.reason = reason; } }

export function base45(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3);
    const v = [...chunk].map((c) => B45.indexOf(c));
    if (v.some((x) => x < 0) || chunk.length === 1) throw new Bad("malformed");
    const n = v[0] + v[1] * 45 + (v.length === 3 ? v[2] * 2025 : 0);
    if (v.length === 3) { if (n > 0xffff) throw new Bad("malformed"); out.push(n >> 8, n & 0xff); }
    else { if (n > 0xff) throw new Bad("malformed"); out.push(n); }
  }
  return new Uint8Array(out);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_INFLATED) { reader.cancel(); throw new Bad("malformed"); }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// A small CBOR decoder: integers, byte and text strings, arrays, maps (as Map), tags, simple values.
export function cbor(bytes) {
  let i = 0;
  const need = (n) => { if (i + n > bytes.length) throw new Bad("malformed"); };
  const uint = (info) => {
    if (info < 24) return info;
    const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!size) throw new Bad("malformed");
    need(size);
    let n = 0;
    for (let k = 0; k < size; k++) n = n * 256 + bytes[i++];
    return n;
  };
  const item = (depth) => {
    if (depth > 16) throw new Bad("malformed");
    need(1);
    const first = bytes[i++], major = first >> 5, info = first & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new Bad("malformed");
    }
    const n = uint(info);
    switch (major) {
      case 0: return n;
      case 1: return -1 - n;
      case 2: need(n); i += n; return bytes.slice(i - n, i);
      case 3: need(n); i += n; return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(i - n, i));
      case 4: { const a = []; for (let k = 0; k < n; k++) a.push(item(depth + 1)); return a; }
      case 5: { const m = new Map(); for (let k = 0; k < n; k++) { const key = item(depth + 1); m.set(key, item(depth + 1)); } return m; }
      case 6: return { tag: n, value: item(depth + 1) };
      default: throw new Bad("malformed");
    }
  };
  const value = item(0);
  if (i !== bytes.length) throw new Bad("malformed");
  return value;
}

function bstrHead(n) {
  if (n < 24) return [0x40 + n];
  if (n < 256) return [0x58, n];
  return [0x59, n >> 8, n & 0xff];
}

// Sig_structure = ["Signature1", protected, external_aad (empty), payload] (RFC 9052 §4.4)
function sigStructure(protectedBytes, payload) {
  const label = new TextEncoder().encode("Signature1");
  return new Uint8Array([0x84, 0x60 + label.length, ...label, ...bstrHead(protectedBytes.length), ...protectedBytes,
    0x40, ...bstrHead(payload.length), ...payload]);
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function check(text, trust, now = new Date()) {
  try {
    const code = String(text || "").trim();
    if (code.length > 2000 || !code.startsWith(PREFIX)) throw new Bad("malformed");
    let raw;
    try { raw = await inflate(base45(code.slice(PREFIX.length))); } catch { throw new Bad("malformed"); }
    let msg = cbor(raw);
    if (msg && msg.tag === 18) msg = msg.value;
    if (!Array.isArray(msg) || msg.length !== 4 || !(msg[0] instanceof Uint8Array) || !(msg[2] instanceof Uint8Array)
        || !(msg[3] instanceof Uint8Array)) throw new Bad("malformed");
    const [protectedBytes, , payload, signature] = msg;
    const header = protectedBytes.length ? cbor(protectedBytes) : new Map();
    if (!(header instanceof Map)) throw new Bad("malformed");
    if (header.get(1) !== ALG_ES256) throw new Bad("unsupported_alg");
    const kid = header.get(4);
    if (!(kid instanceof Uint8Array)) throw new Bad("unknown_key");
    const entry = ((trust && trust.keys) || []).find((k) => k.alg === "ES256" && k.kid === b64(kid)
      && (!k.valid_until || new Date(k.valid_until) > now));
    if (!entry) throw new Bad("unknown_key");
    const key = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: entry.jwk.x, y: entry.jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const good = signature.length === 64 && await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature,
      sigStructure(protectedBytes, payload));
    if (!good) throw new Bad("bad_signature");
    const body = cbor(payload);
    const b = body instanceof Map ? body.get(CLAIM_BENEFIT) : null;
    if (!(b instanceof Map) || !(body.get(7) instanceof Uint8Array)) throw new Bad("malformed");
    const claims = {
      certificate_id: hex(body.get(7)), program: b.get("b"), program_name: b.get("bn"), tier: b.get("t"),
      name_masked: b.get("n"), id_last4: b.get("i"), issuer: body.get(1),
      issued_at: new Date(body.get(6) * 1000), expires_at: new Date(body.get(4) * 1000), kid: entry.kid,
    };
    if (trust.issuer && claims.issuer !== trust.issuer) throw new Bad("unknown_key");
    if (claims.expires_at <= now) return { ok: false, reason: "expired", claims };
    if (claims.issued_at > new Date(now.getTime() + 5 * 60 * 1000)) return { ok: false, reason: "not_yet_valid", claims };
    return { ok: true, reason: "signature_ok", claims };
  } catch (err) {
    return { ok: false, reason: err instanceof Bad ? err.reason : "malformed", claims: null };
  }
}
