"""`nvr-inference`: the standalone worker and the sample video, from the command line.

    nvr-inference worker --mqtt-host broker.lan --source "Porch=rtsp://..." --detector face
    nvr-inference worker --config /etc/nvr-inference.yaml
    nvr-inference worker --source /dev/video0 --detector local:/srv/models/my-yolov8  # offline
    nvr-inference worker --remove --name porch-pi           # clear its discovery config
    nvr-inference sample-video /tmp/sample.avi --frames 260
    nvr-inference sample-video /tmp/person.avi --scene person --photo astronaut.png
    nvr-inference sample-video /tmp/objects.avi --scene objects
    nvr-inference models fetch                  # the objects detector's model, once

Secrets never go on the command line (anything there shows up in `ps`): the MQTT password comes
from `NVR_MQTT_PASSWORD` or `--mqtt-password-file`, a Roboflow API key from `ROBOFLOW_API_KEY`
or `--api-key-file`. They are kept out of every log line and payload.

Exit codes: 0 done (also after SIGTERM/SIGINT), 2 something to fix in the configuration (a
file that cannot be read, a camera URL written wrong, an unknown detector, a missing
pipeline, a bad flag, a worker of the same name already running on this machine), 3 the
broker cannot be reached or refused us. Each failure is one line on stderr, no traceback. A
camera that does not answer is no configuration error: the worker runs and retries it.

This module only wires the pieces: the flags (`parser`), their meaning and validation
(`config`, `grammar`), the log's secret filter (`logs`), the paho host (`service`, `mqtt`), the
sample scenes (`samples.command`) and the model fetch (`detect.model_files`); it maps their
errors to the exit codes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
import gc
import logging
import os
from pathlib import Path
import signal
import sys
import threading
from types import FrameType

from ..config.grammar import ConfigError
from ..config.resolve import resolve_config
from ..config.worker_settings import WorkerSettings, describe_settings
from ..errors import EngineError
from ..video.sources import redact_text
from .logs import (
    RedactSecrets,
    configure_logging,
    protect_all_handlers,
    quiet_native_logs,
    worker_secrets,
)
from .parser import EXIT_BROKER, EXIT_CONFIG, build_parser

_LOGGER = logging.getLogger(__name__)


def _fail(code: int, message: str, redact: RedactSecrets | None = None) -> int:
    text = redact.clean(message) if redact else redact_text(message)
    print(f"nvr-inference: error: {text}", file=sys.stderr)  # noqa: T201 - the one line
    return code


def _run_worker(args: argparse.Namespace) -> int:
    from .mqtt import BrokerUnavailableError  # noqa: PLC0415 - paho: worker only
    from .removal import remove_worker  # noqa: PLC0415

    quiet_native_logs(os.environ)  # before anything imports cv2
    try:
        config = resolve_config(vars(args), os.environ)
    except (ConfigError, EngineError) as err:
        return _fail(EXIT_CONFIG, str(err))
    settings = config.settings
    redact = configure_logging(config.log_level, worker_secrets(settings))
    if not config.remove:
        return _serve(settings, redact)
    try:
        remove_worker(settings)
    except BrokerUnavailableError as err:
        return _fail(EXIT_BROKER, str(err), redact)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    return 0


def _install_signal_handlers(stop: threading.Event) -> None:
    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            _LOGGER.warning("Second %s: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        _LOGGER.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _serve(settings: WorkerSettings, redact: RedactSecrets) -> int:
    """Probe, connect, run until SIGTERM/SIGINT, stop."""
    from .mqtt import BrokerUnavailableError  # noqa: PLC0415
    from .service import Worker  # noqa: PLC0415

    stop = threading.Event()
    _install_signal_handlers(stop)
    for line in describe_settings(settings):  # debug: a failed start stays one line
        _LOGGER.debug("%s", line)
    try:
        worker = Worker(settings)  # builds the MQTT client: a bad TLS file fails here
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    try:
        worker.claim()
        worker.check()
        protect_all_handlers(redact)  # the pipeline's packages are imported by now
        if stop.is_set():
            return 0
        worker.connect()
        worker.restore_pause()
    except BrokerUnavailableError as err:
        return _fail(EXIT_BROKER, str(err), redact)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    try:
        worker.start()
        worker.run(stop)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    finally:
        worker.stop()  # the pipeline's threads are not daemons: never leave them running
        # Stopped: the broker acknowledged the final status and `offline` (or 3 s passed for
        # each), every thread is joined. What is left is the interpreter's teardown, whose
        # cyclic garbage collections walk the ~80,000 objects the pipeline's imports made
        # (scipy, numpy, OpenCV, supervision): 0.1 s of CPU, several times that in wall time
        # on a busy machine. Frozen objects are skipped by those collections; atexit handlers
        # (logging's flush) and module teardown still run as usual.
        gc.freeze()
    return 0


def _run_sample_video(args: argparse.Namespace) -> int:
    from ..samples.command import SampleError, write_scene  # noqa: PLC0415 - OpenCV: this only

    try:
        path = write_scene(
            args.path, scene=args.scene, photo=args.photo, frames=args.frames, size=args.size
        )
    except (SampleError, OSError) as err:
        return _fail(EXIT_CONFIG, str(err))
    print(path)  # noqa: T201 - the command's output
    return 0


def _run_models(args: argparse.Namespace) -> int:
    """`models fetch`: the only action (argparse requires it)."""
    from ..detect.model_files import fetch_coco_model  # noqa: PLC0415 - this command only

    folder = Path(args.folder).expanduser() if args.folder else None
    source = Path(args.source).expanduser() if args.source else None
    try:
        path = fetch_coco_model(folder, source)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err))
    except OSError as err:  # the folder cannot be made or written
        return _fail(EXIT_CONFIG, f"cannot write the model: {err}")
    print(path)  # noqa: T201 - the command's output
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "worker": _run_worker,
    "sample-video": _run_sample_video,
    "models": _run_models,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nvr-inference`; return the exit code."""
    args = build_parser().parse_args(argv)
    return _COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
