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
# The CA bundle secret (scripts/image passes the host's) is mounted for these steps only and
# never stored in a layer; docker/install-venv.sh says what is installed and why. The pinned
# packages first, so that layer stays cached while the sources change.
COPY requirements/pipeline-light.txt requirements/image.txt /src/requirements/
COPY docker/install-venv.sh /src/docker/
RUN --mount=type=secret,id=cabundle sh /src/docker/install-venv.sh /src /opt/nvr deps
COPY . /src
RUN --mount=type=secret,id=cabundle sh /src/docker/install-venv.sh /src /opt/nvr package

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
