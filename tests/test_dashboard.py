"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against ``localmodels serve``.

Every page load is watched: no console error, no uncaught exception, no request to anything but
127.0.0.1 (each request goes through a route that aborts and records any other host). Screenshots
land in tests/artifacts/ (kept out of git) for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from playwright import sync_api as playwright_api  # the dev extra; make test installs it
from tests.test_ollama_api import KEY, start

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's package
ARTIFACTS = Path(__file__).parent / "artifacts"

if not Path(CHROMIUM).is_file():
    pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)", pytrace=False)


class Watched:
    """A page whose console errors and off-machine requests are recorded."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host != "127.0.0.1":
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    home = tmp_path_factory.getbasetemp() / "ollama-serve"  # shares minilm's ONNX export with test_ollama_api
    home.mkdir(exist_ok=True)
    server = start(home, "--models", "minilm,spacy-en-sm,gemma3-270m", "--keep-alive", "3600",
                   env={"HF_HUB_OFFLINE": "1"}, key=None)
    yield server
    log = server.stop()
    assert "Traceback" not in log, log


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    yield watched
    context.close()


@pytest.fixture
def same_home(ui_server, monkeypatch):
    monkeypatch.setenv("LOCALMODELS_HOME", str(ui_server.home / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(ui_server.home / "hf"))


def test_home_page_lists_the_store(ui_server, page):
    page.page.goto(ui_server.url + "/")
    rows = page.page.locator("#models-table tbody tr")
    names = set(rows.evaluate_all("rs => rs.map(r => r.dataset.model)"))
    assert {"minilm", "spacy-en-sm", "gemma3-270m"} <= names
    minilm = page.page.locator('#models-table tr[data-model="minilm"]')
    assert "MB" in minilm.inner_text() and "apache-2.0" in minilm.inner_text()
    assert page.page.locator("#disk-chart rect").count() >= 1
    assert page.page.locator("#requests-table").count() == 1
    assert "available on the machine" in page.page.locator("#memory").inner_text()
    # every form control has a label (keyboard and screen-reader users)
    unlabeled = page.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => !e.hidden && !(e.id && document.querySelector(`label[for="${e.id}"]`))).map(e => e.id)""")
    assert unlabeled == []
    page.shot("dashboard-home")
    page.page.keyboard.press("Tab")  # the first Tab lands on the skip link
    assert page.page.evaluate("document.activeElement.className") == "skip"
    page.clean()


def test_embed_playground_shows_the_library_similarity(ui_server, page, same_home):
    import localmodels as lm

    page.page.goto(ui_server.url + "/")
    a, b = "A cat sits on the mat.", "A kitten is sitting on a rug."
    page.page.fill("#embed-a", a)
    page.page.fill("#embed-b", b)
    page.page.focus("#embed-b")  # submit with the keyboard: Tab to the button, Enter
    page.page.keyboard.press("Tab")
    page.page.keyboard.press("Enter")
    value = page.page.locator("#embed-out .score .value")
    value.wait_for(timeout=120_000)
    va, vb = lm.embed([a, b], model="minilm")
    want = float(np.dot(va, vb) / (np.linalg.norm(va) * np.linalg.norm(vb)))
    assert float(value.inner_text()) == pytest.approx(want, abs=2e-3)
    page.shot("playground-embed")
    page.clean()


def test_ner_playground_highlights_entities(ui_server, page, same_home):
    import localmodels as lm

    text = "Barack Obama visited Paris in 2015 with Angela Merkel."
    page.page.goto(ui_server.url + "/")
    page.page.fill("#ner-text", text)
    page.page.click("#ner-form button[type=submit]")
    page.page.locator("#ner-out mark.ent").first.wait_for(timeout=120_000)
    marks = page.page.locator("#ner-out mark.ent").evaluate_all(
        "ms => ms.map(m => [m.firstChild.textContent, m.querySelector('.ent-label').textContent])")
    want = [(e.text, e.label) for e in lm.ner(text, model="spacy-en-sm")]
    assert [tuple(m) for m in marks] == want and "Paris" in {t for t, _ in want}
    shown = page.page.evaluate("""() => { const p = document.querySelector('#ner-out .ner-text').cloneNode(true);
        p.querySelectorAll('.ent-label').forEach(l => l.remove()); return p.textContent; }""")
    assert shown == text  # the text itself, untouched, with the entities marked in place
    page.shot("playground-ner")
    page.clean()


def test_classify_playground_draws_score_bars(ui_server, page):
    page.page.goto(ui_server.url + "/")
    page.page.select_option("#classify-model", "minilm")
    page.page.fill("#classify-labels", "finance, sports, cooking")
    page.page.click("#classify-form button[type=submit]")
    bars = page.page.locator("#classify-out .score")
    bars.first.wait_for(timeout=120_000)
    assert bars.count() == 3
    with httpx.Client(base_url=ui_server.url, timeout=120) as http:
        api = http.post("/v1/classify", json={"model": "minilm", "labels": ["finance", "sports", "cooking"],
                                              "input": page.page.input_value("#classify-text")}).json()
    best = page.page.locator("#classify-out .score.best .label").inner_text()
    assert best == api["data"][0]["label"] == "finance"
    widths = bars.locator(".fill").evaluate_all("fs => fs.map(f => parseFloat(f.style.width))")
    assert widths == sorted(widths, reverse=True) and widths[0] > 0
    page.shot("playground-classify")
    page.clean()


def test_chat_playground_streams(ui_server, page):
    page.page.goto(ui_server.url + "/")
    page.page.select_option("#chat-model", "gemma3-270m")
    page.page.fill("#chat-max", "12")
    seen: list[int] = []
    page.page.expose_function("noteLength", lambda n: seen.append(n))
    page.page.evaluate("""() => new MutationObserver(() => window.noteLength(
        (document.querySelector('#chat-out .reply') || {textContent: ''}).textContent.length))
        .observe(document.getElementById('chat-out'), {subtree: true, childList: true, characterData: true})""")
    page.page.click("#chat-form button[type=submit]")
    stats = page.page.locator("#chat-out .note")
    page.page.locator("#chat-out .note", has_text="tokens").wait_for(timeout=180_000)
    assert page.page.locator("#chat-out .reply").inner_text().strip()
    assert len({n for n in seen if n > 0}) >= 2, "the reply did not grow piece by piece"
    assert "stopped:" in stats.inner_text()
    page.shot("playground-chat")
    page.clean()


def test_verify_action_and_no_ui(ui_server, page, tmp_path):
    page.page.goto(ui_server.url + "/")
    page.page.click('#models-table tr[data-model="minilm"] button[data-action=verify]')
    page.page.locator("#action-out", has_text="minilm").wait_for(timeout=120_000)
    assert "matches its sha256" in page.page.inner_text("#action-out")
    page.clean()
    with httpx.Client(base_url=ui_server.url) as http:  # the header the page sends is required
        r = http.post("/ui/api/verify", json={"model": "minilm"})
        assert r.status_code == 403
    off = start(tmp_path, "--no-ui", env={"HF_HUB_OFFLINE": "1"}, key=None)
    try:
        r = httpx.get(off.url + "/")
        assert r.status_code == 200 and "dashboard off" in r.text
        assert httpx.get(off.url + "/ui/static/app.js").status_code == 404
    finally:
        off.stop()


def test_api_key_sign_in_and_remove(browser, tmp_path):
    server = start(tmp_path, "--models", "spacy-en-sm", env={"HF_HUB_OFFLINE": "1"})
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            assert http.get("/").status_code == 401  # the page and its data need the key
            pulled = http.post("/api/pull", json={"model": "spacy-en-sm", "stream": False},
                               headers={"Authorization": f"Bearer {KEY}"})
            assert pulled.json() == {"status": "success"}
            assert http.request("DELETE", "/api/delete", json={"model": "spacy-en-sm"}).status_code == 401
        context = browser.new_context()
        watched = Watched(context.new_page())
        pg = watched.page
        pg.goto(server.url + "/")
        assert pg.locator("#login-form").count() == 1
        watched.shot("dashboard-sign-in")
        pg.fill("#api-key", KEY)
        pg.keyboard.press("Enter")
        pg.locator("#models-table").wait_for(timeout=60_000)
        row = pg.locator('#models-table tr[data-model="spacy-en-sm"]')
        assert row.count() == 1
        pg.on("dialog", lambda d: d.accept())
        row.locator("button[data-action=rm]").click()
        pg.locator("#action-out", has_text="removed").wait_for(timeout=60_000)
        # the page sent the key as a header: the console saw no 401, and the record is gone
        watched.errors = [e for e in watched.errors if "401" not in e]  # the sign-in page's own load
        watched.clean()
        context.close()
    finally:
        server.stop()


def test_models_in_other_stores_show_in_their_table(browser, tmp_path):
    """An Ollama store on the machine (its real layout, in a temp folder): its model is listed with size,
    source, licence, verified state and when it changed, apart from the store's own models, with no
    store actions (the server does not own those files)."""
    from tests.other_stores import env_for, ollama_store, smollm2_gguf

    from localmodels.server.dashboard.render import human

    stores = tmp_path / "stores"
    gguf = smollm2_gguf()
    ollama_store(stores / "ollama", {"smollm2:135m": gguf}, license="Apache License\nVersion 2.0, January 2004")
    server = start(tmp_path, env={"HF_HUB_OFFLINE": "1", **env_for(stores)}, key=None)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        watched = Watched(context.new_page())
        pg = watched.page
        pg.goto(server.url + "/")
        row = pg.locator('#other-stores tr[data-model="ollama:smollm2:135m"]')
        assert row.count() == 1
        cells = row.locator("th, td").all_inner_texts()
        assert cells[0] == "ollama:smollm2:135m" and cells[2] == "ollama"
        assert cells[3] == human(gguf.stat().st_size)  # the blob's size
        assert cells[4] == "Apache License" and cells[5] == "not verified"
        assert cells[6].startswith("modified 20")  # Ollama records no last use: when the file changed
        assert row.locator("button").count() == 0  # no verify/remove of another tool's files
        assert pg.locator('#models-table tr[data-model="ollama:smollm2:135m"]').count() == 0
        assert "ollama:smollm2:135m" not in pg.locator("#playground").inner_text()  # not servable by name
        watched.shot("dashboard-other-stores")
        watched.clean()
    finally:
        context.close()
        server.stop()
