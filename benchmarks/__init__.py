"""Benchmarks: scripts that print numbers (`benchmarks/run`), not tests.

Every benchmark runs offline: `inference` must not phone home or check versions. Set here, once,
before any benchmark module imports the pipeline.
"""

import os

os.environ.setdefault("OFFLINE_MODE", "True")
os.environ.setdefault("DISABLE_VERSION_CHECK", "True")
