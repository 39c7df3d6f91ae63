"""Home Assistant without the pipeline packages: the integration loads and says what is missing.

Runs in a subprocess where `cv2`, `streamvision` and `inference` cannot be imported, like a Home
Assistant OS install where they cannot be installed at all.
"""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

from custom_components.nvr_inference.engine.pipeline.hosting import detect_libc

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
for name in ("cv2", "streamvision", "inference"):
    sys.modules[name] = None  # import of any of these now raises ImportError

import custom_components.nvr_inference as integration
import custom_components.nvr_inference.config_flow as flow
import custom_components.nvr_inference.switch, custom_components.nvr_inference.sensor
import custom_components.nvr_inference.integration, custom_components.nvr_inference.worker_handoff
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import PipelineMissingError
from custom_components.nvr_inference.engine.pipeline.hosting import hosting_report
from custom_components.nvr_inference.engine.video.sources import SourceConfig

report = hosting_report()  # what the config flow asks before its first form
print("REPORT:", report.installed, report.python_version, report.libc)

try:
    flow.check_setup([SourceConfig(0, "/tmp/x.mp4")], parse_detector("motion"))
except PipelineMissingError as err:
    print("MISSING:", err)
"""


def test_integration_imports_and_explains_without_pipeline_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "MISSING: Roboflow's InferencePipeline is not installed" in result.stdout
    assert "nvr-inference worker" in result.stdout
    # The real hosting check (the config flow's first question) says missing, and why.
    python = ".".join(map(str, sys.version_info[:3]))
    assert f"REPORT: False {python} {detect_libc()}" in result.stdout
