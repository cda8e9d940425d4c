"""Check the built documentation site (``make docs-check``): links, images, page errors.

Usage::

    python docs/_check_site.py [--site docs/_build/html] [--screenshots DIR] [--no-browser]

Two passes over the site ``make docs`` built:

1. **Static, every HTML page** (pure Python, no browser): every local ``href`` (``<a>``,
   ``<area>``, ``<link>``) must name a file of the site, and its ``#anchor`` an ``id`` (or
   ``<a name>``) in that page; every ``<img src>``, ``<script src>`` and ``<source src>``
   must be a file of the site. External links (``http(s)://``, ``mailto:``, ...) are not
   followed, but an external *resource* (a script, stylesheet or image that a browser
   would fetch from the network) is an error: the site must work offline.
2. **In headless Chromium** (Debian's ``chromium`` and ``chromium-driver``, driven by
   Selenium; ``/usr/bin/chromedriver`` is passed explicitly, so Selenium Manager never
   downloads anything): the landing page, the API index, the gallery index and one
   example page, served by a local ``http.server`` on 127.0.0.1 (a free port, started and
   stopped here). On each: every ``<img>`` must load (``naturalWidth > 0``), and there
   must be no JavaScript exception and no console message of level SEVERE (which is also
   how Chromium reports a resource that failed to load). The gallery index and the
   example page are saved as screenshots (1280 pixels wide).

Exit status 0 and the line ``docs-check: N pages, M links, K images checked, 0 problems``
when everything passes; otherwise each problem on its own line and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import posixpath
import signal
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

DOCS = Path(__file__).resolve().parent
DEFAULT_SITE = DOCS / "_build" / "html"
DEFAULT_SCREENSHOTS = DOCS / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Pages opened in the browser (relative to the site root); the ones with a screenshot name.
BROWSER_PAGES = ["index.html", "api/index.html", "auto_examples/index.html"]
EXAMPLE_PAGES = [  # the first one that exists is opened and photographed
    "auto_examples/plot_learning_curves.html",
    "auto_examples/quickstart.html",
]
SCREENSHOTS = {"auto_examples/index.html": "gallery_index.png"}
WINDOW_WIDTH = 1280
MAX_SCREENSHOT_HEIGHT = 4000
TIME_LIMIT_S = 600  # the whole check, browser included

_EXTERNAL_SCHEMES = {"http", "https", "ftp", "mailto", "tel", "javascript", "data", "file"}


# ----------------------------------------------------------------------- static checks
@dataclass
class Page:
    """What one HTML page holds: its anchors, links and resources (in document order)."""

    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)  # <a>/<area>/<link> href
    images: list[str] = field(default_factory=list)  # <img src>
    resources: list[str] = field(default_factory=list)  # <script src>, <source src>
    stylesheets: list[str] = field(default_factory=list)  # <link rel=stylesheet|icon|...>


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in attrs:
            self.page.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.page.ids.add(attrs["name"])
        if tag in ("a", "area") and "href" in attrs:
            self.page.links.append(attrs["href"])
        elif tag == "link" and "href" in attrs:
            rel = attrs.get("rel", "").lower().split()
            fetched = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}
            if fetched & set(rel):
                self.page.stylesheets.append(attrs["href"])
            else:
                self.page.links.append(attrs["href"])
        elif tag == "img" and "src" in attrs:
            self.page.images.append(attrs["src"])
        elif tag in ("script", "source", "iframe", "embed") and attrs.get("src"):
            self.page.resources.append(attrs["src"])

    handle_startendtag = handle_starttag


def parse_page(path: Path) -> Page:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.page


def is_external(url: str) -> bool:
    """A URL the site does not serve itself (another host, or a non-file scheme)."""
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return bool(scheme) and (scheme in _EXTERNAL_SCHEMES or len(scheme) > 1)


@dataclass
class Report:
    pages: int = 0
    links: int = 0
    images: int = 0
    problems: list[str] = field(default_factory=list)


class SiteChecker:
    """The static checks over a built site (a folder of HTML files)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self._pages: dict[Path, Page] = {}

    def page(self, path: Path) -> Page:
        if path not in self._pages:
            self._pages[path] = parse_page(path)
        return self._pages[path]

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def resolve(self, page_path: Path, url: str) -> tuple[Path | None, str, str | None]:
        """``(target file, fragment, problem)`` of a local URL written in ``page_path``."""
        parts = urlsplit(url)
        fragment = unquote(parts.fragment)
        if not parts.path:
            return page_path, fragment, None
        path = unquote(parts.path)
        if path.startswith("/"):  # site-absolute
            target = self.root / path.lstrip("/")
        else:
            target = page_path.parent / path
        target = Path(posixpath.normpath(target.as_posix()))
        try:
            target.relative_to(self.root)
        except ValueError:
            return None, fragment, f"points outside the site: {url!r}"
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return None, fragment, f"missing file {self._rel(target)!r} (from {url!r})"
        return target, fragment, None

    def check_page(self, page_path: Path, report: Report) -> None:
        page = self.page(page_path)
        where = self._rel(page_path)
        for url in page.links:
            if not url or is_external(url):
                continue
            report.links += 1
            target, fragment, problem = self.resolve(page_path, url)
            if problem:
                report.problems.append(f"{where}: broken link: {problem}")
                continue
            if fragment and target.suffix == ".html" and fragment not in self.page(target).ids:
                report.problems.append(
                    f"{where}: broken link: no id {fragment!r} in {self._rel(target)!r}"
                    f" (from {url!r})"
                )
        for kind, urls in (("image", page.images), ("resource", page.resources),
                           ("stylesheet", page.stylesheets)):
            for url in urls:
                if kind == "image":
                    report.images += 1
                if url.startswith("data:"):
                    continue
                if is_external(url):
                    report.problems.append(
                        f"{where}: external {kind} {url!r} (the site must not fetch from"
                        " the network)"
                    )
                    continue
                if kind != "image":
                    report.links += 1
                _, _, problem = self.resolve(page_path, url)
                if problem:
                    report.problems.append(f"{where}: missing {kind}: {problem}")

    def check(self) -> Report:
        report = Report()
        if not self.root.is_dir():
            report.problems.append(f"no site at {self.root} (run `make docs` first)")
            return report
        for path in sorted(self.root.rglob("*.html")):
            # _sources/ holds the page sources as .txt; _static/ the theme's own files.
            rel = path.relative_to(self.root).parts
            if rel[0] in ("_sources", "_static"):
                continue
            report.pages += 1
            self.check_page(path, report)
        return report


# ----------------------------------------------------------------------- browser checks
def png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` in pixels, from the PNG header."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        # Browsers ask for /favicon.ico on their own; the site has none, and a 404 there
        # would be a console error that says nothing about the site.
        if self.path == "/favicon.ico" and not Path(self.translate_path(self.path)).exists():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def serve(root: Path):
    """Serve ``root`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


_ERROR_HOOK = """
window.__docsCheckErrors = [];
window.addEventListener('error', function (e) {
  if (e.target && e.target !== window && (e.target.src || e.target.href)) {
    window.__docsCheckErrors.push('failed to load ' + (e.target.src || e.target.href));
  } else {
    window.__docsCheckErrors.push(
      'JS exception: ' + e.message + ' at ' + e.filename + ':' + e.lineno);
  }
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__docsCheckErrors.push('unhandled promise rejection: ' + String(e.reason));
});
"""

# Loads every image now (lazy ones included) and reports those that did not load.
_IMAGES_SCRIPT = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(img => { img.loading = 'eager'; });
const settle = img => img.complete ? Promise.resolve() : new Promise(resolve => {
  img.addEventListener('load', resolve, {once: true});
  img.addEventListener('error', resolve, {once: true});
});
Promise.all(imgs.map(settle)).then(() => done(imgs.map(img => ({
  src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth
}))));
"""


def make_driver():
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            raise SystemExit(
                f"docs-check: {path} is missing (apt-get install -y chromium chromium-driver)"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WINDOW_WIDTH},1024", "--hide-scrollbars",
                "--disable-extensions", "--no-first-run", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ERROR_HOOK})
    return driver


def screenshot(driver, path: Path) -> tuple[int, int]:
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);"
    )
    height = max(600, min(int(height), MAX_SCREENSHOT_HEIGHT))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WINDOW_WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    time.sleep(0.5)  # let the layout settle at the new height
    path.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"could not save {path}")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return png_size(path)


def check_in_browser(root: Path, pages: list[str], screenshots: dict[str, Path],
                     report: Report) -> list[tuple[Path, int, tuple[int, int]]]:
    """Open ``pages`` in headless Chromium; problems go to ``report``; returns the shots."""
    shots = []
    with serve(root) as base:
        driver = make_driver()
        try:
            for rel in pages:
                driver.get_log("browser")  # drop what earlier pages logged
                driver.get(base + rel)
                driver.execute_script("return document.readyState")  # page is loaded
                images = driver.execute_async_script(_IMAGES_SCRIPT)
                for img in images:
                    if not img["complete"] or img["width"] == 0:
                        report.problems.append(
                            f"{rel}: image does not load in the browser: {img['src']!r}"
                        )
                for message in driver.execute_script("return window.__docsCheckErrors || []"):
                    report.problems.append(f"{rel}: {message}")
                for entry in driver.get_log("browser"):
                    if entry.get("level") == "SEVERE":
                        report.problems.append(f"{rel}: browser console: {entry['message']}")
                if rel in screenshots:
                    path = screenshots[rel]
                    size = screenshot(driver, path)
                    shots.append((path, path.stat().st_size, size))
        finally:
            driver.quit()
    return shots


# ----------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, default=DEFAULT_SITE, help="the built HTML site")
    ap.add_argument("--screenshots", type=Path, default=DEFAULT_SCREENSHOTS)
    ap.add_argument("--no-browser", action="store_true", help="only the static checks")
    args = ap.parse_args(argv)

    if not hasattr(signal, "SIGALRM"):
        return _check(args)

    def _timeout(signum, frame):
        raise TimeoutError(f"docs-check took more than {TIME_LIMIT_S} s")

    # A bound on the whole check, browser included.
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(TIME_LIMIT_S)
    try:
        return _check(args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check(args) -> int:
    start = time.monotonic()
    root = args.site.resolve()
    report = SiteChecker(root).check()
    if not args.no_browser and root.is_dir():
        example = next((p for p in EXAMPLE_PAGES if (root / p).is_file()), None)
        if example is None:
            report.problems.append(f"none of the example pages {EXAMPLE_PAGES} was built")
        pages = BROWSER_PAGES + ([example] if example else [])
        names = dict(SCREENSHOTS)
        if example:
            names[example] = "example_" + Path(example).stem + ".png"
        shots = check_in_browser(
            root, pages, {p: args.screenshots / n for p, n in names.items()}, report
        )
        for path, n_bytes, (width, height) in shots:
            print(f"screenshot: {path} ({n_bytes} bytes, {width}x{height} px)")
    for problem in report.problems:
        print(f"docs-check: PROBLEM: {problem}")
    print(f"docs-check: took {time.monotonic() - start:.1f} s")
    print(
        f"docs-check: {report.pages} pages, {report.links} links, {report.images} images"
        f" checked, {len(report.problems)} problems"
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
