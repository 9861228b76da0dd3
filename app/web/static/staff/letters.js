// Decisions in writing (决定书) and their delivery (送达): the printable decision and stop letters, recording a
// letter as handed over / posted / left, and the letters waiting to be sent (flows.letters). No innerHTML.
import { S } from "./strings.js";

function deliveryText(l) {
  const L = S.letter;
  if (!l.delivery) return l.overdue ? L.overdue(l.send_by) : L.notSent(l.send_by);
  return L.sent(L.methods[l.delivery.method] || l.delivery.method, l.delivery.delivered_on, l.delivery.note);
}

// The delivery of a letter in a line, with its badge (the case page and the letter's screen).
export function deliveryLine(l, { el }) {
  const badge = l.sent ? "on_track" : l.overdue ? "overdue" : "at_risk";
  return el("p", { class: "screen-only delivery" }, el("span", { class: `badge ${badge}`,
    text: l.sent ? S.letter.badgeSent : l.overdue ? S.badge.overdue : S.letter.badgeUnsent }), " ",
  el("span", { text: deliveryText(l) }));
}

function sentForm(l, { api, el, field, note, route }) {
  const L = S.letter;
  const msg = el("div", { "aria-live": "polite" });
  const method = el("select", {}, ...Object.entries(L.methods).filter(([k]) => k !== "electronic")
    .map(([k, v]) => el("option", { value: k, text: v })));
  const on = el("input", { type: "date" });  // empty: today (the server's day)
  const remark = el("input", { maxlength: "200", autocomplete: "off" });
  return el("form", { class: "card screen-only", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    const body = { method: method.value, note: remark.value.trim() };
    if (on.value) body.delivered_on = on.value;
    try {
      await api(`/api/v1/staff/letters/${encodeURIComponent(l.letter_id)}/sent`, { method: "POST", body });
      await route();
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { text: L.sentTitle }), field("sent-method", L.method, method), field("sent-on", L.sentOn, on),
  field("sent-note", L.note, remark), msg, el("button", { class: "btn primary", type: "submit", text: L.record }));
}

function draw(l, back, helpers) {
  const { el, show } = helpers;
  const L = S.letter;
  const stop = l.kind === "stop";
  const title = stop ? L.stopTitle(l.program_name, l.decision) : L.title(l.program_name);
  const to = stop && l.decision_code === "death" ? L.toFamily(l.applicant_name, l.id_number_masked)
    : L.to(l.applicant_name, l.id_number_masked);
  const body = [el("h1", { text: title }), el("p", { text: to })];
  if (l.decision === "approved") body.push(el("p", { text: L.approved(l.program_name) }));
  else {
    const month = l.effective_month ? L.month(l.effective_month) : "";
    const stopLead = l.decision === "suspended" ? L.suspended : l.decision_code === "death" ? L.stoppedDeath : L.stopped;
    const lead = stop ? stopLead(l.program_name, month)
      : L.rejected(l.program_name);
    body.push(el("p", { text: lead }), el("ol", {}, l.reasons.map((r) => el("li", { text: r }))));
    if (l.remedies) body.push(el("p", { class: "remedies", text: L.remedies(l.remedies) }));
  }
  body.push(el("p", { text: L.date(l.decided_on) }), el("p", { class: "screen-only", text: L.sendBy(l.send_by) }),
    deliveryLine(l, helpers),
    el("p", { class: "actions" }, el("button", { class: "btn primary", type: "button", text: L.print,
      onclick: () => window.print() }), el("a", { class: "btn quiet", href: back, text: L.back })));
  show(stop ? "stop-letter" : "letter", el("article", { class: "letter" }, ...body),
    l.sent ? null : sentForm(l, helpers));
}

export async function letterScreen(id, helpers) {
  const l = await helpers.api(`/api/v1/staff/applications/${encodeURIComponent(id)}/decision-letter`);
  draw(l, `#/case/${id}`, helpers);
}

export async function stopLetterScreen(id, helpers) {
  const l = await helpers.api(`/api/v1/staff/stops/${encodeURIComponent(id)}/letter`);
  draw(l, l.application_id ? `#/case/${l.application_id}` : "#/letters", helpers);
}

export function letterHref(kind, id) {
  return kind === "stop" ? `#/stop-letter/${id}` : `#/letter/${id}`;
}

// Rejections and stops of my jurisdiction not yet sent, oldest first; overdue ones flagged.
export function letterTable(rows, { el }) {
  const L = S.letters;
  const c = L.cols;
  return el("table", {}, el("caption", { text: L.caption }),
    el("thead", {}, el("tr", {}, ...[c.resident, c.program, c.decision, c.decided, c.sendBy, c.state, c.action]
      .map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-letter": r.letter_id },
      el("td", { text: r.resident_name_masked }), el("td", { text: r.program_name }),
      el("td", { text: L.decisions[r.decision] || r.decision }), el("td", { text: r.decided_on }),
      el("td", { text: r.send_by }),
      el("td", {}, el("span", { class: `badge ${r.overdue ? "overdue" : "on_track"}`,
        text: r.overdue ? L.late(r.working_days_overdue) : L.inTime })),
      el("td", {}, el("a", { class: "btn", href: letterHref(r.kind, r.letter_id), text: L.open }))))));
}

export async function lettersScreen(helpers) {
  const { api, el, show, note } = helpers;
  const L = S.letters;
  const overdueOnly = location.hash.includes("overdue=1");
  const rows = await api(`/api/v1/staff/letters${overdueOnly ? "?overdue=true" : ""}`);
  const late = rows.filter((r) => r.overdue).length;
  show("letters", el("h1", { text: L.title }), el("p", { text: L.lead }),
    el("p", { class: "counts", text: L.counts(rows.length, late) }),
    el("p", {}, el("a", { class: "btn quiet", href: overdueOnly ? "#/letters" : "#/letters?overdue=1",
      text: overdueOnly ? L.all : L.onlyOverdue })),
    rows.length ? letterTable(rows, helpers) : note(L.none));
}
