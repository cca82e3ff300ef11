"""The grader's code that runs INSIDE a submission's kernel (sent as the first cell, before any
student code; never imported by the grader itself).

It captures, while the kernel is still pristine:

* the builtins, ``compile``/``exec``/``eval``, the display publisher's bound ``publish``;
* the source of every ``course_lib/checks/*.py`` file, compiled to code objects;
* a snapshot of the functions, classes and submodules of numpy, course_lib, a few standard
  modules and the kernel's message path (ipykernel, jupyter_client.session, IPython's
  display publisher), and the hooks that could watch a later cell (IPython events, input and
  AST transformers, trace and profile functions).

Before each check, ``guard()`` puts back everything in the snapshot that a student cell
replaced (``np.allclose = lambda *a: True``, ``checks.check_x = ...``, ``sys.modules[...]``,
``builtins.print``, a class method of ``course_lib`` or of the kernel's session, an IPython
``pre_run_cell`` hook...) and records what it restored. ``check(nonce, spec)`` then executes a
FRESH private copy of the check's module (and of ``_common``) from the code objects compiled at
start-up — not from ``sys.modules``, so nothing a student replaced there is used —, runs the
public check, then each hidden seed under that private copy's ``hidden_mode()``, and publishes
one display message of its own MIME type carrying the per-check nonce that the grader sent
with this cell only. The verdict is whether the check returned or raised the private copy's
``CheckFailure``; printed text plays no part.

What this cannot stop is code that runs while the check runs (the student's function, or a
thread started earlier) and deliberately reaches into the grader's objects; see
docs/grading.md, "What the sandbox and the channel do not protect".
"""

MIME = "application/vnd.course-grader.verdict+json"


def _boot(params):
    import builtins
    import io
    import os
    import sys
    import threading
    import types

    import numpy  # noqa: F401  (snapshotted below)
    import course_lib  # noqa: F401
    import course_lib.checks  # noqa: F401

    ip = get_ipython()  # noqa: F821 (IPython's name in the kernel's namespace)
    user_ns = ip.user_ns
    pristine_builtins = dict(vars(builtins))
    compile_, exec_, eval_ = builtins.compile, builtins.exec, builtins.eval
    getattr_, setattr_, isinstance_ = builtins.getattr, builtins.setattr, builtins.isinstance
    type_, list_, dict_, str_, repr_ = builtins.type, builtins.list, builtins.dict, builtins.str, builtins.repr
    BaseException_ = builtins.BaseException
    StringIO = io.StringIO
    ModuleType = types.ModuleType
    publish = ip.display_pub.publish
    modules = sys.modules
    orig_import = builtins.__import__
    settrace, setprofile = sys.settrace, sys.setprofile

    # ---------------------------------------------------------------- the checks' code
    check_dir = os.path.dirname(course_lib.checks.__file__)
    codes = {}
    for name in sorted(os.listdir(check_dir)):
        if name.endswith(".py"):
            path = os.path.join(check_dir, name)
            with open(path, encoding="utf-8") as f:
                source = f.read()
            try:
                codes[name[:-3]] = (compile_(source, path, "exec"), path)
            except SyntaxError:  # a module being edited: its checks report an error
                pass

    # ---------------------------------------------------------------- the snapshot
    watched_prefixes = ("numpy", "course_lib", "ipykernel", "jupyter_client.session",
                        "IPython.core.displaypub", "IPython.core.interactiveshell")
    watched_std = ("builtins", "contextlib", "contextvars", "dataclasses", "functools", "math",
                   "textwrap", "traceback", "types", "warnings", "io", "sys", "copy", "operator")
    class_prefixes = ("course_lib", "ipykernel", "jupyter_client.session",
                      "IPython.core.displaypub")

    def watched(name):
        return name in watched_std or any(name == p or name.startswith(p + ".")
                                          for p in watched_prefixes)

    # set anew by ipykernel for every execution: not a student's doing
    per_execution = {("builtins", "input"), ("builtins", "raw_input"), ("sys", "excepthook"),
                     ("sys", "displayhook"), ("sys", "breakpointhook")}
    # libraries that register IPython event callbacks themselves (pyplot's post_execute)
    hook_modules = ("matplotlib", "matplotlib_inline", "IPython", "ipykernel", "ipywidgets",
                    "ipympl", "traitlets")

    def replaceable(value):
        return callable(value) or isinstance_(value, ModuleType)

    def method_like(value):
        return callable(value) or isinstance_(value, (staticmethod, classmethod, property))

    mod_snap, class_snap = {}, {}
    for name, mod in list_(modules.items()):
        if mod is None or not watched(name):
            continue
        try:
            attrs = dict_(vars(mod))
        except TypeError:
            continue
        mod_snap[name] = (mod, {k: v for k, v in attrs.items()
                                if replaceable(v) and (name, k) not in per_execution})
        for value in attrs.values():
            if (isinstance_(value, type_) and str_(getattr_(value, "__module__", "")).startswith(class_prefixes)
                    and value not in class_snap):
                members = dict_(vars(value))
                class_snap[value] = ({k: v for k, v in members.items() if method_like(v)}, set(members))
    builtins_snap = {k: v for k, v in pristine_builtins.items()
                     if replaceable(v) and ("builtins", k) not in per_execution}
    events_snap = {name: list_(cbs) for name, cbs in ip.events.callbacks.items()}
    transformer_lists = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
    transformers_snap = {name: list_(getattr_(ip, name, [])) for name in transformer_lists}
    itm = ip.input_transformer_manager
    itm_snap = {name: list_(getattr_(itm, name, [])) for name in ("cleanup_transforms", "line_transforms",
                                                                   "token_transformers")}
    trace_snap, profile_snap = sys.gettrace(), sys.getprofile()
    instance_snap = {}
    for obj in (ip, ip.kernel, ip.display_pub, ip.kernel.session):
        instance_snap[id(obj)] = (obj, set(vars(obj)))
    threads_snap = set(threading.enumerate())

    def restore():
        """Put back whatever a student cell replaced; return what was put back."""
        notes = []
        for name, (mod, attrs) in mod_snap.items():
            if modules.get(name) is not mod:
                modules[name] = mod
                notes.append(f"sys.modules[{name!r}]")
            current = vars(mod)
            for key, value in attrs.items():
                if current.get(key, None) is not value:
                    try:
                        current[key] = value
                    except TypeError:
                        continue
                    notes.append(f"{name}.{key}")
        for cls, (methods, keys) in class_snap.items():
            current = vars(cls)
            for key, value in methods.items():
                if current.get(key, None) is not value:
                    try:
                        setattr_(cls, key, value)
                    except (TypeError, AttributeError):
                        continue
                    notes.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
            for key in [k for k, v in current.items() if k not in keys and method_like(v)]:
                try:
                    delattr(cls, key)
                except (TypeError, AttributeError):
                    continue
                notes.append(f"{cls.__module__}.{cls.__qualname__}.{key} (added)")
        current = vars(builtins)
        for key, value in builtins_snap.items():
            if current.get(key, None) is not value:
                current[key] = value
                notes.append(f"builtins.{key}")
        for obj, keys in instance_snap.values():
            cls_attrs = dir(type_(obj))
            for key in [k for k in vars(obj) if k not in keys and k in cls_attrs]:
                delattr(obj, key)
                notes.append(f"{type_(obj).__name__}.{key} (instance override)")
        for name, cbs in ip.events.callbacks.items():
            extra = [cb for cb in cbs if cb not in events_snap.get(name, [])
                     and not str_(getattr_(cb, "__module__", None) or "").startswith(hook_modules)]
            for cb in extra:
                cbs.remove(cb)
                notes.append(f"IPython event hook {name}")
        for name, saved in transformers_snap.items():
            if getattr_(ip, name, None) != saved:
                setattr_(ip, name, list_(saved))
                notes.append(f"IPython {name}")
        for name, saved in itm_snap.items():
            if getattr_(itm, name, None) != saved:
                setattr_(itm, name, list_(saved))
                notes.append(f"IPython input transformer {name}")
        if sys.gettrace() is not trace_snap:
            settrace(trace_snap)
            notes.append("sys.settrace hook")
        if sys.getprofile() is not profile_snap:
            setprofile(profile_snap)
            notes.append("sys.setprofile hook")
        if getattr_(threading, "_trace_hook", None) is not None:
            threading._trace_hook = None
            notes.append("threading.settrace hook")
        if getattr_(threading, "_profile_hook", None) is not None:
            threading._profile_hook = None
            notes.append("threading.setprofile hook")
        return notes

    # ---------------------------------------------------------------- a private copy of the checks

    class PrivateChecks:
        """course_lib.checks.<module> executed afresh from the start-up code objects, with the
        pristine builtins; never registered in sys.modules."""

        def __init__(self):
            self.mods = {}
            self.builtins = dict_(pristine_builtins)
            self.builtins["__import__"] = self.import_
            pkg = ModuleType("course_lib.checks")
            pkg.__path__ = [check_dir]
            pkg.__package__ = "course_lib.checks"
            self.mods["course_lib.checks"] = pkg

        def load(self, full):
            if full in self.mods:
                return self.mods[full]
            short = full.rsplit(".", 1)[1]
            if short not in codes:
                raise ImportError(f"no module {full} (missing, or a syntax error in it)")
            code, path = codes[short]
            mod = ModuleType(full)
            mod.__file__ = path
            mod.__package__ = "course_lib.checks"
            mod.__builtins__ = self.builtins
            self.mods[full] = mod
            setattr_(self.mods["course_lib.checks"], short, mod)
            exec_(code, vars(mod))
            return mod

        def import_(self, name, globals=None, locals=None, fromlist=(), level=0):
            full = name
            if level:
                package = (globals or {}).get("__package__") or ""
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - level + 1])
                full = f"{base}.{name}" if name else base
            if full == "course_lib.checks" or full.startswith("course_lib.checks."):
                mod = self.load(full) if full != "course_lib.checks" else self.mods[full]
                for item in fromlist or ():
                    if not hasattr(mod, item) and f"{full}.{item}".count(".") == 2:
                        self.load(f"{full}.{item}")
                if fromlist or level:
                    return mod
                return orig_import("course_lib")
            return orig_import(name, globals, locals, fromlist, level)

    # ---------------------------------------------------------------- running one check

    def describe(exc):
        text = str_(exc).strip().splitlines()
        return f"{type_(exc).__name__}: {text[0][:300]}" if text else type_(exc).__name__

    def run_one(fn, args, kwargs, failure_type, seed):
        out = StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            if seed is None:
                fn(*args, **kwargs)
            else:
                fn(*args, seed=seed, **kwargs)
        except failure_type as exc:
            return "fail", exc.advice, getattr_(exc, "call", None)
        except NotImplementedError as exc:
            return "error", "not implemented yet (NotImplementedError)" + (
                f": {describe(exc)}" if str_(exc) else ""), None
        except BaseException_ as exc:  # the student's own error (or the grader's interrupt)
            if isinstance_(exc, KeyboardInterrupt):
                return "timeout", "interrupted", None
            return "error", describe(exc), None
        finally:
            sys.stdout, sys.stderr = saved
        return "pass", "", None

    pending = []

    def check(nonce, spec):
        notes = pending + restore()
        del pending[:]
        started = [t.name for t in threading.enumerate() if t not in threads_snap and t.is_alive()]
        if started:
            notes.append(f"{len(started)} thread(s) started by the submission were running")
        result = {"exercise": spec["exercise"], "status": "error", "message": "",
                  "hidden": "none", "hidden_run": 0, "hidden_passed": 0, "restored": notes}
        try:
            run_check(spec, result)
        finally:
            publish({MIME: {"nonce": nonce, "result": result}}, metadata={})

    def run_check(spec, result):
        try:
            args = [eval_(compile_(a, "<check call>", "eval"), user_ns) for a in spec["args"]]
            kwargs = {k: eval_(compile_(v, "<check call>", "eval"), user_ns)
                      for k, v in spec["kwargs"].items()}
        except NameError as exc:
            missing = str_(exc).split("'")[1] if "'" in str_(exc) else str_(exc)
            result["message"] = (f"`{missing}` is not defined when the check runs: its "
                                 "solution cell did not run to the end or does not define it")
            return
        except BaseException_ as exc:
            result["message"] = f"the check's inputs could not be built: {describe(exc)}"
            return
        private = PrivateChecks()
        try:
            common = private.load("course_lib.checks._common")
            fn = getattr_(private.load(f"course_lib.checks.{spec['module']}"), spec["check"])
        except BaseException_ as exc:
            result["message"] = f"the grader could not load the check {spec['check']}: {describe(exc)}"
            result["grader_error"] = True
            return
        status, message, call = run_one(fn, args, kwargs, common.CheckFailure, None)
        result["status"] = status
        if status != "pass":
            result["message"] = message + (f"\nto reproduce: {call}" if call else "")
            return
        hidden = getattr_(fn, "hidden", None)
        if hidden is None:
            result["hidden"] = "not converted"
            return
        if not hidden:
            result["hidden"] = "none by design"
            result["hidden_why"] = str_(getattr_(fn, "hidden_why", "") or "")
            return
        result["hidden"] = "yes"
        for seed in spec["seeds"]:
            with common.hidden_mode():
                status, message, _ = run_one(fn, args, kwargs, common.CheckFailure, seed)
            result["hidden_run"] += 1
            if status == "pass":
                result["hidden_passed"] += 1
                continue
            result["status"] = status
            if status == "fail":
                result["message"] = ("The public test passed, but a hidden test (other inputs than "
                                     "the public ones) failed: " + message)
            elif status == "timeout":
                result["message"] = "interrupted during a hidden test"
            else:
                kind = message.split(":", 1)[0]
                result["message"] = (f"The public test passed, but on a hidden test's inputs (other "
                                     f"shapes and values) your code raised {kind}: make it work "
                                     "for any valid input")
            return

    class Grader:
        """The handle the grader's cells call; holds nothing itself (all state is in closures)."""
        __slots__ = ()

        def guard(self):
            """The cell before each check: restore, and clear the hooks that would watch it."""
            pending.extend(restore())

        def check(self, nonce, spec):
            check(nonce, spec)

    user_ns[params["name"]] = Grader()


if __name__ == "course_grader":       # the grader's first cell executes this file's text
    _boot(__PARAMS__)  # noqa: F821 (set by that cell)
