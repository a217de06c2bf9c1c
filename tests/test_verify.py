"""``tinykit verify``: the CLI's report, JSON keys and exit codes; the
first-differing-layer finder on a deliberately altered model.c; missing gcc."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from aot_helpers import quantized
from click.testing import CliRunner

from tinykit.cli import cli
from tinykit.codegen.api import generate, write_files
from tinykit.errors import DataError, ToolError
from tinykit.graph import model_hash, parse_tflite
from tinykit.tensors import quantize_array
from tinykit.toolchain import build_host
from tinykit.verify.api import first_diff_layer, make_inputs

pytestmark = pytest.mark.host  # TF conversion + gcc; the bad-input check: unit

KEYS = {"bit_exact", "samples", "mismatches", "max_abs_diff", "first_diff_layer",
        "aot_ram_bytes", "arena_bytes", "scratch_bytes", "tflm_arena_bytes", "ram_ratio",
        "flash_bytes", "aot_us", "tflm_us", "tinykit_version"}


@pytest.fixture(scope="module")
def small_model() -> bytes:
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        y = L.Conv2D(4, 3, padding="same", activation="relu")(x)
        y = L.DepthwiseConv2D(3, padding="same")(y)
        return L.Softmax()(L.Dense(5)(L.Flatten()(y)))

    return quantized(build, (6, 6, 2), 11)


def test_cli_json_bit_exact(small_model: bytes, tmp_path: Path) -> None:
    path = tmp_path / "small.tflite"
    path.write_bytes(small_model)
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).random((3, 6, 6, 2)).astype(np.float32))
    res = CliRunner().invoke(cli, ["verify", str(path), "-n", "7", "--data", str(data),
                                   "--json", "--keep", str(tmp_path / "keep")])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert KEYS <= set(report)
    assert (report["model"], report["ok"], report["exit_code"]) == (str(path), True, 0)
    assert report["model_hash"] == model_hash(small_model) and "median" in report["timing"]
    assert report["bit_exact"] is True and report["samples"] == 10
    assert report["mismatches"] == [] and report["max_abs_diff"] == 0
    assert 0 < report["aot_ram_bytes"] < report["tflm_arena_bytes"]
    assert report["flash_bytes"] > 0
    assert (tmp_path / "keep" / "generated" / "model.c").is_file()


def test_cli_data_npz(small_model: bytes, tmp_path: Path) -> None:
    """--data takes .npz like every verb (tinykit.load): float samples under the key x."""
    path = tmp_path / "small.tflite"
    path.write_bytes(small_model)
    data = tmp_path / "x.npz"
    np.savez(data, x=np.random.default_rng(1).random((4, 6, 6, 2)).astype(np.float32))
    res = CliRunner().invoke(cli, ["verify", str(path), "-n", "1", "--data", str(data), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["bit_exact"] is True and report["samples"] == 5


@pytest.mark.unit
def test_data_files_are_read_by_the_shared_loader(ds_cnn, tmp_path: Path) -> None:  # noqa: ANN001
    """.npy and .npz give the same inputs, float data quantized with the input's scale."""
    graph = parse_tflite(ds_cnn.tflite, "ds_cnn")
    tin = graph.input_tensors[0]
    calib = ds_cnn.calib[:3].astype(np.float32)
    np.save(tmp_path / "x.npy", calib)
    np.savez(tmp_path / "x.npz", x=calib)
    from_npy = make_inputs(graph, 2, 0, tmp_path / "x.npy")
    from_npz = make_inputs(graph, 2, 0, tmp_path / "x.npz")
    assert from_npz.dtype == np.int8 and from_npz.shape == (5, *tin.shape[1:])
    np.testing.assert_array_equal(from_npy, from_npz)
    np.testing.assert_array_equal(from_npz[2:], quantize_array(calib, tin.quant))
    np.save(tmp_path / "bad.npy", calib[:, :-1])
    with pytest.raises(DataError, match="bad.npy: samples have shape"):
        make_inputs(graph, 0, 0, tmp_path / "bad.npy")


@pytest.mark.unit
def test_cli_bad_input_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    res = CliRunner().invoke(cli, ["verify", str(bad)])
    assert res.exit_code == 2
    assert "not a TFLite model" in res.output and "Traceback" not in res.output


def test_first_diff_layer_found(small_model: bytes, tmp_path: Path) -> None:
    g = parse_tflite(small_model, "small")
    gen = generate(g, small_model)
    text = gen.files["model.c"]
    # alter the output zero point of the depthwise layer only
    dw = next(op for op in g.ops if op.kind == "DEPTHWISE_CONV_2D")
    block = re.search(rf"static const TkConvParams tk_l{dw.index}_params = {{.*?}};", text,
                      re.S)
    assert block is not None
    altered = block.group(0).replace(".output_offset = ", ".output_offset = 3 + ")
    write_files(gen, tmp_path / "gen")
    (tmp_path / "gen" / "model.c").write_text(text.replace(block.group(0), altered))
    exe = build_host(tmp_path / "gen", tmp_path / "dump_exe", dump=True)
    sample = np.random.default_rng(0).integers(-128, 128, (6, 6, 2), dtype=np.int8)
    where = first_diff_layer(g, small_model, exe, tmp_path, sample)
    assert where is not None and where.startswith(f"layer {dw.index} DEPTHWISE_CONV_2D")


def test_missing_gcc_is_tool_error(small_model: bytes, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    gen = generate(parse_tflite(small_model, "small"), small_model)
    write_files(gen, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolError) as exc:
        build_host(tmp_path, tmp_path / "exe")
    assert "apt-get install" in exc.value.format_message()
