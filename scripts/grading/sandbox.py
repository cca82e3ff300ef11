"""A sandbox per submission: bubblewrap where it runs, else a private folder and limits.

With bwrap (Linux), the kernel sees a new root built from an allow-list, nothing else:

    /usr /etc (and the /bin /lib... links), read-only     the system
    the Python installation, the venv, course_lib, read-only
    /tmp   a size-limited tmpfs: HOME, the working folder, TMPDIR — this submission's only
           writable space, gone when the sandbox ends
    the run folder (connection file and the kernel's IPC sockets), writable until the kernel
           has bound its sockets, then handed back to the grader (read-only for the kernel)

so the course tree (solutions/, scripts/, tests/), the submissions, the grades folder and the
home folders do not exist inside. New PID, network, IPC and UTS namespaces (`--unshare-net`:
no network; `--unshare-pid`: the kernel cannot see or signal the grader or another sandbox,
and killing the namespace's first process ends every process inside), a new session (no
terminal injection), all capabilities dropped. The launcher inside switches to an unprivileged
uid of its own per worker slot and sets rlimits (address space, CPU time, processes — enforced
because the uid is not root —, file size, open files, no core files) before it execs the
kernel. `--die-with-parent` ends the sandbox if the grader dies: the grader starts bwrap from
the worker thread that waits for the notebook, so the "parent" (that thread) lives exactly as
long as the notebook.

Without bwrap (macOS, or bwrap missing or not permitted) the kernel gets a private working
folder and HOME, its own session (process group), the rlimits the platform enforces and, when
the grader runs as root, the same unprivileged uid; ``missing_protections()`` says what is lost.
"""
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# uids of the sandboxes: one per worker slot, a range of its own per grader process so that
# two grading runs on one machine never share a process count
SLOTS = 256
_UID_BASE = 200_000 + (os.getpid() % 20_000) * SLOTS


@dataclass(frozen=True)
class Limits:
    """Per-kernel limits (bytes and seconds)."""

    address_space: int = 4 << 30
    cpu_seconds: int = 900
    processes: int = 96
    file_size: int = 64 << 20
    open_files: int = 512
    tmpfs_size: int = 512 << 20


_bwrap_checked = {}


def bwrap_path():
    """The bwrap executable if it exists AND can build a sandbox here, else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    if path not in _bwrap_checked:
        try:
            ok = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net",
                                 "--cap-drop", "ALL", "true"],
                                capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        _bwrap_checked[path] = ok
    return path if _bwrap_checked[path] else None


def missing_protections(mode):
    """One line naming what the fallback does not protect, or None for the bwrap sandbox."""
    if mode == "bwrap":
        if os.geteuid() != 0:
            return ("grade: bwrap without root: the kernels share your uid, so there is no "
                    "per-sandbox process-count limit (a fork bomb is stopped only by the time limits)")
        return None
    why = "bwrap is not installed" if shutil.which("bwrap") is None else "bwrap cannot run here"
    lost = ["filesystem isolation (a submission can read the course tree, solutions/ and "
            "classmates' files)", "network isolation", "a PID namespace"]
    if os.geteuid() != 0 or not _others_can_run_python():
        lost.append("a separate uid (a submission can signal the grader and write its files)")
        lost.append("a process-count limit")
    if sys.platform == "darwin":
        lost.append("an address-space limit")
    return (f"grade: no sandbox ({why}): each kernel gets a private folder and CPU/size limits, "
            f"but NOT {', '.join(lost)}; install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)")


# Runs first in the sandbox (as its root, keeping only CAP_SETUID and CAP_SETGID) or,
# without bwrap, on the host. In the sandbox it is the PID namespace's first process: it forks
# the kernel (limits, the unprivileged uid, the private folders, then exec) and stays as the
# namespace's init, reaping orphans, until the kernel exits or the grader's end of the watch
# pipe closes (the grader died or killed the sandbox); then it exits, and the kernel (Linux)
# kills every process left in the namespace. No signal from the kernel's uid can reach it.
_LAUNCHER = r"""
import json, os, resource, select, signal, sys
p = json.loads(sys.argv[1])

def child():
    for name, soft, hard in p["limits"]:
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass
    if p["uid"] is not None:
        os.setgroups([])
        os.setresgid(p["uid"], p["uid"], p["uid"])
        os.setresuid(p["uid"], p["uid"], p["uid"])
        if sys.platform.startswith("linux") and not p["init"]:
            import ctypes   # a uid change clears the parent-death signal: set it again
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    for d in p["mkdirs"]:
        os.makedirs(d, mode=0o700, exist_ok=True)
    for src, dst in p["copies"]:
        try:
            os.makedirs(os.path.dirname(dst), mode=0o700, exist_ok=True)
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        except OSError:
            pass
    os.chdir(p["cwd"])
    os.execve(p["argv"][0], p["argv"], p["env"])

if not p["init"]:
    child()
watch = p["watch_fd"]
kernel = os.fork()
if kernel == 0:
    os.close(watch)
    try:
        child()
    finally:
        os._exit(127)
while True:
    ready, _, _ = select.select([watch], [], [], 0.5)
    if ready and not os.read(watch, 64):
        break                                    # the grader is gone
    done = False
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            done = True
            break
        if pid == 0:
            break
        if pid == kernel:
            done = True
    if done:
        break
os._exit(0)
"""


class Sandbox:
    """One kernel's sandbox. ``start(argv)`` launches ``argv`` inside; ``kill()`` ends every
    process of it (idempotent). ``run_dir`` is where the connection file and sockets live."""

    def __init__(self, slot, limits=Limits(), mode="auto", tmp_root=None, expose=(), seed_files=()):
        self.mode = mode if mode != "auto" else ("bwrap" if bwrap_path() else "none")
        if self.mode == "bwrap" and bwrap_path() is None:
            raise RuntimeError("bwrap was requested but cannot run here")
        self.limits = limits
        # an unprivileged uid of its own (only root can switch; without bwrap only if that uid
        # can reach the interpreter, e.g. not for a Python under /root)
        switch = os.geteuid() == 0 and (self.mode == "bwrap" or _others_can_run_python())
        self.uid = _UID_BASE + slot if switch else None
        self.expose = [Path(p) for p in expose]
        # (host file, path under HOME): read-only inputs copied into the kernel's HOME at start
        # (matplotlib's font list, which would otherwise be rebuilt by every kernel)
        self.seed_files = [(str(h), rel) for h, rel in seed_files if os.path.isfile(h)]
        # short paths: IPC socket paths must stay under ~100 characters
        self.job_dir = Path(tempfile.mkdtemp(prefix=f"cg-{os.getpid()}-", dir=tmp_root or "/tmp"))
        os.chmod(self.job_dir, 0o711)
        self.run_dir = self.job_dir / "run"
        self.run_dir.mkdir(mode=0o755)
        self.proc = None
        self._watch_w = None
        self.child_pid = None     # the sandbox's first process (bwrap) or the kernel (fallback)
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- set-up
    def _env(self, home, tmp):
        env = {"HOME": home, "TMPDIR": tmp, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": f"{home}/.config/matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONNOUSERSITE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1",
               "IPYTHONDIR": f"{home}/.ipython", "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
               "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter"}
        if "PYTHONHASHSEED" in os.environ:
            env["PYTHONHASHSEED"] = os.environ["PYTHONHASHSEED"]
        return env

    def _limits(self):
        lim = self.limits
        out = [("RLIMIT_CPU", lim.cpu_seconds, lim.cpu_seconds + 5),
               ("RLIMIT_FSIZE", lim.file_size, lim.file_size),
               ("RLIMIT_NOFILE", lim.open_files, lim.open_files),
               ("RLIMIT_CORE", 0, 0)]
        if sys.platform != "darwin":
            out.append(("RLIMIT_AS", lim.address_space, lim.address_space))
        if self.uid is not None:  # RLIMIT_NPROC counts per uid and is not enforced for root
            out.append(("RLIMIT_NPROC", lim.processes, lim.processes))
        return out

    def _python_roots(self):
        """Folders the interpreter needs, outermost first, without nesting."""
        cands = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                 str(Path(sys.executable).resolve().parent.parent)}
        cands.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
        cands.update(str(p) for p in self.expose)
        roots = []
        for c in sorted({os.path.realpath(c) for c in cands if os.path.exists(c)}, key=len):
            if c in ("/", "/usr") or c.startswith("/usr/"):
                continue
            if not any(c == r or c.startswith(r + os.sep) for r in roots):
                roots.append(c)
        # a venv reached through a symlink is bound at its spelled path too
        for c in (sys.prefix,):
            if os.path.realpath(c) != c and c not in roots:
                roots.append(c)
        return roots

    def _bwrap_argv(self, launcher_argv, info_fd):
        argv = [bwrap_path(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--new-session", "--die-with-parent", "--as-pid-1",
                "--hostname", "sandbox", "--cap-drop", "ALL"]
        if self.uid is not None:
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        made = set()

        def parents(path):
            # bwrap creates missing mount points 0700: make them traversable for the kernel's uid
            out = []
            for parent in reversed(Path(path).parents):
                p = str(parent)
                if p != "/" and p not in made:
                    made.add(p)
                    out += ["--perms", "0755", "--dir", p]
            return out
        # the tmpfs first: a course (or venv) that lives under /tmp is bound on top of it,
        # not hidden by it
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.tmpfs_size), "--perms", "1777", "--tmpfs", "/tmp"]
        made.add("/tmp")
        for root in self._python_roots():
            argv += parents(root)
            if os.path.realpath(root) != root:
                argv += ["--symlink", os.path.realpath(root), root]
            else:
                argv += ["--ro-bind", root, root]
        argv += [*parents(self.run_dir), "--bind", str(self.run_dir), str(self.run_dir),
                 *[a for i, (host, _) in enumerate(self.seed_files)
                   for a in ("--ro-bind", host, f"/run/cg/{i}")],
                 "--clearenv", "--info-fd", str(info_fd), "--chdir", "/tmp", "--"]
        return argv + launcher_argv

    def start(self, argv):
        """Start ``argv`` (the kernel command) inside the sandbox; returns the Popen."""
        if self.uid is not None:
            os.chown(self.run_dir, self.uid, self.uid)
        if self.mode == "bwrap":
            home, tmp, work = "/tmp/home", "/tmp/tmp", "/tmp/work"
        else:
            base = self.job_dir / "private"
            base.mkdir(mode=0o700)
            if self.uid is not None:
                os.chown(base, self.uid, self.uid)
            home, tmp, work = str(base / "home"), str(base / "tmp"), str(base / "work")
        if self.mode == "bwrap":
            copies = [(f"/run/cg/{i}", f"{home}/{rel}") for i, (_, rel) in enumerate(self.seed_files)]
        else:
            copies = [(host, f"{home}/{rel}") for host, rel in self.seed_files]
        params = {"limits": self._limits(), "uid": self.uid, "mkdirs": [home, tmp, work],
                  "copies": copies, "cwd": work, "argv": argv, "env": self._env(home, tmp),
                  "init": self.mode == "bwrap", "watch_fd": None}
        if self.mode == "bwrap":
            r, w = os.pipe()
            # the watch pipe: the sandbox's init exits when our end closes (the grader died)
            watch_r, self._watch_w = os.pipe()
            params["watch_fd"] = watch_r
            launcher = [sys.executable, "-I", "-c", _LAUNCHER, json.dumps(params)]
            try:
                self.proc = subprocess.Popen(self._bwrap_argv(launcher, w), pass_fds=(w, watch_r),
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, start_new_session=True)
            finally:
                os.close(w)
                os.close(watch_r)
            self.child_pid = self._read_info(r)
        else:
            launcher = [sys.executable, "-I", "-c", _LAUNCHER, json.dumps(params)]
            self.proc = subprocess.Popen(launcher, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True, preexec_fn=_die_with_parent)
            self.child_pid = self.proc.pid
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        return self.proc

    def _read_info(self, fd):
        """bwrap's --info-fd JSON: the pid (in our namespace) of the sandbox's first process."""
        data, deadline = b"", time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    data += chunk
                    try:
                        return int(json.loads(data)["child-pid"])
                    except (ValueError, KeyError):
                        continue
                if self.proc.poll() is not None:
                    break
        finally:
            os.close(fd)
        return None

    def _drain_stderr(self):
        """Keep the kernel's stderr pipe from filling (its first 8 kB are kept for errors)."""
        self.stderr_head = b""
        try:
            while True:
                chunk = self.proc.stderr.read(4096)
                if not chunk:
                    break
                if len(self.stderr_head) < 8192:
                    self.stderr_head += chunk[: 8192 - len(self.stderr_head)]
        except (OSError, ValueError):
            pass

    def lock_run_dir(self):
        """After the kernel has bound its sockets: the run folder is the grader's again."""
        if self.uid is not None:
            os.chown(self.run_dir, 0, 0)
        os.chmod(self.run_dir, 0o755)

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the sandbox's processes (Linux; else None)."""
        if self.child_pid is None or not os.path.isdir("/proc"):
            return None
        total, todo, seen = 0, [self.child_pid], set()
        tick = os.sysconf("SC_CLK_TCK")
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(v) for v in fields[11:15])     # utime stime cutime cstime
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except (OSError, ValueError, IndexError):
                continue
        return total / tick

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ----------------------------------------------------------------- the end
    def kill(self):
        """SIGKILL everything the sandbox started. Idempotent; safe from any thread."""
        with self._lock:
            if self.proc is None:
                return
            if self.mode == "bwrap":
                # the pid namespace's first process: when it dies the kernel kills every
                # process left in the namespace, whatever they did with signals or sessions
                if self.child_pid:
                    _kill(self.child_pid)
                _kill(self.proc.pid)
            else:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                if self.uid is not None:   # processes that left the process group
                    _kill_uid(self.uid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if self._watch_w is not None:
                os.close(self._watch_w)
                self._watch_w = None
            if self.uid is not None:
                # the namespace's processes die asynchronously: wait until none is left (and
                # end, as a last resort, anything of this sandbox's uid still running)
                _kill_uid(self.uid)

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.job_dir, ignore_errors=True)


def _others_can_run_python():
    """Whether a uid other than ours can traverse to the interpreter, its prefixes and sys.path."""
    paths = {os.path.realpath(sys.executable), sys.prefix, sys.base_prefix,
             *[p for p in sys.path if p and os.path.isdir(p)]}
    for path in paths:
        for parent in [Path(path), *Path(path).parents]:
            try:
                if not os.stat(parent).st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


def sweep_stale_job_dirs(tmp_root=None):
    """Remove the job folders of grader processes that no longer exist (killed with -9)."""
    root = Path(tmp_root or "/tmp")
    for path in root.glob("cg-*-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_exists(pid) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _pid_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _uid_pids(uid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        try:
            if int(fields["Uid"].split()[1]) == uid and not fields["State"].strip().startswith(("Z", "X")):
                pids.append(int(entry))     # a zombie has ended; only its exit status is left
        except (KeyError, ValueError, IndexError):
            continue
    return pids


def _kill_uid(uid):
    """Kill every process of ``uid`` (the fallback's way to reach processes that left the
    group); repeated, since a process may fork while we kill."""
    if not os.path.isdir("/proc"):
        return
    for _ in range(60):
        pids = _uid_pids(uid)
        if not pids:
            return
        for pid in pids:
            _kill(pid)
        time.sleep(0.05)


def sandbox_uids(slots=SLOTS):
    """The uids this grader process gives its sandboxes (for tests that look for leftovers)."""
    return range(_UID_BASE, _UID_BASE + slots)


def leftover_pids(slots=SLOTS):
    """Processes still running under this grader's sandbox uids (should be none)."""
    if os.geteuid() != 0 or not os.path.isdir("/proc"):
        return []
    return [pid for uid in sandbox_uids(slots) for pid in _uid_pids(uid)]


def _die_with_parent():
    """preexec_fn of the fallback: the kernel gets SIGKILL when the grader's thread dies
    (Linux only), then the limits and uid are set by the launcher."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def new_key():
    return secrets.token_hex(32)
