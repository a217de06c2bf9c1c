"""Issue 11 items 7, 11, 12 (unit tier): labels checked against the model's classes,
ports found by USB VID:PID (against a stubbed ``comports()``: no USB device can be
plugged in here), hwids validated in board profiles, calibration warnings, no top-1
agreement for regressors."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tinykit.boards import resolve
from tinykit.errors import BoardError, DataError, DeviceError
from tinykit.graph import parse_tflite
from tinykit.hil.api import HilConfig, check_labels, make_inputs
from tinykit.hil.result import CaseResult, Status, SuiteResult
from tinykit.pio.ports import find_board_port, resolve_port
from tinykit.quantize.api import calibration_warnings, compare

pytestmark = pytest.mark.unit


# --- test --labels ----------------------------------------------------------------

@pytest.mark.parametrize("labels, why", [
    (np.array([0, 12]), "label 12 (sample 1) is not a class of the model's 12 outputs"),
    (np.array([-1, 0]), "label -1 (sample 0)"),
    (np.array([0.5, 1.0]), "are not integers"),
    (np.eye(12)[:2], "shape [2, 12]"),  # one-hot rows
    (np.array([3]), "1 labels for 2 samples"),
])
def test_labels_are_integers_within_the_output_classes(ds_cnn, tmp_path: Path, labels, why) -> None:
    graph = parse_tflite(ds_cnn.tflite, "ds_cnn")
    np.save(tmp_path / "x.npy", ds_cnn.calib[:2])
    np.save(tmp_path / "y.npy", labels)
    config = HilConfig(Path("m.tflite"), data=tmp_path / "x.npy", labels=tmp_path / "y.npy", samples=2)
    with pytest.raises(DataError, match=re.escape(why)):
        make_inputs(config, graph)


def test_good_labels_pass_as_int(ds_cnn, tmp_path: Path) -> None:
    graph = parse_tflite(ds_cnn.tflite, "ds_cnn")
    np.save(tmp_path / "x.npy", ds_cnn.calib[:3])
    np.save(tmp_path / "y.npy", np.array([[11.0], [0.0], [5.0]]))  # (N, 1) floats holding integers
    _, labels = make_inputs(HilConfig(Path("m.tflite"), data=tmp_path / "x.npy",
                                      labels=tmp_path / "y.npy", samples=3), graph)
    assert labels.tolist() == [11, 0, 5] and labels.dtype.kind == "i"
    assert check_labels(np.array([1, 2, 3], np.uint8), 2, 4).tolist() == [1, 2]


# --- ports by USB VID:PID ---------------------------------------------------------

def _port(device: str, vid: int | None, pid: int | None, description: str = "USB serial"):
    """A stand-in for pyserial's ListPortInfo (the fields `pio device list` shows)."""
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=description)


def test_stubbed_comports_one_matching_port_is_found() -> None:
    ports = [_port("/dev/ttyS0", None, None, "n/a"), _port("/dev/ttyUSB0", 0x0403, 0x6001),
             _port("/dev/ttyACM0", 0x303A, 0x1001, "USB JTAG/serial debug unit")]
    assert resolve_port(None, "esp32s3", comports=lambda: ports) == "/dev/ttyACM0"
    assert resolve_port("/dev/ttyX", "esp32s3", comports=lambda: []) == "/dev/ttyX"  # --port wins


def test_stubbed_comports_several_candidates_are_listed() -> None:
    ports = [_port("/dev/ttyACM1", 0x0483, 0x374B, "STM32 STLink"),
             _port("/dev/ttyACM0", 0x0483, 0x374B, "STM32 STLink")]
    with pytest.raises(DeviceError) as exc:
        find_board_port(resolve("nucleo-l4r5zi"), comports=lambda: ports)
    msg = exc.value.format_message()
    assert "2 serial ports match board nucleo-l4r5zi: /dev/ttyACM0 (0483:374B" in msg
    assert "/dev/ttyACM1" in msg and "--port" in msg and "\n" not in msg


def test_stubbed_comports_none_says_which_vid_pid_was_expected() -> None:
    ports = [_port("/dev/ttyUSB0", 0x0403, 0x6001)]
    with pytest.raises(DeviceError) as exc:
        resolve_port(None, "esp32s3", comports=lambda: ports)
    msg = exc.value.format_message()
    assert "no serial port with the USB VID:PID of esp32s3 (303A:1001 or 10C4:EA60 or 1A86:55D3)" in msg
    assert "/dev/ttyUSB0 (0403:6001)" in msg


def test_real_comports_without_a_board_plugged_in() -> None:
    """The real pyserial list_ports: no ESP32-S3 is plugged into this machine."""
    with pytest.raises(DeviceError, match="303A:1001"):
        resolve_port(None, "esp32s3")


def test_every_real_board_has_hwids_and_emulated_none() -> None:
    from tinykit.boards import all_boards

    for b in all_boards():
        assert bool(b.platformio.hwids) != b.emulated, b.id


@pytest.mark.parametrize("value", ['[["0x303A"]]', '[["303A", "1001"]]', '"0x303A:0x1001"', '[[12346, 4097]]'])
def test_board_profile_hwids_are_validated(tmp_path: Path, value: str) -> None:
    text = resolve("esp32s3").source.read_text()
    start = text.index("hwids = ")
    end = text.index("\n", start)
    bad = tmp_path / "bad.toml"
    bad.write_text(text[:start] + f"hwids = {value}" + text[end:])
    with pytest.raises(BoardError, match=r"bad.toml: field 'platformio.hwids"):
        resolve(str(bad))


# --- calibration warnings, agreement kinds ----------------------------------------

def test_calibration_warnings() -> None:
    assert "1 calibration sample" in calibration_warnings(np.random.default_rng(0).random((1, 8)))[0]
    assert "every calibration value is 0" in calibration_warnings(np.zeros((50, 8)), "calib.npy")[0]
    assert "identical" in calibration_warnings(np.tile(np.arange(8.0), (5, 1)))[0]
    assert calibration_warnings(np.random.default_rng(0).random((50, 8))) == ()


def test_autoencoders_and_regressors_get_no_top1(autoencoder) -> None:
    f = np.asarray(autoencoder.calib[:10], np.float64).reshape(10, -1)
    a = compare(f, f + 0.01)
    assert a.kind == "regression" and a.top1 is None and a.metric == "cosine"
    assert a.to_dict()["top1"] is None
    suite = SuiteResult("ae", "h", "p", planned=1)  # HIL: no class per case -> no top-1 figure
    suite.cases.append(CaseResult(0, Status.PASSED, device_us=5, max_abs_diff=0))
    assert suite.summary()["top1_agreement"] is None and suite.summary()["accuracy"] is None
