"""The built book in a real browser: every page renders its figures, widgets and math offline.

The site is served on 127.0.0.1 and every request to another host is blocked, so a page that
still needs a CDN fails here exactly as it would for a reader without network. A screenshot of
each page is saved under _build/screenshots/ for review.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Console messages known to be harmless, each with the reason it is allowed.
ALLOWED_CONSOLE = {
    # sphinx-thebe 0.3.1 emits its config <script> twice; the second declaration throws
    "Identifier 'THEBE_JS_URL' has already been declared": "sphinx-thebe duplicate config",
    # pydata-sphinx-theme reads an empty theme mode from localStorage on a fresh profile
    "Got invalid theme mode": "pydata-sphinx-theme default theme",
}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "_build" / "screenshots"


def _pages(site: Path) -> list[str]:
    """Every page the book's table of contents produced, relative to the site root."""
    pages = sorted(p.relative_to(site).as_posix() for p in (site / "book").glob("*.html"))
    assert pages, f"no pages under {site / 'book'}"
    return pages


@pytest.fixture(scope="module")
def server(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageReport:
    """What one page did while loading: console errors, failed and blocked requests."""

    def __init__(self, page, allowed_hosts: set[str]):
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: m.type == "error" and self._error(m.text))
        page.on("pageerror", lambda e: self._error(str(e)))
        page.on("requestfailed", lambda r: r.url not in self.blocked and self.failed.append(r.url))

        def route(r):
            url = urlparse(r.request.url)
            if (
                url.scheme in {"data", "blob"}
                or url.hostname in allowed_hosts
                or url.scheme == "file"
            ):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)

    def _error(self, text: str) -> None:
        if not any(known in text for known in ALLOWED_CONSOLE):
            self.errors.append(text)


def _open(browser, url: str, allowed_hosts: set[str]):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    report = PageReport(page, allowed_hosts)
    page.goto(url, wait_until="load")
    # MathJax typesets after load; widgets render after require.js loads the html-manager
    page.wait_for_function(
        "() => !window.MathJax || !MathJax.startup || MathJax.startup.promise", timeout=20_000
    )
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.wait_for_timeout(300)
    try:
        page.wait_for_function(
            "() => document.querySelectorAll("
            "'script[type=\"application/vnd.jupyter.widget-view+json\"]').length === 0"
            " || document.querySelectorAll('.jupyter-widgets').length > 0",
            timeout=15_000,
        )
    except Exception:
        pass  # the widget assertions below report what is missing
    page.wait_for_timeout(300)
    return page, report


CHECKS = """() => {
  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
    .map(i => i.getAttribute('src'));
  const views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgets = [...document.querySelectorAll(['.widget-interact', '.widget-box',
      '.widget-slider', '.widget-output'].map(c => '.jupyter-widgets' + c).join(', '))];
  const blank = widgets.filter(w => w.getBoundingClientRect().height < 5).length;
  const math = [...document.querySelectorAll('.math')];
  const rawMath = math.filter(m => !m.querySelector('mjx-container'))
      .map(m => m.textContent.slice(0, 60));
  const text = document.querySelector('main') ? document.querySelector('main').innerText : '';
  const rawTex = (text.match(/\\\\\\(|\\\\\\[|\\$\\$/g) || []).length;
  // a Markdown table that was not parsed shows its delimiter row ("|---|", typeset as dashes)
  const rawTables = [...document.querySelectorAll('main p')]
      .filter(p => /\\|\\s*(-{3}|\u2014|\u2013)/.test(p.textContent))
      .map(p => p.textContent.slice(0, 60));
  return {broken, views, widgets: widgets.length, blank, math: math.length, rawMath, rawTex,
          rawTables, images: document.images.length};
}"""


def _check(page, report, name: str) -> dict:
    state = page.evaluate(CHECKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    problems = []
    if state["broken"]:
        problems.append(f"broken images: {state['broken']}")
    if state["views"] and (state["widgets"] == 0 or state["blank"]):
        problems.append(
            f"{state['views']} widget views but {state['widgets']} rendered widgets, "
            f"{state['blank']} blank"
        )
    if state["rawMath"] or state["rawTex"]:
        problems.append(f"unrendered math: {state['rawMath'] or state['rawTex']}")
    if state["rawTables"]:
        problems.append(f"Markdown tables shown as text: {state['rawTables']}")
    if report.errors:
        problems.append(f"console errors: {report.errors}")
    if report.blocked:
        problems.append(f"requests to the network (blocked): {sorted(set(report.blocked))}")
    if report.failed:
        problems.append(f"failed requests: {sorted(set(report.failed))}")
    assert not problems, f"{name}: " + "; ".join(problems)
    return state


def test_every_page_renders_offline(site, server, browser):
    checked = {}
    for rel in _pages(site):
        page, report = _open(browser, f"{server}/{rel}", {"127.0.0.1"})
        checked[rel] = _check(page, report, Path(rel).stem)
        page.close()
    assert checked["book/intro.html"]["math"] > 0, "the intro's math was not found"


def test_skeleton_chapter_shows_figure_slider_and_math_from_file_url(site, browser):
    """Opened from file:// with every network request blocked, as a reader's saved copy."""
    page, report = _open(browser, (site / "book" / "01_two_sparsities.html").as_uri(), set())
    state = _check(page, report, "01_two_sparsities_file")
    assert state["images"] >= 2, "expected the packing figure and the widget's default figure"
    assert page.locator(".widget-slider").count() >= 1
    assert state["math"] > 0
    page.close()


# Chapters with kernel-free frame players (compsparse.viz.player): page -> number of players
PLAYER_PAGES = {"02_combine": 2, "05_route": 2}
PLAYER_STATE = """root => {
  const img = root.querySelector('img.cs-player-frame');
  let src = 0;  // a hash of the shown image's data URI
  for (const c of img.getAttribute('src')) src = (src * 31 + c.charCodeAt(0)) | 0;
  return {frame: root.getAttribute('data-frame'), frames: +root.getAttribute('data-frames'),
          src, width: img.naturalWidth,
          caption: root.querySelector('.cs-player-caption').textContent};
}"""


@pytest.mark.parametrize("name", sorted(PLAYER_PAGES))
def test_players_step_through_frames_without_a_kernel(site, server, browser, name):
    """The packing and routing pages: widgets rendered, and each player changes frame on click."""
    page, report = _open(browser, f"{server}/book/{name}.html", {"127.0.0.1"})
    players = page.locator(".cs-player")
    assert players.count() == PLAYER_PAGES[name], f"{name}: expected its frame players"
    assert page.locator(".jupyter-widgets.widget-slider").count() >= 1, f"{name}: no widget"
    for i in range(players.count()):
        player = players.nth(i)
        player.scroll_into_view_if_needed()
        before = player.evaluate(PLAYER_STATE)
        assert before["frame"] == "0" and before["frames"] >= 2 and before["width"] > 0
        player.locator("button[data-action=next]").click()
        after = player.evaluate(PLAYER_STATE)
        assert after["frame"] == "1", f"{name} player {i}: next did not advance"
        assert after["src"] != before["src"] and after["caption"] != before["caption"]
        page.wait_for_function(
            "r => r.querySelector('img.cs-player-frame').naturalWidth > 0",
            arg=player.element_handle(),
        )
        last = before["frames"] - 1
        player.locator("input.cs-player-range").evaluate(
            f"r => {{ r.value = {last}; r.dispatchEvent(new Event('input')); }}"
        )
        assert player.evaluate(PLAYER_STATE)["frame"] == str(last), "the slider did not seek"
        # play from the last frame: it starts over and advances on its own
        player.locator("button[data-action=play]").click()
        page.wait_for_function(
            f"r => !['0', '{last}'].includes(r.getAttribute('data-frame'))",
            arg=player.element_handle(),
            timeout=5_000,
        )
        player.locator("button[data-action=play]").click()  # pause
    page.evaluate("() => window.scrollTo(0, 0)")  # the screenshot without the sticky header
    state = _check(page, report, f"{name}_played")  # no broken image, error or request after play
    assert state["images"] >= PLAYER_PAGES[name]
    page.close()
