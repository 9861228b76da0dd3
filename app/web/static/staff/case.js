// The case page's parts said in words (issue 12 item 4): the economic-check report per member, a timeline entry,
// the form that extends the case's time limit. Every word from strings.js.
import { S } from "./strings.js";

// One member's economic-check report in words: each income and asset kind with its amount and its sources.
export function economicReport(r, el) {
  const E = S.case.econ;
  const line = (i) => el("li", { text: (i.quantity !== null && i.quantity !== undefined
    ? E.count(i, E.units[i.kind] || E.unitOther) : E.amount(i)) + (i.sources && i.sources.length ? E.sources(i.sources) : "") });
  // a report stored before items were kept: the figures by name, the member's sources together
  const items = r.items || [
    ...Object.entries(r.income || {}).map(([name, amount]) => ({ group: "income", name, amount: String(amount) })),
    ...Object.entries(r.assets || {}).map(([name, v]) => ({ group: "asset", name, amount: String(v) }))];
  const incomes = items.filter((i) => i.group === "income");
  const assets = items.filter((i) => i.group === "asset");
  return el("div", { class: "econ" }, el("h3", { text: E.member(r) }),
    !items.length ? el("p", { text: E.none }) : null,
    items.length ? el("p", { class: "muted", text: E.window(r.months) }) : null,
    items.length ? el("p", { text: `${E.income}:` }) : null,
    items.length ? (incomes.length ? el("ul", {}, incomes.map(line)) : el("p", { text: E.noIncome })) : null,
    items.length ? el("p", { text: `${E.assets}:` }) : null,
    items.length ? (assets.length ? el("ul", {}, assets.map(line)) : el("p", { text: E.noAssets })) : null,
    !r.items && r.sources && r.sources.length ? el("p", { class: "muted", text: E.sourceText(r.sources.join(";")) }) : null);
}

// Actions audited with the case's state that do not move it (the state is not news in their line).
const KEEPS_STATE = new Set(["staff.case_extend", "staff.case_view", "staff.resident_reveal", "staff.decision_letter"]);

// One timeline entry in words: when, who (staff by name and role, 本人, 代办人 masked), what, on whose behalf, why.
export function timelineEntry(e) {
  const C = S.case;
  const actor = C.actors[e.actor_kind] || C.actors.system;
  const who = actor(e.actor_name, S.roles[e.actor_role]);
  const what = C.actions[e.action] || C.actionOther;
  // a decision's outcome (同意 / 不同意), or the step the case moved to
  const moved = S.states[e.result] && !KEEPS_STATE.has(e.action);
  const result = C.results[e.result] ? `(${C.results[e.result]})` : moved ? C.movedTo(S.states[e.result]) : "";
  return C.event(e, who, what, result, C.purposes[e.purpose] || null);
}

// Extending the case's time limit once, with a reason (the API offers it in the case's actions).
export function extendForm(path, { api, el, field, note, route, main }) {
  const X = S.case.extend;
  const reason = el("textarea", { rows: "2", required: true, minlength: "4", maxlength: "200" });
  const msg = el("div", { "aria-live": "polite" });
  return el("form", { class: "card", id: "extend", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    if (reason.value.trim().length < 4) { msg.replaceChildren(note(X.short, "error")); return; }
    try {
      await api(`${path}/extend`, { method: "POST", body: { reason: reason.value.trim() } });
      await route();
      main.prepend(note(X.done));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { text: X.title }), el("p", { text: X.hint }), field("extend-reason", X.reason, reason), msg,
  el("button", { class: "btn", type: "submit", text: X.submit }));
}

// The re-checks of the benefit this case granted, after new income data (动态管理): the proposal (the new amount
// or the stop) and its grounds in words; an open one answered here with a reason — confirmed (a different person
// approves it on the approvals screen before it applies) or dismissed (the payment stays).
export function recheckSection(rechecks, { api, el, field, note, route, main }) {
  if (!rechecks || !rechecks.length) return null;
  const R = S.case.recheck;
  const stateOf = (r) => r.state === "open" ? R.states.open : r.decision === "dismiss" ? R.states.dismiss
    : r.decision === "confirm" ? R.states[r.approval_state] || R.states.pending : R.states[r.state] || R.states.closed;
  const item = (r, i) => {
    const facts = [el("p", { class: "proposal", text: r.text || R.noText }),
      r.reasons.length ? el("p", { text: R.why }) : null,
      r.reasons.length ? el("ul", {}, r.reasons.map((x) => el("li", { text: x }))) : null,
      el("p", {}, el("span", { class: `badge ${r.state === "open" ? "at_risk" : "none"}`, text: stateOf(r) }))];
    if (r.state !== "open") return el("div", { class: "recheck" }, ...facts);
    const reason = el("textarea", { rows: "2", required: true, minlength: "2", maxlength: "500" });
    const msg = el("div", { "aria-live": "polite" });
    const answer = (outcome) => async () => {
      msg.replaceChildren();
      if (reason.value.trim().length < 2) { msg.replaceChildren(note(R.short, "error")); return; }
      try {
        await api(`/api/v1/staff/tasks/${encodeURIComponent(r.task_id)}/recheck`, { method: "POST",
          body: { outcome, reason: reason.value.trim() } });
        await route();
        main.prepend(note(outcome === "confirm" ? R.confirmed : R.dismissed));
      } catch (err) { msg.replaceChildren(note(R.codes[err.code] || err.message, "error")); }
    };
    return el("form", { class: "recheck", id: `recheck-${i}`, novalidate: true, onsubmit: (e) => e.preventDefault() },
      ...facts, field(`recheck-reason-${i}`, R.reason, reason), msg,
      el("p", { class: "actions" },
        el("button", { class: "btn primary", type: "button", text: R.confirm, onclick: answer("confirm") }),
        el("button", { class: "btn danger", type: "button", text: R.dismiss, onclick: answer("dismiss") })));
  };
  return el("section", { class: "card", id: "rechecks", "aria-labelledby": "rechecks-h" },
    el("h2", { id: "rechecks-h", text: R.title }),
    rechecks.some((r) => r.state === "open") ? el("p", { class: "muted", text: R.hint }) : null,
    ...rechecks.map(item));
}
