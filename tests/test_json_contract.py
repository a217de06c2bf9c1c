"""Issue 11 item 8: one JSON contract. Every verb's ``--json`` prints one object on
stdout starting with the common keys; an error under ``--json`` is a JSON error object."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinykit.cli import cli
from tinykit.graph import model_hash
from tinykit.output import COMMON_KEYS

pytestmark = pytest.mark.unit


def _json(args: list[str], code: int = 0) -> dict:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    report = json.loads(res.stdout)  # one object, nothing else on stdout
    assert list(report)[: len(COMMON_KEYS)] == list(COMMON_KEYS)
    assert report["exit_code"] == code and report["ok"] is (code == 0)
    return report


def test_boards_json_has_the_common_keys() -> None:
    r = _json(["boards", "--json"])
    assert r["model"] is None and r["model_hash"] is None and r["boards"]
    assert _json(["boards", "show", "esp32s3", "--json"])["board"]["platformio"]["hwids"][0] == "303A:1001"


def test_analyze_json_names_the_model_file_and_its_hash(model_dir: Path) -> None:
    path = model_dir / "ds_cnn.tflite"
    r = _json(["analyze", str(path), "--board", "qemu-m4", "--json"])
    assert r["model"] == str(path) and r["model_hash"] == model_hash(path.read_bytes())
    assert r["name"] == "ds_cnn" and r["memory"]["flash_method"] == "estimated"  # unit tier: no link


def test_predict_json_and_dequantize_applies_to_printed_outputs(model_dir: Path, ds_cnn,
                                                                 tmp_path: Path) -> None:
    path = model_dir / "ds_cnn.tflite"
    np.save(tmp_path / "x.npy", ds_cnn.calib[:3])
    raw = _json(["predict", str(path), "--input", str(tmp_path / "x.npy"), "--json"])
    assert raw["model_hash"] == model_hash(path.read_bytes()) and raw["dequantized"] is False
    assert all(float(v).is_integer() for v in np.ravel(raw["outputs"]))
    deq = _json(["predict", str(path), "--input", str(tmp_path / "x.npy"), "--dequantize", "--json"])
    assert deq["outputs"] == deq["outputs_real"] == raw["outputs_real"]
    assert any(not float(v).is_integer() for v in np.ravel(deq["outputs"]))
    table = CliRunner().invoke(cli, ["predict", str(path), "--input", str(tmp_path / "x.npy"), "--dequantize"])
    assert table.exit_code == 0 and "output (real)" in table.stdout and "int8" not in table.stdout


@pytest.mark.parametrize("args", [
    ["analyze", "{missing}", "--board", "qemu-m4"],
    ["analyze", "{model}", "--board", "no-such-board"],
    ["analyze", "{model}"],  # a usage error (missing --board) is an error object too
    ["predict", "{missing}", "--input", "{missing}"],
    ["verify", "{missing}"],
    ["quantize", "{missing}", "--data", "{missing}", "-o", "{tmp}/q.tflite"],
    ["build", "{missing}", "--board", "qemu-m4"],
    ["flash", "{tmp}/nothing", "--board", "qemu-m4"],
    ["run", "--input", "{missing}"],
    ["test", "{model}"],
    ["boards", "show", "no-such-board"],
], ids=lambda a: " ".join(a[:2]))
def test_an_error_under_json_is_a_json_error_object(args: list[str], model_dir: Path,
                                                    tmp_path: Path) -> None:
    fill = {"missing": str(tmp_path / "missing.tflite"), "model": str(model_dir / "ds_cnn.tflite"),
            "tmp": str(tmp_path)}
    r = _json([a.format(**fill) for a in args] + ["--json"], code=2)
    assert set(r["error"]) == {"type", "message", "hint"} and r["error"]["message"]
    assert "\n" not in r["error"]["message"]


def test_an_error_without_json_prints_no_json(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["analyze", str(tmp_path / "missing.tflite"), "--board", "qemu-m4"])
    assert res.exit_code == 2 and res.stdout == "" and res.stderr.startswith("tinykit: error:")


def test_test_json_is_a_flag_and_json_file_a_path() -> None:
    res = CliRunner().invoke(cli, ["test", "--help"])
    assert "--json-file PATH" in res.stdout and "--json " in res.stdout
    assert "--json PATH" not in res.stdout
