"""The full profile on a GPU machine: YOLOv8n through Roboflow's loader, and `objects`.

Numbers, not tests: issue 22 asks for them where a development session has a GPU machine lent,
and nothing in CI runs this. What it measures, each case in its own process (the loader reads
its execution providers and device once, at import, and one crash must not lose the rest):

- `local:<folder>` as the engine runs it (`init_roboflow_pipeline`, i.e.
  `InferencePipeline.init(model_id=<folder>)`) on an ONNX package, with each ONNX Runtime
  execution provider the machine's onnxruntime has (CPU always; CUDA and TensorRT if present);
- the same loader on a TorchScript package of the same network (`backend_type: torch-script`,
  which the loader runs on torch's CUDA device), on the GPU and on the CPU. The engine's
  `check_local_model` accepts ONNX packages only, so this one goes through
  `local_packages_allowed()` and `init` directly: a figure for what the loader can do, not a
  path `local:` offers today;
- a bare onnxruntime session and a plain torch forward on CUDA (batch 1, 640x640, fp32 and
  fp16, CUDA events): the network's own cost, without Roboflow's wrapper;
- `objects` (LiteRT): the engine's detector on the CPU, and LiteRT's `CompiledModel` with its
  GPU accelerator (WebGPU over Vulkan, the only GPU path its Linux x86-64 wheel ships).

The model is YOLOv8n's architecture (Ultralytics' `yolov8n.yaml`, 80 classes, Conv+BN fused,
the head in export mode: output `[1, 84, 8400]`) with random weights, and its class-score biases
set to -30 so that it reports nothing: no trained weights can be fetched here (and Ultralytics'
own are AGPL). The figures are an empty scene's cost of YOLOv8n's arithmetic, which is what a
trained YOLOv8n costs too, less the boxes it finds.

    python benchmarks/gpu_bench.py make-onnx FOLDER    # write the ONNX package (torch, ultralytics)
    python benchmarks/gpu_bench.py run --out DIR       # every case; a table, DIR/gpu_bench.json

Run it with the repository root on `PYTHONPATH` (it imports the engine). On a machine without
network (how it ran for docs/benchmarks.md): the packages the full profile imports that the
machine lacks travel as wheels (`inference`, `inference-models`, `inference-sdk`,
`roboflow-workflows`, streamvision, supervision, pydantic 2.12, orjson, ..., ultralytics and
ai-edge-litert) and the ONNX package is made beforehand with `make-onnx`; set `OFFLINE_MODE=True`,
`NVR_MODEL_DIR` (the `objects` model), and every `*_ENABLED=False` flag that
`inference/models/utils.py` reads when the machine has transformers/timm/peft installed. LiteRT's
GPU accelerator needs the Vulkan loader (Debian's libvulkan1, with libglvnd's libraries for
NVIDIA's ICD) and `VK_DRIVER_FILES` naming the driver's `nvidia_icd.json`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
import functools
import itertools
import json
import os
from pathlib import Path
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any

INPUT = 640
CLASSES = 80
SCORE_BIAS = -30.0  # sigmoid(-30) ~ 1e-13: a random network's scores stay far below any threshold
WARMUP_FRAMES = 20  # steady fps is counted after these (CUDA kernels chosen, caches warm)
CASE_TIMEOUT_S = 120

Case = Callable[[argparse.Namespace], dict[str, Any]]


# --- the network and its packages ------------------------------------------------------------


def yolov8n(device: str = "cpu", half: bool = False) -> Any:
    """Return YOLOv8n (random weights, fused, export-mode head, scores biased to nothing).

    Built on `device` (in fp16 if `half`) and run once there, so the head's cached anchors are
    on the same device and dtype as the weights (a trace then holds them as constants).
    """
    import torch  # noqa: PLC0415 - only where a package is built
    from ultralytics.nn.tasks import DetectionModel  # noqa: PLC0415

    torch.manual_seed(0)
    model = DetectionModel("yolov8n.yaml", nc=CLASSES, verbose=False).eval()
    model = model.fuse(verbose=False)
    head = model.model[-1]
    head.export = True  # one tensor out: [batch, 4 + classes, anchors], boxes in input pixels
    dtype = torch.float16 if half else torch.float32
    with torch.no_grad():
        for branch in head.cv3:  # the class-score convolutions, one per scale
            branch[-1].bias.fill_(SCORE_BIAS)
        model = model.to(device, dtype)
        model(torch.zeros(1, 3, INPUT, INPUT, device=device, dtype=dtype))
    return model


def write_package_files(folder: Path, backend: str) -> None:
    """Write model_config.json, class_names.txt and inference_config.json (Roboflow's layout)."""
    from tests.engine.onnx_package import write_package_metadata  # noqa: PLC0415

    names = tuple(f"class_{i}" for i in range(CLASSES))
    write_package_metadata(folder, class_names=names, input_size=INPUT, backend=backend)


def make_onnx_package(folder: Path) -> Path:
    """Export the network to `folder`/weights.onnx (opset 17, 1x3x640x640) with its metadata."""
    import torch  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, INPUT, INPUT)
    torch.onnx.export(
        yolov8n(),
        (dummy,),
        str(folder / "weights.onnx"),
        opset_version=17,
        input_names=["images"],
        output_names=["output0"],
        dynamo=False,
    )
    write_package_files(folder, "onnx")
    return folder


def make_torchscript_package(folder: Path, device: str = "cpu") -> Path:
    """Trace the same network on `device` to `folder`/weights.torchscript (fp32, batch 1)."""
    import torch  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        traced = torch.jit.trace(
            yolov8n(device),
            torch.zeros(1, 3, INPUT, INPUT, device=device),
            strict=False,
            check_trace=False,
        )
    traced.save(str(folder / "weights.torchscript"))
    write_package_files(folder, "torch-script")
    return folder


# --- timing ----------------------------------------------------------------------------------


def run_pipeline(
    make: Callable[[Callable[[Any, Any], None]], Any],
    probe: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run a pipeline to the end of its file: fps (whole and steady), CPU ms and boxes a frame.

    The CPU time is the whole process's (decoding, inference and dispatch threads, and a CUDA
    host thread waiting on the GPU): what a frame costs the machine's cores.
    """
    stamps: list[float] = []
    boxes = [0]

    def sink(prediction: Any, _frame: Any) -> None:
        stamps.append(time.perf_counter())
        if isinstance(prediction, dict):
            boxes[0] += len(prediction.get("predictions", ()))

    loading = time.perf_counter()
    pipeline = make(sink)
    probed = probe() if probe else {}  # while the pipeline holds the loaded model
    started, cpu_started = time.perf_counter(), time.process_time()
    pipeline.start(use_main_thread=True)
    elapsed = time.perf_counter() - started
    pipeline.join()
    cpu = time.process_time() - cpu_started
    frames = len(stamps)
    steady = (
        (frames - 1 - WARMUP_FRAMES) / (stamps[-1] - stamps[WARMUP_FRAMES])
        if frames > WARMUP_FRAMES + 10
        else None
    )
    return {
        "frames": frames,
        "fps": frames / elapsed,
        "fps_steady": steady,
        "ms_per_frame_steady": 1000 / steady if steady else None,
        "cpu_ms_per_frame": 1000 * cpu / max(frames, 1),
        "boxes": boxes[0],
        "init_s": started - loading,  # model load + pipeline init
    } | probed


def timed_calls(call: Callable[[], Any], repeats: int, warmup: int = 10) -> dict[str, float]:
    """Wall and CPU ms per call, after `warmup` calls (host-side work, e.g. onnxruntime)."""
    for _ in range(warmup):
        call()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        call()
    wall = (time.perf_counter() - started) / repeats
    cpu = (time.process_time() - cpu_started) / repeats
    return {"ms": 1000 * wall, "cpu_ms": 1000 * cpu, "calls": repeats}


def sample_frames(count: int) -> list[Any]:
    """Frames of the engine's sample scene at 640x480 (BGR), for the detector-only cases."""
    import cv2  # noqa: PLC0415

    capture = cv2.VideoCapture(str(clip_path(count)))
    frames: list[Any] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def clip_path(frames: int) -> Path:
    """The 640x480 MJPG clip of the engine's sample scene, written once per run."""
    from custom_components.nvr_inference.engine.samples.sample_video import (  # noqa: PLC0415
        write_sample_video,
    )

    path = Path(tempfile.gettempdir()) / f"nvr-gpu-bench-{frames}.avi"
    if not path.is_file():
        write_sample_video(path, size=(640, 480), frames=frames)
    return path


# --- the cases (each runs in a child process) ------------------------------------------------


def case_info(_args: argparse.Namespace) -> dict[str, Any]:
    """Versions, providers, the GPU."""
    info: dict[str, Any] = {"python": platform.python_version(), "cores": os.cpu_count()}
    try:
        smi = subprocess.run(
            ["nvidia-smi", "-L"], check=False, capture_output=True, text=True, timeout=30
        )
        info["nvidia_smi_L"] = smi.stdout.strip() or smi.stderr.strip()
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version,memory.total", "--format=csv,noheader"],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        info["driver_memory"] = smi.stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        info["nvidia_smi_L"] = f"failed: {err}"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    import cv2  # noqa: PLC0415
    import numpy  # noqa: PLC0415
    import onnxruntime  # noqa: PLC0415
    import torch  # noqa: PLC0415

    info |= {
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "onnxruntime": onnxruntime.__version__,
        "onnxruntime_providers": onnxruntime.get_available_providers(),
        "onnxruntime_device": onnxruntime.get_device(),
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
    }
    for name in ("inference", "inference_models", "ultralytics", "ai_edge_litert"):
        try:
            from importlib.metadata import version  # noqa: PLC0415

            info[name] = version(name.replace("_", "-"))
        except Exception as err:  # noqa: BLE001 - reported, not raised
            info[name] = f"not installed ({err})"
    return info


def case_roboflow_onnx(args: argparse.Namespace) -> dict[str, Any]:
    """`local:<folder>` exactly as the engine starts it (ONNX Runtime's provider from the env)."""
    from custom_components.nvr_inference.engine.detect.roboflow import (  # noqa: PLC0415
        init_roboflow_pipeline,
    )
    from custom_components.nvr_inference.engine.detect.spec import (  # noqa: PLC0415
        parse_detector,
    )
    from custom_components.nvr_inference.engine.pipeline.loader import (  # noqa: PLC0415
        inference_pipeline_class,
    )

    spec = parse_detector(f"local:{args.onnx_package}")
    video = clip_path(args.frames)
    pipeline_class = inference_pipeline_class()  # the import is not part of init_s

    def make(sink: Callable[[Any, Any], None]) -> Any:
        common = {"video_reference": str(video), "on_prediction": sink}
        return init_roboflow_pipeline(pipeline_class, spec, None, common)

    return run_pipeline(make, _loaded_session_providers)


def _loaded_session_providers() -> dict[str, Any]:
    """The providers of the ONNX Runtime session the loader made (found among live objects)."""
    import gc  # noqa: PLC0415

    import onnxruntime  # noqa: PLC0415

    sessions = [o for o in gc.get_objects() if isinstance(o, onnxruntime.InferenceSession)]
    return {"session_providers": sessions[0].get_providers() if sessions else "no session found"}


def case_roboflow_torchscript(args: argparse.Namespace) -> dict[str, Any]:
    """The loader on the TorchScript package (DEFAULT_DEVICE from the env: cuda or cpu)."""
    from custom_components.nvr_inference.engine.detect.roboflow import (  # noqa: PLC0415
        local_packages_allowed,
    )
    from custom_components.nvr_inference.engine.pipeline.loader import (  # noqa: PLC0415
        inference_pipeline_class,
    )

    pipeline_class = inference_pipeline_class()  # inference before ultralytics (OFFLINE_MODE)
    from inference_models.configuration import DEFAULT_DEVICE  # noqa: PLC0415

    # Traced on the device it runs on (a trace can hold device-specific constants).
    folder = Path(args.torchscript_package) / DEFAULT_DEVICE.type
    if not (folder / "weights.torchscript").is_file():
        make_torchscript_package(folder, DEFAULT_DEVICE.type)

    # TorchScript on the CPU is the slow comparison: fewer frames keep it inside its timeout.
    video = clip_path(args.frames if DEFAULT_DEVICE.type == "cuda" else min(args.frames, 100))

    def make(sink: Callable[[Any, Any], None]) -> Any:
        with local_packages_allowed():
            return pipeline_class.init(
                model_id=str(folder),
                video_reference=str(video),
                on_prediction=sink,
                api_key=None,
                confidence=0.5,
            )

    return run_pipeline(make) | {"device": str(DEFAULT_DEVICE)}


def case_bare_onnxruntime(args: argparse.Namespace) -> dict[str, Any]:
    """The ONNX network alone in onnxruntime, per provider available: the wrapper's floor."""
    import numpy as np  # noqa: PLC0415
    import onnxruntime  # noqa: PLC0415

    blob = np.random.default_rng(0).random((1, 3, INPUT, INPUT), dtype=np.float32)
    result: dict[str, Any] = {}
    for provider in onnxruntime.get_available_providers():
        if provider not in ("CPUExecutionProvider", "CUDAExecutionProvider"):
            continue
        try:
            session = onnxruntime.InferenceSession(
                str(Path(args.onnx_package) / "weights.onnx"), providers=[provider]
            )
            out = session.run(None, {"images": blob})[0]
            feed = {"images": blob}
            timing = timed_calls(functools.partial(session.run, None, feed), 100)
            result[provider] = timing | {
                "output_shape": list(out.shape),
                "max_score": float(out[0, 4:].max()),
                "threads_default": "onnxruntime's (one per physical core)",
            }
        except Exception as err:  # noqa: BLE001 - one provider failing keeps the others
            result[provider] = {"error": f"{type(err).__name__}: {err}"}
    return result


def case_torch_forward(_args: argparse.Namespace) -> dict[str, Any]:
    """Plain torch on CUDA, not through Roboflow's loader: the network's own GPU cost."""
    import torch  # noqa: PLC0415

    if not torch.cuda.is_available():
        return {"error": "torch sees no CUDA device"}
    torch.backends.cudnn.benchmark = True
    result: dict[str, Any] = {}
    for label, dtype, batch in (
        ("fp32_batch1", torch.float32, 1),
        ("fp16_batch1", torch.float16, 1),
        ("fp16_batch16", torch.float16, 16),
    ):
        model = yolov8n("cuda", half=dtype == torch.float16)
        x = torch.rand(batch, 3, INPUT, INPUT, device="cuda", dtype=dtype)
        with torch.inference_mode():
            for _ in range(30):
                model(x)
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            repeats = 200
            cpu_started = time.process_time()
            start.record()
            for _ in range(repeats):
                out = model(x)
            end.record()
            torch.cuda.synchronize()
            cpu = (time.process_time() - cpu_started) / repeats
        ms = start.elapsed_time(end) / repeats
        result[label] = {
            "ms_per_forward": ms,
            "ms_per_image": ms / batch,
            "images_per_s": 1000 * batch / ms,
            "host_cpu_ms_per_forward": 1000 * cpu,
            "output_shape": list(out.shape),
            "max_score": float(out[:, 4:].float().max()),
        }
    return result


def case_objects_cpu(args: argparse.Namespace) -> dict[str, Any]:
    """The engine's `objects` detector (LiteRT Interpreter, XNNPACK) per 640x480 frame."""
    from custom_components.nvr_inference.engine.detect.objects import (  # noqa: PLC0415
        ObjectsDetector,
    )

    frames = sample_frames(min(args.frames, 200))
    result: dict[str, Any] = {}
    for threads in (1, 4):
        detector = ObjectsDetector(frozenset({"person", "car", "dog", "cat"}), num_threads=threads)
        cycle = itertools.cycle(frames)

        def call(d: ObjectsDetector = detector, c: Iterator[Any] = cycle) -> Any:
            return d(next(c))

        result[f"interpreter_{threads}_threads"] = timed_calls(call, len(frames))
    return result


def case_objects_litert(accelerator: str) -> Case:
    """LiteRT's CompiledModel on the same model with one accelerator set (one process each:
    a failing GPU accelerator can abort the process)."""

    def case(_args: argparse.Namespace) -> dict[str, Any]:
        from ai_edge_litert.compiled_model import CompiledModel  # noqa: PLC0415
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        from custom_components.nvr_inference.engine.detect.model_files import (  # noqa: PLC0415
            coco_model_path,
        )

        accel = {
            "cpu": HardwareAccelerator.CPU,
            "gpu_with_cpu_fallback": HardwareAccelerator.GPU | HardwareAccelerator.CPU,
            "gpu_only": HardwareAccelerator.GPU,
        }[accelerator]
        model = CompiledModel.from_file(str(coco_model_path()), hardware_accel=accel)
        # LiteRT 2.3.0: output buffers made before the outputs' details were read are too small
        # for the post-processing op's outputs, and the second run fails ("Custom allocation is
        # too small"), then the process aborts. Reading the details first sizes them right.
        signature = next(iter(model.get_signature_list()))
        model.get_input_tensor_details(signature)
        model.get_output_tensor_details(signature)
        inputs, outputs = model.create_input_buffers(0), model.create_output_buffers(0)
        image = np.random.default_rng(0).integers(0, 255, (1, 300, 300, 3), dtype=np.uint8)

        def call() -> None:
            inputs[0].write(image)
            model.run_by_index(0, inputs, outputs)

        timing = timed_calls(call, 200)
        scores = outputs[2].read(20, np.float32)
        return timing | {
            "fully_accelerated": model.is_fully_accelerated(),
            "top_score_random_image": float(scores.max()),
        }

    return case


CASES: dict[str, tuple[Case, dict[str, str]]] = {
    "info": (case_info, {}),
    "roboflow_onnx_cpu_ep": (
        case_roboflow_onnx,
        {"ONNXRUNTIME_EXECUTION_PROVIDERS": "CPUExecutionProvider"},
    ),
    "roboflow_onnx_cuda_ep": (
        case_roboflow_onnx,
        {"ONNXRUNTIME_EXECUTION_PROVIDERS": "CUDAExecutionProvider,CPUExecutionProvider"},
    ),
    "roboflow_onnx_tensorrt_ep": (
        case_roboflow_onnx,
        {
            "ONNXRUNTIME_EXECUTION_PROVIDERS": (
                "TensorrtExecutionProvider,CUDAExecutionProvider,CPUExecutionProvider"
            )
        },
    ),
    "roboflow_torchscript_cuda": (case_roboflow_torchscript, {"DEFAULT_DEVICE": "cuda"}),
    "roboflow_torchscript_cpu": (case_roboflow_torchscript, {"DEFAULT_DEVICE": "cpu"}),
    "bare_onnxruntime": (case_bare_onnxruntime, {}),
    "torch_forward_cuda": (case_torch_forward, {}),
    "objects_cpu": (case_objects_cpu, {}),
    "objects_litert_cpu": (case_objects_litert("cpu"), {}),
    "objects_litert_gpu_with_cpu_fallback": (case_objects_litert("gpu_with_cpu_fallback"), {}),
    "objects_litert_gpu_only": (case_objects_litert("gpu_only"), {}),
}
# The provider cases run only when this machine's onnxruntime has the provider.
NEEDS_PROVIDER = {
    "roboflow_onnx_cuda_ep": "CUDAExecutionProvider",
    "roboflow_onnx_tensorrt_ep": "TensorrtExecutionProvider",
}


def run_case(name: str, args: argparse.Namespace) -> None:
    """Child process: run one case, print its result as one JSON line."""
    try:
        result = CASES[name][0](args)
    except Exception as err:  # noqa: BLE001 - the parent records it and goes on
        traceback.print_exc()
        result = {"error": f"{type(err).__name__}: {err}"}
    print("RESULT " + json.dumps(result), flush=True)


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Parent: each case in a child process with its environment; collect, print, write."""
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    providers: list[str] = []
    for name, (_case, env) in CASES.items():
        if args.only and name not in args.only and name != "info":
            continue
        needed = NEEDS_PROVIDER.get(name)
        if needed and needed not in providers:
            results[name] = {"skipped": f"this onnxruntime has no {needed}"}
            print(f"--- {name}: skipped ({needed} not available)", flush=True)
            continue
        print(f"--- {name}", flush=True)
        started = time.perf_counter()
        command = [sys.executable, str(Path(__file__).resolve()), "case", name]
        command += ["--frames", str(args.frames), "--onnx-package", str(args.onnx_package)]
        command += ["--torchscript-package", str(args.torchscript_package)]
        try:
            child = subprocess.run(
                command,
                check=False,
                env=os.environ | env,
                capture_output=True,
                text=True,
                timeout=CASE_TIMEOUT_S,
            )
            lines = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
            result = json.loads(lines[-1][7:]) if lines else {"error": f"rc {child.returncode}"}
            log_tail = (child.stdout + child.stderr)[-3000:]
        except subprocess.TimeoutExpired as err:
            result, log_tail = {"error": f"timed out after {CASE_TIMEOUT_S} s"}, str(err.stderr)
        if "error" in result:
            result["log_tail"] = log_tail[-1500:]
        result["case_wall_s"] = round(time.perf_counter() - started, 1)
        results[name] = result
        if "error" in result:
            print(log_tail, flush=True)
        print(json.dumps(result, indent=1), flush=True)
        if name == "info":
            providers = result.get("onnxruntime_providers", [])
    return results


def print_table(results: dict[str, Any]) -> None:
    """One line per figure."""
    print(f"\n{'what (640x480 MJPG clip, every frame)':<58}{'fps':>8}{'ms':>8}{'cpu ms':>8}")
    for name in (
        "roboflow_onnx_cpu_ep",
        "roboflow_onnx_cuda_ep",
        "roboflow_onnx_tensorrt_ep",
        "roboflow_torchscript_cuda",
        "roboflow_torchscript_cpu",
    ):
        r = results.get(name, {})
        if r.get("fps_steady"):
            label = f"{name} (whole run {r['fps']:.0f} fps, {r['boxes']} boxes)"
            print(
                f"{label:<58}{r['fps_steady']:>8.1f}{r['ms_per_frame_steady']:>8.2f}"
                f"{r['cpu_ms_per_frame']:>8.2f}"
            )
        else:
            print(f"{name:<58}  {r.get('error') or r.get('skipped')}")
    for name in ("bare_onnxruntime", "torch_forward_cuda", "objects_cpu"):
        for key, r in results.get(name, {}).items():
            if not isinstance(r, dict):
                continue
            ms = r.get("ms", r.get("ms_per_image"))
            cpu = r.get("cpu_ms", r.get("host_cpu_ms_per_forward"))
            if ms is None:
                print(f"{name + ' ' + key:<58}  {r.get('error')}")
                continue
            print(f"{name + ' ' + key:<58}{1000 / ms:>8.1f}{ms:>8.2f}{cpu:>8.2f}")
    for key in ("cpu", "gpu_with_cpu_fallback", "gpu_only"):
        r = results.get(f"objects_litert_{key}", {})
        if "ms" in r:
            label = f"objects CompiledModel {key} (fully accelerated: {r['fully_accelerated']})"
            print(f"{label:<58}{1000 / r['ms']:>8.1f}{r['ms']:>8.2f}{r['cpu_ms']:>8.2f}")
        else:
            print(f"{'objects CompiledModel ' + key:<58}  {r.get('error')}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-onnx", help="write the ONNX model package")
    make.add_argument("folder", type=Path)
    for name in ("run", "case"):
        p = sub.add_parser(name)
        if name == "case":
            p.add_argument("name", choices=list(CASES))
        else:
            p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
            p.add_argument("--only", nargs="*", default=[])
        p.add_argument("--frames", type=int, default=300)
        p.add_argument("--onnx-package", type=Path, required=name == "run")
        p.add_argument(
            "--torchscript-package",
            type=Path,
            default=Path(tempfile.gettempdir()) / "nvr-yolov8n-torchscript",
        )
    args = parser.parse_args()
    if args.command == "make-onnx":
        print(make_onnx_package(args.folder.resolve()))
    elif args.command == "case":
        run_case(args.name, args)
    else:
        args.onnx_package = args.onnx_package.resolve()
        results = run_all(args)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_bench.json").write_text(json.dumps(results, indent=2))
        print_table(results)
        print(f"(written to {args.out / 'gpu_bench.json'})")


if __name__ == "__main__":
    main()
