// 公示 and objections on the workbench (issue 12 item 7): the notices of my jurisdiction, one objection with its
// decision, and the printable 公示 sheet of one community. Names, amounts and periods are shown exactly as the API
// returns them (the public list's masking); nothing is masked or named here. Plain DOM, words from strings.js.
import { S } from "./strings.js";

function hashParams() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
}

function table(caption, heads, rows) {
  return ui.el("table", {}, ui.el("caption", { text: caption }),
    ui.el("thead", {}, ui.el("tr", {}, ...heads.map((h) => ui.el("th", { scope: "col", text: h })))),
    ui.el("tbody", {}, rows));
}

let ui = null;  // the workbench's helpers (api, el, field, note, show, section, go), given by staff.js

export async function noticesScreen(helpers) {
  ui = helpers;
  const { api, el, field, note, show, go } = ui;
  const N = S.notices;
  const params = hashParams();
  const query = new URLSearchParams({ page_size: "100" });
  const state = ["open", "closed"].includes(params.get("state")) ? params.get("state") : "";
  const community = /^[0-9]{12}$/.test(params.get("community") || "") ? params.get("community") : "";
  if (state) query.set("state", state);
  if (community) query.set("community", community);
  const list = await api(`/api/v1/staff/public-notices?${query}`);
  const communities = new Map(list.map((n) => [n.community_code, n.community_name || n.community_code]));
  if (community && !communities.has(community)) communities.set(community, community);
  const stateSelect = el("select", {}, ...Object.entries(N.states).map(([k, v]) =>
    el("option", { value: k, text: v, selected: k === state })));
  const communitySelect = el("select", {}, el("option", { value: "", text: N.anyCommunity }),
    ...[...communities].map(([code, name]) => el("option", { value: code, text: name, selected: code === community })));
  const filters = el("form", { class: "filters", "aria-label": N.filters, onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (stateSelect.value) q.set("state", stateSelect.value);
    if (communitySelect.value) q.set("community", communitySelect.value);
    go(`#/notices${q.toString() ? "?" + q : ""}`);
  } }, field("notice-state", N.state, stateSelect), field("notice-community", N.community, communitySelect),
  el("button", { class: "btn", type: "submit", text: N.apply }));
  const c = N.cols;
  const rows = list.map((n) => el("tr", { "data-notice": n.id },
    el("td", { text: n.name }), el("td", { text: n.community_name || n.community_code }),
    el("td", { text: n.program_name }), el("td", { text: n.monthly_amount }),
    el("td", { text: N.period(n.starts_on, n.ends_on) }),
    el("td", {}, el("span", { class: `badge ${n.state === "open" ? "on_track" : "none"}`, text: N.stateNames[n.state] || n.state })),
    el("td", {}, el("p", { text: N.objections(n.objection_count, n.open_objections) }),
      ...n.objections.map((o, i) => el("p", {}, el("a", { href: `#/objection/${o.id}`,
        text: N.objectionLink(i + 1, N.objectionStates[o.state] || o.state, n.name) })))),
    el("td", {}, el("a", { href: `#/case/${n.application_id}`, text: N.caseLink(n.name) }))));
  // one printable sheet per community with a notice open now
  const open = [...new Map(list.filter((n) => n.state === "open").map((n) =>
    [n.community_code, n.community_name || n.community_code]))];
  const prints = open.length ? el("section", { class: "card" }, el("h2", { text: N.printTitle }),
    el("p", { class: "actions" }, ...open.map(([code, name]) =>
      el("a", { class: "btn", href: `#/notices/print?community=${code}`, text: N.print(name) })))) : null;
  show("notices", el("h1", { text: N.title }), el("p", { class: "muted", text: N.hint }), filters,
    list.length ? table(N.caption(list.length), [c.name, c.community, c.program, c.amount, c.period, c.state,
      c.objections, c.action], rows) : note(N.empty), prints);
}

export async function objectionScreen(id, helpers) {
  ui = helpers;
  const { api, el, field, note, show, section, route, main } = ui;
  const O = S.objection;
  const path = `/api/v1/staff/objections/${encodeURIComponent(id)}`;
  const o = await api(path);
  const n = o.notice;
  const msg = el("div", { "aria-live": "polite" });
  const stateText = S.notices.objectionStates[o.state] || o.state;
  const content = section(O.content, el("blockquote", { class: "objection-text", text: o.text }),
    el("p", { text: O.received((o.created_at || "").slice(0, 16).replace("T", " ")) }),
    el("p", { text: O.state(stateText) }), el("p", { class: "note", text: O.privacy }));
  const notice = section(O.notice, el("p", { text: O.noticeFacts(n) }),
    el("p", { text: O.noticePeriod(n, S.notices.stateNames[n.state] || n.state) }),
    o.other_open_objections ? el("p", { text: O.others(o.other_open_objections) }) : null,
    o.task_state ? el("p", { text: O.task(o.task_state) }) : null,
    el("p", { class: "actions" }, el("a", { class: "btn", href: `#/case/${o.application_id}`, text: O.case }),
      el("a", { class: "btn quiet", href: "#/notices", text: S.sheet.back })));
  let form = null;
  if (o.state === "open") {
    const explain = el("p", { class: "note", id: "decision-explained", "aria-live": "polite" });
    const decision = el("select", { "aria-describedby": "decision-explained" },
      ...Object.entries(O.decisions).map(([k, v]) => el("option", { value: k, text: v })));
    const say = () => { explain.textContent = decision.value === "dismissed" ? O.explain.dismissed(o.notice_days) : O.explain.upheld; };
    decision.addEventListener("change", say);
    say();
    const reason = el("textarea", { rows: "4", required: true, minlength: "2", maxlength: "500" });
    form = el("form", { class: "card", onsubmit: async (e) => {
      e.preventDefault();
      msg.replaceChildren();
      const chosen = decision.value;
      try {
        await api(`${path}/decide`, { method: "POST", body: { decision: chosen, reason: reason.value.trim() } });
        await route();
        const after = await api(path);
        main.prepend(note(chosen === "dismissed" ? O.done.dismissed(after.notice.starts_on, after.notice.ends_on)
          : O.done.upheld));
      } catch (err) { msg.replaceChildren(note(err.message, "error")); }
    } }, el("h2", { text: O.formTitle }), field("objection-decision", O.decision, decision), explain,
    field("objection-reason", O.reason, reason), msg,
    el("button", { class: "btn primary", type: "submit", text: O.decide }));
  }
  show("objection", el("h1", { text: `${O.title} · ${n.program_name}` }),
    o.state !== "open" ? note(O.decided(stateText)) : null, content, notice, form);
}

export async function sheetScreen(helpers) {
  ui = helpers;
  const { api, el, field, note, show, go } = ui;
  const T = S.sheet;
  const community = hashParams().get("community") || "";
  if (!/^[0-9]{12}$/.test(community)) {
    const input = el("input", { inputmode: "numeric", required: true, pattern: "[0-9]{12}" });
    return show("notice-sheet", el("h1", { text: S.notices.printTitle }), el("form", { class: "card", onsubmit: (e) => {
      e.preventDefault(); go(`#/notices/print?community=${input.value.trim()}`);
    } }, field("sheet-community", T.pick, input), el("button", { class: "btn primary", type: "submit", text: T.print })));
  }
  const s = await api(`/api/v1/staff/public-notices/sheet?community=${community}`);
  const place = s.community_name || s.community_code;
  const c = T.cols;
  const body = [el("h1", { text: T.title(s.office, s.program_names.join("、")) }), el("p", { text: T.community(place) })];
  if (!s.entries.length) body.push(note(T.empty));
  else {
    body.push(el("p", { text: T.intro }), el("p", { class: "period", text: T.period(s.starts_on, s.ends_on) }),
      table(T.list, [c.no, c.name, c.program, c.amount, c.period], s.entries.map((e, i) => el("tr", {},
        el("td", { text: String(i + 1) }), el("td", { text: e.name }), el("td", { text: e.program_name }),
        el("td", { text: e.monthly_amount }), el("td", { text: S.notices.period(e.starts_on, e.ends_on) })))));
  }
  const online = `${location.origin}${s.citizen_path}`;
  const phones = s.phones.filter((p) => p !== s.hotline);
  body.push(el("h2", { text: T.how }), el("ul", {},
    phones.length ? el("li", { text: T.phone(phones.join("、")) }) : null, el("li", { text: T.hotline(s.hotline) }),
    el("li", { text: T.online(online) })), el("p", { text: T.secret }),
  el("p", { class: "sign", text: T.sign(s.office, s.today) }),
  el("p", { class: "actions" }, el("button", { class: "btn primary", type: "button", text: T.print, onclick: () => window.print() }),
    el("a", { class: "btn quiet", href: "#/notices", text: T.back })));
  show("notice-sheet", el("article", { class: "letter sheet" }, ...body));
}
