"""MLPerf Tiny conformance of `tinykit build --protocol eembc` on qemu-m4: a stand-in
for the official runner (tests/mlperf_runner.py: its DUT's commands, order and
31-byte chunking) drives the firmware of each classic task, built from the
fixture model of that task's shape, and every result is checked against TFLM:

* kws01 (DS-CNN, int8 MFCC bytes) and ic01 / vww01 (resnet / mobilenet, uint8
  pixel bytes the device shifts by -128): the dequantized outputs are TFLM's;
* ad01 (FC autoencoder, float32 windows cut from a file as the runner does): the
  one score is the MSE between the float input and the dequantized output of
  TFLM's int8 run, computed on the host.

The real runner's performance counts (e.g. ``infer 1500 10`` for ad01) take
minutes under QEMU, so the performance step here runs ``infer 2 1``; the
accuracy steps are the runner's own (``infer 1 0``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from emulators import private_emulators
from mlperf_runner import ACCURACY, PERFORMANCE, RunnerDut, errors, segments

from tinykit.cli import cli
from tinykit.graph import parse_tflite
from tinykit.reference import run as reference_run
from tinykit.serial.link import open_link

pytestmark = pytest.mark.emu  # PlatformIO + QEMU

TASKS = {"kws01": "ds_cnn", "ic01": "resnet", "vww01": "mobilenet", "ad01": "autoencoder"}
PERF_STEP = (2, 1)  # (iterations, warmups) of the performance step, see the module doc
FILES = {"vww01": 1}  # dataset files per task (default 2): a vww01 load is 892 db commands, ~13 s


@pytest.fixture(scope="module", autouse=True)
def emulator_state(tmp_path_factory):
    with private_emulators(tmp_path_factory.mktemp("qemu-state"), str(tmp_path_factory.getbasetemp())):
        yield


@pytest.fixture(scope="module")
def firmware(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """task -> (project dir, build report); each firmware is built once."""
    built: dict[str, tuple[Path, dict]] = {}

    def get(task: str) -> tuple[Path, dict]:
        if task not in built:
            out = tmp_path_factory.mktemp(f"eembc-{task}")
            # ad01 names its task; the others are detected from the model's shapes
            extra = ["--eembc-task", "ad01"] if task == "ad01" else []
            r = CliRunner().invoke(cli, ["build", str(model_dir / f"{TASKS[task]}.tflite"), "--board", "qemu-m4",
                                         "-o", str(out), "--protocol", "eembc", *extra, "--compile", "--json"])
            assert r.exit_code == 0, r.output
            built[task] = (out, json.loads(r.stdout))
        return built[task]

    return get


def flash(project: Path) -> str:
    r = CliRunner().invoke(cli, ["flash", str(project), "--board", "qemu-m4", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["port"]


def dataset(task: str, model, n: int) -> list[bytes]:
    """n dataset files as the runner reads them: kws01 int8 features, ic01/vww01
    uint8 pixels, ad01 float32 LE frames (one window plus two strides)."""
    x = model.calib[:n]
    if task == "kws01":
        q = parse_tflite(model.tflite).input_tensors[0].quant
        return [np.clip(np.round(s / q.scale[0]) + q.zero_point[0], -128, 127).astype(np.int8).tobytes() for s in x]
    if task in ("ic01", "vww01"):
        return [np.clip(np.round(s * 255), 0, 255).astype(np.uint8).tobytes() for s in x]
    files = []
    for i, s in enumerate(x):  # the second file is louder than the int8 input range: clamped on quantizing
        frames = np.concatenate([s, model.calib[n + i][:256]]).astype("<f4") * (1.0 if i == 0 else 3.0)
        files.append(frames.tobytes())
    return files


def model_input(task: str, model, data: bytes) -> np.ndarray:
    """What the reference firmware of the task feeds the int8 model."""
    inp = parse_tflite(model.tflite).input_tensors[0]
    if task == "kws01":
        return np.frombuffer(data, np.int8).reshape(inp.shape[1:])
    if task in ("ic01", "vww01"):
        return (np.frombuffer(data, np.uint8).astype(np.int16) - 128).astype(np.int8).reshape(inp.shape[1:])
    return quantize_like_device(np.frombuffer(data, "<f4"), inp.quant.scale[0], inp.quant.zero_point[0])


def quantize_like_device(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    """round(x / scale) + zp in float32 division, rounding half away from zero."""
    v = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
    return np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zp, -128, 127).astype(np.int8)


def anomaly_score(x: np.ndarray, out_q: np.ndarray, scale: float, zp: int) -> float:
    """The reference firmware's score: float32 mean of (dequantized output - input)^2,
    summed in order."""
    total = np.float32(0)
    for q, xi in zip(out_q.reshape(-1), x.astype(np.float32), strict=True):
        diff = np.float32(scale) * np.float32(int(q) - zp) - xi
        total = np.float32(total + diff * diff)
    return float(total / np.float32(x.size))


@pytest.mark.parametrize("task", list(TASKS))
def test_runner_flow_matches_tflm(task: str, firmware, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(TASKS[task])
    project, report = firmware(task)
    assert report["project"]["eembc_task"] == task
    graph = parse_tflite(model.tflite)
    out_t = graph.output_tensors[0]
    files = dataset(task, model, FILES.get(task, 2))

    with open_link(flash(project), timeout=0.05) as link:
        dut = RunnerDut(link)
        dut.drain()
        ident = dut.identify()
        assert ident["model"] == task and ident["model"] in PERFORMANCE  # main.py's script lookup
        assert ident["name"] == "tinykit-qemu-m4" and ident["profile"].startswith("tinykit ")

        loads: list[bytes] = []
        device: list[list[float]] = []
        for data in files:  # accuracy mode: loop: download, infer 1 0
            for part in segments(task, data, "a"):
                assert dut.load(part)[-2:] == ["m-load-done", "m-ready"]
                result = dut.infer(*ACCURACY[task])
                loads.append(part)
                device.append(result.results)
        perf = None
        for data in files[:1]:  # performance mode: download (first segment), infer N W
            for part in segments(task, data, "p"):
                dut.load(part)
                perf = dut.infer(*PERF_STEP)
        assert not errors(dut), errors(dut)

    assert perf is not None and perf.elapsed_us is not None and perf.elapsed_us > 0
    assert perf.results == device[0]
    assert len(loads) == len(files) * (3 if task == "ad01" else 1)
    inputs = np.stack([model_input(task, model, d) for d in loads])
    ref = reference_run(model.tflite, inputs.reshape(len(loads), *graph.input_tensors[0].shape[1:])).outputs
    scale, zp = out_t.quant.scale[0], out_t.quant.zero_point[0]
    for i, (got, want) in enumerate(zip(device, ref, strict=True)):
        if task == "ad01":
            score = anomaly_score(np.frombuffer(loads[i], "<f4"), want, scale, zp)
            assert len(got) == 1 and abs(got[0] - score) <= 1.1e-3, (i, got, score)
        else:
            codes = np.round(np.array(got) / scale) + zp
            assert np.array_equal(codes.astype(np.int8), want.reshape(-1)), (i, got)
    if task == "ad01":
        assert max(r[0] for r in device) > 0.1  # the clamped file scores high: the check means something


def test_tinykit_run_and_test_name_the_mlperf_firmware(firmware, model_dir: Path, tmp_path: Path) -> None:
    """`tinykit run` / `tinykit test` against an MLPerf Tiny mode firmware: exit 2 with
    one line saying what the firmware is and what to use, instead of four INFO retries
    (run: the error line on stderr; test: the "stopped:" line of its report)."""
    project, _ = firmware("kws01")
    port = flash(project)
    sample = tmp_path / "x.npy"
    np.save(sample, np.zeros((49, 10, 1), np.int8))
    for verb in (["run", "--port", port, "--input", str(sample)],
                 ["test", str(model_dir / "ds_cnn.tflite"), "--port", port, "-n", "1"]):
        r = subprocess.run([sys.executable, "-m", "tinykit", *verb], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stdout + r.stderr
        said = r.stderr if verb[0] == "run" else r.stdout  # test keeps its report: "stopped: ..."
        assert "MLPerf Tiny mode firmware" in said and "--protocol eembc" in said, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
