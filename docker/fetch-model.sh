#!/bin/sh
# The `objects` detector's model into an image, checked while the image is built, so nothing is
# downloaded when a container starts. Both Dockerfiles run this in a throwaway build stage and
# copy only DEST into the image.
#
#   sh docker/fetch-model.sh SOURCE_DIR DEST [GIVEN]
#
# SOURCE_DIR holds the engine's sources (custom_components/...): the check and the fetch are
# engine/detect/model_files.py's (the standard library only, so Debian's python3 runs it
# before any venv exists), so the file's sha256 is written in one place.
#
# GIVEN: a copy fetched and checked before the build, in the worker image's build context
# (.cache/models, which `scripts/image build` makes sure of); it is checked again and copied.
# Without it the model is fetched as `nvr-inference models fetch` does, with npm (Debian's,
# installed here when missing): what the Home Assistant app's build does on the user's machine.
# NVR_MODEL_SOURCE=context makes a missing GIVEN an error instead of a fetch (scripts/image
# build: the file it checked is the one that goes into the image).
#
# A CA bundle mounted as the build secret `cabundle` is what npm and Python trust where TLS is
# intercepted; an ordinary machine builds without it.
set -eu
src="$1" dest="$2" given="${3:-}"
if [ -s /run/secrets/cabundle ]; then
  export SSL_CERT_FILE=/run/secrets/cabundle NODE_EXTRA_CA_CERTS=/run/secrets/cabundle
fi
cd "$src"
fetch() { python3 -m custom_components.nvr_inference.engine.detect.model_files fetch --dir "$dest" "$@"; }
if [ -n "$given" ] && [ -f "$given" ]; then
  echo "model: the build context's $(basename "$given"), checked"
  fetch --from "$given"
elif [ "${NVR_MODEL_SOURCE:-}" = context ]; then
  echo "model: error: NVR_MODEL_SOURCE=context but ${given:-no file} is not in the build context" >&2
  exit 1
else
  if ! command -v npm >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
  fi
  echo "model: fetching with npm, checked"
  fetch
fi
