"""Drive the course in a real browser on the student's own path (used by tests/test_browser.py
and benchmarks/bench_browser.py).

``course_copy`` makes a temporary copy of the course (the committed files, with their times),
``lab_server`` starts JupyterLab in it with the Makefile's own ``make lab`` recipe — the same
student copy in work/, the same start page, the course's JupyterLab overrides, autosave and
windowing at their defaults, no test-only environment — and ``Lab`` drives it with Playwright in
Debian's Chromium: open a notebook, clear and run everything from the menus, find error
outputs, count figures, move a slider, save.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_ALL_TIMEOUT_S = 300
# variables our test and bench processes set for themselves, which a student's shell does not
TEST_ONLY_ENV = ("MPLBACKEND", "COURSE_SEED", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER",
                 "PYTEST_XDIST_TESTRUNUID", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")

# What a failed cell looks like in JupyterLab: a traceback (IPython's), or a check's failure
# block (course_lib/checks/_common.py). JupyterLab renders both — and plain stderr such as a
# warning — as application/vnd.jupyter.stderr, so the text decides.
ERROR_SIGNS = re.compile(r"Traceback \(most recent call last\)|^✗ |^\w+(Error|Exception|Interrupt)\b",
                         re.MULTILINE)


def chromium_missing():
    return not Path(CHROMIUM).exists()


def committed_files(root=ROOT):
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def course_copy(dest):
    """Copy the course's tracked files into ``dest`` (modification times kept); return dest."""
    dest = Path(dest)
    for rel in committed_files():
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def student_env(state_dir):
    """The environment of a student's shell: ours minus test-only variables, with Jupyter's
    per-user state (settings, workspaces) fresh in ``state_dir``, as on a first `make lab`."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    env["JUPYTERLAB_SETTINGS_DIR"] = str(Path(state_dir) / "user-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(Path(state_dir) / "workspaces")
    return env


@contextlib.contextmanager
def lab_server(course_dir, state_dir, log_path):
    """``make lab`` in ``course_dir`` on a free port (no browser, a random token).

    The venv is this checkout's; its install step is not re-run (``make -o``), since it would
    reinstall the course from the copy. Yields (base_url, token).
    """
    venv = ROOT / ".venv"
    port, token = _free_port(), secrets.token_hex(16)
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token} "
            f"--ServerApp.open_browser=False")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        ["make", "-o", str(venv / ".installed"), "lab", f"VENV={venv}", f"PORT={port}",
         f"LAB_ARGS={args}"],
        cwd=course_dir, env=student_env(state_dir), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"`make lab` exited with code {proc.returncode}; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer on {base} within 120 s; see {log_path}")
                time.sleep(0.5)
        yield base, token
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def count_committed_figures(path):
    """The number of PNG figures stored in a notebook file's outputs."""
    nb = json.loads(Path(path).read_text())
    return sum("image/png" in out.get("data", {})
               for cell in nb["cells"] if cell["cell_type"] == "code"
               for out in cell.get("outputs", []))


def error_outputs_in_file(path):
    nb = json.loads(Path(path).read_text())
    return [f"{out.get('ename')}: {out.get('evalue')}"
            for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def texts(locator):
    """The text content of every element (not innerText: off-screen cells are skipped by the
    browser's rendering under JupyterLab's default content-visibility windowing)."""
    return locator.evaluate_all("els => els.map(e => e.textContent)")


class Lab:
    """One JupyterLab page, opened on one notebook of the student copy (work/...)."""

    def __init__(self, browser, base, token, relpath, course_root, viewport=(1400, 1000)):
        self.base, self.token, self.relpath = base, token, relpath
        self.path = Path(course_root) / relpath
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        # ?reset: a fresh workspace, so tabs from earlier pages are not restored
        self.page.goto(f"{base}/lab/tree/{relpath}?reset&token={token}")
        self.page.locator(".jp-Notebook").first.wait_for(timeout=90000)
        # the kernel must be up before "Run All": cells queued during start-up can be dropped
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120000)
        self.panel = self.page.locator(".jp-NotebookPanel:visible").first
        # JupyterLab attaches the cells progressively: wait until all of them are in the page
        n_cells = len(json.loads(self.path.read_text())["cells"])
        deadline = time.monotonic() + 60
        while self.panel.locator(".jp-Notebook .jp-Cell").count() < n_cells:
            if time.monotonic() > deadline:
                raise AssertionError(f"{relpath}: only {self.panel.locator('.jp-Cell').count()} "
                                     f"of {n_cells} cells appeared in the page")
            time.sleep(0.1)

    def close(self):
        self.page.close()

    def menu(self, menu, item):
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()

    def prompts(self):
        return [p.strip() for p in texts(self.panel.locator(".jp-CodeCell .jp-InputArea-prompt"))]

    def busy(self):
        return any(p == "[*]:" for p in self.prompts())

    def clear_all_outputs(self):
        self.menu("Edit", "Clear Outputs of All Cells")

    def run_all(self, timeout=RUN_ALL_TIMEOUT_S, attempts=3):
        """Run → Run All Cells, then wait until no cell is queued or running (and the page
        stays idle for a second). Returns the seconds it took.

        A kernel that is still connecting can drop the queued cells (they go back to "[ ]"
        with nothing run): when the page goes idle with no cell executed, Run All is sent
        again, up to `attempts` times."""
        start = time.monotonic()
        before = self.prompts()
        for _ in range(attempts):
            self.menu("Run", "Run All Cells")
            # started: a cell is queued or running, or the prompts already changed (a short
            # notebook can finish between two looks)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (self.busy() or self.prompts() != before):
                time.sleep(0.05)
            if not (self.busy() or self.prompts() != before):
                continue
            self._wait_until_idle(timeout - (time.monotonic() - start))
            if any(re.fullmatch(r"\[\d+\]:", p) for p in self.prompts()):
                return time.monotonic() - start
        raise AssertionError(f"{self.relpath}: Run All Cells ran nothing after {attempts} attempts "
                             f"(kernel not ready?); prompts {self.prompts()}")

    def _wait_until_idle(self, timeout):
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.busy():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 1.0:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.relpath}: cells still running after {timeout:.0f} s")

    def unexecuted_cells(self):
        """Code cells without an execution count: after Run All, a failed cell stops the rest."""
        return [i for i, p in enumerate(self.prompts()) if not re.fullmatch(r"\[\d+\]:", p)]

    def error_outputs(self):
        """Texts of the outputs that show a failure (traceback or check failure), not warnings."""
        shown = texts(self.panel.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
        return [t for t in shown if ERROR_SIGNS.search(t)]

    def cell_texts(self):
        return texts(self.panel.locator(".jp-Notebook .jp-Cell"))

    def rendered_figures(self):
        """PNG images shown in output areas (static figures and widget outputs alike)."""
        return self.panel.locator(".jp-OutputArea-output[data-mime-type='image/png'] img").count()

    def save(self, timeout=30):
        """Ctrl+S in the notebook, then wait until the file on disk has been rewritten."""
        path_on_disk = self.path
        before = path_on_disk.stat().st_mtime_ns
        self.panel.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path_on_disk.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError):
                    json.loads(path_on_disk.read_text())
                    return
            time.sleep(0.2)
        raise AssertionError(f"{self.relpath}: Ctrl+S did not rewrite the file within {timeout} s")

    # ---- the main widget's slider

    def main_widget(self, timeout=60000):
        widget = self.panel.locator(".course-main-widget").first
        widget.wait_for(timeout=timeout)
        widget.locator("img").first.wait_for(timeout=timeout)
        widget.scroll_into_view_if_needed()
        return widget

    def widget_image(self, widget):
        return widget.locator("img").first.get_attribute("src")

    def slider_keys(self, widget, n):
        """``n`` arrow keys that move the widget's first slider back and forth, starting
        towards whichever side has room, so no press lands on an end and changes nothing."""
        from playwright.sync_api import Error as PlaywrightError
        handle = widget.locator(".noUi-handle").first
        try:
            now, top = (float(handle.get_attribute(a, timeout=5000)) for a in ("aria-valuenow", "aria-valuemax"))
        except (TypeError, ValueError, PlaywrightError):
            now, top = 0.0, 1.0
        first, back = ("ArrowLeft", "ArrowRight") if now >= top else ("ArrowRight", "ArrowLeft")
        return [first if i % 2 == 0 else back for i in range(n)]

    def move_slider(self, widget, key, timeout=30000):
        """Press ``key`` on the widget's first slider; wait for its figure to change.
        Returns the milliseconds from the key press to the new image, measured in the page."""
        self.page.evaluate("""(root) => {
          window.__keyAt = null; window.__changeAt = null;
          const img = () => { const i = root.querySelector('img'); return i ? i.src : null; };
          window.__lastSrc = img();
          if (!window.__courseObserver) {
            document.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, true);
          }
          if (window.__courseObserver) window.__courseObserver.disconnect();
          window.__courseObserver = new MutationObserver(() => {
            const s = img();
            if (s && s !== window.__lastSrc && window.__keyAt !== null && window.__changeAt === null) {
              window.__changeAt = performance.now(); window.__lastSrc = s;
            }
          });
          window.__courseObserver.observe(root, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['src']});
        }""", widget.element_handle())
        handle = widget.locator(".noUi-handle, input[type=range]").first
        handle.focus()
        self.page.keyboard.press(key)
        self.page.wait_for_function("() => window.__changeAt !== null", timeout=timeout)
        return self.page.evaluate("() => window.__changeAt - window.__keyAt")

    # ---- editing cells (the exercise flow)

    def cell(self, index):
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def set_cell_source(self, index, text):
        editor = self.cell(index).locator(".cm-content").first
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)

    def run_cell(self, index):
        """Select cell ``index`` and run it with Shift+Enter; wait for its output."""
        cell = self.cell(index)
        cell.locator(".cm-content").first.click()
        count_before = cell.locator(".jp-InputArea-prompt").text_content().strip()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            prompt = cell.locator(".jp-InputArea-prompt").text_content().strip()
            if re.fullmatch(r"\[\d+\]:", prompt) and prompt != count_before:
                return texts(cell.locator(".jp-OutputArea-output"))
            time.sleep(0.1)
        raise AssertionError(f"cell {index} did not finish within 120 s")
