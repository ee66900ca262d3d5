"""`pip install .`: a wheel built from this checkout, installed into an environment of its own,
serves the app from another folder (`workshop serve`): templates, static files, translations,
migrations and the API description all come from the installed package, not the repository.

Offline: the wheel is built with the test environment's setuptools (no build isolation), and the
new environment takes the dependencies from the test environment through a `.pth` file, read
after its own site-packages, so the `workshop` it imports is the wheel's.
"""

from __future__ import annotations

import gettext
import html
import os
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest
import requests

from .conftest import ROOT

pytestmark = pytest.mark.e2e

#: What the build reads; copied, so that no build/ or *.egg-info/ of an earlier build (or of
#: `pip install -e .`) gets into the wheel, and nothing is left in the checkout.
SOURCES = ["pyproject.toml", "setup.py", "README.md", "workshop", "templates", "static"]
#: The test environment's pip, offline.
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
#: A message of the attendee page and the catalogue it is translated with.
MESSAGE = "Add a suggestion"


def wheel_backend_missing() -> str | None:
    """Why the test environment's setuptools cannot build the wheel, or None if it can."""
    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return "setuptools is not installed"
    # What pyproject.toml's build-system asks for (an SPDX license; wheels without `wheel`).
    if tuple(int(part) for part in version.split(".")[:2]) >= (77, 0):
        return None
    return f"setuptools {version} is older than 77: pip install -e '.[test]'"


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def build_wheel(directory: Path) -> Path:
    source = directory / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = directory / "wheels"
    run(*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source)
    (wheel,) = wheels.glob("workshop-*.whl")
    return wheel


def in_checkout(path: Path, environment: Path) -> bool:
    return path.is_relative_to(ROOT) and not path.is_relative_to(environment)


def install(wheel: Path, prefix: Path) -> Path:
    """A new environment with the wheel in it (no pip of its own: the test's pip installs)."""
    venv.EnvBuilder(with_pip=False).create(prefix)
    python = prefix / "bin" / "python"
    run(*PIP, "--python", python, "install", "--no-deps", "--no-index", wheel)
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # The test's import path less the checkout (the current folder, the tests, an older editable
    # install's entry), as plain paths: .pth files there (e.g. an editable `workshop`) stay unread.
    # The test environment itself may lie inside the checkout (.ci/run makes .venv there).
    environment = Path(sys.prefix).resolve()
    paths = [
        path
        for path in dict.fromkeys(sys.path)
        if path and Path(path).is_dir() and not in_checkout(Path(path).resolve(), environment)
    ]
    (Path(site.stdout.strip()) / "test-environment.pth").write_text("\n".join(paths) + "\n")
    return prefix / "bin" / "workshop"


def test_installed_wheel_serves_the_app(tmp_path, start_server):
    if reason := wheel_backend_missing():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = tmp_path / "env"
    command = install(build_wheel(tmp_path), prefix)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}

    imported = run(
        prefix / "bin" / "python",
        "-c",
        "import workshop.config as c; print(c.__file__); print(c.resource_folder('templates'))",
        cwd=elsewhere,
        env=env,
    )
    module, templates = (Path(line) for line in imported.stdout.splitlines())
    assert module.is_relative_to(prefix), module
    assert templates == module.parent / "templates"

    commands = run(command, "--help", cwd=elsewhere, env=env).stdout
    for name in ("serve", "user", "demo", "export", "import", "purge", "db"):
        assert re.search(rf"^\s+{name}\s", commands, re.MULTILINE), commands

    server = start_server(command=[command, "serve"], cwd=elsewhere, extra_env={"PYTHONPATH": None})
    output = "".join(server.output)
    assert "wsgi starting up" in output, output  # eventlet's server, patched before the imports
    assert "monkey_patch" not in output, output
    # Flask's instance folder of an installed package: <prefix>/var/workshop-instance.
    assert (prefix / "var" / "workshop-instance").is_dir()

    code = server.demo_code
    assert code, output
    title = requests.get(f"{server.url}/api/v1/events/{code}", timeout=10).json()["title"]
    page = requests.get(f"{server.url}/j/{code}", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f">{html.escape(title)}</h1>" in page.text
    german = catalogue("de").gettext(MESSAGE)
    assert german != MESSAGE
    assert german in page.text

    script = re.search(r'<script type="module" src="([^"]+)"', page.text).group(1)
    response = requests.get(server.url + script, timeout=10)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert response.content == (ROOT / "static" / "js" / "participant.js").read_bytes()

    description = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10)
    assert description.status_code == 200
    assert description.json()["openapi"].startswith("3.")

    cookies = {"workshop_lang": "ar"}
    arabic = requests.get(f"{server.url}/j/{code}", cookies=cookies, timeout=10)
    assert arabic.status_code == 200
    assert catalogue("ar").gettext(MESSAGE) in arabic.text
    assert 'dir="rtl"' in arabic.text


def catalogue(language: str) -> gettext.GNUTranslations:
    """The repository's compiled catalogue, which the installed one must match."""
    path = ROOT / "workshop" / "translations" / language / "LC_MESSAGES" / "messages.mo"
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)
