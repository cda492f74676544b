"""The documentation site: it builds with warnings as errors, its how-to guides run, and the
built pages work in a real browser (headless Chromium: the API reference lists the functions
with their docstrings, MathJax typesets the equations, a figure loads).

Timings (the Sphinx build, the browser checks) are printed; run with ``-s`` to see them, or
read ``timings.json`` beside the built site. With ``JAXSOFTMAX_DOCS_SCREENSHOT_DIR`` set, the
front page's screenshot is copied there.
"""

from __future__ import annotations

import functools
import html
import http.server
import inspect
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()
CHROMIUM = "/usr/bin/chromium"
INSTALL_CHROMIUM = (
    f"{CHROMIUM} is missing: the docs' browser tests need Debian's Chromium "
    "(`apt-get update && apt-get install -y chromium`, as root; CI's .ci/run installs it)"
)
# The how-tos are user code, run as users run it: standard promotion (as README's examples).
STRICT_PROMOTION = False
FIGURE = (
    "eq4_vs_problem_n_per_class.png"  # shipped in experiments/sweeps/, shown on the sweeps page
)


# --------------------------------------------------------------------------------------------
# How-to guides: every ```python block of docs/howto/*.md runs, in order, one namespace a page
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """The ```python fenced blocks of a Markdown text, as (first code line number, code).

    CommonMark fences: three or more backticks or tildes, closed by the same character at
    least as many times; blocks nested in a longer fence (a fence shown as an example) are
    part of that fence's text. Only the info string ``python`` (or ``py``) counts.
    """
    blocks: list[tuple[int, str]] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).lower()
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close and set(close) == {fence[0]} and len(close) >= len(fence):
                break
            line = lines[i]
            body.append(line[min(indent, len(line) - len(line.lstrip())) :])
            i += 1
        if info in ("python", "py"):
            blocks.append((start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def test_python_blocks_are_extracted_with_their_lines():
    text = (
        "# Title\n"
        "```python\na = 1\n```\n"
        "text\n"
        "~~~~ python\nb = a + 1\n~~~~\n"
        "```bash\necho no\n```\n"
        "````markdown\n```python\nnot_run()\n```\n````\n"
        "```{code-block} python\nshown_only()\n```\n"
    )
    assert python_blocks(text) == [(3, "a = 1\n"), (7, "b = a + 1\n")]


HOWTOS = sorted(p for p in (DOCS / "howto").glob("*.md") if p.name != "index.md")


def test_there_are_howtos():
    assert HOWTOS, "docs/howto/ has no guide"


@pytest.mark.parametrize("page", HOWTOS, ids=lambda p: p.stem)
def test_howto_code_runs(page):
    blocks = python_blocks(page.read_text())
    assert blocks, f"{page.relative_to(ROOT)} has no ```python block"
    namespace = {"__name__": f"docs_howto_{page.stem.replace('-', '_')}"}
    for line, code in blocks:
        # Padded so that a traceback names the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


# --------------------------------------------------------------------------------------------
# The build: once per module, warnings as errors
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOCS, out]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if "No module named sphinx" in result.stderr:
        pytest.fail("Sphinx is missing: python3 -m pip install -e '.[docs]' (or '.[test]')")
    assert result.returncode == 0, (
        f"the docs build failed (warnings are errors):\n{result.stdout}\n{result.stderr}"
    )
    _record(out, "sphinx_build_s", seconds)
    return out


def _record(out: Path, key: str, seconds: float) -> None:
    print(f"\n[docs] {key} = {seconds:.1f}")
    path = out.parent / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[key] = round(seconds, 2)
    path.write_text(json.dumps(timings, indent=1))


class _Text(HTMLParser):
    """The text of an HTML page, and its elements as (tag, attrs, depth) in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.elements: list[tuple[str, dict[str, str], int]] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}, len(self.stack)))
        if tag not in ("img", "br", "meta", "link", "input", "hr", "source"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        text = "".join(self.parts).translate({0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"'})
        return re.sub(r"\s+", " ", text)  # smart quotes as typed, whitespace collapsed


def parse(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    return parser


def test_site_has_every_page(site):
    for page in (
        "index", "getting-started", "tour", "derivations", "derivations/TABLE1", "atlas",
        "reproduction", "sweeps", "families", "benchmarks", "howto/index", "api/index",
        "api/jaxsoftmax",
        *(f"howto/{p.stem}" for p in HOWTOS),
        *(f"api/{m}" for m in ("activations", "penalties", "pairings", "expfamily",
                                "gaussians", "problems", "metrics", "datasets", "mlp", "train",
                                "config", "experiment", "sweeps", "stats", "cli", "derivations")),
    ):  # fmt: skip
        assert (site / f"{page}.html").is_file(), page


def readme_command(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", README)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match.group(1).strip()


def test_getting_started_shows_readmes_two_commands(site):
    text = parse((site / "getting-started.html").read_text()).text
    for marker in ("main-command", "test-command"):
        assert readme_command(marker) in text, marker


def test_included_files_are_on_their_pages(site):
    # The generated Table 1 with its verdicts, README's reproduction table, the sweep summary.
    table1 = parse((site / "derivations" / "TABLE1.html").read_text()).text
    assert "The paper's Table 1, cell by cell" in table1
    assert "equal only where t_k = 1" in table1
    reproduction = parse((site / "reproduction.html").read_text()).text
    assert "softmax + cross-entropy" in reproduction
    assert "Training length and protocol" in reproduction
    summary = (ROOT / "experiments/sweeps/results_n_per_class/summary.md").read_text()
    title = summary.splitlines()[0].lstrip("# ").replace("`", "")
    built = parse((site / "experiments/sweeps/results_n_per_class/summary.html").read_text())
    assert title in built.text


def test_top_level_page_lists_every_public_name(site):
    import jaxsoftmax

    page = (site / "api" / "jaxsoftmax.html").read_text()
    for name in jaxsoftmax.__all__:  # the package is lazy: vars() lists what was used
        obj = getattr(jaxsoftmax, name)
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        assert re.search(rf'href="[^"]*#jaxsoftmax\.[\w.]*\b{name}"', page), name


API_PAGES = {
    "activations": ["jaxsoftmax.activations"],
    "sparse": ["jaxsoftmax.sparse"],
    "tempered": ["jaxsoftmax.tempered"],
    "penalties": ["jaxsoftmax.penalties"],
    "pairings": ["jaxsoftmax.pairings"],
    "definitions": ["jaxsoftmax.definitions"],
    "expfamily": ["jaxsoftmax.expfamily"],
    "gaussians": ["jaxsoftmax.gaussians"],
    "problems": ["jaxsoftmax.problems"],
    "metrics": ["jaxsoftmax.metrics"],
    "datasets": ["jaxsoftmax.datasets"],
    "mlp": ["jaxsoftmax.mlp"],
    "train": ["jaxsoftmax.train"],
    "config": ["jaxsoftmax.config"],
    "experiment": ["jaxsoftmax.experiment"],
    "sweeps": [
        "jaxsoftmax.sweeps",
        "jaxsoftmax.provenance",
        "jaxsoftmax.runtime",
    ],
    "stats": ["jaxsoftmax.stats"],
    "cli": [
        "jaxsoftmax.cli.reproduce",
        "jaxsoftmax.cli.sweep",
        "jaxsoftmax.io",
        "jaxsoftmax.progress",
    ],
    "derivations": ["jaxsoftmax.derivations"],
}


@pytest.mark.parametrize("page", sorted(API_PAGES))
def test_api_pages_document_every_public_function_and_class(site, page):
    import importlib

    ids = set(re.findall(r'id="([^"]+)"', (site / "api" / f"{page}.html").read_text()))
    for module_name in API_PAGES[page]:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [
            n for n in vars(module) if not n.startswith("_")
        ]
        for name in names:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue  # constants and submodules are described in prose
            assert f"{module_name}.{name}" in ids, f"{module_name}.{name} is not on api/{page}"


# --------------------------------------------------------------------------------------------
# In the browser: headless Chromium against the built site on a loopback HTTP server
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(INSTALL_CHROMIUM)
    return CHROMIUM


class _Served(http.server.SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]]

    def log_message(self, *args):  # quiet; requests are recorded instead
        pass

    def log_request(self, code="-", size="-"):
        self.requests.append((self.path, int(code) if str(code).isdigit() else 0))


@pytest.fixture(scope="module")
def served(site):
    """(base URL, the list of (path, status) the server answered)."""
    requests: list[tuple[str, int]] = []
    handler = type("Handler", (_Served,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browse(chromium, site, tmp_path_factory):
    """browse(url, *flags) -> stdout of headless Chromium; time spent is recorded."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    spent = [0.0]

    def run(url: str, *flags: str) -> str:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
            "--virtual-time-budget=15000", *flags, url,
        ]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        spent[0] += time.perf_counter() - start
        assert result.returncode == 0, f"chromium failed on {url}:\n{result.stderr[-3000:]}"
        return result.stdout

    yield run
    _record(site, "browser_s", spent[0])


def test_api_page_lists_functions_with_their_docstrings(served, browse):
    import jaxsoftmax

    base, _ = served
    dom = browse(f"{base}/api/activations.html", "--dump-dom")
    page = parse(dom)
    ids = {attrs.get("id") for _, attrs, _ in page.elements}
    for name in ("softmax", "log_softmax", "logsumexp", "hardmax", "l1_normalize"):
        assert f"jaxsoftmax.activations.{name}" in ids, name
    first_line = inspect.getdoc(jaxsoftmax.softmax).splitlines()[0]
    assert first_line in page.text
    assert "Args" in page.text or "Parameters" in page.text
    # And the package page links js.softmax to it, with its summary line.
    dom = browse(f"{base}/api/jaxsoftmax.html", "--dump-dom")
    assert re.search(r'href="activations\.html#jaxsoftmax\.activations\.softmax"', dom)
    assert first_line.split(":")[0].split("(")[0].strip() in parse(dom).text


def _math_report(dom: str) -> tuple[int, int, list[str]]:
    """(math elements, those typeset by MathJax, the TeX of those that are not)."""
    page = parse(dom)
    elements = page.elements
    total, typeset, raw = 0, 0, []
    for i, (tag, attrs, depth) in enumerate(elements):
        if "math" not in attrs.get("class", "").split():
            continue
        total += 1
        inside = []
        for tag2, attrs2, depth2 in elements[i + 1 :]:
            if depth2 <= depth:
                break
            inside.append((tag2, attrs2))
        containers = [a for t, a in inside if t == "mjx-container"]
        glyphs = [t for t, _ in inside if t in ("mjx-c", "mjx-mi", "mjx-mo", "mjx-mn")]
        if containers and containers[0].get("jax") == "CHTML" and glyphs:
            typeset += 1
        else:
            raw.append(tag + str(attrs))
    return total, typeset, raw


def test_equations_are_typeset_by_mathjax_offline(served, browse, site):
    base, requests = served
    # MathJax is served by the site itself, never from a CDN.
    for page in ("howto/expfamily.html", "derivations/TABLE1.html"):
        source = (site / page).read_text()
        scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', source, flags=re.I)
        assert scripts and not any("//" in s for s in scripts), scripts
        assert r"\(" in source  # the TeX source, before the browser typesets it
        dom = browse(f"{base}/{page}", "--dump-dom")
        total, typeset, raw = _math_report(dom)
        assert total >= 5 and typeset == total, (page, total, typeset, raw[:3])
        text = parse(dom).text
        assert r"\(" not in text and r"\[" not in text, "TeX left untypeset"
    assert any("tex-chtml.js" in p and code == 200 for p, code in requests)


_PROBE = """<!doctype html><meta charset="utf-8"><title>probe</title>
<pre id="result">pending</pre>
<iframe id="page" src="PAGE" width="1200" height="3000"></iframe>
<script>
document.getElementById("page").addEventListener("load", async (event) => {
  const images = Array.from(event.target.contentDocument.images);
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  document.getElementById("result").textContent = JSON.stringify(images.map((img) => ({
    src: img.getAttribute("src"), complete: img.complete,
    width: img.naturalWidth, height: img.naturalHeight})));
});
</script>
"""


def test_figure_is_present_and_loads(served, browse, site):
    base, requests = served
    probe = site / "_probe_figure.html"  # the test's own page beside the built ones
    probe.write_text(_PROBE.replace("PAGE", "sweeps.html"))
    dom = browse(f"{base}/{probe.name}", "--dump-dom")
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, flags=re.S)
    assert match and match.group(1) != "pending", "the probe page did not report"
    images = json.loads(html.unescape(match.group(1)))
    figure = [img for img in images if img["src"].endswith(FIGURE)]
    assert figure, f"no {FIGURE} on the sweeps page: {images}"
    assert figure[0]["complete"] and figure[0]["width"] > 200 and figure[0]["height"] > 100
    assert any(path.endswith(FIGURE) and code == 200 for path, code in requests)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_front_page_screenshot(served, browse, site):
    base, _ = served
    shot = site.parent / "screenshots" / "index.png"
    shot.parent.mkdir(exist_ok=True)
    browse(f"{base}/index.html", f"--screenshot={shot}", "--window-size=1280,900",
           "--hide-scrollbars")  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 20_000, "blank or missing screenshot"
    assert _png_size(shot) == (1280, 900)
    target = os.environ.get("JAXSOFTMAX_DOCS_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / "index.png")
    print(f"\n[docs] front page screenshot: {shot}")
