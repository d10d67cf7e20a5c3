"""The documentation stays true to the package: settings reference, changelog, examples and commands.

The Sphinx build itself (warnings are errors) is ``tox -e docs``; these tests check content that a
clean build cannot: that nothing is missing or out of date.
"""

import ast
import configparser
import inspect
import re
from pathlib import Path

import pytest

from oauth2_provider import __version__, backfill
from oauth2_provider._installation import reinstall_hint, standin_version
from oauth2_provider.settings import DEFAULTS


ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def read(path):
    return path.read_text(encoding="utf-8")


def settings_reference():
    """``{key: description}`` from the definition lists of docs/settings.rst.

    A term is a line of its own made of inline literals (``KEY``, or several joined by commas and
    "and"); its description is the indented block below it.
    """
    term_line = re.compile(r"``[A-Z0-9_]+``(?:(?:, | and )``[A-Z0-9_]+``)*")
    entries = {}
    terms = []
    for line in read(DOCS / "settings.rst").splitlines():
        if term_line.fullmatch(line):
            terms = re.findall(r"``([A-Z0-9_]+)``", line)
            entries.update(dict.fromkeys(terms, ""))
        elif line.startswith("   ") and terms:
            for term in terms:
                entries[term] += line.strip() + " "
        else:
            terms = []
    return entries


def stated_default(description):
    """The Python source in ``Default ``...``.`` at the start of a description, or None if not stated so."""
    match = re.match(r"Default ``(.+?)``\.", description)
    return match and match.group(1)


def test_every_setting_key_is_in_the_settings_reference():
    missing = sorted(set(DEFAULTS) - set(settings_reference()))
    assert not missing, f"docs/settings.rst does not document: {', '.join(missing)}"


def test_the_settings_reference_names_no_unknown_key():
    unknown = sorted(set(settings_reference()) - set(DEFAULTS))
    assert not unknown, f"docs/settings.rst documents keys the package does not have: {', '.join(unknown)}"


@pytest.mark.parametrize("key", sorted(k for k in DEFAULTS if not k.endswith("_MODEL")))
def test_the_documented_default_is_the_real_one(key):
    documented = stated_default(settings_reference()[key])
    assert documented, f"{key}: the description does not start with Default ``...``."
    assert ast.literal_eval(documented) == DEFAULTS[key]


def test_the_changelog_page_includes_the_changelog():
    assert "```{include} ../CHANGELOG.md" in read(DOCS / "changelog.md")


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of an .rst file, dedented."""
    blocks = []
    lines = read(path).splitlines()
    for index, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        indent = len(line) - len(line.lstrip()) + 3
        body = []
        for following in lines[index + 2 :]:
            if following.strip() and len(following) - len(following.lstrip()) < indent:
                break
            body.append(following[indent:])
        blocks.append("\n".join(body).strip() + "\n")
    return blocks


def test_the_swapped_model_migration_example_runs_against_the_real_api():
    (example,) = [code for code in python_blocks(DOCS / "upgrading.rst") if "class Migration" in code]
    namespace = {}
    exec(compile(example, "upgrading.rst example", "exec"), namespace)

    fill = namespace["fill_token_checksums"]
    operations = namespace["Migration"].operations
    assert [type(op).__name__ for op in operations] == ["AddField", "RunPython", "AlterField"]
    assert operations[1].code is fill
    assert namespace["backfill_token_checksums"] is backfill.backfill_token_checksums
    # The example calls it as backfill_token_checksums(model, using=alias).
    inspect.signature(backfill.backfill_token_checksums).bind(object(), using="default")


def tox_environments():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    sections = [section for section in parser.sections() if section.startswith("testenv:")]
    return {section.removeprefix("testenv:") for section in sections} | set(parser["tox"]["env_list"].split())


@pytest.mark.parametrize("path", ["README.md", "docs/index.rst", "docs/install.rst", "docs/upgrading.rst"])
def test_every_tox_environment_named_in_the_docs_exists(path):
    named = set(re.findall(r"tox -e ([\w-]+)", read(ROOT / path)))
    assert named <= tox_environments(), f"{path} names unknown tox environments: {named - tox_environments()}"


def test_readme_links_resolve():
    targets = re.findall(r"\]\(([^)#]+)\)", read(ROOT / "README.md"))
    local = [target for target in targets if "://" not in target]
    assert local, "the README links into the docs"
    assert [target for target in local if not (ROOT / target).exists()] == []


def test_readme_figures_are_those_of_the_upgrading_guide():
    figures = re.findall(r"\d[\d.]* s / \d+ MiB", read(ROOT / "README.md"))
    guide = read(DOCS / "upgrading.rst")
    assert figures
    assert [figure for figure in figures if figure not in guide] == []


# Where a user copies the version to install from: each names this release, and its stand-in's version.
INSTALL_INSTRUCTIONS = [
    "README.md",
    "docs/install.rst",
    "standin/README.md",
    *(f"docs/recipes/{path.name}" for path in sorted((DOCS / "recipes").iterdir())),
]


@pytest.mark.parametrize("path", INSTALL_INSTRUCTIONS)
def test_install_instructions_name_the_version_the_package_has(path):
    text = read(ROOT / path)
    releases = set(re.findall(r"3\.0\.1\.post\d+", text))
    standins = set(re.findall(r"3\.0\.1\+lts\.\d+", text))
    assert releases == {__version__}
    assert standins <= {standin_version(__version__)}


def test_the_mixed_install_hint_names_the_version_the_package_has():
    hint = reinstall_hint(__version__)
    assert f"django-oauth-toolkit-lts=={__version__}" in hint
    assert f"django-oauth-toolkit=={standin_version(__version__)}" in hint
