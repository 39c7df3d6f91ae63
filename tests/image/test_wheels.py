"""Every package the images install has an aarch64 wheel for Debian's Python 3.11, at its pin.

The aarch64 image cannot be built on these amd64 machines (no emulation), and the app declares
`arch: [amd64, aarch64]`: a Raspberry Pi or an ODROID running Home Assistant OS builds it
itself, and a pin without an aarch64 wheel would fail there (or compile for an hour). So the
pins are checked against PyPI's own file lists (its simple index: no download), for the tags
CPython 3.11 on bookworm's glibc 2.36 accepts on aarch64.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version
import pytest

from ..worker.conftest import ROOT

pytestmark = pytest.mark.image

PIN_FILES = ("requirements/pipeline-light.txt", "requirements/image.txt")
"""What docker/install-venv.sh installs (both images), besides the worker's own pure wheel."""
GLIBC_MINOR = 36
"""Debian 12's glibc 2.36."""


def pins() -> list[tuple[str, str]]:
    """(name, version) of every `name==version` line in the files the images install."""
    found = []
    for file in PIN_FILES:
        for line in (ROOT / file).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
            if match:
                found.append((match[1], match[2]))
    return found


def aarch64_tags() -> set[Tag]:
    """The wheel tags pip on CPython 3.11, Debian 12 (glibc 2.36), aarch64 accepts."""
    platforms = [f"manylinux_2_{minor}_aarch64" for minor in range(GLIBC_MINOR, 16, -1)]
    platforms += ["manylinux2014_aarch64", "linux_aarch64"]
    return set(cpython_tags((3, 11), platforms=platforms)) | set(
        compatible_tags((3, 11), "cp311", platforms)
    )


LOOKUP = """
import json, sys, urllib.request
found = {}
for name in sys.argv[1:]:
    request = urllib.request.Request(
        f"https://pypi.org/simple/{name}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        files = json.load(response)["files"]
    found[name] = [f["filename"] for f in files if f["filename"].endswith(".whl")]
print(json.dumps(found))
"""
"""Asks PyPI's simple index (its JSON form, what pip reads) in a child process: the test
harness lets this process's sockets reach 127.0.0.1 only."""


def wheel_files(pinned: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The wheel file names PyPI has for each `name==version`."""
    done = subprocess.run(
        [sys.executable, "-c", LOOKUP, *(n for n, _v in pinned)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"cannot ask PyPI: {done.stderr.strip()[-500:]}"
    by_name: dict[str, list[str]] = json.loads(done.stdout)
    return {
        f"{name}=={version}": [file for file in by_name[name] if _version(file) == Version(version)]
        for name, version in pinned
    }


def _version(file: str) -> Version | None:
    """A wheel's version (None for the odd old file name that breaks today's rules)."""
    try:
        return parse_wheel_filename(file)[1]
    except InvalidWheelFilename:
        return None


def test_the_pins_are_read() -> None:
    names = {name.lower() for name, _ in pins()}
    assert {"streamvision", "opencv-python-headless", "numpy", "paho-mqtt"} <= names


def test_every_pinned_package_has_an_aarch64_wheel() -> None:
    accepted = aarch64_tags()
    missing = []
    for pin, files in wheel_files(pins()).items():
        tags = {tag for file in files for tag in parse_wheel_filename(file)[3]}
        if not tags & accepted:
            missing.append(pin)
    assert missing == [], f"no aarch64 wheel for CPython 3.11 on glibc 2.36: {missing}"


def test_the_worker_itself_is_a_pure_wheel() -> None:
    """Its own package is built in the image from the sources: no compiled code, any arch."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "ext_modules" not in pyproject
    assert not list(Path(ROOT / "custom_components").rglob("*.c"))
