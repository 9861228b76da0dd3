// The home visit (入户调查) on a phone: checklist, the colleague at the door, three signatures drawn on screen
// (or, for someone who cannot sign, the photo of the thumb-printed form), photos from the camera. Everything is
// kept as a draft on the phone until the server has it; the draft's client id makes a resend one visit.
import { S } from "./strings.js";

const DRAFT = (id) => `zt.visit.${id}`;

function loadDraft(id) {
  try { return JSON.parse(localStorage.getItem(DRAFT(id))) || null; } catch { return null; }
}
function saveDraft(id, draft) { localStorage.setItem(DRAFT(id), JSON.stringify(draft)); }
function clearDraft(id) { localStorage.removeItem(DRAFT(id)); }
function newId() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, "");
}

// A canvas to sign on with a finger, mouse or pen; `value()` is a PNG data URL or null when nothing was drawn.
function signaturePad(el, label, id, saved, onChange) {
  const canvas = el("canvas", { width: "320", height: "140", class: "sign", id, role: "img", "aria-label": label });
  const ctx = canvas.getContext("2d");
  let drawn = false;
  let last = null;
  const clear = () => { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height); drawn = false; };
  clear();
  if (saved) {
    const img = new Image();
    img.onload = () => { ctx.drawImage(img, 0, 0); drawn = true; };
    img.src = saved;
  }
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = "#111"; ctx.lineWidth = 2.5; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    last = p; drawn = true;
  });
  const end = () => { if (last) { last = null; onChange(); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointerleave", end);
  const again = el("button", { type: "button", class: "btn quiet", text: S.visit.clear, onclick: () => { clear(); onChange(); } });
  const node = el("div", { class: "field" }, el("span", { text: label }), canvas, again);
  return { node, value: () => (drawn ? canvas.toDataURL("image/png") : null) };
}

// A data URL as a Blob without fetch (the CSP's connect-src is 'self' only).
function blobOf(dataUrl) {
  const [head, b64] = dataUrl.split(",");
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return new Blob([bytes], { type: head.slice(5).split(";")[0] });
}

export async function homeVisitScreen(id, { api, el, field, note, show, section, token }) {
  const path = `/api/v1/staff/applications/${encodeURIComponent(id)}`;
  const [c, colleagues] = await Promise.all([api(`${path}/case`), api("/api/v1/staff/colleagues?permission=case:home_visit")]);
  const V = S.visit;
  if (!c.home_visit_checklist) {
    return show("visit", el("h1", { text: V.title }), note(V.notWaiting), el("a", { class: "btn", href: "#/mine", text: S.review.back }));
  }
  const draft = loadDraft(id) || { client_id: newId(), checklist: {}, note: "", second: "", signer: "self", signatures: {}, photos: [] };
  saveDraft(id, draft);
  const msg = el("div", { "aria-live": "polite" });
  const keep = () => {
    draft.checklist = Object.fromEntries(items.map(([item, box]) => [item, box.checked]));
    draft.note = noteBox.value; draft.second = second.value; draft.signer = signer.value;
    draft.signatures = Object.fromEntries(Object.entries(pads).map(([k, p]) => [k, p.value()]));
    saveDraft(id, draft);
  };
  const items = c.home_visit_checklist.map((item, i) => {
    const box = el("input", { type: "checkbox", id: `ck-${i}`, onchange: () => keep() });
    box.checked = draft.checklist[item] !== undefined ? draft.checklist[item] : true;
    return [item, box];
  });
  const checklist = el("fieldset", { class: "card" }, el("legend", { text: V.checklist }),
    ...items.map(([item, box]) => el("p", { class: "field inline" }, box, el("label", { for: box.id, text: item }))),
    el("p", { class: "muted", text: V.checklistHint }));
  const second = el("select", { onchange: () => keep() }, el("option", { value: "", text: V.pickColleague }),
    ...colleagues.map((s) => el("option", { value: s.id, text: `${s.name}(${S.roles[s.role] || s.role})`, selected: draft.second === s.id })));
  const signer = el("select", { onchange: () => { keep(); thumbField.hidden = signer.value !== "thumbprint_form"; } },
    ...Object.entries(V.signers).map(([k, v]) => el("option", { value: k, text: v, selected: draft.signer === k })));
  const noteBox = el("textarea", { rows: "3", maxlength: "500", oninput: () => keep() });
  noteBox.value = draft.note;
  const pads = {
    investigator_1: signaturePad(el, V.sign1, "sign-1", draft.signatures.investigator_1, keep),
    investigator_2: signaturePad(el, V.sign2, "sign-2", draft.signatures.investigator_2, keep),
    household: signaturePad(el, V.signHousehold, "sign-3", draft.signatures.household, keep),
  };
  const thumb = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
  const thumbField = field("thumb", V.thumbPhoto, thumb);
  thumbField.hidden = draft.signer !== "thumbprint_form";
  const photos = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", multiple: true });
  const upload = async (kind, body) => {
    const r = await fetch(`${path}/visit-files?kind=${kind}`, { method: "POST", body,
      headers: { Authorization: `Bearer ${token()}`, "Content-Type": body.type || "image/jpeg" } });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { const err = new Error(S.err.codes[data.error_code] || data.message || S.err.other); err.status = r.status; throw err; }
    return data.id;
  };
  const submit = el("button", { class: "btn primary", type: "submit", text: V.submit });
  const form = el("form", { onsubmit: async (e) => {
    e.preventDefault();
    keep();
    msg.replaceChildren();
    if (!second.value) return msg.replaceChildren(note(V.needColleague, "error"));
    const sigs = draft.signatures;
    const householdByPhoto = signer.value === "thumbprint_form";
    if (!sigs.investigator_1 || !sigs.investigator_2 || (!householdByPhoto && !sigs.household)) return msg.replaceChildren(note(V.needSignatures, "error"));
    if (householdByPhoto && !thumb.files.length && !(draft.uploaded || {}).household) return msg.replaceChildren(note(V.needThumb, "error"));
    submit.disabled = true;
    msg.replaceChildren(note(V.sending));
    try {
      const up = draft.uploaded || {};
      for (const k of ["investigator_1", "investigator_2"]) up[k] = up[k] || await upload("signature", blobOf(sigs[k]));
      up.household = up.household || (householdByPhoto ? await upload("thumbprint_form", thumb.files[0]) : await upload("signature", blobOf(sigs.household)));
      up.photos = up.photos || [];
      for (const f of Array.from(photos.files).slice(up.photos.length, 10)) up.photos.push(await upload("photo", f));
      draft.uploaded = up; saveDraft(id, draft);
      await api(`${path}/home-visit`, { method: "POST", body: { client_id: draft.client_id, checklist: draft.checklist, note: draft.note,
        second_investigator: second.value, household_signer: signer.value, photos: up.photos,
        signatures: { investigator_1: up.investigator_1, investigator_2: up.investigator_2, household: up.household },
        visited_at: new Date().toISOString() } });
      clearDraft(id);
      form.replaceWith(note(V.done), el("a", { class: "btn", href: "#/mine", text: S.review.back }));
    } catch (err) {
      submit.disabled = false;
      msg.replaceChildren(note(err.status === 0 || err.status === undefined ? V.keptOffline : (err.status === 401 ? V.signInAgain : err.message), "error"));
    }
  } }, checklist,
  section(V.people, field("second", V.colleague, second), field("signer", V.signer, signer)),
  section(V.signatures, pads.investigator_1.node, pads.investigator_2.node, pads.household.node, thumbField),
  section(V.photos, field("photos", V.photoInput, photos), field("visit-note", V.note, noteBox)),
  msg, el("p", { class: "actions" }, submit, el("a", { class: "btn quiet", href: "#/mine", text: S.review.back })));
  show("visit", el("h1", { text: V.title }), el("p", { text: `${c.program_name} · ${c.resident.name_masked}` }),
    el("p", { class: "muted", text: V.draftKept }), form);
}
