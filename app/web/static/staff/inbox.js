// The inbox (issue 12 item 3): my pool or my tasks, filtered by step, program, community, the case's state and
// overdue; days waiting, the step's and the whole case's deadline badges; bulk claim and bulk review with a
// result per item (refusals with their reason in words, nothing skipped silently). Plain DOM, words from strings.js.
import { S } from "./strings.js";

const I = S.inbox;
const BULK_MAX = 50;  // the API's limit per bulk request

let ui = null;  // the workbench's helpers (api, el, field, note, show, go, route, main, programs), given by staff.js

function wanted(params, names, communities) {
  const f = {};
  if (S.kinds[params.get("kind")]) f.kind = params.get("kind");
  if (names[params.get("program")]) f.program = params.get("program");
  if (/^[0-9]{12}$/.test(params.get("community") || "")) f.community = params.get("community");
  if (S.states[params.get("state")]) f.state = params.get("state");
  if (params.get("overdue")) f.overdue = "true";
  if (f.community && !communities.has(f.community)) communities.set(f.community, f.community);
  return f;
}

function select(id, label, any, choices, value) {
  const { el, field } = ui;
  return field(id, label, el("select", {}, el("option", { value: "", text: any }),
    ...choices.map(([k, v]) => el("option", { value: k, text: v, selected: value === k }))));
}

function filterForm(scope, f, names, communities) {
  const { el, go } = ui;
  const kind = select("f-kind", I.kind, I.anyKind, Object.entries(S.kinds), f.kind);
  const program = select("f-program", I.program, I.anyProgram, Object.entries(names), f.program);
  const community = select("f-community", I.community, I.anyCommunity, [...communities.entries()], f.community);
  const state = select("f-state", I.state, I.anyState, Object.entries(S.states), f.state);
  const overdue = el("input", { type: "checkbox", id: "overdue", checked: Boolean(f.overdue) });
  const value = (p) => p.querySelector("select").value;
  return el("form", { class: "filters", "aria-label": I.filters, onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [key, p] of [["kind", kind], ["program", program], ["community", community], ["state", state]]) {
      if (value(p)) q.set(key, value(p));
    }
    if (overdue.checked) q.set("overdue", "1");
    go(`#/${scope === "mine" ? "mine" : "inbox"}${q.toString() ? "?" + q : ""}`);
  } }, kind, program, community, state,
  el("p", { class: "field inline" }, overdue, el("label", { for: "overdue", text: I.overdueOnly })),
  el("button", { class: "btn", type: "submit", text: I.apply }));
}

function label(t) {
  return I.item(t.resident_name_masked || "—", S.kinds[t.kind] || t.kind);
}

function refusal(r) {
  const words = I.refusals[r.error_code] || S.err.codes[r.error_code] || S.err[r.status] || S.err.other;
  return r.detail ? I.because(words, r.detail) : words;
}

// One result per item, in the order picked: done, or refused with its reason.
function results(title, summary, items) {
  const { el } = ui;
  return el("section", { class: "card results", role: "status", "aria-label": title },
    el("h2", { text: title }), el("p", { text: summary }),
    el("ul", {}, ...items.map((i) => el("li", { class: i.ok ? "ok" : "refused" },
      el("span", { class: `badge ${i.ok ? "on_track" : "overdue"}`, text: i.ok ? I.ok : I.refused }), " ",
      el("span", { text: i.ok ? i.label : I.refusedItem(i.label, i.text) })))));
}

async function bulkClaim(picked) {
  const out = await ui.api("/api/v1/staff/bulk-claim", { method: "POST", body: { ids: picked.map((t) => t.id) } });
  const byId = new Map(out.results.map((r) => [r.id, r]));
  return results(I.claimResults, I.bulkResult(out.done, out.refused), picked.map((t) => {
    const r = byId.get(t.id) || { ok: false, status: 0 };
    return { ok: r.ok, label: label(t), text: r.ok ? "" : refusal(r) };
  }));
}

async function bulkReview(picked) {
  // Only review tasks of a case can complete a review; any other pick is refused here, in words, not dropped.
  const reviews = picked.filter((t) => t.kind === "review" && t.application_id);
  const ids = [...new Set(reviews.map((t) => t.application_id))];
  const out = ids.length ? await ui.api("/api/v1/staff/bulk-review", { method: "POST", body: { ids } })
    : { results: [] };
  const byId = new Map(out.results.map((r) => [r.id, r]));
  const items = picked.map((t) => {
    if (!(t.kind === "review" && t.application_id)) return { ok: false, label: label(t), text: I.refusals.not_review };
    const r = byId.get(t.application_id) || { ok: false, status: 0 };
    return { ok: r.ok, label: label(t), text: r.ok ? "" : refusal(r) };
  });
  const done = items.filter((i) => i.ok).length;
  return results(I.reviewResults, I.reviewResult(done, items.length - done), items);
}

function row(t, scope, names, pick, msg) {
  const { el, api, note, route } = ui;
  const actions = [];
  const act = (path) => async () => {
    try { await api(`/api/v1/staff/tasks/${t.id}/${path}`, { method: "POST" }); route(); } catch (err) {
      msg.replaceChildren(note(err.message, "error"));
    }
  };
  if (scope !== "mine") {
    actions.push(el("button", { class: "btn", type: "button", text: I.claim, onclick: act("claim") }));
  } else {
    if (["review", "approve", "street_review", "county_approval"].includes(t.kind) && t.application_id) {
      actions.push(el("a", { class: "btn", href: `#/case/${t.application_id}`, text: S.kinds[t.kind] }));
    }
    // a benefit's re-check is answered on its case page, where the proposal and its grounds are said in words
    if (t.kind === "benefit_recheck" && t.application_id) {
      actions.push(el("a", { class: "btn", href: `#/case/${t.application_id}`, text: S.case.recheck.open }));
    }
    if (t.kind === "home_visit" && t.application_id) {
      actions.push(el("a", { class: "btn", href: `#/visit/${t.application_id}`, text: S.visit.open }));
    }
    if (t.appeal_id) actions.push(el("a", { class: "btn", href: `#/appeal/${t.appeal_id}`, text: S.appeal.open }));
    if (t.kind === "objection" && t.objection_id) {
      actions.push(el("a", { class: "btn", href: `#/objection/${t.objection_id}`, text: S.objection.open }));
    }
    actions.push(el("button", { class: "btn quiet", type: "button", text: I.release, onclick: act("release") }));
  }
  return el("tr", { "data-task": t.id },
    el("td", {}, pick), el("td", { text: `${t.resident_name_masked || "—"} ${t.resident_id_masked || ""}` }),
    el("td", {}, el("span", { text: S.kinds[t.kind] || t.kind }),
      t.text ? el("p", { class: "task-text", text: t.text }) : null),  // the task in words, where its kind says it
    el("td", { text: names[t.program] || S.program(t.program) }),
    el("td", { text: S.states[t.application_state] || t.application_state || "—" }),
    el("td", { text: I.waiting(t.waiting_working_days) }),
    el("td", {}, el("span", { class: `badge ${t.badge}`, text: S.badge[t.badge] }), " ",
      el("span", { text: I.left(t.working_days_left) }), ...chaseBadges(t, el)),
    el("td", {}, el("span", { class: `badge ${t.case_badge}`, text: S.badge[t.case_badge] }), " ",
      el("span", { text: t.case_due_on ? I.caseDue(t.case_due_on, t.case_working_days_left) : I.left(null) })),
    el("td", {}, ...actions));
}

// what the daily sweep did to an appeal task (flows.appeals.sweep): in words, with the day, on the task's row
function chaseBadges(t, el) {
  const out = [];
  if (t.reminded_on) out.push(el("span", { class: "badge at_risk chase", text: I.reminded(t.reminded_on) }));
  if (t.urged_on) out.push(el("span", { class: "badge overdue chase", text: I.urged(t.urged_on) }));
  if (t.escalated_on) out.push(el("span", { class: "badge overdue chase", text: I.escalated(t.escalated_on) }));
  return out.flatMap((b) => [" ", b]);
}

export async function inboxScreen(scope, helpers) {
  ui = helpers;
  const { api, el, note, show, route, main } = ui;
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const [names, known] = await Promise.all([ui.programs(), api("/api/v1/staff/communities").catch(() => [])]);
  const communities = new Map(known.map((c) => [c.code, c.name]));
  const f = wanted(params, names, communities);
  const page = /^[1-9][0-9]{0,4}$/.test(params.get("page") || "") ? params.get("page") : "1";
  const query = new URLSearchParams({ scope, page_size: String(BULK_MAX), page, ...f });
  const [counts, listed] = await Promise.all([api("/api/v1/staff/inbox/counts"),
    ui.apiPaged(`/api/v1/staff/inbox?${query}`)]);
  const tasks = listed.data;
  for (const t of tasks) if (t.community_code && !communities.has(t.community_code)) communities.set(t.community_code, t.community_code);
  const msg = el("div", { "aria-live": "polite" });
  const picks = tasks.map((t) => el("input", { type: "checkbox", value: t.id, "aria-label": I.select(label(t)) }));
  const all = el("input", { type: "checkbox", "aria-label": I.selectAll, onchange: () => {
    for (const p of picks) p.checked = all.checked;
  } });
  const rows = tasks.map((t, i) => row(t, scope, names, picks[i], msg));
  const c = I.cols;
  const table = tasks.length ? el("table", {}, el("caption", { text: I.caption }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, all),
      ...[c.resident, c.kind, c.program, c.state, c.waiting, c.deadline, c.caseDeadline, c.action]
        .map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows)) : el("p", { text: I.empty });
  const bulk = (text, run) => el("button", { class: "btn primary", type: "button", text, onclick: async () => {
    const picked = tasks.filter((t, i) => picks[i].checked);
    if (!picked.length) { msg.replaceChildren(note(I.pickFirst, "error")); return; }
    if (picked.length > BULK_MAX) { msg.replaceChildren(note(I.tooMany(BULK_MAX), "error")); return; }
    try {
      const out = await run(picked);
      await route();
      main.querySelector("h1").after(out);
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } });
  const bar = tasks.length ? el("div", { class: "actions bulk" },
    scope !== "mine" ? bulk(I.bulkClaim, bulkClaim) : null,
    ...(tasks.some((t) => t.kind === "review") ? [bulk(I.bulkReview, bulkReview),  // only where reviews wait
      el("p", { class: "muted", text: I.bulkReviewHint })] : [])) : null;
  const chased = tasks.filter((t) => t.reminded_on || t.urged_on).length;
  show(scope === "mine" ? "mine" : "inbox", el("h1", { text: scope === "mine" ? I.mineTitle : I.title }),
    el("p", { class: "counts", text: I.counts(counts) }), chased ? note(I.chased(chased), "warn") : null,
    filterForm(scope, f, names, communities), msg,
    listed.meta.total_pages > 1 ? el("p", { class: "counts", text: I.pageOf(listed.meta.page || 1,
      listed.meta.total_pages, listed.meta.total) }) : null, table, bar, pager(scope, f, listed.meta));
}

// Which page of how many, with the previous and next pages (the filters kept): a list is never cut off unsaid.
function pager(scope, f, meta) {
  const { el } = ui;
  if (!meta || !(meta.total_pages > 1)) return null;
  const to = (n) => `#/${scope === "mine" ? "mine" : "inbox"}?${new URLSearchParams({ ...f, page: String(n) })}`;
  return el("nav", { class: "pager", "aria-label": I.pages },
    meta.previous_page ? el("a", { class: "btn quiet", href: to(meta.previous_page), text: I.previous }) : null,
    el("span", { text: I.pageOf(meta.page || meta.total_pages, meta.total_pages, meta.total) }),
    meta.next_page ? el("a", { class: "btn quiet", href: to(meta.next_page), text: I.next }) : null);
}
