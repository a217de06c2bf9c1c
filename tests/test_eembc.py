"""MLPerf Tiny (EEMBC runner) mode: the host client drives the firmware's text
protocol (tk_eembc.c + host HAL + TEST DOUBLE model) through
name / profile / timestamp / db load / db / infer / results."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from faultproxy import DOUBLE_NAME, DOUBLE_OUT_QUANT, HostDevice, build_host_device, double_expected

from tinykit.errors import DeviceError
from tinykit.serial.eembc import EembcDevice

pytestmark = pytest.mark.host  # the host device is built with gcc


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_device(tmp_path_factory.mktemp("eembc_dev"))


@pytest.fixture()
def device(device_exe: Path, tmp_path: Path):
    with HostDevice(device_exe, eembc=True, board="qemu-m4", log=tmp_path / "dev.log") as dev:
        yield dev


def _dequantized(x: np.ndarray) -> list[float]:
    scale, zp = DOUBLE_OUT_QUANT
    return [round(scale * (int(q) - zp), 3) for q in double_expected(x).reshape(-1)]


def test_boot_lines(device: HostDevice) -> None:
    with socket.create_connection(device.addr, timeout=2.0) as s:
        text = b""
        while not text.endswith(b"m-ready\r\n"):
            text += s.recv(256)
    lines = text.decode().split("\r\n")
    assert lines[0] == "m-timestamp-mode-performance"
    assert lines[1].startswith("m-lap-us-") and lines[2:4] == ["m-init-done", "m-ready"]


def test_name_profile_timestamp(device: HostDevice) -> None:
    with EembcDevice.open(device.url) as dev:
        assert dev.name() == "tinykit-qemu-m4"
        assert dev.profile() == ("tinykit 0.1.0", DOUBLE_NAME)
        t0 = dev.timestamp()
        t1 = dev.timestamp()
        assert (t1 - t0) % (1 << 32) < 60_000_000  # same clock, moving forward


def test_load_infer_results_match_the_double(device: HostDevice) -> None:
    rng = np.random.default_rng(11)
    with EembcDevice.open(device.url) as dev:
        for _ in range(3):
            x = rng.integers(-128, 128, size=(1, 49, 10), dtype=np.int8)
            dev.load(x.tobytes())
            results, us = dev.infer(5, 2)
            assert results == pytest.approx(_dequantized(x), abs=1e-6)
            assert us >= 0
            assert dev.results() == results
        lines = dev.log
    assert "m-warmup-start-2" in lines and "m-infer-start-5" in lines and "m-infer-done" in lines


def test_errors_are_e_lines(device: HostDevice) -> None:
    with EembcDevice.open(device.url) as dev:
        with pytest.raises(DeviceError, match="Unknown command: bogus"):
            dev.command("bogus")
        with pytest.raises(DeviceError, match="db load"):
            dev.command("db 0011")  # no db load first
        with pytest.raises(DeviceError, match="input bytes"):
            dev.command("db load 100000")
        with pytest.raises(DeviceError, match="no inference yet"):
            dev.results()
        with pytest.raises(DeviceError, match="too long"):
            dev.command("db " + "00" * 200)
        assert dev.name() == "tinykit-qemu-m4"  # still answering
