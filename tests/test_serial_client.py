"""The host client and `tinykit run` against the host-built device (real
protocol C + host HAL over TCP + the TEST DOUBLE model), directly and through
the fault proxy. Every output is compared with the double's function
recomputed in Python."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from faultproxy import (
    DOUBLE_HASH,
    DOUBLE_IN_QUANT,
    DOUBLE_NAME,
    DOUBLE_OUT_QUANT,
    FaultProxy,
    HostDevice,
    build_host_device,
    double_expected,
)

from tinykit.cli import cli
from tinykit.errors import DeviceError
from tinykit.serial.client import Device, quantize_input

pytestmark = pytest.mark.host  # the host device is built with gcc; no-device errors: unit


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_device(tmp_path_factory.mktemp("client_dev"))


@pytest.fixture()
def device(device_exe: Path, tmp_path: Path):
    with HostDevice(device_exe, log=tmp_path / "device.log") as dev:
        yield dev


def _inputs(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, size=(1, 49, 10), dtype=np.int8) for _ in range(n)]


def test_info_reports_the_model(device: HostDevice) -> None:
    with Device.open(device.url, timeout=1.0) as dev:
        info = dev.info()
    assert (info.name, info.hash, info.runtime, info.board) == (DOUBLE_NAME, DOUBLE_HASH, "aot",
                                                                "host-test")
    assert info.input.shape == (1, 49, 10) and info.input.dtype == "int8"
    assert info.input.bytes == 490 and info.output.bytes == 12
    assert (round(info.input.scale, 6), info.input.zero_point) == DOUBLE_IN_QUANT
    assert (info.output.scale, info.output.zero_point) == DOUBLE_OUT_QUANT
    assert info.n_layers == 3 and info.firmware == "0.1.0"


def test_infer_matches_the_double_and_costs_six_frames(device: HostDevice) -> None:
    with Device.open(device.url, timeout=1.0) as dev:
        dev.info()
        before = dev.stats.frames_sent
        for x in _inputs(20):
            r = dev.infer(x)
            assert r.output.dtype == np.int8 and r.output.shape == (1, 12)
            np.testing.assert_array_equal(r.output, double_expected(x))
        # 490 B input: 2 SET_INPUT chunks + 1 INVOKE (output inline), 3 replies
        assert (dev.stats.frames_sent - before) / 20 == 3
        assert dev.stats.retries == 0
        assert len(dev.layer_times()) == 3
    x = np.full((1, 49, 10), 127, np.int8)  # saturates
    with Device.open(device.url, timeout=1.0) as dev:
        np.testing.assert_array_equal(dev.infer(x.tobytes()).output, double_expected(x))


def test_wrong_input_size_and_type_are_clear_errors(device: HostDevice) -> None:
    from tinykit.errors import DataError

    with Device.open(device.url, timeout=1.0) as dev:
        with pytest.raises(DataError, match="490"):
            dev.infer(b"\x00" * 10)
        with pytest.raises(DataError, match="float32") as e:
            dev.infer(np.zeros((1, 49, 10), np.float32))
        assert "quantize_input" in e.value.format_message()


def test_wrong_model_hash_names_both(device: HostDevice) -> None:
    with Device.open(device.url, timeout=1.0) as dev:
        with pytest.raises(DeviceError) as e:
            dev.expect_model("0123456789abcdef", "ds_cnn")
    msg = e.value.format_message()
    assert DOUBLE_NAME in msg and DOUBLE_HASH in msg and "ds_cnn" in msg and "0123456789abcdef" in msg


@pytest.mark.parametrize(
    ("seed", "faults"),
    [
        (1, {"flip": 0.004}),
        (2, {"drop": 0.002}),
        (3, {"flip": 0.002, "drop": 0.002, "delay": 0.01}),
    ],
)
def test_retries_succeed_under_faults_and_no_wrong_result_is_accepted(
    device: HostDevice, seed: int, faults: dict[str, float]
) -> None:
    inputs = _inputs(40, seed)
    with FaultProxy(device.addr, seed=seed, max_faults=30, **faults) as proxy:
        with Device.open(proxy.url, timeout=0.3, retries=10) as dev:
            results = dev.infer_many(inputs)
            for x, r in zip(inputs, results, strict=True):
                np.testing.assert_array_equal(r.output, double_expected(x))
            stats = dev.stats
    assert proxy.faults > 0
    assert stats.retries > 0
    print(f"faults {proxy.counts} -> retries {stats.retries}, {stats}")


def test_device_killed_mid_run_keeps_partial_results(device: HostDevice) -> None:
    inputs = _inputs(10, 4)

    def kill_after_three(i: int, _r: object) -> None:
        if i == 2:
            device.kill()

    with Device.open(device.url, timeout=0.3, retries=2) as dev:
        with pytest.raises(DeviceError) as e:
            dev.infer_many(inputs, on_result=kill_after_three)
        assert len(dev.results) == 3
    partial = e.value.partial  # type: ignore[attr-defined]
    assert len(partial) == 3
    for x, r in zip(inputs, partial, strict=False):
        np.testing.assert_array_equal(r.output, double_expected(x))
    msg = e.value.format_message()
    assert "after 3 inferences" in msg and ("lost the connection" in msg or "did not answer" in msg)


def test_garbage_before_and_between_frames(device: HostDevice) -> None:
    inputs = _inputs(6, 5)
    with FaultProxy(device.addr) as proxy, Device.open(proxy.url, timeout=0.3, retries=5) as dev:
        proxy.inject("to_device", b"AT+RESET\r\n\x00\xff\x13garbage")
        proxy.inject("to_host", b"log: hello from the board\r\n\x01\x02")
        for i, x in enumerate(inputs):
            if i % 2:
                proxy.inject("to_device", bytes(range(0, 256, 7)))  # has 0xA5-free noise
                proxy.inject("to_host", b"\xa5\x5a\x81\x01\x03\x00xyz\x00\x00\x00\x00debug\n")
            np.testing.assert_array_equal(dev.infer(x).output, double_expected(x))
        # the injected line may arrive inside the boot banner's line (no ordering between them)
        assert any(line.endswith("log: hello from the board") for line in dev.text_lines)
        assert dev.stats.bad_frames >= 1  # the fake frame was seen and refused


def test_reset_mid_run_is_detected(device_exe: Path, device: HostDevice) -> None:
    inputs = _inputs(8, 6)
    with FaultProxy(device.addr) as proxy, Device.open(proxy.url, timeout=0.3, retries=3) as dev:
        with HostDevice(device_exe) as rebooted:

            def reset_after_two(i: int, _r: object) -> None:
                if i == 1:  # the board reboots: same serial link, new firmware run
                    device.kill()
                    proxy.set_upstream(rebooted.addr)

            with pytest.raises(DeviceError, match="reset during the run") as e:
                dev.infer_many(inputs, on_result=reset_after_two)
    assert len(e.value.partial) == 2  # type: ignore[attr-defined]
    assert "2 results were received" in e.value.format_message()


# ---- tinykit run --------------------------------------------------------------------


def test_run_cli_int8_json(device: HostDevice, tmp_path: Path) -> None:
    x = _inputs(1, 7)[0]
    np.save(tmp_path / "x.npy", x)
    res = CliRunner().invoke(cli, ["run", "--port", device.url, "--input", str(tmp_path / "x.npy"),
                                   "-o", str(tmp_path / "y.npy"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    want = double_expected(x)
    assert report["output"] == want.tolist()
    assert report["argmax"] is None  # the double's output is no probability vector: no class
    assert report["model_hash"] == DOUBLE_HASH and report["quantized_input"] is False
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), want)


def test_run_cli_quantizes_float_input(device: HostDevice, tmp_path: Path) -> None:
    xf = np.random.default_rng(8).normal(0, 3, size=(49, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", xf)
    res = CliRunner().invoke(cli, ["run", "--port", device.url, "--input", str(tmp_path / "x.npy")])
    assert res.exit_code == 0, res.output
    assert "quantized" in res.stderr
    with Device.open(device.url) as dev:
        q = quantize_input(xf, dev.info().input)
    want = double_expected(q)
    assert str(want.reshape(1, -1)[0]) in res.stdout and "argmax" not in res.stdout


def test_run_cli_wrong_model_is_exit_2(device: HostDevice, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", _inputs(1)[0])
    (tmp_path / "kws.tflite").write_bytes(b"not the double's model")
    res = CliRunner().invoke(cli, ["run", "--port", device.url, "--input", str(tmp_path / "x.npy"),
                                   "--model", str(tmp_path / "kws.tflite")])
    assert res.exit_code == 2
    assert "kws" in res.stderr and DOUBLE_NAME in res.stderr and "Traceback" not in res.output


@pytest.mark.unit
def test_run_cli_no_emulator_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYKIT_STATE_DIR", str(tmp_path / "state"))
    np.save(tmp_path / "x.npy", _inputs(1)[0])
    res = CliRunner().invoke(cli, ["run", "--board", "qemu-m4", "--input", str(tmp_path / "x.npy")])
    assert res.exit_code == 2
    assert "no emulator running for qemu-m4" in res.stderr
    assert "tinykit flash --board qemu-m4" in res.stderr


@pytest.mark.unit
def test_run_cli_board_without_a_port_is_a_clear_error(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", _inputs(1)[0])
    res = CliRunner().invoke(cli, ["run", "--board", "nucleo-l4r5zi", "--input", str(tmp_path / "x.npy")])
    assert res.exit_code == 2
    # no ST-LINK is plugged in here: the real list_ports finds no 0483:374B port
    assert "no serial port with the USB VID:PID of nucleo-l4r5zi (0483:374B)" in res.stderr
    assert "--port" in res.stderr
    res = CliRunner().invoke(cli, ["run", "--input", str(tmp_path / "x.npy")])
    assert res.exit_code == 2 and "no device given" in res.stderr


@pytest.mark.unit
def test_hil_test_no_emulator_is_a_clear_error(model_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYKIT_STATE_DIR", str(tmp_path / "state"))
    res = CliRunner().invoke(cli, ["test", str(model_dir / "ds_cnn.tflite"), "--board", "qemu-m7", "--samples", "1"])
    assert res.exit_code == 2, res.output
    assert "no emulator running for qemu-m7" in res.stderr and "tinykit flash --board qemu-m7" in res.stderr


@pytest.mark.unit
def test_run_cli_dead_port_is_exit_2(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", _inputs(1)[0])
    res = CliRunner().invoke(cli, ["run", "--port", "socket://127.0.0.1:1", "--input",
                                   str(tmp_path / "x.npy")])
    assert res.exit_code == 2
    assert "cannot open serial port" in res.stderr
