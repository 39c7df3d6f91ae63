#!/bin/sh
# The worker's venv inside an image, from a source tree: both images run this (the Dockerfile
# at the root from the build context, the Home Assistant app's from the release it downloads),
# so they install the same packages the same way.
#
#   sh docker/install-venv.sh SOURCE_DIR VENV [deps|package]
#
# `deps` installs only the pinned requirements (a layer that stays cached while the sources
# change), `package` only the worker's package; neither: both.
#
# Everything is pinned and installed with --no-deps: the light profile's pipeline packages
# (requirements/pipeline-light.txt, with the person model but not its declared TensorFlow:
# OpenCV runs the graph) and what they import at runtime (requirements/image.txt says why).
# A CA bundle mounted as the build secret `cabundle` is what pip trusts where TLS is
# intercepted; an ordinary machine builds without it.
set -eu
src="$1" venv="$2" step="${3:-all}"
if [ -s /run/secrets/cabundle ]; then
  export PIP_CERT=/run/secrets/cabundle SSL_CERT_FILE=/run/secrets/cabundle
fi
pip="$venv/bin/python -m pip --disable-pip-version-check --no-cache-dir -q"
if [ "$step" != package ]; then
  python3 -m venv "$venv"
  $pip install --no-deps -r "$src/requirements/pipeline-light.txt" -r "$src/requirements/image.txt"
fi
if [ "$step" != deps ]; then
  $pip install --no-deps "$src"
  # Not needed at runtime; 11 MB less.
  $pip uninstall -y pip
  "$venv/bin/nvr-inference" --help >/dev/null
fi
