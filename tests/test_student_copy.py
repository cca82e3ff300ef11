"""Student work survives course updates: `make lab`'s copy in work/ (scripts/student_copy.py).

A real git round trip: the course repository gets an update of a notebook the student has
edited; the student's `git pull` succeeds without a conflict, their edits stay, `make lab`'s
sync says that a newer version exists, `make refresh` takes it and keeps theirs, and the
course's own tests still pass with work/ present.
"""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = "05_dropout.ipynb"


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def copy_tool(cwd, *args):
    return subprocess.run([sys.executable, "scripts/student_copy.py", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def add_cell(path, source, kind="code"):
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    nb.cells.append(cell)
    nbformat.write(nb, path)


def sources(path):
    return [c.source for c in nbformat.read(path, as_version=4).cells]


@pytest.fixture
def repos(tmp_path):
    head = git(ROOT, "rev-parse", "HEAD").strip()
    bare = tmp_path / "course.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(ROOT), str(bare))
    git(bare, "update-ref", "refs/heads/main", head)
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    authors = tmp_path / "authors"
    student = tmp_path / "student"
    for clone in (authors, student):
        git(tmp_path, "clone", "--quiet", str(bare), str(clone))
        git(clone, "config", "user.email", "t@example.org")
        git(clone, "config", "user.name", "t")
    return authors, student


def test_edited_copies_survive_a_pull_and_refresh_keeps_them(repos):
    authors, student = repos
    out = copy_tool(student, "sync")
    assert "Copied" in out
    mine = student / "work" / "exercises" / NB
    lecture = student / "work" / "notebooks" / NB
    add_cell(mine, "my_answer = 42  # the student's work")
    add_cell(lecture, "my note", kind="markdown")

    # the course authors publish an update of exactly those notebooks
    add_cell(authors / "exercises" / NB, "A clarified exercise text.", kind="markdown")
    add_cell(authors / "notebooks" / NB, "A new paragraph of the lecture.", kind="markdown")
    git(authors, "commit", "--quiet", "-am", "course update")
    git(authors, "push", "--quiet", "origin", "HEAD:main")

    git(student, "pull", "--quiet", "--ff-only")                 # no conflict
    assert git(student, "status", "--porcelain") == ""             # work/ is not tracked
    assert "my_answer = 42  # the student's work" in sources(mine)
    assert "A clarified exercise text." in sources(student / "exercises" / NB)

    out = copy_tool(student, "sync")
    assert f"exercises/{NB}: the course has a newer version" in out
    assert f"notebooks/{NB}: the course has a newer version" in out
    assert "my_answer = 42  # the student's work" in sources(mine)  # sync never overwrites

    out = copy_tool(student, "refresh", "exercises/05_dropout")
    backups = sorted(mine.parent.glob("05_dropout.*.ipynb"))
    assert len(backups) == 1 and "my_answer = 42  # the student's work" in sources(backups[0])
    assert sources(mine) == sources(student / "exercises" / NB)
    assert "newer version" not in copy_tool(student, "sync").split("notebooks/")[0]
    status = copy_tool(student, "status")
    assert f"work/notebooks/{NB}: edited by you, newer course version" in status


def test_course_tests_stay_green_with_a_students_work_present(repos):
    _, student = repos
    copy_tool(student, "sync")
    add_cell(student / "work" / "exercises" / NB, "my_answer = 42")
    add_cell(student / "work" / "notebooks" / "welcome.ipynb", "my note", kind="markdown")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_exercises.py",
         "-k", "fresh_build or holds_no_solution or every_solution", "tests/test_notebooks_static.py"],
        cwd=student, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_refresh_names_the_choices_when_the_notebook_is_unknown(repos):
    _, student = repos
    result = subprocess.run([sys.executable, "scripts/student_copy.py", "refresh", "99_nothing"],
                            cwd=student, capture_output=True, text=True)
    assert result.returncode != 0 and "choose one of" in result.stderr and "05_dropout" in result.stderr
