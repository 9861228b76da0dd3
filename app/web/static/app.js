// ZeroTrip H5: one page, hash routes, plain DOM (no framework). Text comes from strings.js only.
import { S, fmt, stateText } from "./strings.js";
import { api, get, post, tokens, setSignedOutHandler, ApiError } from "./api.js";

const CONFIG = JSON.parse(document.getElementById("zt-config").textContent || "{}");
const main = document.getElementById("main");
const net = document.getElementById("net");
const ELDER = "zt.elder";
let me = null;
document.querySelector(".skip").textContent = S.skip;
document.getElementById("back").textContent = S.back;
document.querySelector(".brand").textContent = S.appName;
document.getElementById("elder-toggle").title = S.elderHint;

// ---------- tiny DOM helper ----------
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
const link = (href, text, cls = "btn") => h("a", { href, class: cls, text });
const button = (text, onclick, cls = "btn") => h("button", { type: "button", class: cls, text, onclick });
const para = (text, cls) => h("p", { class: cls, text });
const section = (title, ...kids) => h("section", { class: "card", "aria-label": title }, h("h2", { text: title }), ...kids);

// ---------- elderly mode (适老化) ----------
function applyElder(on) {
  document.documentElement.classList.toggle("elder", on);
  const t = document.getElementById("elder-toggle");
  t.setAttribute("aria-pressed", String(on));
  t.textContent = on ? S.elderOn : S.elderOff;
}
function elderDefault(age) {
  const saved = localStorage.getItem(ELDER);
  if (saved === null && typeof age === "number") applyElder(age >= 60);
}
document.getElementById("elder-toggle").addEventListener("click", () => {
  const on = !document.documentElement.classList.contains("elder");
  localStorage.setItem(ELDER, on ? "1" : "0");
  applyElder(on);
});
applyElder(localStorage.getItem(ELDER) === "1");

// ---------- network state ----------
function showNet(text, offline) {
  net.textContent = text;
  net.hidden = !text;
  net.classList.toggle("offline", offline);
}
addEventListener("offline", () => showNet(S.offline, true));
addEventListener("online", () => { showNet(S.online, false); setTimeout(() => showNet("", false), 3000); });
if (!navigator.onLine) showNet(S.offline, true);

// ---------- drafts: nothing typed is lost ----------
// Sensitive fields (ID number, phone) stay in sessionStorage (this tab only); the rest in localStorage.
function draft(form, key, sensitive = []) {
  const load = (store) => { try { return JSON.parse(store.getItem("zt.draft." + key)) || {}; } catch { return {}; } };
  const saved = { ...load(localStorage), ...load(sessionStorage) };
  for (const el of form.elements) {
    if (!el.name || !(el.name in saved)) continue;
    if (el.type === "radio") el.checked = el.value === saved[el.name];
    else el.value = saved[el.name];
  }
  const save = () => {
    const plain = {}, secret = {};
    for (const el of form.elements) {
      if (!el.name || (el.type === "radio" && !el.checked)) continue;
      (sensitive.includes(el.name) ? secret : plain)[el.name] = el.value;
    }
    localStorage.setItem("zt.draft." + key, JSON.stringify(plain));
    sessionStorage.setItem("zt.draft." + key, JSON.stringify(secret));
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  return { clear() { localStorage.removeItem("zt.draft." + key); sessionStorage.removeItem("zt.draft." + key); } };
}

function field(label, input, hint) {
  const id = input.id || (input.id = "f-" + input.name);
  const hintId = hint ? id + "-hint" : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null, input);
}

// ---------- messages on screen ----------
function alertBox() { return h("div", { class: "alert", role: "alert", hidden: true, tabindex: "-1" }); }
function showError(box, err, overrides = {}) {
  let text = err instanceof ApiError ? (overrides[err.status] || err.message) : S.err.other;
  if (err instanceof ApiError && err.status === 0) showNet(S.offline, true);
  if (err instanceof ApiError && err.status !== 0 && !navigator.onLine) text = S.err.offline;
  box.textContent = text;
  box.hidden = false;
  box.focus();
}
function clearError(box) { box.textContent = ""; box.hidden = true; }
function showOk(box, text) { box.textContent = text; box.className = "notice"; box.hidden = false; box.setAttribute("role", "status"); }

async function busy(btn, fn) {
  if (btn.disabled) return;
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  try { return await fn(); } finally { btn.disabled = false; btn.removeAttribute("aria-busy"); }
}

// ---------- routing ----------
const routes = [];
const route = (re, fn, open = false) => routes.push({ re, fn, open });

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/home";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}
function go(hash) { if (location.hash === hash) render(); else location.hash = hash; }

setSignedOutHandler(() => {
  if (!location.hash.startsWith("#/login")) sessionStorage.setItem("zt.next", location.hash);
  go("#/login");
});

let renders = 0;  // a screen whose data comes back after a newer screen was asked for is dropped
async function render() {
  const turn = ++renders;
  const { path, params } = parseHash();
  const found = routes.map((r) => ({ r, m: path.match(r.re) })).find((x) => x.m);
  const { r, m } = found || { r: routes[0], m: [] };
  if (!r.open && !tokens.get()) {
    sessionStorage.setItem("zt.next", location.hash);
    return go("#/login");
  }
  document.getElementById("back").hidden = path === "/home" || path === "/login";
  main.replaceChildren(para(S.loading, "loading"));
  main.setAttribute("aria-busy", "true");
  let nodes;
  try {
    nodes = await r.fn(m, params);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    const box = alertBox();
    nodes = [h("h1", { text: S.appName, tabindex: "-1" }), box, button(S.retry, render, "btn primary")];
    setTimeout(() => showError(box, err));
  }
  if (!nodes || turn !== renders) return;
  main.replaceChildren(...[nodes].flat());
  main.removeAttribute("aria-busy");
  const h1 = main.querySelector("h1");
  document.title = `${h1 ? h1.textContent : ""} - ${S.appName}`;
  if (h1) { h1.setAttribute("tabindex", "-1"); h1.focus({ preventScroll: true }); }
  performance.mark("zt:rendered:" + path.split("/")[1]);
  document.body.dataset.screen = path.split("/")[1] || "home";
  document.body.dataset.hash = location.hash;
}
addEventListener("hashchange", render);
document.getElementById("back").addEventListener("click", () => (history.length > 1 ? history.back() : go("#/home")));

async function loadMe() {
  me = await get("/api/v1/me");
  elderDefault(me.resident ? me.resident.age : undefined);
  return me;
}
function afterSignIn() {
  const next = sessionStorage.getItem("zt.next");
  sessionStorage.removeItem("zt.next");
  go(next && !next.startsWith("#/login") && !next.startsWith("#/bind") ? next : "#/home");
}

// ---------- sign in ----------
route(/^\/login$/, async () => {
  const box = alertBox();
  const nodes = [h("h1", { text: S.login.title }), para(S.login.lead), box];
  if (!CONFIG.dev) return [...nodes, para(S.login.wechatOnly, "notice")];
  const btn = button(S.login.button, () => busy(btn, async () => {
    try {
      const code = await api("/m/dev/login-code", { method: "POST", body: { openid: localStorage.getItem("zt.dev.openid") || undefined }, auth: false });
      localStorage.setItem("zt.dev.openid", code.openid);
      tokens.set(await api("/api/v1/auth/wechat-login", { method: "POST", body: { code: code.code }, auth: false }));
      const who = await loadMe();
      if (!who.account.bound) return go("#/bind");
      afterSignIn();
    } catch (err) { showError(box, err, { 401: S.login.failed }); }
  }), "btn primary");
  return [...nodes, h("div", { class: "dev", role: "note" }, h("strong", { text: S.login.devBadge }), para(S.login.devExplain)), btn];
}, true);

// ---------- identity binding ----------
route(/^\/bind$/, async () => {
  const who = await loadMe();
  if (who.account.bound) { afterSignIn(); return null; }
  const box = alertBox();
  if (who.account.identity_status === "pending_staff_verification") {
    return [h("h1", { text: S.bind.title }), para(S.bind.pending, "notice"), link("#/guide", S.nav.guide)];
  }
  const name = h("input", { name: "name", autocomplete: "name", required: true, maxlength: "64" });
  const idn = h("input", { name: "id_number", autocomplete: "off", required: true, maxlength: "18", inputmode: "text", spellcheck: "false" });
  const phone = h("input", { name: "phone", type: "tel", autocomplete: "tel", required: true, maxlength: "11", inputmode: "numeric" });
  const form = h("form", { novalidate: true },
    field(S.bind.name, name), field(S.bind.idNumber, idn, S.bind.idHint),
    field(S.bind.phone, phone, CONFIG.dev ? S.bind.phoneHintDev : S.bind.phoneHint),
    h("button", { type: "submit", class: "btn primary", text: S.bind.button }));
  const d = draft(form, "bind", ["id_number", "phone"]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const btn = form.querySelector("button[type=submit]");
    if (!name.value.trim() || !idn.value.trim() || !phone.value.trim()) return showError(box, new ApiError(422), { 422: S.bind.missing });
    busy(btn, async () => {
      try {
        const pc = await api("/m/dev/phone-code", { method: "POST", auth: false, body: { openid: localStorage.getItem("zt.dev.openid") || "", phone: phone.value.trim() } });
        const res = await post("/api/v1/me/identity", { name: name.value.trim(), id_number: idn.value.trim().toUpperCase(), phone_code: pc.code });
        d.clear();
        me = res;
        elderDefault(res.resident ? res.resident.age : undefined);
        if (!res.account.bound) return render();
        afterSignIn();
      } catch (err) {
        const elsewhere = err instanceof ApiError && (err.body || {}).error_code === "resident_bound_elsewhere";
        showError(box, err, { 409: elsewhere ? S.bind.elsewhere : S.bind.mismatch, 422: S.bind.invalid });
      }
    });
  });
  return [h("h1", { text: S.bind.title }), para(S.bind.lead), box, form];
});

// ---------- home: things waiting for you ----------
async function helping() {
  try {
    const grants = await get("/api/v1/proxies/grants");
    return grants.filter((g) => g.role === "proxy" && g.live);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}

route(/^\/home$/, async () => {
  const [who, mine, helped, offered] = await Promise.all([loadMe(), get("/api/v1/applications"), helping(),
    programs().then((list) => list.filter((p) => p.apply_form)).catch(() => [])]);
  if (!who.account.bound) { go("#/bind"); return null; }
  const others = await Promise.all(helped.map(async (g) =>
    ({ g, apps: await get(`/api/v1/applications?subject=${encodeURIComponent(g.id)}`).catch(() => []) })));
  const cards = [];
  const add = (a, whose, g) => cards.push(h("li", { class: "card proposal" },
    h("p", { class: "whose", text: whose }),
    h("h2", { text: S.homeScreen.proposal(a.program_name) }),
    a.monthly_amount ? para(S.detail.amount(a.monthly_amount), "amount") : null,
    link(`#/app/${a.id}${g ? "?g=" + g.id : ""}`, S.homeScreen.open, cards.length === 0 ? "btn primary" : "btn")));
  mine.filter((a) => a.state === "proposed").forEach((a) => add(a, S.homeScreen.mine));
  for (const { g, apps } of others) apps.filter((a) => a.state === "proposed").forEach((a) => add(a, S.homeScreen.forOther(g.principal_name), g));
  const menu = h("nav", { "aria-label": S.homeScreen.menu, class: "menu" }, h("h2", { text: S.homeScreen.menu }),
    h("ul", {}, ...[["#/apps", S.nav.apps], ["#/benefits", S.nav.benefits], ["#/inbox", S.nav.inbox],
      ["#/family", S.nav.family], ["#/guide", S.nav.guide],
      ...offered.map((p) => [`#/${p.code}`, p.apply_form.texts.menu || S.apply.menu(p.short_name)]), ["#/lookups", S.nav.lookups]]
      .map(([href, text]) => h("li", {}, link(href, text, "row")))),
    button(S.signOut, async () => { try { await post("/api/v1/auth/logout"); } catch { /* signed out anyway */ } tokens.clear(); go("#/login"); }, "btn quiet"));
  const out = [para(S.homeScreen.greeting(who.resident.name), "greeting"), h("h1", { text: S.homeScreen.title }),
    cards.length ? h("ul", { class: "cards" }, ...cards) : para(S.homeScreen.none, "notice"), menu];
  queueMicrotask(() => performance.mark("zt:interactive"));
  return out;
});

// ---------- a proposal: fields, sources, why you qualify, one-tap confirm ----------
async function grantName(params) {
  const gid = params.get("g");
  if (!gid) return null;
  const g = (await helping()).find((x) => x.id === gid);
  return g ? g.principal_name : null;
}

function timeline(a) {
  const steps = [[S.steps.created, a.created_at]];
  if (a.confirmed_at) steps.push([S.steps.confirmed, a.confirmed_at]);
  if (a.state === "declined") steps.push([S.steps.declined, a.updated_at]);
  if (a.decided_at) steps.push([`${S.steps.decided}:${stateText(a.state)}`, a.decided_at]);
  return h("ol", { class: "timeline" }, ...steps.map(([t, at]) => h("li", {}, h("span", { text: t }), h("time", { datetime: at, text: fmt.date(at) }))));
}

route(/^\/app\/([0-9a-f]{8,64})$/, async (m, params) => {
  const id = m[1];
  const [a, forName] = await Promise.all([get(`/api/v1/applications/${id}`), grantName(params)]);
  const box = alertBox();
  const q = params.get("g") ? `?g=${params.get("g")}` : "";
  const out = [h("h1", { text: a.program_name }), h("p", { class: "state state-" + a.state, text: stateText(a.state) }), box];
  if (a.state === "approved") out.push(para(S.detail.approved, "notice ok"));
  if (a.state === "rejected") out.push(para(S.detail.rejected, "notice"));
  const refused = ["rejected", "declined", "expired"].includes(a.state);  // no amount to announce, no "why you qualify"
  if (a.monthly_amount && !refused) out.push(h("p", { class: "amount big" }, S.detail.amount(a.monthly_amount)));
  if (a.monthly_amount && a.start_month && !refused) out.push(para(S.detail.startMonth(fmt.month(a.start_month))));
  if (a.actions.includes("confirm")) {
    const btn = button(forName ? S.detail.confirmFor(forName) : S.detail.confirm, () => busy(btn, async () => {
      try { await post(`/api/v1/applications/${id}/confirm`); render(); } catch (err) { showError(box, err); }
    }), "btn primary");
    out.push(btn, link(`#/app/${id}/decline${q}`, S.detail.declineLink, "btn"));
  }
  const why = refused ? S.detail.checked : forName ? S.detail.whyFor(forName) : S.detail.why;
  out.push(section(why, h("ul", { class: "reasons" }, ...a.reasons.map((r) => h("li", { text: r })))));
  out.push(section(S.detail.prefilled, h("dl", { class: "fields" }, ...a.fields.map((f) => [
    h("dt", { text: f.label }), h("dd", {}, h("span", { class: "value", text: f.value_name || (S.detail.values[f.field] || {})[f.value] || f.value }), h("span", { class: "source", text: S.detail.source(f.source_name, f.source_date && fmt.date(f.source_date)) }))]))));
  if (a.state !== "proposed") out.push(section(S.detail.timeline, timeline(a), a.confirmed_by_proxy ? para(S.detail.byProxy(a.confirmed_by_proxy)) : null));
  if (["approved", "rejected", "declined"].includes(a.state)) {
    let rated = null;
    try { rated = await get(`/api/v1/applications/${id}/rating`); } catch (err) { if (!(err instanceof ApiError) || err.status !== 404) throw err; }
    out.push(rated ? para(S.detail.rated(rated.level_text), "notice") : link(`#/app/${id}/rate${q}`, S.detail.rate, "btn primary"));
  }
  if (a.state !== "proposed") {
    out.push(...appealCard({ key: "application_id", id: a.id, until: a.appeal_until,
      decided: ["approved", "rejected"].includes(a.state), href: `#/app/${a.id}/appeal${q}` }, await myAppeals(), box));
  }
  if (a.actions.includes("reopen")) {
    const again = button(S.detail.reopen, () => busy(again, async () => {
      try { await post(`/api/v1/applications/${id}/reopen`); render(); } catch (err) { showError(box, err); }
    }));
    out.push(again);
  }
  return out;
});

// ---------- appeal (复核): of a decided application or of a benefit's stop or change ----------
const myAppeals = () => get("/api/v1/appeals?page_size=50");

// The appeals of one decision (`subject.key` = application_id | benefit_id): the latest one's state, the reminder
// or 催办 when it is late, its decision, withdraw while open; 申请复核 while the filing period (`until`) runs.
function appealCard(subject, appeals, box) {
  const mine = appeals.filter((x) => x[subject.key] === subject.id);
  const open = mine.find((x) => x.state !== "decided");
  const last = open || mine[0];
  const out = [];
  if (last) {
    const lines = [para(S.appeal.state(last.state_text, fmt.date(last.due_on)))];
    if (open) lines.push(chaseLine(open));
    if (last.outcome) lines.push(para(S.appeal.decided(last.outcome_text), "notice"), last.decision_reason ? para(S.appeal.reason_is(last.decision_reason)) : null);
    lines.push(para(last.remedies, "sub"));
    if (open) {
      const w = button(S.appeal.withdraw, () => busy(w, async () => {
        try { await post(`/api/v1/appeals/${open.id}/withdraw`); render(); } catch (err) { showError(box, err); }
      }));
      lines.push(w);
    }
    out.push(section(S.appeal.section, ...lines));
  }
  if (!last && subject.decided) out.push(para(subject.until ? S.appeal.remedies(fmt.date(subject.until)) : S.appeal.remediesOnly, "sub"));
  if (!open && subject.until) out.push(link(subject.href, subject.label || S.appeal.link, "btn"));
  return out;
}

function chaseLine(ap) {
  if (ap.escalated_on) return para(S.appeal.escalated(fmt.date(ap.escalated_on)), "notice");
  if (ap.urged_on) return para(S.appeal.urged(fmt.date(ap.urged_on)), "notice");
  return ap.reminded_on ? para(S.appeal.reminded(fmt.date(ap.reminded_on)), "hint") : null;
}

// The form: a documented reason and a comment, for `body` (application_id or benefit_id); `back` after filing.
function appealForm(body, title, until, back, draftKey) {
  return (async () => {
    const reasons = await get("/api/v1/appeals/reasons");
    const box = alertBox();
    const radios = reasons.map((r) => h("div", { class: "choice" },
      h("input", { type: "radio", name: "reason", id: "ap-" + r.code, value: r.code }), h("label", { for: "ap-" + r.code, text: r.text })));
    const comment = h("textarea", { name: "comment", id: "f-apcomment", maxlength: "1000", rows: "4" });
    const form = h("form", {}, h("fieldset", {}, h("legend", { text: S.appeal.reason }), ...radios),
      field(S.appeal.comment, comment), h("button", { type: "submit", class: "btn primary", text: S.appeal.button }));
    const d = draft(form, draftKey);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const chosen = form.querySelector("input[name=reason]:checked");
      if (!chosen) return showError(box, new ApiError(422), { 422: S.appeal.choose });
      busy(form.querySelector("button[type=submit]"), async () => {
        try {
          const made = await post("/api/v1/appeals", { ...body, reason_code: chosen.value, comment: comment.value.trim() });
          d.clear();
          clearError(box);  // an earlier refusal no longer stands
          form.replaceWith(para(S.appeal.done(fmt.date(made.due_on)), "notice ok"), para(made.remedies, "sub"), link(back, S.back));
        } catch (err) {
          const code = err instanceof ApiError && err.body ? err.body.error_code : null;
          showError(box, err, { 409: code === "appeal_period_over" ? S.appeal.over : S.appeal.exists });
        }
      });
    });
    return [h("h1", { text: S.appeal.title }), para(title, "sub"), para(until ? S.appeal.lead(fmt.date(until)) : S.appeal.leadAny), box, form];
  })();
}

route(/^\/app\/([0-9a-f]{8,64})\/appeal$/, async (m, params) => {
  const id = m[1];
  const a = await get(`/api/v1/applications/${id}`);
  return appealForm({ application_id: id }, a.program_name, a.appeal_until,
    `#/app/${id}${params.get("g") ? "?g=" + params.get("g") : ""}`, "appeal." + id);
});

// A benefit's stop or change (停发、暂停、调档): for the resident, or for the person she helps (`?g=<grant id>`).
route(/^\/benefit\/([0-9a-f]{8,64})\/appeal$/, async (m, params) => {
  const id = m[1];
  const g = params.get("g");
  const list = await get(`/api/v1/benefits${g ? "?subject=" + encodeURIComponent(g) : ""}`);
  const b = list.find((x) => x.id === id);
  if (!b) return [h("h1", { text: S.appeal.title }), para(S.appeal.nothing, "notice"), link("#/benefits", S.back)];
  return appealForm({ benefit_id: id }, b.program_name, b.appeal_until, "#/benefits", "appeal.b." + id);
});

// ---------- decline with a reason ----------
route(/^\/app\/([0-9a-f]{8,64})\/decline$/, async (m, params) => {
  const id = m[1];
  const a = await get(`/api/v1/applications/${id}`);
  const box = alertBox();
  const radios = ["not_needed", "data_wrong", "other"].map((r, i) => h("div", { class: "choice" },
    h("input", { type: "radio", name: "reason", id: "r-" + r, value: r, checked: i === 0 }), h("label", { for: "r-" + r, text: S.decline[r] })));
  const comment = h("textarea", { name: "comment", id: "f-comment", maxlength: "500", rows: "3" });
  const form = h("form", {}, h("fieldset", {}, h("legend", { text: S.decline.reason }), ...radios),
    field(S.decline.comment, comment), h("button", { type: "submit", class: "btn primary", text: S.decline.button }));
  const d = draft(form, "decline." + id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const btn = form.querySelector("button[type=submit]");
    busy(btn, async () => {
      try {
        const reason = form.querySelector("input[name=reason]:checked").value;
        await post(`/api/v1/applications/${id}/decline`, comment.value.trim() ? { reason, comment: comment.value.trim() } : { reason });
        d.clear();
        clearError(box);  // an earlier refusal no longer stands
        form.replaceWith(para(S.decline.done, "notice ok"), link(`#/app/${id}${params.get("g") ? "?g=" + params.get("g") : ""}`, S.back));
      } catch (err) { showError(box, err); }
    });
  });
  return [h("h1", { text: S.decline.title }), para(a.program_name, "sub"), para(S.decline.lead), box, form];
});

// ---------- service rating (好差评) ----------
route(/^\/app\/([0-9a-f]{8,64})\/rate$/, async (m) => {
  const id = m[1];
  const a = await get(`/api/v1/applications/${id}`);
  const box = alertBox();
  if (!["approved", "rejected", "declined"].includes(a.state)) return [h("h1", { text: S.rating.title }), para(S.rating.notYet, "notice")];
  const radios = [5, 4, 3, 2, 1].map((l) => h("div", { class: "choice" },
    h("input", { type: "radio", name: "level", id: "lv-" + l, value: String(l) }), h("label", { for: "lv-" + l, text: S.rating.levels[l] })));
  const comment = h("textarea", { name: "comment", id: "f-rcomment", maxlength: "500", rows: "3" });
  const form = h("form", {}, h("fieldset", {}, h("legend", { text: S.rating.level }), ...radios),
    field(S.rating.comment, comment), h("button", { type: "submit", class: "btn primary", text: S.rating.button }));
  const d = draft(form, "rating." + id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = form.querySelector("input[name=level]:checked");
    if (!chosen) return showError(box, new ApiError(422), { 422: S.rating.choose });
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const r = await post(`/api/v1/applications/${id}/rating`, { level: Number(chosen.value), comment: comment.value.trim() || null });
        d.clear();
        clearError(box);  // an earlier refusal no longer stands
        form.replaceWith(para(S.rating.thanks, "notice ok"), r.follow_up_due_at ? para(S.rating.followUp(fmt.date(r.follow_up_due_at)), "notice") : "", link("#/home", S.home));
      } catch (err) { showError(box, err, { 409: S.rating.already }); }
    });
  });
  return [h("h1", { text: S.rating.title }), para(a.program_name, "sub"), para(S.rating.lead), box, form];
});

// ---------- my applications ----------
let programsCache = null;
async function programs() {
  if (!programsCache) programsCache = get("/api/v1/programs").catch((e) => { programsCache = null; throw e; });
  return programsCache;
}

route(/^\/apps$/, async () => {
  const [own, progs, helped] = await Promise.all([get("/api/v1/applications"), programs().catch(() => []), helping()]);
  // and those of each person she helps, within the grant (the API decides what it shows her)
  const others = await Promise.all(helped.map(async (g) =>
    (await get(`/api/v1/applications?subject=${encodeURIComponent(g.id)}`).catch(() => []))
      .map((a) => ({ ...a, whose: g.principal_name, grant: g.id }))));
  const apps = [...own, ...others.flat()];
  const limit = Object.fromEntries(progs.map((p) => [p.code, p.guide.time_limit]));
  if (!apps.length) return [h("h1", { text: S.apps.title }), para(S.apps.none, "notice")];
  return [h("h1", { text: S.apps.title }), h("ul", { class: "cards" }, ...apps.map((a) => h("li", { class: "card" },
    a.whose ? h("p", { class: "whose", text: S.benefits.whose(a.whose) }) : null,
    h("h2", {}, h("a", { href: `#/app/${a.id}${a.grant ? "?g=" + a.grant : ""}`, class: "row", text: a.program_name })),
    h("p", { class: "state state-" + a.state, text: stateText(a.state) }), timeline(a),
    limit[a.program] && !["approved", "rejected", "declined"].includes(a.state) ? para(S.apps.deadline(limit[a.program]), "hint") : null)))];
});

// ---------- benefits and payments ----------
route(/^\/benefits$/, async () => {
  const [own, helped] = await Promise.all([get("/api/v1/benefits"), helping()]);
  const others = await Promise.all(helped.map(async (g) =>
    (await get(`/api/v1/benefits?subject=${encodeURIComponent(g.id)}`).catch(() => []))
      .map((b) => ({ ...b, whose: g.principal_name, grant: g.id, mayAppeal: (g.scopes || []).includes("confirm") }))));
  const list = [...own, ...others.flat()];
  if (!list.length) return [h("h1", { text: S.benefits.title }), para(S.benefits.none, "notice")];
  const box = alertBox();
  const appeals = await myAppeals();
  const cards = await Promise.all(list.map(async (b) => {
    let pays = null;
    try { pays = await get(`/api/v1/benefits/${b.id}/payments`); } catch { pays = null; }  // a proxy's too
    return h("li", { class: "card" }, b.whose ? h("p", { class: "whose", text: S.benefits.whose(b.whose) }) : null, h("h2", { text: b.program_name }),
      h("p", { class: "amount big", text: S.benefits.monthly(b.monthly_amount) }),
      para(`${S.benefits.state[b.state] || b.state} · ${S.benefits.since(fmt.month(b.start_month))}${b.end_month ? " " + S.benefits.until(fmt.month(b.end_month)) : ""}`),
      pays === null ? null : h("div", {}, h("h3", { text: S.benefits.payments }),
        pays.length ? h("ul", { class: "plain" }, ...pays.slice(0, 12).map((p) => h("li", { text: S.benefits.payment(fmt.month(p.month || p.period || ""), p.total || p.amount || "", p.status, p.arrears) })))
          : para(S.benefits.noPayments, "hint")),
      ["stopped", "suspended"].includes(b.state) ? para(S.benefits.remedies, "sub") : null,
      b.state === "active" ? link(`#/proof/${b.id}`, S.benefits.proof, "btn") : null,
      ...appealCard({ key: "benefit_id", id: b.id, until: b.whose && !b.mayAppeal ? null : b.appeal_until,
        decided: Boolean(b.appeal_until), href: `#/benefit/${b.id}/appeal${b.grant ? "?g=" + b.grant : ""}`,
        label: b.whose ? S.benefits.appealFor(b.whose) : S.benefits.appeal }, appeals, box));
  }));
  return [h("h1", { text: S.benefits.title }), box, h("ul", { class: "cards" }, ...cards)];
});

// ---------- proof of a benefit (补贴电子证明): a signed QR code any counter can check ----------
route(/^\/proof\/([0-9a-f]{8,64})$/, async (m) => {
  let p;
  try { p = await post(`/api/v1/benefits/${m[1]}/proof`); } catch (err) {
    if (err instanceof ApiError && err.status === 409) return [h("h1", { text: S.proof.title }), para(S.proof.notActive, "notice")];
    throw err;
  }
  const f = S.proof.fields;
  const rows = [[f.program, p.program_name], [f.tier, S.proof.tier(p.tier)], [f.name, p.name_masked], [f.idLast4, p.id_last4],
    [f.until, fmt.date(p.expires_at)], [f.id, p.certificate_id]];
  return [h("h1", { text: S.proof.title }), para(S.proof.lead),
    h("img", { class: "qr", src: `data:image/png;base64,${p.qr_png}`, alt: S.proof.qrAlt(p.program_name), width: "300", height: "300" }),
    h("dl", { class: "fields" }, ...rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { class: "value", text: v })])),
    h("div", { class: "field" }, h("label", { for: "proof-code", text: S.proof.text }),
      h("textarea", { id: "proof-code", readonly: true, rows: "4", spellcheck: "false", text: p.code })),
    para(S.proof.note, "hint"), link("/verify", S.proof.verifyLink, "btn quiet")];
});

// ---------- department look-ups (mine, and of those I help with `view`) ----------
route(/^\/lookups$/, async () => {
  const [own, helped] = await Promise.all([get("/api/v1/me/department-lookups"), helping()]);
  const others = await Promise.all(helped.map(async (g) =>
    ({ g, rows: await get(`/api/v1/me/department-lookups?subject=${encodeURIComponent(g.id)}`).catch(() => null) })));
  const L = S.lookups;
  const list = (rows) => rows.length ? h("ul", { class: "plain lookups" }, ...rows.map((e) => h("li", { class: "lookup" },
    h("p", { class: "who", text: e.actor_name }),
    para(e.what),
    e.purpose_text ? para(L.purpose(e.purpose_text), "hint") : null,
    h("p", { class: "hint" }, h("time", { datetime: e.at, text: L.when(fmt.date(e.at), fmt.time(e.at)) })))))
    : para(L.none, "notice");
  const blocks = [section(L.mine, list(own))];
  for (const { g, rows } of others) if (rows) blocks.push(section(L.whose(g.principal_name), list(rows)));
  return [h("h1", { text: L.title }), para(L.lead), ...blocks];
});

// ---------- inbox ----------
route(/^\/inbox$/, async () => {
  const items = await get("/api/v1/inbox");
  if (!items.length) return [h("h1", { text: S.inbox.title }), para(S.inbox.none, "notice")];
  const box = alertBox();
  // the item's one-tap action (a new proxy: 撤销授权), a POST to the path the API gives
  const act = (a) => {
    const b = button(a.label, () => busy(b, async () => {
      try { await post(a.path); b.replaceWith(para(S.inbox.done, "state")); } catch (err) { showError(box, err); }
    }), "btn");
    return b;
  };
  return [h("h1", { text: S.inbox.title }), box, h("ul", { class: "cards" }, ...items.map((i) => {
    const open = async (e) => {
      if (!i.read_at) { e.preventDefault(); try { await post(`/api/v1/inbox/${i.id}/read`); } catch { /* reading still works */ } location.hash = e.currentTarget.getAttribute("href"); }
    };
    return h("li", { class: "card msg" + (i.read_at ? "" : " unread"), "data-kind": i.kind },
      h("h2", {}, i.read_at ? "" : h("span", { class: "badge", text: S.inbox.unread }), i.title),
      para(i.body), h("time", { datetime: i.created_at, text: fmt.date(i.created_at) }),
      i.application_id ? h("a", { href: `#/app/${i.application_id}`, class: "btn", text: S.inbox.open, onclick: open }) : null,
      i.action && i.action.method === "POST" ? act(i.action) : null);
  }))];
});

// ---------- family: proxies, invitations, accepting ----------
function grantCard(g, box, primaryTaken) {
  const other = g.role === "proxy" ? g.principal_name : g.proxy_name;
  const act = (path, text, cls) => {
    const b = button(text, () => busy(b, async () => { try { await post(`/api/v1/proxies/grants/${g.id}/${path}`); render(); } catch (err) { showError(box, err); } }), cls);
    return b;
  };
  const status = g.live ? S.family.status.active : (S.family.status[g.status] || g.status);
  const actions = [];
  if ((g.role === "principal" || g.role === "manager") && ["pending_principal", "requested"].includes(g.status)) {
    actions.push(act("confirm", S.family.confirmGrant, primaryTaken.done ? "btn" : "btn primary"), act("decline", S.family.declineGrant, "btn"));
    primaryTaken.done = true;
  } else if (g.status !== "pending" && (g.live || g.status.startsWith("pending") || ["requested", "suspended"].includes(g.status))) {
    actions.push(act("revoke", S.family.revoke, "btn quiet"));  // (a request of hers, `pending`, lapses by itself)
  }
  return h("li", { class: "card" }, h("h3", { text: other || "—" }), para(status + (g.live ? " · " + S.family.until(fmt.date(g.expires_at)) : ""), "state"), ...actions);
}

route(/^\/family$/, async () => {
  const grants = await get("/api/v1/proxies/grants");
  const box = alertBox();
  const taken = { done: false };
  const current = (g) => g.live || g.status.startsWith("pending") || ["requested", "suspended"].includes(g.status);
  const mine = grants.filter((g) => g.role === "principal" && current(g)).map((g) => grantCard(g, box, taken));
  const help = grants.filter((g) => g.role === "proxy" && current(g)).map((g) => grantCard(g, box, taken));
  // the other proxies of someone whose proxies she manages (manage_proxies), by the person they act for
  const managed = new Map();
  for (const g of grants.filter((x) => x.role === "manager" && current(x))) {
    if (!managed.has(g.principal_name)) managed.set(g.principal_name, []);
    managed.get(g.principal_name).push(grantCard(g, box, taken));
  }
  return [h("h1", { text: S.family.title }), para(S.family.lead), box,
    link("#/invite", S.family.invite, taken.done ? "btn" : "btn primary"), link("#/ask", S.family.ask, "btn"),
    section(S.family.myProxies, mine.length ? h("ul", { class: "cards" }, ...mine) : para(S.family.none, "hint")),
    section(S.family.iHelp, help.length ? h("ul", { class: "cards" }, ...help) : para(S.family.none, "hint")),
    ...[...managed].map(([name, cards]) => section(S.family.iManage(name), h("ul", { class: "cards" }, ...cards)))];
});

route(/^\/invite$/, async () => {
  const inv = await post("/api/v1/proxies/invitations", {});
  const url = `${location.origin}/m/#/accept?t=${encodeURIComponent(inv.token)}`;
  let src = inv.qr_png ? `data:image/png;base64,${inv.qr_png}` : "";
  try {
    const r = await api("/m/qr", { method: "POST", body: { text: url }, auth: false, raw: true });
    src = URL.createObjectURL(await r.blob());
  } catch { /* the API's own QR code is the fallback */ }
  return [h("h1", { text: S.family.invite }), para(S.family.inviteLead),
    h("img", { class: "qr", src, alt: S.family.qrAlt, width: "240", height: "240" }),
    para(S.family.expires(fmt.time(inv.expires_at)), "hint"),
    h("div", { class: "field" }, h("label", { for: "invite-link", text: S.family.link }), h("input", { id: "invite-link", readonly: true, value: url }))];
});

// Ask to become a relative's proxy (代办申请): her name and ID number; she is asked on her own phone if they match.
// The answer is the same whether or not they match anyone (nobody learns who is registered).
route(/^\/ask$/, async () => {
  const box = alertBox();
  const name = h("input", { name: "name", autocomplete: "off", maxlength: "64", required: true });
  const idn = h("input", { name: "id_number", autocomplete: "off", maxlength: "20", required: true, inputmode: "text" });
  const relation = h("select", { name: "relation" }, ...Object.entries(S.family.relations).map(([k, v]) => h("option", { value: k, text: v })));
  const form = h("form", { class: "form", novalidate: true },
    field(S.family.askName, name), field(S.family.askId, idn), field(S.family.askRelation, relation),
    h("button", { type: "submit", class: "btn primary", text: S.family.askButton }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!name.value.trim() || !idn.value.trim()) return showError(box, new ApiError(422), { 422: S.family.askMissing });
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await post("/api/v1/proxies/requests", { name: name.value.trim(), id_number: idn.value.trim().toUpperCase(),
          relation: relation.value });
        clearError(box);
        form.replaceWith(para(S.family.asked, "notice ok"), link("#/family", S.family.title, "btn"));
      } catch (err) {
        const code = err instanceof ApiError ? (err.body || {}).error_code : null;
        showError(box, err, { 409: code === "proxy_request_open" ? S.family.askOpen : S.family.askBindFirst,
          422: S.bind.invalid });
      }
    });
  });
  return [h("h1", { text: S.family.ask }), para(S.family.askLead), box, form];
});

route(/^\/accept$/, async (m, params) => {
  const token = params.get("t");
  const box = alertBox();
  if (!token) return [h("h1", { text: S.family.acceptTitle }), para(S.family.needToken, "notice")];
  const who = await loadMe();
  if (!who.account.bound) { sessionStorage.setItem("zt.next", location.hash); go("#/bind"); return null; }
  const btn = button(S.family.accept, () => busy(btn, async () => {
    try {
      const g = await post("/api/v1/proxies/invitations/accept", { token });
      btn.replaceWith(para(g.live ? S.family.accepted : S.family.acceptedPending, "notice ok"), link("#/home", S.home, "btn"));
    } catch (err) { showError(box, err, { 404: S.family.expired, 409: S.family.already }); }
  }), "btn primary");
  return [h("h1", { text: S.family.acceptTitle }), para(S.family.acceptLead), box, btn];
});

// ---------- service guide (办事指南) ----------
route(/^\/guide$/, async () => {
  const list = await programs();
  return [h("h1", { text: S.guide.title }), h("ul", { class: "menu-list" }, ...list.map((p) => h("li", {}, link(`#/guide/${p.code}`, p.name, "row"))))];
}, true);

route(/^\/guide\/([a-z0-9_]{1,40})$/, async (m) => {
  const p = await get(`/api/v1/programs/${m[1]}`);
  const g = p.guide;
  const list = (items) => h("ul", {}, ...items.map((x) => h("li", { text: x })));
  const out = [h("h1", { text: g.name }), para(S.guide.trip[g.trip_level] || g.trip_level, "badge-line"), para(g.summary),
    section(S.guide.conditions, list(g.conditions)),
    section(S.guide.materials, g.materials.length ? list(g.materials) : para(S.guide.noMaterials)),
    section(S.guide.process, h("ol", {}, ...g.process.map((x) => h("li", { text: x })))),
    section(S.guide.timeLimit, para(g.time_limit))];
  if (g.amounts && Object.keys(g.amounts).length) out.push(section(S.guide.amounts, h("dl", { class: "fields" }, ...Object.entries(g.amounts).map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]))));
  out.push(section(S.guide.legal, para(g.legal_basis)));
  if (g.place) out.push(section(S.guide.place, para(g.place)));
  if (g.phone) out.push(section(S.guide.phone, h("a", { href: `tel:${g.phone}`, class: "btn", text: g.phone })));
  return out;
}, true);

// ---------- a citizen-started application: the program's own form (GET /api/v1/programs/{code}) ----------
// Only what the state cannot know; `#/<code>` or `#/apply/<code>` (registered last: named screens win).
route(/^\/(?:apply\/)?([a-z][a-z0-9_]{1,40})$/, async (m) => {
  const p = await get(`/api/v1/programs/${m[1]}`).catch((err) => { if (err.status === 404) return null; throw err; });
  const f = p && p.apply_form;
  if (!f) return [h("h1", { text: S.apply.none }), para(S.apply.unavailable), link("#/guide", S.nav.guide, "btn")];
  const box = alertBox();
  const input = (x) => x.rows > 0
    ? h("textarea", { name: x.name, id: "f-" + x.name, maxlength: String(x.max_length), rows: String(x.rows) })
    : h("input", { name: x.name, id: "f-" + x.name, autocomplete: "off", maxlength: String(x.max_length),
      ...(x.kind === "amount" ? { inputmode: "decimal" } : {}) });
  const form = h("form", { novalidate: true }, ...f.fields.map((x) => field(x.label, input(x))),
    h("button", { type: "submit", class: "btn primary", text: f.texts.button || S.apply.button }));
  const d = draft(form, "apply." + p.code);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      const v = Object.fromEntries(new FormData(form));
      const body = Object.fromEntries(f.fields.map((x) => [x.name, (v[x.name] || "").trim() || x.default]));
      try {
        const res = await post(f.path, body);
        d.clear();
        clearError(box);  // an earlier refusal no longer stands
        form.replaceWith(para(f.texts.done || S.apply.done, "notice ok"), res && res.id ? link(`#/app/${res.id}`, S.detail.title) : "");
      } catch (err) { showError(box, err, { 404: S.apply.unavailable, 405: S.apply.unavailable }); }
    });
  });
  return [h("h1", { text: f.texts.title || p.name }), ...(f.texts.lead ? [para(f.texts.lead)] : []),
    para(S.apply.draftKept, "hint"), box, form, link(`#/guide/${p.code}`, S.nav.guide, "btn quiet")];
});

// Route 0 is the fallback.
routes.unshift(routes.splice(routes.findIndex((r) => String(r.re) === String(/^\/home$/)), 1)[0]);
render();
