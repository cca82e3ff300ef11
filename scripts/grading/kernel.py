"""A kernel inside a sandbox, driven cell by cell with hard deadlines and capped outputs.

The grader talks to the kernel over ZeroMQ's IPC transport (TCP cannot cross
``--unshare-net``): the connection file and the socket files are in the sandbox's run folder.
Each cell gets a wall-clock deadline; past it the kernel is interrupted (SIGINT through the
control channel) and, if it is not idle again within a few seconds — a submission that ignores
SIGINT, or a loop in C —, the whole sandbox is killed: no signal handling can dodge that.
Only what the grader keeps is capped (text per cell and per notebook; one message at most
``max_message`` bytes), so a submission that prints gigabytes cannot exhaust the grader.
"""
import json
import queue
import re
import sys
import time
from dataclasses import dataclass, field

import zmq
from jupyter_client.blocking import BlockingKernelClient

from . import sandbox as sandbox_mod
from ._inkernel import MIME

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Caps:
    cell_text: int = 20_000          # characters of output kept per cell
    notebook_text: int = 400_000     # ... and per notebook
    max_message: int = 8 << 20       # bytes: a larger message from the kernel is dropped
    verdicts: int = 16               # verdict messages kept per cell


@dataclass
class CellResult:
    status: str = "ok"               # ok | error | timeout | dead
    seconds: float = 0.0
    text: str = ""                   # captured output (stream, text/plain, error), capped
    ename: str = ""
    evalue: str = ""
    verdicts: list = field(default_factory=list)
    truncated: bool = False
    interrupted: bool = False


class KernelStartError(RuntimeError):
    pass


class Kernel:
    def __init__(self, box, startup_timeout=60, caps=Caps(), interrupt_grace=5.0):
        self.box = box
        self.startup_timeout = startup_timeout
        self.caps = caps
        self.grace = interrupt_grace
        self.kept = 0
        self.client = None
        self.context = None
        self.dead = False

    # ------------------------------------------------------------------ start / stop
    def start(self):
        run = self.box.run_dir
        info = {"transport": "ipc", "ip": str(run / "k"), "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": sandbox_mod.new_key(),
                "signature_scheme": "hmac-sha256", "kernel_name": "python3"}
        conn = run / "kernel.json"
        conn.write_text(json.dumps(info))
        conn.chmod(0o644)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn),
                "--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR"]
        self.box.start(argv)
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, self.caps.max_message)
        self.context.setsockopt(zmq.LINGER, 0)
        self.client = BlockingKernelClient(context=self.context)
        self.client.load_connection_info(info)
        self.client.start_channels()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not self.box.alive():
                raise KernelStartError("the kernel exited while starting: "
                                       + _tail(getattr(self.box, "stderr_head", b"")))
            if time.monotonic() > deadline:
                raise KernelStartError(f"the kernel did not answer within {self.startup_timeout:g} s")
            msg_id = self.client.kernel_info()
            try:
                reply = self._shell_reply(msg_id, 1.0)
            except queue.Empty:
                continue
            if reply is not None:
                break
        self.box.lock_run_dir()
        self._drain_iopub()

    def close(self):
        """End the kernel (the whole sandbox) and the client. Idempotent."""
        self.dead = True
        self.box.kill()
        client, self.client = self.client, None
        if client is not None:
            try:
                client.stop_channels()
            except Exception:  # noqa: BLE001 (closing a channel of a killed kernel)
                pass
        context, self.context = self.context, None
        if context is not None:
            context.destroy(linger=0)

    # ------------------------------------------------------------------ helpers
    def _shell_reply(self, msg_id, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise queue.Empty
            msg = self.client.get_shell_msg(timeout=left)
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    def _drain_iopub(self):
        while True:
            try:
                self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                return

    def _drain_shell(self):
        while True:
            try:
                self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return

    def _keep(self, result, text):
        room = min(self.caps.cell_text - len(result.text), self.caps.notebook_text - self.kept)
        if room <= 0:
            result.truncated = True
            return
        text = ANSI.sub("", text)
        if len(text) > room:
            text, result.truncated = text[:room], True
        result.text += text
        self.kept += len(text)

    def _interrupt(self):
        try:
            msg = self.client.session.msg("interrupt_request", {})
            self.client.control_channel.send(msg)
        except Exception:  # noqa: BLE001 (a kernel that is gone)
            pass

    # ------------------------------------------------------------------ one cell
    def run(self, code, timeout, store_history=True):
        """Execute ``code``; wait at most ``timeout`` seconds (then interrupt, then kill)."""
        result = CellResult()
        if self.dead or not self.box.alive():
            self.dead = True
            result.status = "dead"
            return result
        start = time.monotonic()
        msg_id = self.client.execute(code, silent=False, store_history=store_history,
                                     allow_stdin=False, stop_on_error=False)
        deadline = start + max(timeout, 0.1)
        interrupted_at = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                self._interrupt()
                interrupted_at = now
                result.interrupted = True
            if interrupted_at is not None and now > interrupted_at + self.grace:
                # not idle again after SIGINT: end the sandbox (and everything in it)
                self.close()
                result.status = "timeout"
                break
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.box.alive():
                    self.dead = True
                    result.status = "dead"
                    break
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue      # output of a background thread or an earlier cell: not kept
            kind, content = msg.get("msg_type"), msg.get("content", {})
            if kind == "status" and content.get("execution_state") == "idle":
                if result.interrupted:
                    result.status = "timeout"
                break
            if kind == "stream":
                self._keep(result, str(content.get("text", "")))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                data = content.get("data", {})
                if isinstance(data, dict) and MIME in data:
                    if len(result.verdicts) < self.caps.verdicts:
                        result.verdicts.append(data[MIME])
                elif isinstance(data, dict) and "text/plain" in data:
                    self._keep(result, str(data["text/plain"]) + "\n")
            elif kind == "error":
                result.ename = str(content.get("ename", ""))[:200]
                result.evalue = str(content.get("evalue", ""))[:2000]
                if result.status == "ok":
                    result.status = "error"
                tb = content.get("traceback", [])
                if isinstance(tb, list):
                    self._keep(result, "\n".join(str(t) for t in tb[-8:]) + "\n")
        result.seconds = time.monotonic() - start
        if result.status in ("ok", "error") and result.ename == "KeyboardInterrupt" and result.interrupted:
            result.status = "timeout"
        if not self.dead:
            self._drain_shell()
        return result


def _tail(data, n=600):
    text = data.decode("utf-8", "replace").strip()
    return text[-n:] if text else "(no message)"
