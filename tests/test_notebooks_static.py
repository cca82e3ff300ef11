"""Static checks of the committed notebooks (their execution is tested by nbval in make test)."""
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def read(path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_pair_in_sync(path):
    pair = path.with_suffix(".py")
    assert pair.exists(), f"{path.name} has no py:percent pair; run `make sync`"
    a = [c.source.strip() for c in read(path).cells]
    b = [c.source.strip() for c in jupytext.read(pair).cells]
    assert a == b, f"{path.name} and {pair.name} differ; edit the .py and re-run scripts/run_notebooks.py"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_kernelspec_and_clean_outputs(path):
    nb = read(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", \
        f"{path.name} lacks kernelspec python3: JupyterLab would ask the student to pick a kernel"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{path.name} cell {i} has a committed error output"
            if out.output_type == "stream":
                assert out.name != "stderr" or "Warning" not in out.text, \
                    f"{path.name} cell {i} shows a warning: {out.text[:200]}"
            text = out.get("data", {}).get("text/plain", "")
            assert not re.match(r"<function \w+ at 0x", text), \
                f"{path.name} cell {i} shows a stray function repr (interact(...) as last expression?)"


@pytest.mark.parametrize("path", LECTURES, ids=ids(LECTURES))
def test_lecture_structure(path):
    nb = read(path)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for heading in ("objectives", "prerequisites", "check your understanding", "summary"):
        assert heading in md, f"{path.name} lacks a '{heading}' section"
    assert "<details>" in md, f"{path.name}: answers should be folded in <details> blocks"
    assert f"../exercises/{path.name}" in md, f"{path.name} should link to ../exercises/{path.name}"
    assert "course_lib.widgets" in code, f"{path.name} shows no live widget from course_lib.widgets"
    assert "assert " in code, f"{path.name} asserts none of its numbers"
    assert "set_seed(" in code, f"{path.name} should seed course_lib"
    executed = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.get("execution_count") for c in executed), \
        f"{path.name} has unexecuted cells: commit it with outputs (scripts/run_notebooks.py)"


LINKED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", LINKED, ids=ids(LINKED))
def test_local_links_resolve(path):
    """Every Markdown link to a local notebook or file points at something that exists."""
    md = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", md):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (path.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, f"{path.name} links to missing files: {broken}"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_heading_trapped_in_a_code_cell(path):
    """A Markdown heading written as a comment at the end of a code cell (a missing
    `# %% [markdown]` in the .py) shows as code and vanishes from the table of contents."""
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type == "code":
            trapped = [line for line in cell.source.splitlines() if re.match(r"# #{1,4} \S", line)]
            assert not trapped, f"{path.name} cell {i}: a heading inside a code cell: {trapped[0]!r}"


# a literal seed: np.random.default_rng(3), set_seed(0), rng=5, seed=2 (keywords and calls)
LITERAL_SEED = re.compile(r"default_rng\(\s*\d|set_seed\(\s*\d|\b(rng|seed|mask_rng|init_rng)\s*=\s*\d")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_every_random_draw_comes_from_course_seed(path):
    """Lecture and solution notebooks draw their randomness from COURSE_SEED (cl.set_seed(),
    cl.seeds(n), cl.make_rng(k)), so that `make test` can re-run them on another seed. The
    exercise checks keep their fixed inputs, but those live in course_lib/checks."""
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        code = "\n".join(line.split("#")[0] for line in cell.source.splitlines())
        found = LITERAL_SEED.search(code)
        assert not found, (f"{path.name} cell {i}: a literal seed {found.group(0)!r}; use "
                           f"cl.make_rng(k), cl.seeds(n) or cl.set_seed() so it follows COURSE_SEED")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_empty_code_cell(path):
    """JupyterLab's Run All skips an empty cell, which then shows '[ ]' for ever (and a stray
    `# %%` in the .py makes one)."""
    empty = [i for i, c in enumerate(read(path).cells) if c.cell_type == "code" and not c.source.strip()]
    assert not empty, f"{path.name}: empty code cells {empty} (a stray `# %%` in the .py?)"
