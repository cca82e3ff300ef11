"""Project-level consistency: the two environment files agree, public objects are documented."""
import inspect
import re
import tomllib
from pathlib import Path

import pytest

import course_lib as cl

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement):
    """The distribution name of a pip or conda requirement, normalized (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"cannot read a package name from {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _environment():
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read environment.yml")
    with open(ROOT / "environment.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_environment_yml_matches_pyproject_dependencies():
    project = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    conda, pip = set(), []
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            assert set(entry) == {"pip"}, f"unexpected entry in environment.yml: {entry}"
            pip.extend(entry["pip"])
        else:
            conda.add(_name(entry))
    extra_pip = {_name(r) for r in pip if r.strip() not in ("-e .", "--editable .", ".")}
    env = (conda - {"python", "pip"}) | extra_pip
    assert env == project, (f"only in environment.yml: {sorted(env - project)}; "
                            f"only in pyproject.toml: {sorted(project - env)}")


def test_environment_yml_installs_the_course():
    env = _environment()
    pip = [e for entry in env["dependencies"] if isinstance(entry, dict) for e in entry["pip"]]
    assert "-e ." in pip, "environment.yml should install course_lib itself (pip: -e .)"
    assert any(str(e).startswith("python") for e in env["dependencies"])


def test_requirement_parsing():
    # the helper above is what the comparison rests on
    assert _name("numpy>=1.24") == "numpy"
    assert _name("scikit_learn==1.2") == "scikit-learn"
    assert _name("python=3.11") == "python"
    assert _name("Jupyter.Lab >=4") == "jupyter-lab"


def test_declared_packages_exist():
    for package in _pyproject()["tool"]["setuptools"]["packages"]:
        assert (ROOT / package.replace(".", "/") / "__init__.py").is_file(), package


def test_all_names_exist():
    missing = [name for name in cl.__all__ if not hasattr(cl, name)]
    assert not missing, f"course_lib.__all__ lists undefined names: {missing}"
    assert len(set(cl.__all__)) == len(cl.__all__), "duplicate names in __all__"


def _public_callables():
    return [(name, getattr(cl, name)) for name in cl.__all__
            if inspect.isclass(getattr(cl, name, None)) or inspect.isfunction(getattr(cl, name, None))]


def test_there_are_public_classes_and_functions():
    names = {name for name, _ in _public_callables()}
    assert {"Linear", "fit", "gradcheck", "SGD", "BatchNorm1d"} <= names


@pytest.mark.parametrize("name, obj", _public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_public_object_has_a_docstring(name, obj):
    # the object's own docstring, not one inherited from a base class
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    assert doc and doc.strip(), f"course_lib.{name} has no docstring"
