"""Float islands folded into int8 tables, end to end with TF 2.21, TFLM, gcc and QEMU.

TF leaves ``-x`` (NEG), ``tf.math.square`` (SQUARE), ``tf.math.floor/ceil/round``
(FLOOR/CEIL/ROUND), Keras LayerNormalization's -mean (NEG) and RMSNormalization's x^2
(SQUARE) in float between a DEQUANTIZE and a
QUANTIZE. tinykit folds each such chain into one int8 table
(tinykit/graph/islands.py, tinykit/ops/float_island.py): ``tinykit quantize`` exits 0,
``tinykit verify`` is bit-exact with TFLM on every int8 value at every position, and
the table equals TFLM's output for all 256 inputs (host and QEMU Cortex-M4). A SIN
(libm: not reproducible bit for bit) is still refused with the same one line."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from test_kernels_issue10_ops import sweep

from tinykit import reference
from tinykit.cli import cli
from tinykit.graph import parse_tflite
from tinykit.graph.islands import ISLAND, fold_islands, island_table

pytestmark = pytest.mark.host  # TF conversion, gcc; the QEMU runs are marked emu


def _neg(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: -t)(x)


def _square(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.square(t))(x)


def _layernorm(tf: Any, x: Any) -> Any:
    return tf.keras.layers.LayerNormalization()(tf.keras.layers.Dense(16)(x))


def _rmsnorm(tf: Any, x: Any) -> Any:
    return tf.keras.layers.RMSNormalization()(tf.keras.layers.Dense(16)(x))


def _sin(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.sin(t))(tf.keras.layers.Dense(8)(x))


def _floor(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.floor(t))(x)


def _ceil(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.ceil(t))(x)


def _round(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.round(t))(x)


def _sign(tf: Any, x: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.sign(t))(x)


# name -> (builder, input shape, the float op TF leaves)
MODELS = {"neg": (_neg, (16,), "NEG"), "square": (_square, (16,), "SQUARE"),
          "layernorm": (_layernorm, (4, 16), "NEG"), "rmsnorm": (_rmsnorm, (4, 16), "SQUARE"),
          "sin": (_sin, (8,), "SIN"), "floor": (_floor, (16,), "FLOOR"),
          "ceil": (_ceil, (16,), "CEIL"), "round": (_round, (16,), "ROUND"),
          "sign": (_sign, (16,), "SIGN")}
# Rounding ops calibrate on [-64, 63.5] so the int8 input has scale 0.5: every input is
# k/2 and ROUND meets a tie at every odd k (halves to even, as TFLM's RoundToNearest).
HALVES = ("floor", "ceil", "round")


@cache
def saved(name: str, root: str) -> tuple[Path, Path]:
    """The Keras model as a SavedModel (a Lambda does not reload from .keras) and its
    calibration samples."""
    from tinykit.tf import import_tf, quiet

    tf = import_tf()
    tf.keras.utils.set_random_seed(11)
    build, shape, _ = MODELS[name]
    inp = tf.keras.Input(shape)
    model = tf.keras.Model(inp, build(tf, inp))
    out = Path(root) / name
    with quiet():
        model.export(str(out))
    calib = Path(root) / f"{name}.npy"
    if name in HALVES:
        x = np.resize(np.arange(-128, 128) / 2, (32, *shape)).astype(np.float32)
    else:
        x = (np.random.default_rng(11).random((32, *shape)) * 4 - 2).astype(np.float32)
    np.save(calib, x)
    return out, calib


def quantize_cli(name: str, tmp: Path) -> tuple[Any, Path]:
    model, calib = saved(name, str(tmp))
    out = tmp / f"{name}.tflite"
    r = CliRunner().invoke(cli, ["quantize", str(model), "--data", str(calib), "-o", str(out)])
    return r, out


@pytest.mark.parametrize("name", ["neg", "square", "layernorm", "rmsnorm", *HALVES])
def test_quantize_exits_0_and_verify_is_bit_exact(name: str, tmp_path: Path) -> None:
    r, out = quantize_cli(name, tmp_path)
    assert r.exit_code == 0, r.output
    tflite = out.read_bytes()
    graph = parse_tflite(tflite, name)
    float_op = MODELS[name][2]
    assert [op.kind for op in graph.ops].count(float_op) == 1  # TF still leaves it in float
    folded = fold_islands(graph)
    islands = [op for op in folded.ops if op.kind == ISLAND]
    assert [op.options["chain"] for op in islands] == [("DEQUANTIZE", float_op, "QUANTIZE")]
    assert float_op not in {op.kind for op in folded.ops}
    np.save(data := tmp_path / "sweep.npy", sweep(graph.input_tensors[0].shape[1:]))
    r = CliRunner().invoke(cli, ["verify", str(out), "--data", str(data), "--samples", "64",
                                 "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["bit_exact"] and report["samples"] >= 19, report
    r = CliRunner().invoke(cli, ["analyze", str(out), "--board", "qemu-m4", "--json"])
    assert r.exit_code == 0, r.output
    layers = json.loads(r.stdout)["layers"]
    assert all(layer["supported"] for layer in layers)
    (shown,) = [layer for layer in layers if layer["op"] == ISLAND]
    dq, f, q = (op.index for op in graph.ops[islands[0].options["folded"][0]:][:3])
    assert shown["folded"] == [f"DEQUANTIZE {dq}", f"{float_op} {f}", f"QUANTIZE {q}"]
    assert float_op.lower() in shown["name"].lower() or name in ("neg", "square", *HALVES)


@pytest.mark.parametrize("name", ["neg", "square", *HALVES])
def test_table_equals_tflm_for_all_256_inputs(name: str, tmp_path: Path) -> None:
    """The island reads the model's int8 input and writes its output: TFLM's output
    for every int8 value is the table, entry by entry."""
    r, out = quantize_cli(name, tmp_path)
    assert r.exit_code == 0, r.output
    tflite = out.read_bytes()
    folded = fold_islands(parse_tflite(tflite, name))
    (island,) = folded.ops
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    tflm = reference.run(tflite, x).outputs.reshape(-1)
    table = island_table(folded.tensor(island.inputs[0]), folded.tensor(island.outputs[0]),
                         island.options["chain"])
    assert tflm.tolist() == table.tolist()
    assert len(set(table.tolist())) > 16  # a real function of the input, not a constant
    if name in HALVES:  # the inputs are k/2 exactly: ROUND met 128 ties
        assert folded.tensor(island.inputs[0]).quant.scale == (0.5,)


def test_sign_folds_and_is_checked_against_tflite(tmp_path: Path) -> None:
    """TFLM has no SIGN kernel: the folded island runs on the AOT runtime and TFLite's
    reference kernels are the reference (quantize warns, exit 0); bit-exact on all 256
    inputs, which give -1, 0 (at the zero point) and 1."""
    r, out = quantize_cli("sign", tmp_path)
    assert r.exit_code == 0, r.output
    assert "not supported by the tflm runtime" in r.output and "SIGN" in r.output
    tflite = out.read_bytes()
    assert reference.engine(tflite) == "tflite"
    folded = fold_islands(parse_tflite(tflite, "sign"))
    (island,) = folded.ops
    assert island.options["chain"] == ("DEQUANTIZE", "SIGN", "QUANTIZE")
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    want = reference.run(tflite, x).outputs.reshape(-1)
    table = island_table(folded.tensor(island.inputs[0]), folded.tensor(island.outputs[0]),
                         island.options["chain"])
    assert want.tolist() == table.tolist() and len(set(table.tolist())) == 3
    np.save(data := tmp_path / "sweep.npy", sweep((16,)))
    r = CliRunner().invoke(cli, ["verify", str(out), "--data", str(data), "--samples", "20",
                                 "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["bit_exact"] and report["reference"] == "tflite", report


def test_a_float_op_that_does_not_fold_is_still_refused(tmp_path: Path) -> None:
    """SIN (libm in TFLM, not reproducible bit for bit): quantize exits 1 naming it, as before."""
    r, out = quantize_cli("sin", tmp_path)
    assert r.exit_code == 1, r.output
    assert "model is not int8-quantized: TensorFlow left 1 op(s) in float between DEQUANTIZE " \
           "and QUANTIZE" in r.output and "SIN v1" in r.output
    assert out.stat().st_size > 0
    for verb in (["analyze", str(out), "--board", "qemu-m4"], ["verify", str(out)]):
        r = CliRunner().invoke(cli, verb)
        assert r.exit_code != 0 and "SIN" in r.output and "not int8-quantized" in r.output, r.output


@pytest.mark.emu
@pytest.mark.parametrize("name", ["neg", "square", "round"])
def test_table_bit_exact_on_cortex_m4(name: str, tmp_path: Path) -> None:
    """The generated C linked bare-metal for Cortex-M4 (mps2-an386) on QEMU: all 256
    int8 inputs give TFLM's outputs."""
    from arm_harness import build_elf, run_qemu
    from test_kernels_arm import main_c, parse_outputs

    from tinykit.codegen.api import generate, write_files

    r, out = quantize_cli(name, tmp_path)
    assert r.exit_code == 0, r.output
    tflite = out.read_bytes()
    graph = parse_tflite(tflite, name)
    write_files(generate(graph, tflite, model_file=out.name), tmp_path / "gen")
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    want = np.ascontiguousarray(reference.run(tflite, x).outputs.reshape(16, -1))
    elf = build_elf(tmp_path / "gen", tmp_path, main_c(x), cpu="cortex-m4", opt="-O2")
    got = parse_outputs(run_qemu(elf, "cortex-m4", icount=False, timeout=120), 16, 16)
    assert [i for i in range(16) if not np.array_equal(got[i], want[i])] == []
