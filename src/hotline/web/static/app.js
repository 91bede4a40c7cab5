// hotline console: plain JavaScript, no framework and nothing fetched from outside the node.
"use strict";

const API = "/api/v1";
const state = { me: null, inbox: [], selected: 0, stream: null, lines: [] };
const $ = (sel) => document.querySelector(sel);

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...options };
  if (init.body && typeof init.body !== "string") init.body = JSON.stringify(init.body);
  const answer = await fetch(API + path, init);
  const data = answer.headers.get("content-type")?.includes("json") ? await answer.json() : null;
  if (answer.status === 401 && path !== "/auth/login") { showLogin(); throw new Error("sign in"); }
  if (!answer.ok) throw new Error((data && data.error) || answer.statusText);
  return data;
}

function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
function cell(row, value, cls) { const td = row.insertCell(); text(td, value); if (cls) td.className = cls; return td; }

function showLogin() {
  $("#console").hidden = true; $("#login").hidden = false; $("#logout").hidden = true;
  text($("#who"), "");
  if (state.stream) { state.stream.close(); state.stream = null; }
}

async function start() {
  try { state.me = await api("/me"); } catch (e) { return; }
  $("#login").hidden = true; $("#console").hidden = false; $("#logout").hidden = false;
  text($("#who"), `${state.me.principal} (${state.me.roles.join(", ")}) on ${state.me.node}'s node`);
  state.lines = await api("/lines");
  const select = $("#compose select[name=line]");
  select.replaceChildren(...state.lines.filter((l) => l.status === "active").map((l) => {
    const o = document.createElement("option"); o.value = l.id; o.textContent = `${l.id} (${l.kind})`; return o;
  }));
  listen();  // first: nothing stored while the rest loads is missed
  await Promise.all([loadInbox(), loadSent(), loadContacts(), loadHealth(), loadMap()]);
}

function listen() {
  if (state.stream) state.stream.close();
  state.stream = new EventSource(API + "/stream");
  state.stream.onopen = () => { loadInbox(); loadSent(); };  // after a reconnect too
  let pending = null;
  state.stream.onmessage = (msg) => {
    const event = JSON.parse(msg.data);
    clearTimeout(pending);
    pending = setTimeout(() => {
      loadInbox();
      loadSent();
      if (event.kind.startsWith("contact.")) loadContacts();
    }, 50);
  };
}

// -- inbox ---------------------------------------------------------------------------------

async function loadInbox() {
  state.inbox = await api("/inbox?include_acked=true");
  const recent = state.inbox.filter((m) => !m.acked_by || Date.now() - Date.parse(m.acked_at) < 3600e3);
  state.inbox = recent;
  renderInbox();
}

async function loadSent() {
  const rows = await api("/sent?limit=20");
  const body = $("#sent tbody"); body.replaceChildren();
  for (const m of rows) {
    const row = body.insertRow();
    row.className = m.content.precedence.toLowerCase();
    row.dataset.id = m.id;
    cell(row, m.content.precedence); cell(row, (m.content.exercise ? "EXERCISE " : "") + m.content.subject); cell(row, m.line);
    const a = m.acks[0];
    cell(row, a ? `acked by ${a.by}${a.officer ? " (" + a.officer + ")" : ""} at ${a.at.slice(11, 19)}Z` : "awaiting", "ack");
  }
}

function left(deadline) {
  const s = Math.round((Date.parse(deadline) - Date.now()) / 1000);
  const a = Math.abs(s), h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60), sec = a % 60;
  const t = h ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(sec).padStart(2, "0")}s`;
  return s < 0 ? `OVERDUE ${t}` : t;
}

function renderInbox() {
  const body = $("#inbox tbody");
  body.replaceChildren();
  state.inbox.forEach((m, i) => {
    const row = body.insertRow();
    row.dataset.id = m.id;
    row.className = [m.precedence.toLowerCase(), m.acked_by ? "acked" : "", i === state.selected ? "selected" : ""].join(" ");
    cell(row, m.precedence); cell(row, m.from); cell(row, (m.exercise ? "EXERCISE " : "") + m.subject); cell(row, m.line);
    const l = cell(row, m.acked_by ? `acked by ${m.acked_by}${m.officer ? " (" + m.officer + ")" : ""}` : left(m.deadline), "left");
    l.dataset.deadline = m.acked_by ? "" : m.deadline;
    const act = row.insertCell();
    if (!m.acked_by) {
      const b = document.createElement("button"); b.textContent = "Ack"; b.onclick = () => ack(m.id);
      const r = document.createElement("button"); r.textContent = "Reply"; r.className = "secondary"; r.onclick = () => ack(m.id, true);
      act.append(b, " ", r);
    }
    row.onclick = () => { state.selected = i; renderInbox(); };
  });
  $("#inbox-empty").hidden = state.inbox.length > 0;
  const m = state.inbox[state.selected];
  text($("#reader"), m ? `${m.exercise ? "EXERCISE " + m.exercise + " - not live traffic\n" : ""}${m.precedence} ${m.kind} from ${m.from} at ${m.sent}\n${m.subject}\n\n${m.body}` : "");
  if (m) readMessage(m);
}

// The selected message as its reader reads it: pre-agreed text in the operator's language,
// translations beside the original with who made and certified them.
async function readMessage(m) {
  let r;
  try { r = await api(`/messages/${m.id}/read`); } catch (e) { return; }
  if (state.inbox[state.selected]?.id !== m.id) return;
  let out = `${m.precedence} ${m.kind} from ${m.from} at ${m.sent}\n`;
  if (r.catalogue) out += `[${r.reader_lang}] ${r.catalogue.title}\n${r.catalogue.text}\n\n`;
  out += `original [${r.content.lang}]: ${r.content.subject}\n${r.content.body}`;
  for (const t of r.translations) {
    out += `\n\ntranslation [${t.lang}] by ${t.translator}${t.machine ? " (machine: " + t.machine + ")" : ""}, ${t.state}${t.certified_by ? " by " + t.certified_by : ""}:\n${t.subject}\n${t.body}`;
  }
  text($("#reader"), out);
}

function tick() {
  document.querySelectorAll("#inbox td.left").forEach((td) => {
    if (!td.dataset.deadline) return;
    td.textContent = left(td.dataset.deadline);
    td.parentElement.classList.toggle("overdue", Date.parse(td.dataset.deadline) < Date.now());
  });
}

async function ack(id, withReply = false) {
  const reply = withReply ? prompt("Reply with the acknowledgement:") : null;
  if (withReply && reply === null) return;
  try { await api(`/messages/${id}/ack`, { method: "POST", body: { reply: reply || null } }); }
  catch (e) { alert(e.message); }
  loadInbox();
}

// -- compose ---------------------------------------------------------------------------------

const TEMPLATES = {
  notification: { kind: "notification", precedence: "PRIORITY", subject: "Notification of intent: ", body: "Activity:\nWindow (UTC):\nArea:\nUnits:\nThis activity is not directed at you." },
  query: { kind: "query", precedence: "IMMEDIATE", subject: "Request to clarify an activity", body: "We observe ... in ... since .... Please explain its purpose." },
  olive: { kind: "notification", precedence: "IMMEDIATE", subject: "Not directed at you", body: "The activity now under way is not directed at you." },
};

$("#compose select[name=template]").onchange = (e) => {
  const t = TEMPLATES[e.target.value]; if (!t) return;
  const f = $("#compose"); for (const [k, v] of Object.entries(t)) f.elements[k].value = v;
};

// -- pre-agreed messages ----------------------------------------------------------------------

state.catalogue = null;
async function loadCatalogue() {
  const line = $("#compose select[name=line]").value;
  const select = $("#coded select[name=entry]");
  try { state.catalogue = await api(`/lines/${line}/catalogue`); }
  catch (e) { state.catalogue = null; select.replaceChildren(); text($("#coded-text"), e.message); return; }
  select.replaceChildren(...state.catalogue.entries.map((e, i) => {
    const o = document.createElement("option"); o.value = i; o.textContent = `${e.code} ${e.number}: ${e.title}`; return o;
  }));
  showSlots();
}
function showSlots() {
  const entry = state.catalogue?.entries[$("#coded select[name=entry]").value];
  const box = $("#coded-slots"); box.replaceChildren();
  if (!entry) return;
  text($("#coded-text"), entry.text);
  for (const s of entry.slots) {
    const label = document.createElement("label");
    label.append(`${s.name} (${s.type})`);
    const input = s.values.length ? document.createElement("select") : document.createElement("input");
    input.name = "slot-" + s.name;
    for (const v of s.values) { const o = document.createElement("option"); o.textContent = v; input.append(o); }
    if (s.type === "area") input.placeholder = '{"center":[lon,lat],"radius":10,"unit":"km"}';
    if (s.type === "time") input.placeholder = "2026-03-01T14:00:00Z";
    label.append(input); box.append(label);
  }
}
$("#coded-panel").addEventListener("toggle", (e) => { if (e.target.open) loadCatalogue(); });
$("#compose select[name=line]").addEventListener("change", () => { if ($("#coded-panel").open) loadCatalogue(); });
$("#coded select[name=entry]").onchange = showSlots;
$("#coded").onsubmit = async (e) => {
  e.preventDefault();
  const entry = state.catalogue?.entries[e.target.elements.entry.value];
  if (!entry) return;
  const slots = {};
  for (const s of entry.slots) {
    const raw = e.target.elements["slot-" + s.name].value;
    slots[s.name] = s.type === "area" && raw.trim().startsWith("{") ? JSON.parse(raw) : raw;
  }
  try {
    const sent = await api("/messages/coded", { method: "POST", body: { line: $("#compose select[name=line]").value, code: entry.code, number: entry.number, slots, precedence: e.target.elements.precedence.value } });
    text($("#coded-status"), `sent ${entry.code} ${entry.number} (${sent.id.slice(0, 12)})`);
    loadSent();
  } catch (err) { text($("#coded-status"), err.message); }
};

$("#compose").onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const body = { line: f.line.value, kind: f.kind.value, precedence: f.precedence.value, subject: f.subject.value, body: f.body.value };
  try {
    const sent = await api("/messages", { method: "POST", body });
    text($("#compose-status"), `sent ${sent.content.precedence} ${sent.id.slice(0, 12)} on ${sent.line}`);
    e.target.reset();
    loadSent();
  } catch (err) { text($("#compose-status"), err.message); }
};

// -- contacts --------------------------------------------------------------------------------

async function loadContacts() {
  const rows = await api("/contacts");
  const body = $("#contacts tbody"); body.replaceChildren();
  for (const r of rows) {
    const row = body.insertRow();
    cell(row, r.from); cell(row, r.to); cell(row, r.topic); cell(row, r.status);
    const last = cell(row, r.status === "pending" ? r.respond_by : r.proposed_time || r.reason || "");
    if (r.status === "pending" && r.to.split("/")[0] === state.me.party) {
      const yes = document.createElement("button"); yes.textContent = "Accept";
      yes.onclick = () => answer(r.id, "accept", { time: prompt("Proposed time of the call (UTC):", new Date(Date.now() + 3600e3).toISOString().slice(0, 16) + ":00Z") });
      const no = document.createElement("button"); no.textContent = "Decline"; no.className = "secondary";
      no.onclick = () => answer(r.id, "decline", { reason: prompt("Reason (optional):") || "" });
      last.replaceChildren(yes, " ", no);
    }
  }
  const stats = await api("/contacts/stats?days=30");
  text($("#refusals"), stats.map((s) => `${s.from} → ${s.to}: ${s.requested} in 30 days, ${s.accepted} accepted, ${s.declined} declined, ${s.unanswered} unanswered`).join("\n"));
}

async function answer(id, action, body) {
  if (action === "accept" && !body.time) return;
  try { await api(`/contacts/${id}/${action}`, { method: "POST", body }); }
  catch (e) { alert(e.message); }
  loadContacts();
}

$("#contact-form").onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  try { await api("/contacts", { method: "POST", body: { to: f.to.value, topic: f.topic.value } }); text($("#contact-status"), "requested"); e.target.reset(); }
  catch (err) { text($("#contact-status"), err.message); }
  loadContacts();
};

// -- health ----------------------------------------------------------------------------------

async function loadHealth() {
  const pill = $("#health");
  try {
    const [v, link] = await Promise.all([api("/verify"), api("/link")]);
    const peers = Object.entries(link.peers).map(([p, s]) => `${p} ${s.state}`).join(", ") || "no peers";
    const alerts = (link.alerts || []).map((a) => `ALERT ${a.detail}`).join(" · ");
    pill.className = "pill " + (v.ok && !alerts ? "ok" : "bad");
    text(pill, `${v.ok ? "ledger verifies" : "LEDGER BROKEN"} (${v.events} events) · links: ${peers} · queue ${link.queue}${alerts ? " · " + alerts : ""}`);
  } catch (e) { text(pill, e.message); }
}

// -- map ---------------------------------------------------------------------------------------

// Europe in a plain projection scaled by the cosine of 52N, so that shapes keep their look.
const BOX = { w: -12, e: 60, s: 34, n: 71 }, COS = Math.cos((52 * Math.PI) / 180);
const SCALE = Math.min(800 / ((BOX.e - BOX.w) * COS), 520 / (BOX.n - BOX.s));
function xy([lon, lat]) {
  return [(lon - BOX.w) * COS * SCALE, (BOX.n - lat) * SCALE];
}
function pathOf(geometry) {
  const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polys.map((p) => p.map((ring) => "M" + ring.map((c) => xy(c).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join("")).join("");
}
function svg(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

async function loadMap() {
  let layers;
  try { layers = await api("/map"); } catch (e) { return; }
  const map = $("#map"); map.replaceChildren();
  for (const c of layers.countries) map.append(svg("path", { d: pathOf(c.geometry), class: "country" }));
  for (const b of layers.borders) {
    const p = svg("path", { d: pathOf(b.geometry), class: "border" + (b.properties.party === state.me.party ? " own" : "") });
    p.append(svg("title", {})); p.firstChild.textContent = b.properties.party; map.append(p);
  }
  for (const a of layers.announced) {
    if (!a.area.center) continue;
    const [x, y] = xy(a.area.center);
    map.append(svg("circle", { cx: x, cy: y, r: 6, fill: "none", stroke: "#4caf50", "stroke-dasharray": "3 2" }));
  }
  for (const t of layers.tracks) {
    const [x, y] = xy(t.geometry.coordinates);
    const c = svg("circle", { cx: x, cy: y, r: 3, class: "track", fill: t.properties.party === state.me.party ? "#4a90d9" : "#ff8c42" });
    c.append(svg("title", {})); c.firstChild.textContent = `${t.properties.party || "?"} ${t.properties.kind} ${t.properties.uid}`; map.append(c);
  }
  const list = $("#alerts"); list.replaceChildren();
  for (const a of layers.alerts) {
    const [x, y] = xy(a.geometry.coordinates);
    map.append(svg("circle", { cx: x, cy: y, r: 9, class: "alert", "data-alert": a.properties.id }));
    const li = document.createElement("li");
    li.className = a.properties.severity; li.dataset.alert = a.properties.id;
    text(li, `[${a.properties.severity}] ${a.properties.summary} (${a.properties.state})`);
    li.onclick = async () => {
      try { const d = await api(`/alerts/${a.properties.id}/draft`); text($("#draft"), `draft on ${d.line}:\n${d.content.precedence} ${d.content.kind}: ${d.content.subject}\n${d.content.body}`); }
      catch (e) { text($("#draft"), e.message); }
    };
    list.append(li);
  }
}

// -- keyboard ----------------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName) || $("#console").hidden) return;
  const m = state.inbox[state.selected];
  if (e.key === "j") { state.selected = Math.min(state.selected + 1, state.inbox.length - 1); renderInbox(); }
  else if (e.key === "k") { state.selected = Math.max(state.selected - 1, 0); renderInbox(); }
  else if (e.key === "a" && m && !m.acked_by) ack(m.id);
  else if (e.key === "r" && m && !m.acked_by) ack(m.id, true);
  else if (e.key === "c") { e.preventDefault(); $("#compose input[name=subject]").focus(); }
});

$("#login-form").onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  try { await api("/auth/login", { method: "POST", body: { principal: f.principal.value, password: f.password.value } }); text($("#login-error"), ""); start(); }
  catch (err) { text($("#login-error"), err.message); }
};
$("#logout").onclick = async () => { await api("/auth/logout", { method: "POST" }).catch(() => {}); showLogin(); };

setInterval(tick, 1000);
setInterval(() => { if (state.me) { loadInbox(); loadSent(); } }, 30000);  // a safety net
setInterval(loadHealth, 15000);
setInterval(loadMap, 10000);
api("/me").then(start, showLogin);
