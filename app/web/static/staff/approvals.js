// The approvals of casework waiting for a second person (maker-checker, flows/approvals.py): each kind this screen
// knows (S.approvals.kinds, e.g. a benefit's re-check a reviewer confirmed) listed in words, approved by someone
// other than its maker (POST /api/v1/staff/approvals/{id}/approve), withdrawn by the maker. Parameter changes have
// their own screen (admin.js). Plain DOM, words from strings.js.
import { S } from "./strings.js";

// Who may approve each kind, as the API decides it (flows/lifecycle/income.py: casework:approve, the approver):
// the others see the row without the button (the API refuses them anyway, in words).
const APPROVERS = { benefit_recheck: ["approver"] };

export async function approvalsScreen(ui, me, programs) {
  const { api, el, note, show, route, main } = ui;
  const A = S.approvals;
  const kinds = Object.keys(A.kinds);
  const [names, pending, all] = await Promise.all([programs(),
    Promise.all(kinds.map((k) => api(`/api/v1/staff/approvals?state=pending&kind=${k}&page_size=200`))),
    Promise.all(kinds.map((k) => api(`/api/v1/staff/approvals?state=all&kind=${k}&page_size=40`)))]);
  const msg = el("div", { "aria-live": "polite" });
  const mine = (a) => a.maker === `staff:${me.id}`;
  const what = (a) => (a.payload || {}).text || A.kinds[a.kind];
  const program = (a) => names[(a.payload || {}).program] || A.kinds[a.kind];
  const act = (a, path, done) => async () => {
    msg.replaceChildren();
    try {
      await api(`/api/v1/staff/approvals/${encodeURIComponent(a.id)}/${path}`, { method: "POST", body: {} });
      await route();
      main.prepend(note(done));
    } catch (err) {
      msg.replaceChildren(note(A.codes[err.code] || err.message, "error"));
      main.prepend(msg);
    }
  };
  const waiting = pending.flat();
  const rows = waiting.map((a) => el("tr", { "data-approval": a.id }, el("td", { text: program(a) }),
    el("td", { text: what(a) }), el("td", { text: (a.payload || {}).reason || "—" }),
    el("td", { text: mine(a) ? A.byMe : A.byOther }), el("td", { text: a.created_at.slice(0, 10) }),
    el("td", {}, mine(a) ? el("button", { class: "btn quiet", type: "button", text: A.withdraw,
      onclick: act(a, "withdraw", A.withdrawn) })
      : (APPROVERS[a.kind] || []).includes(me.role)
        ? el("button", { class: "btn primary", type: "button", text: A.approve, onclick: act(a, "approve", A.approved) })
        : el("span", { text: A.notYours }))));
  const list = el("section", { class: "card", "aria-labelledby": "approvals-h" },
    el("h2", { id: "approvals-h", text: A.pending }),
    waiting.length ? el("table", {}, el("caption", { text: A.caption }),
      el("thead", {}, el("tr", {}, ...A.cols.map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, ...rows))
      : el("p", { text: A.none }));
  const decided = all.flat().filter((a) => a.state !== "pending").slice(0, 20);
  const history = el("section", { class: "card", "aria-labelledby": "approvals-history-h" },
    el("h2", { id: "approvals-history-h", text: A.history }),
    decided.length ? el("ul", {}, ...decided.map((a) => el("li", { text: `${what(a)}:${A.states[a.state] || a.state}` })))
      : el("p", { text: A.noHistory }));
  show("approvals", el("h1", { text: A.title }), el("p", { text: A.lead }), msg, list, history);
}
