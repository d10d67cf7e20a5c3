"""toxfile.py: the interpreters tox is handed from pyenv, and what it says when one is missing.

CI runs every tox environment with a PATH that has pyenv's shims but none of its interpreters, so a full
`tox` run proves the plugin end to end; these tests cover the layouts that machine does not have.
"""

from types import SimpleNamespace

import pytest

import toxfile


def make_executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def pyenv_root(tmp_path, monkeypatch):
    root = tmp_path / "pyenv"
    (root / "versions").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(root))
    return root


@pytest.fixture
def path_dir(tmp_path, monkeypatch, pyenv_root):
    """A PATH of one directory, plus pyenv's shims."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{pyenv_root / 'shims'}:{directory}")
    return directory


def build(pyenv_root, version, name):
    return make_executable(pyenv_root / "versions" / version / "bin" / name)


def python_of(release):
    """python3.10 for 3.10.13."""
    return "python" + release[: release.rindex(".")]


def test_versions_missing_from_path_come_from_pyenv_newest_release_first(pyenv_root, path_dir):
    releases = ["3.10.4", "3.13.0", "3.10.13", "3.12.1", "3.10.9", "3.11.7"]
    paths = {release: str(build(pyenv_root, release, python_of(release))) for release in releases}
    newest_first = ["3.13.0", "3.12.1", "3.11.7", "3.10.13", "3.10.9", "3.10.4"]
    assert toxfile._pyenv_interpreters_missing_from_path() == [paths[release] for release in newest_first]


def test_a_version_on_path_is_left_to_path(pyenv_root, path_dir):
    build(pyenv_root, "3.12.1", "python3.12")
    make_executable(path_dir / "python3.12")
    assert toxfile._pyenv_interpreters_missing_from_path() == []


def test_a_pyenv_shim_is_not_an_interpreter_on_path(pyenv_root, path_dir):
    # The shim of an inactive version only prints "command not found".
    make_executable(pyenv_root / "shims" / "python3.10")
    python310 = build(pyenv_root, "3.10.13", "python3.10")
    assert toxfile._pyenv_interpreters_missing_from_path() == [str(python310)]


def test_only_cpython_release_builds_are_offered(pyenv_root, path_dir):
    build(pyenv_root, "pypy3.10-7.3.17", "python3.10")
    build(pyenv_root, "3.13.0t", "python3.13")
    build(pyenv_root, "3.14-dev", "python3.14")
    build(pyenv_root, "2.7.18", "python2.7")
    (pyenv_root / "versions" / "3.11.7").mkdir()  # an interrupted build: no interpreter
    assert toxfile._pyenv_interpreters_missing_from_path() == []


def test_without_pyenv_nothing_is_offered(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    assert toxfile._pyenv_interpreters_missing_from_path() == []


def test_pyenv_interpreters_come_after_those_named_with_discover(pyenv_root, path_dir):
    python310 = build(pyenv_root, "3.10.13", "python3.10")
    options = SimpleNamespace(discover=["/opt/python3.10"])
    toxfile.tox_add_core_config(None, SimpleNamespace(conf=SimpleNamespace(options=options)))
    assert options.discover == ["/opt/python3.10", str(python310)]


def test_a_missing_interpreter_says_where_it_was_looked_for_and_how_to_get_it(pyenv_root):
    message = toxfile._missing_interpreter_message("oldest", ["python3.10"])
    assert message.startswith("oldest: no interpreter for python3.10 on PATH")
    assert str(pyenv_root / "versions") in message
    assert "`pyenv install 3.10`" in message
    assert "`tox --discover /path/to/python`" in message
