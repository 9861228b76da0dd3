// The verification page (/verify): scan (camera or picture, where the browser can read QR codes) or paste a
// proof code; the signature is checked here with the trust list (works offline), then the status online.
import { S, fmt } from "./strings.js";
import { check } from "./proofcheck.js";

const TRUST = "zt.trust";
const main = document.getElementById("main");
document.documentElement.classList.toggle("elder", localStorage.getItem("zt.elder") === "1");  // the front end's choice

function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}
const para = (text, cls) => h("p", { class: cls, text });

async function loadTrust() {
  try {
    const r = await fetch("/api/v1/proofs/trust-list", { cache: "no-cache" });
    if (r.ok) {
      const doc = await r.json();
      localStorage.setItem(TRUST, JSON.stringify(doc));
      return doc;
    }
  } catch { /* offline: the saved copy below */ }
  try { return JSON.parse(localStorage.getItem(TRUST)) || null; } catch { return null; }
}

async function online(certificateId) {
  if (!navigator.onLine) return null;
  try {
    const r = await fetch(`/api/v1/proofs/${encodeURIComponent(certificateId)}/status`, { cache: "no-store" });
    if (r.status === 404) return { status: "not_issued" };
    return r.ok ? r.json() : { status: "unavailable" };
  } catch { return null; }
}

function claimsList(c) {
  const f = S.proof.fields;
  const rows = [[f.program, c.program_name], [f.tier, S.proof.tier(c.tier)], [f.name, c.name_masked], [f.idLast4, c.id_last4],
    [f.until, fmt.date(c.expires_at.toISOString())], [f.id, c.certificate_id]];
  return h("dl", { class: "fields" }, ...rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { class: "value", text: String(v) })]));
}

async function verify(text, trust, out) {
  out.replaceChildren(para(S.verify.checking, "loading"));
  if (!trust) { out.replaceChildren(h("h2", { text: S.verify.result }), para(S.verify.verdict.no_trust, "alert")); return; }
  const offline = await check(text, trust);
  let verdict = offline.ok ? "offline" : offline.reason;
  if (offline.ok) {
    const status = await online(offline.claims.certificate_id);
    if (status) verdict = status.status === "valid" ? "valid" : (status.status in S.verify.verdict ? status.status : "malformed");
  }
  const good = ["valid", "offline", "unavailable"].includes(verdict);
  out.replaceChildren(h("h2", { text: S.verify.result }),
    h("p", { class: verdict === "valid" ? "notice ok" : (good ? "notice" : "alert"), "data-verdict": verdict, text: S.verify.verdict[verdict] || S.verify.verdict.malformed }),
    offline.claims ? claimsList(offline.claims) : null, offline.claims && good ? para(S.verify.compare, "notice") : null);
}

async function readImage(source) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  const found = await detector.detect(source);
  return found.length ? found[0].rawValue : null;
}

function scanner(textarea, say, submit) {
  const canDetect = "BarcodeDetector" in window;
  const out = [];
  if (!canDetect) return [para(S.verify.noDetector, "hint")];
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    const video = h("video", { class: "qr", playsinline: true, muted: true, hidden: true, "aria-label": S.verify.cameraLabel });
    let stream = null;
    const stop = () => { if (stream) stream.getTracks().forEach((t) => t.stop()); stream = null; video.hidden = true; btn.textContent = S.verify.camera; };
    const btn = h("button", { type: "button", class: "btn", text: S.verify.camera, onclick: async () => {
      if (stream) return stop();
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.srcObject = stream;
        video.hidden = false;
        await video.play();
        btn.textContent = S.verify.cameraStop;
        const tick = async () => {
          if (!stream) return;
          const value = await readImage(video).catch(() => null);
          if (value) { stop(); textarea.value = value; submit(); } else setTimeout(tick, 300);
        };
        tick();
      } catch { stop(); say(S.verify.cameraFailed); }
    } });
    out.push(btn, video);
  }
  const file = h("input", { type: "file", id: "f-image", accept: "image/*" });
  file.addEventListener("change", async () => {
    const picked = file.files && file.files[0];
    if (!picked) return;
    try {
      const value = await readImage(await createImageBitmap(picked));
      if (!value) return say(S.verify.notFound);
      textarea.value = value;
      submit();
    } catch { say(S.verify.notFound); }
  });
  out.push(h("div", { class: "field" }, h("label", { for: "f-image", text: S.verify.upload }), file));
  return out;
}

async function start() {
  document.querySelector(".skip").textContent = S.skip;
  document.querySelector(".brand").textContent = S.appName;
  document.title = `${S.verify.title} - ${S.appName}`;
  const trust = await loadTrust();
  const result = h("div", { id: "result", role: "status", "aria-live": "polite" });
  const note = h("div", { class: "alert", role: "alert", hidden: true, tabindex: "-1" });
  const say = (text) => { note.textContent = text; note.hidden = false; note.focus(); };
  const textarea = h("textarea", { id: "f-code", name: "code", rows: "5", maxlength: "2000", spellcheck: "false", autocomplete: "off" });
  const form = h("form", { novalidate: true }, h("div", { class: "field" }, h("label", { for: "f-code", text: S.verify.paste }), textarea),
    h("button", { type: "submit", class: "btn primary", text: S.verify.button }));
  const submit = () => {
    note.hidden = true;
    if (!textarea.value.trim()) return say(S.verify.empty);
    verify(textarea.value, trust, result).then(() => { document.body.dataset.verified = "1"; });
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  const trustLine = trust ? para(S.verify.trustReady(fmt.date(trust.generated_at)), "hint") : para(S.verify.trustMissing, "alert");
  main.replaceChildren(h("h1", { text: S.verify.title, tabindex: "-1" }), para(S.verify.lead), trustLine, note,
    h("section", { class: "card", "aria-label": S.verify.scan }, h("h2", { text: S.verify.scan }), ...scanner(textarea, say, submit)),
    form, result);
  document.body.dataset.screen = "verify";
  let fromHash = "";
  try { fromHash = decodeURIComponent(location.hash.slice(1)); } catch { /* not a code */ }
  if (fromHash.startsWith("ZT1:")) { textarea.value = fromHash; submit(); }
}

start();
