"""The worker's package as pip installs it: `nvr_inference`, for Python 3.11+, one console script.

Runs in every lane: against the editable install of the Home Assistant venvs, and in the
worker311 lane against the wheel that `pip install ".[light]"` put into Debian's Python 3.11.
The subprocesses run outside the repository, so only what was installed can be imported.
"""

from __future__ import annotations

from importlib import metadata
import os
from pathlib import Path
import subprocess
import sys

from .conftest import WORKER_CMD, worker_env


def _installed_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in worker_env().items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_distribution_declares_python_311_and_the_console_script() -> None:
    dist = metadata.distribution("nvr-inference")
    assert dist.metadata["Requires-Python"] == ">=3.11"
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"nvr-inference": "nvr_inference.engine.worker.cli:main"}
    assert "light" in (dist.metadata.get_all("Provides-Extra") or [])


def test_import_nvr_inference_works_and_no_custom_components_package_is_installed(
    tmp_path: Path,
) -> None:
    done = _installed_python(
        "import importlib.util, nvr_inference.engine.worker.cli as cli\n"
        "print(cli.__file__)\n"
        "print(importlib.util.find_spec('custom_components'))\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    cli_file, custom_components = done.stdout.splitlines()
    assert cli_file.endswith(os.path.join("nvr_inference", "engine", "worker", "cli.py"))
    assert custom_components == "None"


def test_the_worker_command_answers() -> None:
    done = subprocess.run(
        [*WORKER_CMD, "worker", "--help"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--mqtt-host" in done.stdout
