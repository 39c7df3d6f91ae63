# The standalone worker as a container image (build context: this repository).
#
#   docker build -t nvr-inference .          (or: scripts/image build)
#   docker run --rm -v nvr-data:/data nvr-inference worker --mqtt-host BROKER --source rtsp://...
#
# The entrypoint is `nvr-inference`: the same sub-commands, flags and `--config` YAML as the CLI.
# The pause is kept under /data (XDG_STATE_HOME), so mount a volume there. Works with a read-only
# root filesystem (`--read-only`, the engine only writes to /data and a temporary folder in /tmp,
# which is a tmpfs then). `BUILD_FROM` lets a machine that cannot pull from a registry build on a
# local Debian bookworm base (scripts/image base). Every built-in detector's model is inside: the
# person model in its wheel, the objects model (Google's COCO SSD, fetched and checked at build
# time) in /opt/nvr/models.
ARG BUILD_FROM=debian:bookworm-slim

# -- Debian's python3 (3.11), for the two build stages ------------------------------------------
FROM ${BUILD_FROM} AS python
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# -- the objects detector's model (docker/fetch-model.sh says how): the checked copy in the build
# context's .cache/models when there (scripts/image build makes sure it is), else fetched here.
# Only the engine's files the check needs, so this stage stays cached while the sources change;
# the `[e]` lets the copy be absent (an optional file: the fetch then runs instead).
FROM python AS model
ARG NVR_MODEL_SOURCE=
COPY custom_components/__init__.py /src/custom_components/
COPY custom_components/nvr_inference/__init__.py /src/custom_components/nvr_inference/
COPY custom_components/nvr_inference/engine/__init__.py \
     custom_components/nvr_inference/engine/errors.py /src/custom_components/nvr_inference/engine/
COPY custom_components/nvr_inference/engine/detect/__init__.py \
     custom_components/nvr_inference/engine/detect/model_files.py \
     /src/custom_components/nvr_inference/engine/detect/
COPY docker/fetch-model.sh .cache/models/mobilenet_ssd_v2_coco_quant_postprocess.tflit[e] /given/
RUN --mount=type=secret,id=cabundle sh /given/fetch-model.sh /src /opt/nvr/models \
      /given/mobilenet_ssd_v2_coco_quant_postprocess.tflite

# -- the venv -------------------------------------------------------------------------------------
FROM python AS build
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
COPY --from=model /opt/nvr/models /opt/nvr/models
ENV PATH=/opt/nvr/bin:$PATH \
    NVR_MODEL_DIR=/opt/nvr/models \
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
