# The standalone worker as a container image (build context: this repository).
#
#   docker build -t nvr-inference .          (or: scripts/image build)
#   docker run --rm -v nvr-data:/data nvr-inference worker --mqtt-host BROKER --source rtsp://...
#
# The entrypoint is `nvr-inference`: the same sub-commands, flags and `--config` YAML as the CLI.
# The pause is kept under /data (XDG_STATE_HOME), so mount a volume there. Works with a read-only
# root filesystem (`--read-only`, the engine only writes to /data and a temporary folder in /tmp,
# which is a tmpfs then). `BUILD_FROM` lets a machine that cannot pull from a registry build on a
# local Debian bookworm base (scripts/image base).
ARG BUILD_FROM=debian:bookworm-slim

# -- the venv, built with Debian's python3 (3.11) ------------------------------------------------
FROM ${BUILD_FROM} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY . /src
# A CA bundle passed as a build secret (scripts/image does, from the host) is what pip trusts
# where TLS is intercepted; it is mounted for this step only and never stored in a layer. An
# ordinary machine builds without it. Everything is pinned and installed with --no-deps: the
# light profile's pipeline packages (with the person model, without its declared TensorFlow:
# OpenCV runs the graph) and what they import at runtime (requirements/image.txt says why).
RUN --mount=type=secret,id=cabundle \
    set -eu; \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi; \
    python3 -m venv /opt/nvr; \
    pip="/opt/nvr/bin/python -m pip --disable-pip-version-check --no-cache-dir -q"; \
    $pip install --no-deps -r /src/requirements/pipeline-light.txt -r /src/requirements/image.txt; \
    $pip install --no-deps /src; \
    $pip uninstall -y pip; \
    /opt/nvr/bin/nvr-inference --help >/dev/null

# -- the image: Debian's python3 and the venv, nothing else --------------------------------------
FROM ${BUILD_FROM}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --system --uid 1000 --user-group --home-dir /data --no-create-home nvr \
 && mkdir -p /data && chown nvr:nvr /data
COPY --from=build /opt/nvr /opt/nvr
ENV PATH=/opt/nvr/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/data \
    XDG_STATE_HOME=/data
USER nvr
WORKDIR /data
VOLUME /data
# Healthy while the worker runs and holds an established TCP connection (to its broker; with
# RTSP cameras, theirs count too): see nvr_inference/engine/worker/health.py.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-m", "nvr_inference.engine.worker.health"]
ENTRYPOINT ["nvr-inference"]
CMD ["--help"]
