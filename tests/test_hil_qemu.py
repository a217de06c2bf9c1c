"""The main job end to end on the emulated boards, through the real parts:
`tinykit build --compile` (real pio run, arm-none-eabi-gcc), `tinykit flash`
(real QEMU), `tinykit run` / `tinykit test` (real serial bytes over pyserial),
compared with the TFLM reference. Fault tests put a loopback proxy between the
host and the emulator, kill the emulator mid-run, and flash the wrong model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from emulators import private_emulators
from faultproxy import FaultProxy
from polling import wait_for

from tinykit.cli import cli
from tinykit.graph import model_hash
from tinykit.reference import run as reference_run

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


@pytest.fixture(scope="module", autouse=True)
def emulator_state(tmp_path_factory):
    """Emulators of this module live in a private state dir; all are stopped at the
    end and none of this session's (their firmware is under basetemp) survives."""
    with private_emulators(tmp_path_factory.mktemp("qemu-state"), str(tmp_path_factory.getbasetemp())):
        yield


def arm_size(elf: str) -> tuple[int, int]:
    """(flash, ram) from arm-none-eabi-size: flash = text + data, RAM = data + bss."""
    line = subprocess.run(["arm-none-eabi-size", elf], capture_output=True, text=True,
                          check=True).stdout.splitlines()[1].split()
    text, data, bss = int(line[0]), int(line[1]), int(line[2])
    return text + data, data + bss


def build_and_flash(model_path: Path, board: str, out: Path) -> tuple[dict, str]:
    r = CliRunner().invoke(cli, ["build", str(model_path), "--board", board, "-o", str(out), "--compile",
                                 "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    r = CliRunner().invoke(cli, ["flash", str(out), "--board", board, "--json"])
    assert r.exit_code == 0, r.output
    port = json.loads(r.stdout)["port"]
    assert str(port).startswith("socket://127.0.0.1:")
    return report, port


def tinykit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tinykit", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("board", ["qemu-m4", "qemu-m7", "qemu-m33"])
def test_build_flash_run_and_test_ds_cnn_bit_exact(ds_cnn, model_dir, tmp_path, board):
    model = model_dir / "ds_cnn.tflite"
    report, port = build_and_flash(model, board, tmp_path / f"ds_cnn-{board}")
    compiled = report["compile"]
    assert (compiled["flash_bytes"], compiled["ram_bytes"]) == arm_size(compiled["elf"])
    assert compiled["ram_fits"] and compiled["flash_fits"]

    # one inference with `tinykit run`, found through --board (the emulator tinykit flash started)
    x = np.random.default_rng(1).integers(-128, 128, (49, 10, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    r = tinykit("run", "--board", board, "--input", str(tmp_path / "x.npy"), "--model", str(model),
                "-o", str(tmp_path / "y.npy"), "--layers", "--json")
    assert r.returncode == 0, r.stderr
    ref = reference_run(ds_cnn.tflite, x[None]).outputs[0]
    assert np.array_equal(np.load(tmp_path / "y.npy").reshape(ref.shape), ref)
    report = json.loads(r.stdout)
    assert report["device_us"] > 0
    # per-layer device times: one per op, named from the graph, adding up to at most the total
    from tinykit.graph import parse_tflite

    ops = parse_tflite(ds_cnn.tflite).ops
    layers = report["layers"]
    assert [t["op"] for t in layers] == [op.kind for op in ops]
    assert all(t["us"] >= 0 and t["name"] for t in layers)
    assert 0 < sum(t["us"] for t in layers) <= report["device_us"]

    # the HIL suite, with JUnit and JSON reports
    junit, out_json = tmp_path / "hil.xml", tmp_path / "hil.json"
    r = tinykit("test", str(model), "--port", port, "--samples", "12", "--junit", str(junit),
                "--json-file", str(out_json))
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(out_json.read_text())
    assert result["bit_exact"] and result["samples"] == 12 and result["mismatches"] == 0
    assert result["model_hash"] == model_hash(ds_cnn.tflite) == result["device"]["hash"]
    lat = result["latency_us"]
    assert 0 < lat["min"] <= lat["median"] <= lat["p95"]
    assert result["throughput_per_s"] > 0
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "12" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 12


@pytest.mark.parametrize("name", ["resnet", "mobilenet", "autoencoder"])
def test_fixture_models_bit_exact_on_qemu_m4(request, model_dir, tmp_path, name):
    fixture = request.getfixturevalue(name)
    model = model_dir / f"{name}.tflite"
    _, port = build_and_flash(model, "qemu-m4", tmp_path / name)
    data = tmp_path / "data.npy"
    np.save(data, fixture.calib[:4])
    r = tinykit("test", str(model), "--port", port, "--data", str(data), "--samples", "4", "--timeout", "60",
                "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)  # `test --json` prints the report (the JSON contract's keys)
    assert result["bit_exact"] and result["samples"] == 4
    assert (result["model"], result["ok"], result["exit_code"]) == (str(model), True, 0)
    if name == "autoencoder":  # no class probabilities: no top-1 agreement
        assert result["top1_agreement"] is None and result["cases"][0]["top1_device"] is None


def test_wrong_model_on_device_is_a_clear_error(ds_cnn, resnet, model_dir, tmp_path):
    _, port = build_and_flash(model_dir / "ds_cnn.tflite", "qemu-m4", tmp_path / "p")
    r = tinykit("test", str(model_dir / "resnet.tflite"), "--port", port, "--samples", "2")
    assert r.returncode == 2
    message = r.stdout + r.stderr
    assert "ds_cnn" in message and "resnet" in message


def test_emulator_killed_mid_run_keeps_partial_results(ds_cnn, model_dir, tmp_path):
    from tinykit.pio.qemu import running

    _, port = build_and_flash(model_dir / "ds_cnn.tflite", "qemu-m4", tmp_path / "p")
    out_json = tmp_path / "partial.json"
    proc = subprocess.Popen([sys.executable, "-m", "tinykit", "test", str(model_dir / "ds_cnn.tflite"),
                             "--port", port, "--samples", "400", "--timeout", "3", "--json-file", str(out_json)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def three_cases_written() -> bool:
        try:
            return len(json.loads(out_json.read_text())["cases"]) >= 3
        except (OSError, ValueError, KeyError):  # not written yet, or caught mid-write
            return False

    try:
        wait_for(three_cases_written, timeout=300, interval=0.2, what="3 cases in the partial JSON report")
        os.kill(running("qemu-m4").pid, 9)
        stdout, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 2
    result = json.loads(out_json.read_text())
    passed = [c for c in result["cases"] if c["status"] == "passed"]
    assert len(passed) >= 3 and not result["completed"] and result["stopped"]
    assert "stopped" in stdout


def test_faults_between_host_and_emulator_never_give_a_wrong_result(ds_cnn, model_dir, tmp_path):
    from tinykit.pio.qemu import running

    _, _port = build_and_flash(model_dir / "ds_cnn.tflite", "qemu-m7", tmp_path / "p")
    emu = running("qemu-m7")
    # ~0.1 % of bytes damaged: a 266-byte frame is hit ~25 % of the time, so 7 attempts per
    # request make giving up on a request (7 damaged attempts in a row) ~1e-4 likely
    with FaultProxy(("127.0.0.1", emu.port), seed=3, flip=0.0008, drop=0.0003, max_faults=12) as proxy:
        r = tinykit("test", str(model_dir / "ds_cnn.tflite"), "--port", proxy.url, "--samples", "15",
                    "--timeout", "2", "--retries", "6", "--json")
        faults = proxy.faults
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    assert result["bit_exact"] and result["samples"] == 15
    assert faults > 0


def test_mlperf_tiny_mode_on_emulated_board(ds_cnn, model_dir, tmp_path):
    """`tinykit build --protocol eembc`: the firmware speaks the MLPerf Tiny runner's
    text protocol; a host client of that protocol loads an input, runs inferences,
    and the results match the TFLM reference."""
    from tinykit.graph import parse_tflite
    from tinykit.serial.eembc import EembcDevice

    model = model_dir / "ds_cnn.tflite"
    out = tmp_path / "eembc"
    r = CliRunner().invoke(cli, ["build", str(model), "--board", "qemu-m4", "-o", str(out), "--protocol", "eembc",
                                 "--compile"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["flash", str(out), "--board", "qemu-m4", "--json"])
    assert r.exit_code == 0, r.output
    port = json.loads(r.stdout)["port"]
    out_q = parse_tflite(ds_cnn.tflite).output_tensors[0].quant
    rng = np.random.default_rng(7)
    with EembcDevice.open(port, timeout=60) as dev:
        assert dev.name() == "tinykit-qemu-m4"
        assert dev.profile()[1] == "kws01"  # the runner's key, detected from the shapes
        for _ in range(2):
            x = rng.integers(-128, 128, (49, 10, 1), dtype=np.int8)
            ref = reference_run(ds_cnn.tflite, x[None]).outputs[0].reshape(-1)
            dev.load(x.tobytes())
            results, us_per_inference = dev.infer(3, warmup=1)
            codes = np.round(np.array(results) / out_q.scale[0]) + out_q.zero_point[0]
            assert np.array_equal(codes.astype(np.int8), ref)
            assert us_per_inference > 0
            assert dev.results() == results
