// 申请复核 at the counter (issue 13 item 2): her decisions that can be appealed today (the visit's `decisions`,
// flows.appeals' own checks: 60 days, none with an open appeal), each with an action that opens the form — the
// reason (the same reasons as /m/, GET /api/v1/appeals/reasons), a comment and her recorded consent (signature on
// the tablet or a photo of the signed slip, as for a confirmation). Plain DOM, words from strings.js.
import { S } from "./strings.js";

// ui: the workbench's helpers (el, field, note, apiForm, signaturePad, appendConsent, route, main) and `open`,
// which puts a form in the visit's form area.
export function decisionsTable(visitId, decisions, reasons, ui) {
  const { el } = ui;
  const A = S.counterAppeal;
  const c = A.cols;
  if (!decisions.length) return null;
  return el("table", { class: "decisions" }, el("caption", { text: A.caption }),
    el("thead", {}, el("tr", {}, ...[c.program, c.decision, c.decidedOn, c.until, c.action]
      .map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, decisions.map((d) => el("tr", {}, el("td", { text: d.program_name }),
      el("td", { text: A.decisions[d.decision] || d.decision }), el("td", { text: d.decided_on }),
      el("td", { text: d.appeal_until }),
      el("td", {}, el("button", { class: "btn", type: "button", text: A.open, "aria-label": `${A.open}:${d.program_name}`,
        onclick: () => ui.open(appealForm(visitId, d, reasons, ui)) }))))));
}

function appealForm(visitId, decision, reasons, ui) {
  const { el, field, note, apiForm, signaturePad, appendConsent, route, main } = ui;
  const A = S.counterAppeal;
  const pad = signaturePad();
  const slip = el("input", { type: "file", accept: "image/png,image/jpeg", capture: "environment" });
  const reason = el("select", { "aria-required": "true" }, el("option", { value: "", text: A.pick }),
    ...reasons.map((r) => el("option", { value: r.code, text: r.text })));
  const comment = el("textarea", { rows: "3", maxlength: "1000" });
  const msg = el("div", { "aria-live": "polite" });
  return el("form", { class: "card", "aria-labelledby": "appeal-h", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    if (!reason.value) { msg.replaceChildren(note(A.choose, "error")); return; }
    const form = new FormData();
    if (decision.application_id) form.append("application_id", decision.application_id);
    else form.append("benefit_id", decision.benefit_id);
    form.append("reason_code", reason.value);
    form.append("comment", comment.value.trim());
    await appendConsent(form, pad, slip);
    try {
      const made = await apiForm(`/api/v1/staff/counter/visits/${visitId}/appeals`, form);
      await route();
      main.prepend(note(A.done(decision.program_name, made.id, made.due_on)));
    } catch (err) { msg.replaceChildren(note(A.errors[err.code] || err.message, "error")); }
  } }, el("h2", { id: "appeal-h", text: A.title(decision.program_name) }), el("p", { text: A.hint }),
  field("ap-reason", A.reason, reason), field("ap-comment", A.comment, comment),
  el("p", { text: S.counter.consentHint }), pad.node, field("ap-slip", S.counter.slip, slip), msg,
  el("button", { class: "btn primary", type: "submit", text: A.submit }));
}
