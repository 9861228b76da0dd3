// The admin's parameter screen (issue 12 item 9): what each program lets an admin change (GET /api/v1/programs:
// `parameters`), a proposal (POST /api/v1/staff/params), and the approvals waiting for a second admin (approve:
// someone else; withdraw: the maker). Plain DOM, words from strings.js.
import { S } from "./strings.js";

const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;

function nextMonth() {
  const d = new Date();
  const m = new Date(d.getFullYear(), d.getMonth() + 1, 1);
  return `${m.getFullYear()}-${String(m.getMonth() + 1).padStart(2, "0")}`;
}

export async function paramsScreen(ui, me) {
  const { api, el, field, note, show, route, main } = ui;
  const P = S.params;
  const [programs, pending, all] = await Promise.all([api("/api/v1/programs"),
    api("/api/v1/staff/approvals?state=pending&kind=parameter_change&page_size=200"),
    api("/api/v1/staff/approvals?state=all&kind=parameter_change&page_size=200")]);
  const names = new Map(programs.map((p) => [p.code, p.name]));
  const settable = programs.filter((p) => p.parameters.length);
  const msg = el("div", { "aria-live": "polite" });
  const program = el("select", { required: true }, ...settable.map((p) => el("option", { value: p.code, text: p.name })));
  const key = el("select", { required: true });
  const range = el("p", { class: "hint", id: "param-range" });
  const value = el("input", { required: true, inputmode: "decimal", autocomplete: "off", maxlength: "20",
    "aria-describedby": "param-range" });
  const from = el("input", { required: true, value: nextMonth(), inputmode: "numeric", maxlength: "7", placeholder: "YYYY-MM" });
  const specOf = () => (settable.find((p) => p.code === program.value) || { parameters: [] }).parameters
    .find((s) => s.key === key.value);
  const fillKeys = () => {
    const p = settable.find((x) => x.code === program.value);
    key.replaceChildren(...(p ? p.parameters : []).map((s) => el("option", { value: s.key, text: s.text })));
    showRange();
  };
  const showRange = () => {
    const s = specOf();
    range.textContent = !s ? "" : s.kind === "yuan" ? P.rangeYuan(yuan(s.minimum), yuan(s.maximum))
      : P.rangeInt(s.minimum, s.maximum);
  };
  program.addEventListener("change", fillKeys);
  key.addEventListener("change", showRange);
  fillKeys();
  const form = el("form", { class: "card", "aria-labelledby": "param-h", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      await api("/api/v1/staff/params", { method: "POST", body: { program: program.value, key: key.value,
        value: value.value.trim(), from: from.value.trim() } });
      await route();
      main.prepend(note(P.proposed));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { id: "param-h", text: P.propose }), el("p", { text: P.proposeHint }),
  field("param-program", P.program, program), field("param-key", P.key, key), range,
  field("param-value", P.value, value), field("param-from", P.from, from), msg,
  el("button", { class: "btn primary", type: "submit", text: P.submit }));

  const describe = (a) => {
    const p = a.payload || {};
    const spec = ((programs.find((x) => x.code === p.program) || {}).parameters || []).find((x) => x.key === p.key);
    return P.change(names.get(p.program) || p.program, spec ? spec.text : p.key, p.raw ?? String(p.value), p.from);
  };
  const act = (a, path, done) => async () => {
    msg.replaceChildren();
    try {
      await api(`/api/v1/staff/approvals/${a.id}/${path}`, { method: "POST", body: {} });
      await route();
      main.prepend(note(done));
    } catch (err) {
      msg.replaceChildren(note(err.code === "self_approval" ? P.selfApproval : err.message, "error"));
      main.prepend(msg);
    }
  };
  const mine = (a) => a.maker === `staff:${me.id}`;
  const rows = pending.map((a) => el("tr", {}, el("td", { text: describe(a) }),
    el("td", { text: mine(a) ? P.byMe : P.byOther }), el("td", { text: a.created_at.slice(0, 10) }),
    el("td", {}, el("button", { class: "btn", type: "button", text: P.approve, onclick: act(a, "approve", P.approved) }),
      mine(a) ? el("button", { class: "btn quiet", type: "button", text: P.withdraw, onclick: act(a, "withdraw", P.withdrawn) }) : "")));
  const waiting = el("section", { class: "card", "aria-labelledby": "pending-h" }, el("h2", { id: "pending-h", text: P.pending }),
    pending.length ? el("table", {}, el("caption", { text: P.pendingCaption }),
      el("thead", {}, el("tr", {}, ...P.cols.map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, ...rows))
      : el("p", { text: P.nonePending }));
  const history = el("section", { class: "card", "aria-labelledby": "history-h" }, el("h2", { id: "history-h", text: P.history }),
    el("ul", {}, ...all.filter((a) => a.state !== "pending").slice(0, 20)
      .map((a) => el("li", { text: `${describe(a)}:${P.states[a.state] || a.state}` }))));
  show("params", el("h1", { text: P.title }), el("p", { text: P.lead }), waiting, form, history);
}
