// localmodels dashboard: store actions and task playgrounds over the server's own public API.
// No framework, no build step, no request to any other origin.
"use strict";

const KEY_NAME = "lm_key";

function apiKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

function headers(extra) {
  const h = Object.assign({ "Content-Type": "application/json", "X-LocalModels-UI": "1" }, extra || {});
  const key = apiKey();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function errorText(body, status) {
  if (body && typeof body.error === "string") return body.error;
  if (body && body.error && body.error.message) return body.error.message;
  return "request failed (HTTP " + status + ")";
}

async function postJSON(path, payload, method) {
  const r = await fetch(path, { method: method || "POST", headers: headers(), body: JSON.stringify(payload) });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new Error(errorText(body, r.status));
  return body;
}

// Reads an NDJSON answer line by line; calls onLine(obj) for each; throws on an in-band error.
async function streamNDJSON(path, payload, onLine, signal) {
  const r = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(payload), signal });
  if (!r.ok) {
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    throw new Error(errorText(body, r.status));
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const obj = JSON.parse(line);
      if (obj.error) throw new Error(obj.error);
      onLine(obj);
    }
  }
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function show(out, node, isError) {
  out.replaceChildren(node);
  out.classList.toggle("error", Boolean(isError));
}

function fail(out, err) {
  show(out, el("p", {}, String(err.message || err)), true);
}

function busy(form, on) {
  for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = on;
  form.setAttribute("aria-busy", on ? "true" : "false");
}

function modelOf(id) {
  const s = document.getElementById(id);
  return s && s.value ? s.value : "";
}

function handle(formId, run) {
  const form = document.getElementById(formId);
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(form, true);
    try { await run(form); } finally { busy(form, false); }
  });
}

// ---------------------------------------------------------------- playgrounds
function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}

function scoreBar(label, score, extraClass) {
  const row = el("div", { class: "score" + (extraClass ? " " + extraClass : "") });
  row.append(el("span", { class: "label" }, label));
  const track = el("span", { class: "track", role: "meter", "aria-valuemin": "0", "aria-valuemax": "1",
                             "aria-valuenow": score.toFixed(3), "aria-label": label });
  const fill = el("span", { class: "fill" });
  fill.style.width = Math.max(0, Math.min(1, score)) * 100 + "%";
  track.append(fill);
  row.append(track, el("span", { class: "value" }, score.toFixed(3)));
  return row;
}

handle("embed-form", async () => {
  const out = document.getElementById("embed-out");
  try {
    const a = document.getElementById("embed-a").value, b = document.getElementById("embed-b").value;
    const r = await postJSON("/api/embed", { model: modelOf("embed-model"), input: [a, b] });
    const sim = cosine(r.embeddings[0], r.embeddings[1]);
    const box = el("div");
    box.append(scoreBar("cosine similarity", sim, "similarity"),
               el("p", { class: "note" }, r.embeddings[0].length + "-dimensional vectors from " + r.model));
    show(out, box);
  } catch (e) { fail(out, e); }
});

handle("ner-form", async () => {
  const out = document.getElementById("ner-out");
  try {
    const text = document.getElementById("ner-text").value;
    const r = await postJSON("/v1/ner", { model: modelOf("ner-model"), input: text });
    const ents = r.data[0].entities.slice().sort((x, y) => x.start - y.start);
    const p = el("p", { class: "ner-text" });
    let at = 0;
    for (const e of ents) {
      if (e.start < at) continue;
      p.append(document.createTextNode(text.slice(at, e.start)));
      const m = el("mark", { class: "ent ent-" + e.label.toLowerCase().replace(/[^a-z0-9]/g, ""),
                             title: e.label + " " + e.score.toFixed(2) });
      m.append(document.createTextNode(text.slice(e.start, e.end)), el("span", { class: "ent-label" }, e.label));
      p.append(m);
      at = e.end;
    }
    p.append(document.createTextNode(text.slice(at)));
    const box = el("div");
    box.append(p, el("p", { class: "note" }, ents.length + " entities"));
    show(out, box);
  } catch (e) { fail(out, e); }
});

handle("classify-form", async () => {
  const out = document.getElementById("classify-out");
  try {
    const labels = document.getElementById("classify-labels").value.split(",").map((s) => s.trim()).filter(Boolean);
    const r = await postJSON("/v1/classify", { model: modelOf("classify-model"),
                                               input: document.getElementById("classify-text").value, labels });
    const res = r.data[0];
    const box = el("div");
    const sorted = Object.entries(res.scores).sort((x, y) => y[1] - x[1]);
    for (const [label, score] of sorted) box.append(scoreBar(label, score, label === res.label ? "best" : ""));
    show(out, box);
  } catch (e) { fail(out, e); }
});

let chatAbort = null;
handle("chat-form", async () => {
  const out = document.getElementById("chat-out");
  const stop = document.getElementById("chat-stop");
  const reply = el("p", { class: "reply" });
  const stats = el("p", { class: "note" });
  const box = el("div");
  box.append(reply, stats);
  show(out, box);
  chatAbort = new AbortController();
  stop.disabled = false;
  try {
    const payload = { model: modelOf("chat-model"), stream: true,
                      messages: [{ role: "user", content: document.getElementById("chat-text").value }],
                      options: { num_predict: Number(document.getElementById("chat-max").value) || 48 } };
    await streamNDJSON("/api/chat", payload, (obj) => {
      if (obj.message && obj.message.content) reply.textContent += obj.message.content;
      if (obj.done) {
        const secs = obj.eval_duration / 1e9;
        stats.textContent = obj.eval_count + " tokens, " + (secs > 0 ? (obj.eval_count / secs).toFixed(1) : "?")
          + " tokens/s, stopped: " + obj.done_reason;
      }
    }, chatAbort.signal);
  } catch (e) {
    if (e.name === "AbortError") stats.textContent = "stopped";
    else fail(out, e);
  } finally {
    stop.disabled = true;
    chatAbort = null;
  }
});

const stopButton = document.getElementById("chat-stop");
if (stopButton) stopButton.addEventListener("click", () => { if (chatAbort) chatAbort.abort(); });

// ---------------------------------------------------------------- store actions
handle("pull-form", async () => {
  const out = document.getElementById("action-out");
  const bar = document.getElementById("pull-progress");
  const ref = document.getElementById("pull-ref").value.trim();
  if (!ref) { fail(out, new Error("type a model reference first")); return; }
  bar.hidden = false;
  bar.removeAttribute("value");
  try {
    await streamNDJSON("/api/pull", { model: ref, stream: true }, (obj) => {
      show(out, el("p", {}, obj.status + (obj.total ? " " + Math.round(100 * (obj.completed || 0) / obj.total) + "%" : "")));
      if (obj.total) { bar.max = obj.total; bar.value = obj.completed || 0; }
    });
    show(out, el("p", {}, ref + ": pulled; reloading"));
    location.reload();
  } catch (e) { fail(out, e); } finally { bar.hidden = true; }
});

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
  const out = document.getElementById("action-out");
  const model = b.dataset.model;
  b.disabled = true;
  try {
    if (b.dataset.action === "verify") {
      const r = await postJSON("/ui/api/verify", { model });
      const problems = r.checks.flatMap((c) => c.problems.map((p) => p.path + ": " + p.problem));
      show(out, el("p", {}, model + (r.ok ? ": every file matches its sha256" : ": " + problems.join("; "))), !r.ok);
    } else if (b.dataset.action === "rm") {
      if (!confirm("Remove " + model + " from the store?")) return;
      await postJSON("/api/delete", { model }, "DELETE");
      show(out, el("p", {}, model + ": removed"));
      const row = b.closest("tr");
      if (row) row.remove();
    }
  } catch (e) { fail(out, e); } finally { b.disabled = false; }
});

// ---------------------------------------------------------------- sign-in (servers with an API key)
const login = document.getElementById("login-form");
if (login) {
  login.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = document.getElementById("api-key").value;
    sessionStorage.setItem(KEY_NAME, key);
    document.cookie = KEY_NAME + "=" + encodeURIComponent(key) + "; path=/; SameSite=Strict";
    location.reload();
  });
}
