"""Real-browser test: JupyterLab in headless Chromium, driven by Playwright.

For each lecture notebook: open it, run all cells, assert no error output, move the first
slider of its main widget with the keyboard, and assert that the figure changes; the time
from the key press to the new figure is measured in the page and printed per notebook.
Skipped — loudly — when Chromium is not installed (`apt-get install chromium`).
Set UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/ from the widgets.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = [ROOT / "notebooks" / "welcome.ipynb"] + LECTURES
LATENCY_TARGET_MS = 300
RUN_ALL_TIMEOUT_S = 240
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = pytest.mark.browser


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("SKIPPED browser test: Chromium not found at /usr/bin/chromium "
                    "(install it with `apt-get install chromium`; .ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    settings = tmp_path_factory.mktemp("lab-settings")
    # never write into the repository: autosave off (a run-all would otherwise save outputs)
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    # render every cell (no windowing), so that all prompts and outputs are in the page
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": True}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp("lab-workspaces")),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    port = _free_port()
    log = open(tmp_path_factory.mktemp("lab-log") / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={ROOT}",
         "--LabApp.news_url=", "--ServerApp.open_browser=False", "--allow-root"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}; see {log.name}")
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail(f"JupyterLab did not answer on {base} within 90 s; see {log.name}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield base, browser
        finally:
            browser.close()
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def _busy(page):
    return page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]").count() > 0


def _run_all_and_wait(page):
    """Run all cells and wait until none is queued or running.

    Committed prompts already show numbers, so completion is judged by the "[*]" markers:
    first wait for execution to start (retrying "Run All" if the kernel dropped it while
    starting), then for every "[*]" to go.
    """
    for attempt in range(3):
        _menu(page, "Run", "Run All Cells")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _busy(page):
            time.sleep(0.05)
        if _busy(page):
            break
    else:
        pytest.fail("Run All Cells did not start executing (kernel not ready?)")
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    idle_since = None
    while time.monotonic() < deadline:
        if _busy(page):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1.0:   # stays idle: done
            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            assert all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts), f"unexecuted cells: {prompts}"
            return
        time.sleep(0.2)
    pytest.fail(f"cells still running after {RUN_ALL_TIMEOUT_S} s")


# In-page instrumentation: record when a key goes down and when the widget's figure changes.
_OBSERVE = """(root) => {
  window.__keyAt = null; window.__changeAt = null;
  const img = () => { const i = root.querySelector('img'); return i ? i.src : null; };
  window.__lastSrc = img();
  document.addEventListener('keydown', e => { window.__keyAt = performance.now(); window.__changeAt = null; }, true);
  new MutationObserver(() => {
    const s = img();
    if (s && s !== window.__lastSrc && window.__keyAt !== null && window.__changeAt === null) {
      window.__changeAt = performance.now(); window.__lastSrc = s;
    }
  }).observe(root, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""


def _move_slider(page, widget, key):
    page.evaluate("() => { window.__changeAt = null; }")
    handle = widget.locator(".noUi-handle, input[type=range]").first
    handle.focus()
    page.keyboard.press(key)
    page.wait_for_function("() => window.__changeAt !== null", timeout=15000)
    return page.evaluate("() => window.__changeAt - window.__keyAt")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_browser(lab, path):
    base, browser = lab
    before = _digest([path, path.with_suffix(".py")])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # ?reset: a fresh workspace, so tabs from earlier tests are not restored
        page.goto(f"{base}/lab/tree/notebooks/{path.name}?reset")
        page.locator(".jp-Notebook").first.wait_for(timeout=60000)
        # the kernel must be up before "Run All": cells queued during start-up can be dropped
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90000)
        # outputs committed in the file are cleared so that what we check is what runs now
        _menu(page, "Edit", "Clear Outputs of All Cells")
        _run_all_and_wait(page)
        errors = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, f"{path.name}: error output in the browser:\n" + "\n".join(errors.all_inner_texts())[:2000]
        # widget views render asynchronously after the execution reply: wait for them
        panel = page.locator(".jp-NotebookPanel:visible").first
        widget = panel.locator(".course-main-widget").first
        widget.wait_for(timeout=30000)
        widget.locator("img").first.wait_for(timeout=30000)
        widget.scroll_into_view_if_needed()
        widget.evaluate(_OBSERVE)
        latencies = []
        for key in ("ArrowRight", "ArrowLeft", "ArrowRight", "ArrowLeft", "ArrowRight"):
            latencies.append(_move_slider(page, widget, key))
        median = statistics.median(latencies)
        print(f"\n{path.stem}: slider → new figure {median:.0f} ms median "
              f"({', '.join(f'{x:.0f}' for x in latencies)} ms)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        widget.screenshot(path=str(ARTIFACTS / f"{path.stem}.png"))
        if os.environ.get("UPDATE_SCREENSHOTS"):
            shots = ROOT / "docs" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            shutil.copy(ARTIFACTS / f"{path.stem}.png", shots / f"{path.stem}.png")
        assert median < LATENCY_TARGET_MS, f"{path.name}: median slider latency {median:.0f} ms ≥ {LATENCY_TARGET_MS} ms"
    except BaseException:   # pytest.fail raises a BaseException
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{path.stem}-failure.png"), full_page=True)
        raise
    finally:
        page.close()
    assert _digest([path, path.with_suffix(".py")]) == before, \
        f"the browser test modified {path.name} in the repository (autosave must stay off)"
