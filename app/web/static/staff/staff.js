// The workbench (办理平台) at /staff/: plain DOM, no innerHTML, every word from strings.js, only the staff API.
import { S } from "./strings.js";
import { homeVisitScreen } from "./visit.js";
import { noticesScreen, objectionScreen, sheetScreen } from "./notices.js";
import { paramsScreen } from "./admin.js";
import { approvalsScreen } from "./approvals.js";
import { exchangeScreen } from "./exchange.js";
import { decisionsTable } from "./counter_appeal.js";
import { inboxScreen } from "./inbox.js";
import { economicReport, extendForm, recheckSection, timelineEntry } from "./case.js";
import { deliveryLine, letterHref, letterScreen, lettersScreen, letterTable, stopLetterScreen } from "./letters.js";

// Pre-filled area codes are shown as "name(code)"; other coded values (sex, a category) by their words alone.
const AREA_FIELDS = ["district_code", "street_code", "community_code"];
// A step or task kind in words on the supervision board: the inbox's names first (审核, 审批 …), then the receipt's.
const stepName = (code) => S.kinds[code] || S.receipt.steps[code] || code;

const KEY = "zt.staff";
const main = document.getElementById("main");
let me = null;
let programNames = null;  // code → name, from the public catalogue (GET /api/v1/programs)

async function programs() {
  if (!programNames) {
    const list = await api("/api/v1/programs").catch(() => []);
    programNames = Object.fromEntries(list.map((p) => [p.code, p.name]));
  }
  return programNames;
}

const store = {
  get() { try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; } },
  set(t) { sessionStorage.setItem(KEY, JSON.stringify({ access: t.access_token, refresh: t.refresh_token })); },
  clear() { sessionStorage.removeItem(KEY); },
};

class ApiError extends Error {
  constructor(status, body) {
    const code = body && body.error_code;
    super((code && S.err.codes[code]) || S.err[status] || (status >= 500 ? S.err[500] : S.err.other));
    this.status = status; this.body = body || {}; this.code = code;
  }
}

async function api(path, options = {}) {
  return (await request(path, options)).data;
}

// A page of a list and its X-Pagination metadata ({total, page, total_pages, next_page, previous_page}).
async function apiPaged(path) {
  const { data, response } = await request(path);
  let meta = {};
  try { meta = JSON.parse(response.headers.get("X-Pagination") || "{}"); } catch { meta = {}; }
  return { data, meta };
}

async function request(path, { method = "GET", body } = {}) {
  const headers = {};
  const t = store.get();
  if (t) headers.Authorization = `Bearer ${t.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch { throw new ApiError(0, { error_code: null }); }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const err = new ApiError(r.status, data);
    err.retryAfter = Number(r.headers.get("Retry-After") || 0);
    throw err;
  }
  return { data, response: r };
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function field(id, label, input) {
  input.id = id;
  return el("p", { class: "field" }, el("label", { for: id, text: label }), input);
}

function note(text, kind = "info") {
  return el("p", { class: `note ${kind}`, role: kind === "error" ? "alert" : "status", text });
}

function show(screen, ...nodes) {
  document.body.dataset.screen = screen;
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));
  main.removeAttribute("aria-busy");
  document.body.dataset.hash = location.hash;
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function header() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const out = document.getElementById("signout");
  if (!me || me.must_change_password) { nav.hidden = true; out.hidden = !me; who.textContent = ""; return; }
  const links = [["#/inbox", S.nav.inbox], ["#/mine", S.nav.mine], ["#/search", S.nav.search], ["#/notices", S.nav.notices]];
  const here = location.hash.split("?")[0];
  if (["clerk", "community_worker", "reviewer"].includes(me.role)) links.push(["#/counter", S.nav.counter]);
  if (me.role !== "admin") links.push(["#/letters", S.nav.letters]);
  if (me.role === "reviewer" || me.role === "approver") links.push(["#/approvals", S.nav.approvals]);
  if (me.role === "supervisor") links.push(["#/supervision", S.nav.supervision]);
  if (me.role === "supervisor" || me.role === "admin") links.push(["#/roll", S.nav.roll]);
  if (me.role === "admin") links.push(["#/accounts", S.nav.accounts], ["#/params", S.nav.params]);
  if (me.role === "admin" && !me.street_code) links.push(["#/exchange", S.nav.exchange]);
  nav.replaceChildren(...links.map(([href, text]) => el("a", {
    href, text, "aria-current": here === href ? "page" : null })));
  nav.hidden = false; out.hidden = false;
  who.textContent = S.who(me.display_name, S.roles[me.role] || me.role);
}

// ---- screens ------------------------------------------------------------------------------------------------

function loginScreen() {
  const user = el("input", { autocomplete: "username", required: true });
  const pass = el("input", { type: "password", autocomplete: "current-password", required: true });
  const msg = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "card narrow", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      const t = await api("/api/v1/staff/auth/login", { method: "POST",
        body: { username: user.value.trim(), password: pass.value } });
      store.set(t); me = t.staff;
      go(me.must_change_password ? "#/password" : "#/inbox");
    } catch (err) {
      const text = err.status === 429 ? S.login.locked(Math.max(1, Math.ceil((err.retryAfter || 900) / 60)))
        : err.status === 401 ? S.login.wrong : err.message;
      msg.replaceChildren(note(text, "error"));
    }
  } }, el("h1", { text: S.login.title }), field("username", S.login.username, user),
  field("password", S.login.password, pass), msg, el("button", { class: "btn primary", type: "submit", text: S.login.submit }));
  show("login", form);
}

function passwordScreen() {
  const cur = el("input", { type: "password", autocomplete: "current-password", required: true });
  const next = el("input", { type: "password", autocomplete: "new-password", required: true, minlength: "12" });
  const msg = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "card narrow", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    if (next.value.length < 12) { msg.replaceChildren(note(S.password.short, "error")); return; }
    try {
      me = await api("/api/v1/staff/auth/password", { method: "POST",
        body: { current_password: cur.value, new_password: next.value } });
      go("#/inbox");
    } catch (err) {
      const text = err.status === 401 ? S.password.wrongCurrent
        : err.code === "password_unchanged" ? S.password.same : err.code === "password_too_short" ? S.password.short
          : err.message;
      msg.replaceChildren(note(text, "error"));
    }
  } }, el("h1", { text: S.password.title }), el("p", { text: S.password.why }),
  field("current", S.password.current, cur), field("next", S.password.next, next), msg,
  el("button", { class: "btn primary", type: "submit", text: S.password.submit }));
  show("password", form);
}

function section(title, ...nodes) {
  return el("section", { class: "card" }, el("h2", { text: title }), ...nodes);
}

async function caseScreen(id) {
  const path = `/api/v1/staff/applications/${encodeURIComponent(id)}`;
  const c = await api(`${path}/case`);
  const C = S.case;
  const msg = el("div", { "aria-live": "polite" });
  const revealOut = el("div", { "aria-live": "polite" });
  const which = el("select", {}, ...Object.entries(C.fields).map(([k, v]) => el("option", { value: k, text: v })));
  const purpose = el("select", {}, ...Object.entries(C.purposes).map(([k, v]) => el("option", { value: k, text: v })));
  const reveal = el("form", { class: "filters", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const out = await api(`${path}/reveal`, { method: "POST", body: { field: which.value, purpose: purpose.value } });
      revealOut.replaceChildren(note(C.revealed(out.value)));
    } catch (err) { revealOut.replaceChildren(note(err.message, "error")); }
  } }, field("reveal-field", C.revealField, which), field("reveal-purpose", C.revealPurpose, purpose),
  el("button", { class: "btn", type: "submit", text: C.reveal }));
  const pc = C.prefillCols;
  const prefill = el("table", {}, el("caption", { text: C.prefill }), el("thead", {}, el("tr", {},
    ...[pc.field, pc.value, pc.source, pc.date].map((h) => el("th", { scope: "col", text: h })))),
  el("tbody", {}, c.prefill.map((f) => el("tr", {}, el("td", { text: f.label || f.field }),
    el("td", { text: f.value_name ? (AREA_FIELDS.includes(f.field) ? C.named(f.value_name, f.value) : f.value_name)
      : f.value || "—" }), el("td", { text: f.source_name || "—" }),
    el("td", { text: f.source_date || "—" })))));
  const trace = el("ul", { class: "trace" }, ...(c.trace || []).map((t) => el("li", {},
    el("span", { class: `badge ${t.passed ? "on_track" : "overdue"}`, text: t.passed ? S.review.passed : S.review.failed }),
    " ", el("span", { text: t.text || t.code }),
    t.source_name ? el("span", { class: "muted", text: ` (${t.source_name} ${t.source_date || ""})` }) : null)));
  const reason = el("textarea", { rows: "3", required: true });
  // The decision this state waits for, as the program declares it (review, street review, county approval …).
  const step = c.step_action;
  const code = el("select", {}, ...Object.entries(step ? step.reasons : {}).map(([k, v]) => el("option", { value: k, text: v })));
  const decide = async (decision) => {
    msg.replaceChildren();
    const body = { decision, reason: reason.value.trim() || S.review.approve };
    if (decision === "reject") body.reason_code = code.value;
    try {
      const after = await api(`${path}/${step.path}`, { method: "POST", body });
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      const decided = ["approved", "rejected"].includes(after.state);
      msg.replaceChildren(note(decided ? S.review.done : S.review.next(S.states[after.state] || after.state)),
        ...(decided ? [el("a", { class: "btn", href: `#/letter/${id}`, text: C.letter })] : []));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  };
  const form = step ? el("form", { class: "card", onsubmit: (e) => e.preventDefault() },
    el("h2", { text: S.review.titles[step.path] || S.review.title }),
    field("reason", S.review.reason, reason), field("code", S.review.reasonCode, code), msg,
    el("p", { class: "actions" },
      el("button", { class: "btn primary", type: "button", text: S.review.approve, onclick: () => decide("approve") }),
      el("button", { class: "btn danger", type: "button", text: S.review.reject, onclick: () => decide("reject") }),
      el("a", { class: "btn quiet", href: "#/mine", text: S.review.back }))) : null;
  show("case", el("h1", { text: `${c.program_name} · ${S.states[c.state] || c.state}` }),
    c.near_relative_of_staff ? note(C.nearRelative) : null,
    section(C.resident, el("p", { text: C.masked(c.resident) }), el("p", { text: C.place(c.resident) }), reveal, revealOut),
    recheckSection(c.rechecks, { api, el, field, note, route, main }),
    section(C.household, el("ul", {}, c.household.map((m) => el("li", { text: C.member(m) })))),
    el("div", { class: "card" }, prefill),
    section(S.review.trace, trace),
    c.economic_check.length ? section(C.economic, ...c.economic_check.map((r) => economicReport(r, el))) : null,
    section(C.deadlines, el("ul", {}, c.deadlines.map((d) => el("li", {},
      el("span", { class: `badge ${d.badge === "done" ? "none" : d.badge}`, text: S.badge[d.badge] || S.badgeDone }),
      " ", el("span", { text: C.deadline(d, C.steps[d.step] || C.stepOther) +
        (/^延长/.test(d.calendar_note || "") ? C.extended(d.calendar_note) : "") }))))),
    (c.actions || []).includes("extend") ? extendForm(path, { api, el, field, note, route, main }) : null,
    section(C.timeline, el("ol", {}, c.timeline.map((e) => el("li", { text: timelineEntry(e) })))),
    c.decision_letter ? el("p", {}, el("a", { class: "btn", href: `#/letter/${id}`, text: C.letter })) : null,
    c.letter ? deliveryLine(c.letter, { el }) : null,
    c.stop_letters.length ? section(C.stopLetters, el("ul", {}, c.stop_letters.map((l) => el("li", {},
      el("a", { href: letterHref("stop", l.letter_id), text: C.stopLetter(l) }), deliveryLine(l, { el }))))) : null,
    form);
}

async function appealScreen(id) {
  const path = `/api/v1/staff/appeals/${encodeURIComponent(id)}`;
  const a = await api(path);
  const A = S.appeal;
  const msg = el("div", { "aria-live": "polite" });
  const facts = section(A.facts, el("p", { text: A.decidedOn(a.decided_on) }), el("p", { text: A.reason(a.reason_text) }),
    el("p", { text: A.comment(a.comment) }), el("p", { text: A.filedVia[a.filed_via] || a.filed_via }),
    el("p", { text: A.state(a.state_text, a.due_on) }),
    ...(a.state === "decided" ? [] : [a.escalated_on ? note(A.escalated(a.escalated_on), "warn")
      : a.urged_on ? note(A.urged(a.urged_on), "warn") : a.reminded_on ? note(A.reminded(a.reminded_on), "warn") : null]),
    a.outcome ? el("p", { class: "note info", text: A.decided(a.outcome_text, a.decision_reason || "") }) : null,
    a.application_id ? el("p", {}, el("a", { class: "btn", href: `#/case/${a.application_id}`, text: A.case })) : null);
  const outcome = el("select", {}, ...Object.entries(A.outcomes).map(([k, v]) => el("option", { value: k, text: v })));
  const reason = el("textarea", { rows: "4", required: true, minlength: "5", maxlength: "2000" });
  const form = a.state !== "decided" ? el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      await api(`${path}/decision`, { method: "POST", body: { outcome: outcome.value, reason: reason.value.trim() } });
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      msg.replaceChildren(note(A.done));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { text: A.formTitle }), field("appeal-outcome", A.outcome, outcome),
  field("appeal-reason", A.decisionReason, reason), msg,
  el("p", { class: "actions" }, el("button", { class: "btn primary", type: "submit", text: A.decide }),
    el("a", { class: "btn quiet", href: "#/mine", text: S.review.back }))) : null;
  show("appeal", el("h1", { text: A.title(a.program_name) }), facts, el("p", { class: "muted", text: a.remedies }), form);
}

function searchScreen() {
  const Q = S.search;
  const inputs = { id_number: el("input", { inputmode: "text", autocomplete: "off" }), name: el("input", { autocomplete: "off" }),
    birth_year: el("input", { inputmode: "numeric" }), community: el("input", { inputmode: "numeric" }) };
  const purpose = el("select", {}, ...Object.entries(S.case.purposes).filter(([k]) => k !== "decision_letter")
    .map(([k, v]) => el("option", { value: k, text: v })));
  const out = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    const body = { purpose: purpose.value };
    for (const [k, i] of Object.entries(inputs)) if (i.value.trim()) body[k] = k === "birth_year" ? Number(i.value.trim()) : i.value.trim();
    try {
      const found = await api("/api/v1/staff/residents/search", { method: "POST", body });
      const c = Q.cols;
      out.replaceChildren(found.length ? el("table", {}, el("caption", { text: Q.caption(found.length) }),
        el("thead", {}, el("tr", {}, ...[c.name, c.id, c.year, c.community].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, found.map((r) => el("tr", {}, el("td", { text: r.name_masked }), el("td", { text: r.id_number_masked }),
          el("td", { text: String(r.birth_year || "—") }), el("td", { text: r.community_name || r.community_code || "—" })))))
        : note(Q.none));
    } catch (err) { out.replaceChildren(note(err.code === "search_too_broad" ? Q.tooBroad : err.message, "error")); }
  } }, el("p", { text: Q.hint }), field("s-id", Q.idNumber, inputs.id_number), field("s-name", Q.name, inputs.name),
  field("s-year", Q.birthYear, inputs.birth_year), field("s-community", Q.community, inputs.community),
  field("s-purpose", Q.purpose, purpose), el("button", { class: "btn primary", type: "submit", text: Q.submit }));
  show("search", el("h1", { text: Q.title }), form, out);
}

// One account's changes: role and jurisdiction (PATCH), a temporary password (reset: changed at next sign-in).
function accountChanges(s, msg) {
  const A = S.accounts;
  const role = el("select", {}, ...Object.entries(S.roles).map(([k, v]) => el("option", { value: k, text: v, selected: k === s.role })));
  const district = el("input", { inputmode: "numeric", value: s.district_code || "", maxlength: "6" });
  const street = el("input", { inputmode: "numeric", value: s.street_code || "", maxlength: "9" });
  const community = el("input", { inputmode: "numeric", value: s.community_code || "", maxlength: "12" });
  const password = el("input", { type: "password", autocomplete: "new-password", minlength: "12", required: true });
  const done = async (text) => { await route(); main.prepend(note(text)); };
  // the refusal beside the row it is about (the page's own message area may be far above or below)
  const here = el("div", { "aria-live": "polite" });
  const fail = (err) => { here.replaceChildren(note(err.message, "error")); msg.replaceChildren(); };
  return el("details", { class: "account-changes" }, el("summary", { text: A.change }), here,
    el("form", { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/api/v1/staff/accounts/${s.id}`, { method: "PATCH", body: { role: role.value,
          district_code: district.value.trim(), street_code: street.value.trim() || null,
          community_code: community.value.trim() || null } });
        await done(A.changed);
      } catch (err) { fail(err); }
    } }, field(`chg-role-${s.id}`, A.role, role), field(`chg-d-${s.id}`, A.district, district),
    field(`chg-s-${s.id}`, A.street, street), field(`chg-c-${s.id}`, A.community, community),
    el("button", { class: "btn", type: "submit", text: A.save })),
    el("form", { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/api/v1/staff/accounts/${s.id}/reset-password`, { method: "POST", body: { password: password.value } });
        await done(A.resetDone);
      } catch (err) { fail(err); }
    } }, field(`reset-${s.id}`, A.resetPassword, password), el("button", { class: "btn", type: "submit", text: A.reset })));
}

async function accountsScreen() {
  const list = await api("/api/v1/staff/accounts");
  const c = S.accounts.cols;
  const msg = el("div", { "aria-live": "polite" });
  const inputs = {
    username: el("input", { required: true }), display_name: el("input"),
    role: el("select", {}, ...Object.entries(S.roles).map(([k, v]) => el("option", { value: k, text: v }))),
    district_code: el("input", { required: true, inputmode: "numeric", value: me.district_code }),
    street_code: el("input", { inputmode: "numeric" }), community_code: el("input", { inputmode: "numeric" }),
    password: el("input", { type: "password", autocomplete: "new-password", required: true, minlength: "12" }),
  };
  const labels = { username: S.accounts.username, display_name: S.accounts.name, role: S.accounts.role,
    district_code: S.accounts.district, street_code: S.accounts.street, community_code: S.accounts.community,
    password: S.accounts.password };
  const form = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value.trim() || null]));
    body.display_name = body.display_name || "";
    try { await api("/api/v1/staff/accounts", { method: "POST", body }); await route();
      main.prepend(note(S.accounts.created)); } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, ...Object.entries(inputs).map(([k, i]) => field(`acc-${k}`, labels[k], i)), msg,
  el("button", { class: "btn primary", type: "submit", text: S.accounts.create }));
  const rows = list.map((s) => el("tr", {}, el("td", { text: s.username }), el("td", { text: s.display_name }),
    el("td", { text: S.roles[s.role] || s.role }),
    el("td", { text: s.office || s.community_code || s.street_code || s.district_code }),
    el("td", { text: s.disabled ? S.accounts.disabled : S.accounts.active }),
    el("td", {}, s.disabled || s.id === me.id ? "" : el("button", { class: "btn quiet", type: "button",
      text: S.accounts.disable, onclick: async () => {
        try { await api(`/api/v1/staff/accounts/${s.id}/disable`, { method: "POST" }); route(); } catch (err) {
          msg.replaceChildren(note(err.message, "error"));
        }
      } }), s.disabled ? "" : accountChanges(s, msg))));
  show("accounts", el("h1", { text: S.accounts.title }), el("table", {}, el("caption", { text: S.accounts.caption }),
    el("thead", {}, el("tr", {}, ...[c.username, c.name, c.role, c.where, c.state, c.action]
      .map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows)), form);
}

async function rollScreen() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const month = /^[0-9]{4}-[0-9]{2}$/.test(params.get("month") || "") ? params.get("month")
    : new Date().toISOString().slice(0, 7);
  const roll = await api(`/api/v1/staff/payroll/${month}`);
  const msg = el("div", { "aria-live": "polite" });
  const pick = el("input", { value: month, inputmode: "numeric", pattern: "[0-9]{4}-[0-9]{2}" });
  const chooser = el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go(`#/roll?month=${pick.value.trim()}`); } },
    field("month", S.roll.month, pick), el("button", { class: "btn", type: "submit", text: S.roll.show }));
  const c = S.roll.cols;
  const rows = Object.entries(roll.anomalies).map(([k, n]) => el("tr", {},
    el("td", { text: S.roll.anomalyNames[k] || k }), el("td", { text: S.roll.count(n) })));
  const facts = [el("p", { text: S.roll.state(S.roll.states[roll.state] || roll.state) }),
    el("p", { text: S.roll.signoff(S.roll.signoffs[roll.signoff] || roll.signoff) })];
  if (roll.closed_by) facts.push(el("p", { text: S.roll.closedBy(roll.closed_by_name || roll.closed_by) }));
  if (roll.signed_off_by) facts.push(el("p", { text: S.roll.signedBy(roll.signed_off_by_name || roll.signed_off_by, (roll.signed_off_at || "").slice(0, 16).replace("T", " ")) }));
  if (roll.note) facts.push(el("p", { text: S.roll.noteShown(roll.note) }));
  const noteBox = el("textarea", { rows: "3", required: true });
  const form = roll.signoff === "pending" && me.role === "supervisor" ? el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      await api(`/api/v1/staff/payroll/${month}/sign-off`, { method: "POST", body: { note: noteBox.value.trim() } });
      await route();
      main.prepend(note(S.roll.signed));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, field("signoff-note", S.roll.note, noteBox), msg, el("button", { class: "btn primary", type: "submit", text: S.roll.sign })) : null;
  show("roll", el("h1", { text: S.roll.title }), chooser, el("div", { class: "card" }, ...facts),
    rows.length ? el("table", {}, el("caption", { text: S.roll.caption }), el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: c.kind }), el("th", { scope: "col", text: c.count }))), el("tbody", {}, rows)) : null,
    form);
}

// ---- the counter (帮办): find, confirm with recorded consent, receipt ---------------------------------------------

async function apiForm(path, form) {
  const t = store.get();
  let r;
  try {
    r = await fetch(path, { method: "POST", headers: t ? { Authorization: `Bearer ${t.access}` } : {}, body: form });
  } catch { throw new ApiError(0, { error_code: null }); }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function counterScreen() {
  const C = S.counter;
  const id = el("input", { autocomplete: "off", inputmode: "text" });
  const card = el("textarea", { rows: "6", spellcheck: "false" });
  const file = el("input", { type: "file", accept: "application/json,.json,.txt" });
  file.addEventListener("change", async () => { if (file.files[0]) card.value = await file.files[0].text(); });
  const msg = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    let body;
    if (card.value.trim()) {
      try { body = { card: JSON.parse(card.value) }; } catch { msg.replaceChildren(note(C.badJson, "error")); return; }
    } else body = { id_number: id.value.trim() };
    try {
      const visit = await api("/api/v1/staff/counter/identify", { method: "POST", body });
      go(`#/counter/${visit.visit_id}`);
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("p", { text: C.hint }), field("c-id", C.idNumber, id), field("c-card", C.card, card),
  field("c-file", C.cardFile, file), msg, el("button", { class: "btn primary", type: "submit", text: C.find }));
  show("counter", el("h1", { text: C.title }), form);
}

// A phone photo of the signed slip is often larger than the 2 MB limit: drawn again at most 1600 px wide as JPEG.
async function smallerPhoto(file) {
  if (file.size < 1.5 * 1024 * 1024) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const canvas = el("canvas", { width: String(Math.round(bitmap.width * scale)), height: String(Math.round(bitmap.height * scale)) });
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return await new Promise((ok) => canvas.toBlob((b) => ok(b || file), "image/jpeg", 0.85));
  } catch { return file; }
}

function signaturePad() {
  const canvas = el("canvas", { width: "480", height: "160", class: "signature", role: "img", "aria-label": S.counter.sign });
  const ctx = canvas.getContext("2d");
  ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#000";
  let drawing = false; let signed = false;
  const at = (e) => { const b = canvas.getBoundingClientRect();
    return [(e.clientX - b.left) * canvas.width / b.width, (e.clientY - b.top) * canvas.height / b.height]; };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineTo(...at(e)); ctx.stroke(); signed = true; } });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  const clear = el("button", { class: "btn quiet", type: "button", text: S.counter.clear, onclick: () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height); signed = false; } });
  return { node: el("div", { class: "pad" }, el("p", { text: S.counter.sign }), canvas, clear),
    blob: () => (signed ? new Promise((ok) => canvas.toBlob(ok, "image/png")) : Promise.resolve(null)) };
}

// The signature on the tablet, or else the photo of the signed slip: her recorded consent, appended to `form`.
async function appendConsent(form, pad, slip) {
  const photo = slip.files[0];
  const signature = photo ? null : await pad.blob();
  form.append("consent_kind", photo ? "slip_photo" : "signature");
  if (photo) form.append("consent", await smallerPhoto(photo), "slip.jpg"); else if (signature) form.append("consent", signature, "signature.png");
}

// 代为申请: the programs a citizen applies for herself (GET /api/v1/programs, `apply_form`), each with its own fields.
function applyForm(visitId, startable, msg) {
  const C = S.counter;
  const pad = signaturePad();
  const slip = el("input", { type: "file", accept: "image/png,image/jpeg", capture: "environment" });
  const program = el("select", { required: true }, ...startable.map((p) => el("option", { value: p.code, text: p.name })));
  const fields = el("div");
  const fill = () => {
    const p = startable.find((x) => x.code === program.value);
    // the program's own fields and labels (GET /api/v1/programs: apply_form.fields)
    fields.replaceChildren(...p.apply_form.fields.map((f) => field(`a-${f.name}`, f.label || f.name,
      f.kind === "amount" ? el("input", { name: f.name, inputmode: "decimal", autocomplete: "off", maxlength: String(f.max_length), placeholder: "0.00" })
        : el("textarea", { name: f.name, rows: String(f.rows || 3), maxlength: String(f.max_length) }))));
  };
  program.addEventListener("change", fill);
  fill();
  return el("form", { class: "card", "aria-labelledby": "apply-h", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    const form = new FormData();
    form.append("program", program.value);
    for (const input of fields.querySelectorAll("[name]")) if (input.value.trim()) form.append(input.name, input.value.trim());
    await appendConsent(form, pad, slip);
    try {
      const v = await apiForm(`/api/v1/staff/counter/visits/${visitId}/applications`, form);
      const started = v.actions[v.actions.length - 1];
      await route();
      main.prepend(note(C.applied(program.selectedOptions[0].text, started.application_id)));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { id: "apply-h", text: C.apply }), el("p", { text: C.applyHint }), field("a-program", C.applyProgram, program),
  fields, el("p", { text: C.consentHint }), pad.node, field("a-slip", C.slip, slip), msg,
  el("button", { class: "btn primary", type: "submit", text: C.applySubmit }));
}

async function visitScreen(visitId) {
  const C = S.counter;
  const [v, programs] = await Promise.all([api(`/api/v1/staff/counter/visits/${visitId}`), api("/api/v1/programs")]);
  const startable = programs.filter((p) => p.apply_form);
  const msg = el("div", { "aria-live": "polite" });
  const consentArea = el("div");
  const openConsent = (item) => {
    const pad = signaturePad();
    const slip = el("input", { type: "file", accept: "image/png,image/jpeg", capture: "environment" });
    consentArea.replaceChildren(el("form", { class: "card", "aria-labelledby": "consent-h", onsubmit: async (e) => {
      e.preventDefault();
      msg.replaceChildren();
      const form = new FormData();
      form.append("application_id", item.application_id);
      await appendConsent(form, pad, slip);
      try {
        await apiForm(`/api/v1/staff/counter/visits/${visitId}/confirm`, form);
        await route();
        main.prepend(note(C.done));
      } catch (err) { msg.replaceChildren(note(err.message, "error")); }
    } }, el("h2", { id: "consent-h", text: `${C.consentTitle}:${item.program_name}` }), el("p", { text: C.consentHint }),
    pad.node, field("c-slip", C.slip, slip), msg, el("button", { class: "btn primary", type: "submit", text: C.submit })));
  };
  const c = C.cols;
  const onReceipt = v.actions.some((a) => a.application_id || a.appeal_id);  // a case or an appeal of this visit
  const reasons = v.decisions.length ? await api("/api/v1/appeals/reasons") : [];
  const decisions = decisionsTable(visitId, v.decisions, reasons, { el, field, note, apiForm, signaturePad, appendConsent,
    route, main, open: (form) => { msg.replaceChildren(); consentArea.replaceChildren(form); } });
  const applyButton = startable.length ? el("p", { class: "actions" }, el("button", { class: "btn", type: "button", text: C.apply,
    onclick: () => { msg.replaceChildren(); consentArea.replaceChildren(applyForm(visitId, startable, msg)); } })) : null;
  const table = v.items.length ? el("table", {}, el("caption", { text: C.items }),
    el("thead", {}, el("tr", {}, ...[c.program, c.state, c.case, c.action].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, v.items.map((i) => el("tr", {}, el("td", { text: i.program_name }),
      el("td", { text: C.states[i.state] || i.state }), el("td", { text: i.application_id }),
      el("td", {}, i.state === "proposed" ? el("button", { class: "btn", type: "button", text: C.confirm,
        "aria-label": `${C.confirm}:${i.program_name}`, onclick: () => openConsent(i) }) : "")))))
    : note(C.none);
  const P = S.proof;
  const held = v.benefits.length ? el("table", {}, el("caption", { text: P.held }),
    el("thead", {}, el("tr", {}, ...[c.program, c.state, P.since, c.action].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, v.benefits.map((b) => el("tr", {}, el("td", { text: b.program_name }),
      el("td", { text: P.states[b.state] || b.state }), el("td", { text: b.start_month }),
      el("td", {}, b.state === "active" ? el("a", { class: "btn", href: `#/proof/${b.benefit_id}/${visitId}`, text: P.print,
        "aria-label": `${P.print}:${b.program_name}` }) : ""))))) : null;
  const proxyId = el("input", { autocomplete: "off", required: true });
  const basis = el("select", {}, ...Object.entries(C.bases).map(([k, t]) => el("option", { value: k, text: t })));
  const doc = el("input", { required: true });
  const proxyMsg = el("div", { "aria-live": "polite" });
  const proxyForm = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    proxyMsg.replaceChildren();
    try {
      const proxy = await api("/api/v1/staff/residents/lookup", { method: "POST",
        body: { id_number: proxyId.value.trim(), purpose: "guardianship_grant" } });
      const grant = await api("/api/v1/staff/proxy-grants", { method: "POST", body: { resident_ref: v.resident_ref,
        proxy_ref: proxy.resident_ref, basis: basis.value, document_ref: doc.value.trim(), place: "office" } });
      proxyMsg.replaceChildren(note(C.proxyDone(proxy.name_masked, grant.status)));
    } catch (err) { proxyMsg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { text: C.proxy }), el("p", { text: C.proxyHint }), field("p-id", C.proxyId, proxyId),
  field("p-basis", C.basis, basis), field("p-doc", C.documentRef, doc), proxyMsg,
  el("button", { class: "btn", type: "submit", text: C.proxySubmit }));
  show("visit", el("h1", { text: C.title }), el("div", { class: "card" },
    el("p", { text: C.who(v.name_masked, v.id_number_masked, v.birth_year) })), table, held, decisions, applyButton, consentArea, msg, proxyForm,
  el("p", { class: "actions" }, onReceipt ? el("a", { class: "btn primary", href: `#/receipt/${visitId}`, text: C.receipt }) : null,
    el("a", { class: "btn quiet", href: "#/counter", text: S.receipt.back })));
}

async function receiptScreen(visitId) {
  const R = S.receipt;
  const r = await api(`/api/v1/staff/counter/visits/${visitId}/receipt`);
  const qr = el("img", { alt: R.qrAlt, width: "160", height: "160", class: "qr" });
  try {
    const res = await fetch("/m/qr", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: `${location.origin}/m/` }) });
    if (res.ok) qr.src = URL.createObjectURL(await res.blob());
  } catch { /* the receipt prints without the code */ }
  const rows = r.cases.map((c) => el("tr", {}, el("td", { text: `${c.program_name} ${c.application_id}` }),
    el("td", { text: R.steps[c.step] || R.steps[c.state] || c.step }), el("td", { text: c.due_on || "—" }),
    el("td", { text: c.phone || "12345" })));
  // the appeals (复核) filed at this visit: the number, who looks again, the working-day limit
  rows.push(...r.appeals.map((a) => el("tr", {}, el("td", { text: R.appealNo(a.program_name, a.appeal_id) }),
    el("td", { text: R.steps[a.step] || a.step }), el("td", { text: a.due_on }), el("td", { text: a.phone || "12345" }))));
  show("receipt", el("article", { class: "letter receipt" }, el("h1", { text: R.title }),
    el("p", { text: R.visit(r.visited_on, r.office) }),
    el("p", { class: "office-phone", text: r.office_phone ? R.officePhone(r.office, r.office_phone) : R.noOfficePhone(r.office) }),
    r.office_address ? el("p", { text: R.officeAddress(r.office_address) }) : null,
    el("p", { text: R.id(r.id_number_masked) }),
    el("table", {}, el("thead", {}, el("tr", {}, ...[R.caseNo, R.step, R.due, R.phone].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)),
    r.appeals.length ? el("p", { text: R.remedies }) : null, el("p", { text: R.hotline }), el("figure", {}, qr, el("figcaption", { text: R.qr })),
    el("p", { class: "actions" }, el("button", { class: "btn primary", type: "button", text: R.print, onclick: () => window.print() }),
      el("a", { class: "btn quiet", href: `#/counter/${visitId}`, text: R.back }))));
}

// A proof of a benefit to print at the counter (电子证照互认, docs/proof.md): each opening issues a new code,
// valid 31 days, audited and shown in her feed; any counter checks it at /verify, offline with the trust list.
async function proofScreen(benefitId, visitId) {
  const P = S.proof;
  const p = await api(`/api/v1/staff/benefits/${benefitId}/proof`, { method: "POST" });
  const qr = el("img", { alt: P.qrAlt, width: "240", height: "240", class: "qr", src: `data:image/png;base64,${p.qr_png}` });
  show("proof", el("article", { class: "letter receipt proof", "data-code": p.code }, el("h1", { text: P.title }),
    el("p", { text: P.who(p.name_masked, p.id_last4) }), el("p", { text: P.what(p.program_name, p.tier) }),
    el("p", { text: P.valid(p.issued_at.slice(0, 10), p.expires_at.slice(0, 10)) }),
    el("figure", {}, qr, el("figcaption", { text: P.check(`${location.origin}/verify`) })),
    el("p", { class: "small", text: P.notLicence }),
    el("p", { class: "actions" }, el("button", { class: "btn primary", type: "button", text: S.receipt.print, onclick: () => window.print() }),
      visitId ? el("a", { class: "btn quiet", href: `#/counter/${visitId}`, text: S.receipt.back }) : null)));
}

// ---- supervision (监督制约) ---------------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function medianChart(rows) {
  const U = S.sup;
  const max = Math.max(1, ...rows.map((r) => r.median_working_days));
  const barH = 28; const left = 140; const width = 640;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * (barH + 10) + 10}`, role: "img", "aria-labelledby": "median-title",
    class: "chart" });
  // one text alternative for the whole picture: the label and every bar in words
  chart.append(svg("title", { id: "median-title" }, `${U.chartLabel}:${rows.map((r) =>
    U.bar(stepName(r.step), r.median_working_days, r.cases)).join(";")}`));
  rows.forEach((r, i) => {
    const y = 10 + i * (barH + 10); const w = Math.max(2, (width - left - 60) * r.median_working_days / max);
    const name = stepName(r.step);
    const g = svg("g", { "aria-hidden": "true" });
    g.append(svg("text", { x: left - 8, y: y + barH / 2 + 5, "text-anchor": "end" }, name),
      svg("rect", { x: left, y, width: w, height: barH, fill: "#0b5394" }),
      svg("text", { x: left + w + 6, y: y + barH / 2 + 5 }, String(r.median_working_days)));
    chart.append(g);
  });
  return chart;
}

async function supervisionScreen() {
  const U = S.sup;
  const d = await api("/api/v1/staff/supervision");
  const msg = el("div", { "aria-live": "polite" });
  const staffOptions = (withPool) => [...(withPool ? [el("option", { value: "", text: U.pool })] : []),
    ...d.staff.map((s) => el("option", { value: s.id, text: `${s.name}(${S.roles[s.role] || s.role})` }))];
  const sc = U.stepCols;
  const perStep = el("table", {}, el("caption", { text: U.perStep }),
    el("thead", {}, el("tr", {}, ...Object.values(sc).map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, d.per_step.map((r) => el("tr", {}, el("td", { text: r.office }), el("td", { text: stepName(r.step) }),
      ...["on_track", "at_risk", "overdue", "none"].map((k) => el("td", {}, r[k] ? el("span", { class: `badge ${k}`, text: String(r[k]) }) : "0"))))));
  const oc = U.overdueCols;
  const overdue = d.overdue.length ? el("table", {}, el("caption", { text: U.overdue }),
    el("thead", {}, el("tr", {}, ...Object.values(oc).map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, d.overdue.map((o, i) => {
      const to = el("select", { id: `to-${i}`, "aria-label": U.to }, ...staffOptions(true));
      const reason = el("input", { id: `reason-${i}`, "aria-label": U.reason, required: true, minlength: "2" });
      const here = el("div", { "aria-live": "polite" });
      return el("tr", { "data-task": o.task_id }, el("td", { text: o.task_id.slice(0, 8) }), el("td", { text: stepName(o.kind) }),
        el("td", { text: o.office }), el("td", { text: o.due_on }), el("td", {}, el("span", { class: "badge overdue", text: String(o.working_days_overdue) })),
        el("td", { class: "who", text: o.responsible || U.pool }),
        el("td", {}, el("form", { class: "inline", onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api(`/api/v1/staff/tasks/${o.task_id}/reassign`, { method: "POST", body: { staff_id: to.value || null, reason: reason.value.trim() } });
            await route(); main.prepend(note(U.reassigned));
          } catch (err) { here.replaceChildren(note(err.message, "error")); }  // beside the row it is about
        } }, to, reason, el("button", { class: "btn", type: "submit", text: U.reassign })), here));
    }))) : note(U.noneOverdue);
  const ac = U.actCols;
  const activity = d.activity.length ? el("table", {}, el("caption", { text: U.activity }),
    el("thead", {}, el("tr", {}, ...Object.values(ac).map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, d.activity.map((a) => el("tr", { class: a.outlier ? "outlier" : null }, el("td", { text: a.day }),
      el("td", { text: a.staff_name }), el("td", { text: S.case.purposes[a.purpose] || a.purpose }), el("td", { text: a.kind }),
      el("td", { text: String(a.count) }), el("td", {}, a.outlier ? el("span", { class: "badge overdue", text: U.outlier }) : "")))))
    : note(U.activityNone);
  const from = el("select", { required: true }, ...staffOptions(false));
  const to = el("select", {}, ...staffOptions(true));
  const reason = el("input", { required: true, minlength: "2" });
  const bulkMsg = el("div", { "aria-live": "polite" });
  const bulk = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const res = await api("/api/v1/staff/supervision/bulk-reassign", { method: "POST",
        body: { from_staff_id: from.value, to_staff_id: to.value || null, reason: reason.value.trim() } });
      await route();
      // what was not moved, and why, in words (S.inbox.refusals, else the API's reason)
      const why = res.results.filter((r) => !r.ok).map((r) => S.inbox.refusals[r.error_code] || S.err.codes[r.error_code]
        || r.message);
      main.prepend(note(U.bulkDone(res.done, res.refused) + (why.length ? " " + [...new Set(why)].join(";") : "")));
    } catch (err) { bulkMsg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { text: U.bulk }), field("bulk-from", U.from, from), field("bulk-to", U.to, to),
  field("bulk-reason", U.reason, reason), bulkMsg, el("button", { class: "btn primary", type: "submit", text: U.reassign }));
  const roll = d.roll;
  show("supervision", el("h1", { text: U.title }), msg, el("div", { class: "card" },
    el("p", { text: U.facts(d.today, d.trips_this_month) }),
    el("p", { text: U.audit((d.audit.last_verified_at || "").slice(0, 16).replace("T", " "), d.audit.last_verify_ok) }),
    el("p", { text: U.anchor(d.audit.last_anchor_at) }),
    el("p", { text: U.roll(roll.month, S.roll.states[roll.state] || roll.state, S.roll.signoffs[roll.signoff] || roll.signoff) })),
  overdue, bulk, perStep, el("h2", { text: U.median }), d.median_days.length ? medianChart(d.median_days) : note(U.medianNone),
  activity, appealTable(d.appeals || [], U),
  section(S.letters.supTitle, d.letters_overdue.length ? letterTable(d.letters_overdue, { el }) : el("p", { text: S.letters.none })));
}

function appealTable(rows, U) {
  if (!rows.length) return section(U.appeals, el("p", { text: U.appealsNone }));
  const cols = Object.keys(U.appealCols);
  return section(U.appeals, el("table", {}, el("caption", { text: U.appeals }),
    el("thead", {}, el("tr", {}, ...cols.map((k) => el("th", { scope: "col", text: U.appealCols[k] })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...cols.map((k) => el("td", { text: String(r[k]) })))))));
}

// ---- routing ------------------------------------------------------------------------------------------------

// One screen at a time: a route waits for the one before it to draw, so a slow earlier screen (the pool
// re-drawn after a claim) can never paint over a later one (the worker has already opened "mine").
let routing = Promise.resolve();
function route() {
  routing = routing.then(drawRoute, drawRoute);
  return routing;
}

async function drawRoute() {
  main.setAttribute("aria-busy", "true");
  const hash = location.hash || "#/inbox";
  try {
    if (!store.get()) { me = null; header(); return loginScreen(); }
    if (!me) me = await api("/api/v1/staff/me");
    header();
    if (me.must_change_password || hash.startsWith("#/password")) return passwordScreen();
    const inbox = { api, apiPaged, el, field, note, show, go, route, main, programs };
    if (hash.startsWith("#/mine")) return await inboxScreen("mine", inbox);
    if (hash.startsWith("#/case/")) return await caseScreen(hash.slice(7));
    const helpers = { api, el, field, note, show, section, go, route, main };
    if (hash.startsWith("#/letter/")) return await letterScreen(hash.slice(9), helpers);
    if (hash.startsWith("#/stop-letter/")) return await stopLetterScreen(hash.slice(14), helpers);
    if (hash.startsWith("#/letters")) return await lettersScreen(helpers);
    if (hash.startsWith("#/appeal/")) return await appealScreen(hash.slice(9));
    if (hash.startsWith("#/visit/")) {
      return await homeVisitScreen(hash.slice(8), { api, el, field, note, show, section, token: () => (store.get() || {}).access });
    }
    if (hash.startsWith("#/notices/print")) return await sheetScreen(helpers);
    if (hash.startsWith("#/notices")) return await noticesScreen(helpers);
    if (hash.startsWith("#/objection/")) return await objectionScreen(hash.slice(12), helpers);
    if (hash.startsWith("#/accounts")) return await accountsScreen();
    if (hash.startsWith("#/params")) return await paramsScreen(helpers, me);
    if (hash.startsWith("#/approvals")) return await approvalsScreen(helpers, me, programs);
    if (hash.startsWith("#/exchange")) return await exchangeScreen(helpers);
    if (hash.startsWith("#/roll")) return await rollScreen();
    if (hash.startsWith("#/search")) return searchScreen();
    if (hash.startsWith("#/counter/")) return await visitScreen(hash.slice(10));
    if (hash.startsWith("#/counter")) return counterScreen();
    if (hash.startsWith("#/receipt/")) return await receiptScreen(hash.slice(10));
    if (hash.startsWith("#/proof/")) return await proofScreen(...hash.slice(8).split("/"));
    if (hash.startsWith("#/supervision")) return await supervisionScreen();
    return await inboxScreen("pool", inbox);
  } catch (err) {
    if (err.status === 401) { store.clear(); me = null; header(); return loginScreen(); }
    show("error", note(err.message, "error"));
  }
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await api("/api/v1/staff/auth/logout", { method: "POST" }); } catch { /* signed out anyway */ }
  store.clear(); me = null; go("#/login");
});
window.addEventListener("hashchange", route);
route();
