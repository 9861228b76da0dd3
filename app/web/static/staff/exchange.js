// The admin's exchange screen (issue 14 item 1): the departments registered with the data exchange, what each may
// do and ask for which purpose, its paperwork, its keys (add one for a changeover, revoke one at once), and a form
// to register a new one. Calls only /api/v1/staff/exchange/…; words from strings.js; plain DOM.
import { S } from "./strings.js";

const X = () => S.exchange;

function keyCell(ui, client, key, msg) {
  const { api, el, note, route, main } = ui;
  if (key.revoked_at) return el("li", { text: X().keyRevoked(key.id, key.revoked_at.slice(0, 10)) });
  const revoke = el("button", { class: "btn quiet", type: "button", text: X().revokeNow(key.id), onclick: async () => {
    msg.replaceChildren();
    try {
      await api(`/api/v1/staff/exchange/clients/${encodeURIComponent(client.id)}/keys/${encodeURIComponent(key.id)}/revoke`,
        { method: "POST" });
      await route();
      main.prepend(note(X().revoked(key.id)));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } });
  return el("li", {}, X().keyLive(key.id, key.created_at.slice(0, 10)),
    el("details", { class: "inline" }, el("summary", { text: X().revoke }), el("p", { text: X().revokeHint }), revoke));
}

function addKeyForm(ui, client, msg) {
  const { api, el, field, note, route, main } = ui;
  const publicKey = el("textarea", { rows: "3", required: true, maxlength: "2000", spellcheck: "false" });
  const keyId = el("input", { maxlength: "64", autocomplete: "off", spellcheck: "false" });
  return el("details", {}, el("summary", { text: X().addKey }),
    el("form", { onsubmit: async (e) => {
      e.preventDefault();
      msg.replaceChildren();
      const body = { public_key: publicKey.value.trim() };
      if (keyId.value.trim()) body.key_id = keyId.value.trim();
      try {
        await api(`/api/v1/staff/exchange/clients/${encodeURIComponent(client.id)}/keys`, { method: "POST", body });
        await route();
        main.prepend(note(X().keyAdded));
      } catch (err) { msg.replaceChildren(note(err.message, "error")); }
    } }, el("p", { class: "hint", text: X().addKeyHint }), field(`key-${client.id}`, X().publicKey, publicKey),
    field(`kid-${client.id}`, X().keyId, keyId), el("button", { class: "btn", type: "submit", text: X().addKeySubmit })));
}

// "medical_aid(legal basis):最低生活保障家庭:是否享受、自何月起享受" — datasets and fields by name where known
function purposeText(purposes, datasets) {
  const answers = new Map(datasets.answers.map((d) => [d.code, d]));
  const fieldName = (d, f) => ((answers.get(d) || { fields: [] }).fields.find((x) => x.name === f) || { text: f }).text;
  return Object.entries(purposes).map(([code, p]) => {
    const fields = Object.entries(p.fields || {}).map(([d, fs]) =>
      `${(answers.get(d) || { name: d }).name.replace(/（.*$/, "")}: ${fs.map((f) => fieldName(d, f)).join("、")}`);
    const push = (p.push || []).length ? [`${X().pushes}: ${p.push.join("、")}`] : [];
    return `${code}(${p.legal_basis})${[...fields, ...push].length ? ":" + [...fields, ...push].join(";") : ""}`;
  });
}

function registerForm(ui, datasets, msg) {
  const { api, el, field, note, route, main } = ui;
  const text = (attrs = {}) => el("input", { autocomplete: "off", ...attrs });
  const inputs = {
    id: text({ required: true, maxlength: "40", spellcheck: "false" }), name: text({ required: true, maxlength: "64" }),
    public_key: el("textarea", { rows: "3", required: true, maxlength: "2000", spellcheck: "false" }),
    key_id: text({ maxlength: "64", spellcheck: "false" }),
    pia_ref: text({ required: true, maxlength: "64" }), agreement_ref: text({ required: true, maxlength: "64" }),
    agreement_expires: el("input", { type: "date", required: true }), contact: text({ required: true, maxlength: "128" }),
    per_minute: text({ inputmode: "numeric", value: "600", maxlength: "7" }),
    per_day: text({ inputmode: "numeric", value: "200000", maxlength: "9" }),
    death_source: el("select", {}, el("option", { value: "", text: X().noDeathSource }),
      ...datasets.death_sources.map((s) => el("option", { value: s, text: X().deathSources[s] || s }))),
    purpose: text({ required: true, maxlength: "64", spellcheck: "false", placeholder: "medical_aid" }),
    legal_basis: text({ required: true, maxlength: "200" }), purpose_text: text({ maxlength: "200" }),
    delay_days: text({ inputmode: "numeric", value: "0", maxlength: "3" }),
  };
  const box = (name, value, label) => {
    const input = el("input", { type: "checkbox", name, value });
    return el("label", { class: "check" }, input, ` ${label}`);
  };
  const actions = el("fieldset", {}, el("legend", { text: X().actions }),
    ...datasets.actions.map((a) => box("action", a, X().actionNames[a] || a)));
  const answerFields = el("fieldset", {}, el("legend", { text: X().answerFields }),
    ...datasets.answers.map((d) => el("div", {}, el("p", { class: "hint", text: d.name }),
      ...d.fields.map((f) => box("field", `${d.code}.${f.name}`, `${f.text}(${f.sensitivity})`)))));
  const pushes = el("fieldset", {}, el("legend", { text: X().pushDatasets }),
    ...datasets.push.map((d) => box("push", d.code, d.name)));
  const form = el("form", { class: "card", "aria-labelledby": "xreg-h", onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    const fields = {};
    for (const pair of checked("field")) {
      const [dataset, name] = pair.split(".");
      (fields[dataset] = fields[dataset] || []).push(name);
    }
    const v = (k) => inputs[k].value.trim();
    const body = { id: v("id"), name: v("name"), public_key: v("public_key"), actions: checked("action"),
      pia_ref: v("pia_ref"), agreement_ref: v("agreement_ref"), agreement_expires: v("agreement_expires"),
      contact: v("contact"), per_minute: v("per_minute") || "600", per_day: v("per_day") || "200000",
      death_source: v("death_source") || null,
      purposes: { [v("purpose")]: { legal_basis: v("legal_basis"), text: v("purpose_text"),
        delay_days: v("delay_days") || "0", fields, push: checked("push") } } };
    if (v("key_id")) body.key_id = v("key_id");
    try {
      await api("/api/v1/staff/exchange/clients", { method: "POST", body });
      await route();
      main.prepend(note(X().registered(body.name)));
    } catch (err) { msg.replaceChildren(note(err.message, "error")); }
  } }, el("h2", { id: "xreg-h", text: X().register }), el("p", { class: "hint", text: X().registerHint }),
  ...["id", "name", "public_key", "key_id"].map((k) => field(`xr-${k}`, X().labels[k], inputs[k])), actions,
  el("h3", { text: X().purposeHeading }),
  ...["purpose", "legal_basis", "purpose_text", "delay_days"].map((k) => field(`xr-${k}`, X().labels[k], inputs[k])),
  answerFields, pushes, el("h3", { text: X().paperwork }),
  ...["pia_ref", "agreement_ref", "agreement_expires", "contact", "per_minute", "per_day", "death_source"]
    .map((k) => field(`xr-${k}`, X().labels[k], inputs[k])),
  el("button", { class: "btn primary", type: "submit", text: X().registerSubmit }));
  return form;
}

export async function exchangeScreen(ui) {
  const { api, el, show } = ui;
  const [clients, datasets] = await Promise.all([api("/api/v1/staff/exchange/clients"),
    api("/api/v1/staff/exchange/datasets")]);
  const msg = el("div", { "aria-live": "polite" });
  const c = X().cols;
  const rows = clients.map((client) => el("tr", {},
    el("th", { scope: "row" }, el("span", { text: client.name }), el("br"), el("code", { text: client.id })),
    el("td", { text: client.actions.map((a) => X().actionNames[a] || a).join("、") }),
    el("td", {}, el("ul", {}, ...purposeText(client.purposes, datasets).map((t) => el("li", { text: t })))),
    el("td", { text: X().limits(client.per_minute, client.per_day) }),
    el("td", {}, el("span", { text: `${client.agreement_ref} · ${X().until(client.agreement_expires)}` }), el("br"),
      el("strong", { class: client.agreement_in_force ? "" : "warn", text: client.agreement_in_force ? X().inForce : X().expired }),
      el("br"), el("span", { text: `PIA ${client.pia_ref}` })),
    el("td", { text: client.contact }),
    el("td", {}, el("ul", {}, ...client.keys.map((k) => keyCell(ui, client, k, msg))), addKeyForm(ui, client, msg))));
  show("exchange", el("h1", { text: X().title }), el("p", { text: X().lead }), msg,
    clients.length ? el("table", {}, el("caption", { text: X().caption }),
      el("thead", {}, el("tr", {}, ...[c.client, c.actions, c.purposes, c.limits, c.agreement, c.contact, c.keys]
        .map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, ...rows))
      : el("p", { text: X().none }),
    registerForm(ui, datasets, msg));
}
