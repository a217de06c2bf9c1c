"""Recurrent nets (issue 10 item 3) through the real TF 2.21 converter and the real
CLI: Keras 3 LSTM, GRU and SimpleRNN, input (1, 10, 4), 8 units.

- rolled (the default ``unroll=False``): the calibrator segfaults on the WHILE loop
  (batch fixed to 1); a SavedModel of the same layer fails in the converter
  ("'tf.TensorListReserve' op requires element_shape to be static"). Either way
  quantize prints one line naming the recurrent layer and ``unroll=True``, exit 2.
- unrolled: plain int8 ops (UNPACK, FULLY_CONNECTED, SPLIT, STRIDED_SLICE, ADD, SUB,
  MUL, LOGISTIC, TANH, PACK) that TFLM and the AOT runtime both run; quantize exits
  0 without warnings and ``tinykit verify`` is bit-exact with TFLM.

The weights are random and nonzero, as after training. A fresh GRU (all-zero
recurrent bias) is converted too: TF's MLIR quantizer leaves its first step's SPLIT
in float at random (one part is never read), and quantize then converts with TF's
older quantizer (tinykit.quantize.rnn.lost_unread_output).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from tiny_models import PYTHON

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion, gcc

KINDS = ("LSTM", "GRU", "SimpleRNN")
# The ops TF 2.21 emits for each unrolled layer (10 steps; return_sequences adds PACK).
UNROLLED_OPS = {
    "LSTM": {"UNPACK", "FULLY_CONNECTED", "SPLIT", "ADD", "MUL", "LOGISTIC", "TANH"},
    "GRU": {"UNPACK", "FULLY_CONNECTED", "SPLIT", "STRIDED_SLICE", "ADD", "SUB", "MUL",
            "LOGISTIC", "TANH"},
    "SimpleRNN": {"UNPACK", "FULLY_CONNECTED", "ADD", "TANH"},
}


@pytest.fixture(scope="module")
def rnns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each layer rolled and unrolled (GRU unrolled with return_sequences=True), a
    SavedModel of the rolled LSTM, and calibration data."""
    from tinykit.tf import import_tf, quiet

    tf = import_tf()
    L = tf.keras.layers
    d = tmp_path_factory.mktemp("rnn")
    rng = np.random.default_rng(0)
    np.save(d / "data.npy", rng.standard_normal((40, 10, 4)).astype(np.float32))
    paths: dict[str, Path] = {"data": d / "data.npy"}
    for kind in KINDS:
        for unroll in (False, True):
            inp = tf.keras.Input((10, 4))
            layer = getattr(L, kind)(8, unroll=unroll, return_sequences=unroll and kind == "GRU",
                                     name=kind.lower())
            model = tf.keras.Model(inp, layer(inp))
            model.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                               for w in model.get_weights()])
            key = f"{kind}_{'unrolled' if unroll else 'rolled'}"
            with quiet():
                model.save(d / f"{key}.keras")
                if key == "LSTM_rolled":
                    model.export(str(d / "LSTM_rolled_saved"), verbose=False)
            paths[key] = d / f"{key}.keras"
    paths["LSTM_rolled_saved"] = d / "LSTM_rolled_saved"
    inp = tf.keras.Input((10, 4))
    with quiet():
        tf.keras.Model(inp, L.GRU(8, unroll=True, name="gru")(inp)).save(d / "GRU_fresh.keras")
    paths["GRU_fresh"] = d / "GRU_fresh.keras"

    def dense_head(name: str, inp: object, h: object) -> None:
        model = tf.keras.Model(inp, L.Dense(3, activation="softmax")(h))
        model.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                           for w in model.get_weights()])
        with quiet():
            model.save(d / f"{name}.keras")
        paths[name] = d / f"{name}.keras"

    inp = tf.keras.Input((10, 4))
    dense_head("bidirectional", inp, L.Bidirectional(L.LSTM(8, unroll=True))(inp))
    inp = tf.keras.Input((10, 4))
    dense_head("stacked", inp, L.LSTM(6, unroll=True)(L.GRU(8, unroll=True,
                                                             return_sequences=True)(inp)))
    return paths


def tinykit(*args: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "tinykit", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900,
                          env={**os.environ, "TINYKIT_LOG_DIR": str(log_dir)})


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("kind", KINDS)
def test_rolled_rnn_is_one_line_naming_the_layer_and_unroll(rnns: dict[str, Path],
                                                            tmp_path: Path, kind: str) -> None:
    """TF 2.21's calibrator segfaults on the rolled layer's WHILE loop: exit 2, one
    line naming the layer and unroll=True, nothing written."""
    out = tmp_path / "m.tflite"
    proc = tinykit("quantize", str(rnns[f"{kind}_rolled"]), "--data", str(rnns["data"]),
                   "-o", str(out), log_dir=tmp_path / "logs")
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc)
    assert "crashed (SIGSEGV)" in line and f"layer '{kind.lower()}' ({kind})" in line, line
    assert f"build the {kind} layers with unroll=True" in line, line
    assert not out.exists() and proc.stdout == ""


def test_rolled_rnn_savedmodel_names_the_loop_and_unroll(rnns: dict[str, Path],
                                                         tmp_path: Path) -> None:
    """A SavedModel of a rolled LSTM fails in the converter (no crash): the one line
    carries TF's own error without MLIR's locations, the layer inside the SavedModel
    and unroll=True."""
    proc = tinykit("quantize", str(rnns["LSTM_rolled_saved"]), "--data", str(rnns["data"]),
                   "-o", str(tmp_path / "m.tflite"), log_dir=tmp_path / "logs")
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc)
    assert ("TFLite conversion failed: 'tf.TensorListReserve' op requires element_shape to be "
            "static") in line, line
    assert "a recurrent loop (TensorList/While ops) in layer 'lstm" in line, line
    assert "unroll=True" in line and "loc(" not in line and "Select TF ops" not in line, line


@pytest.mark.parametrize("kind", KINDS)
def test_unrolled_rnn_quantizes_and_aot_is_bit_exact(rnns: dict[str, Path], tmp_path: Path,
                                                     kind: str) -> None:
    """The unrolled layer quantizes (exit 0: TFLM ran it for the agreement, no op left
    to warn about), and the generated C is bit-exact with TFLM on the calibration data
    and random int8 inputs."""
    out = tmp_path / f"{kind}.tflite"
    q = tinykit("quantize", str(rnns[f"{kind}_unrolled"]), "--data", str(rnns["data"]),
                "-o", str(out), "--json", log_dir=tmp_path / "logs")
    assert q.returncode == 0, q.stderr
    assert "not supported" not in q.stderr and "float" not in q.stderr, q.stderr
    report = json.loads(q.stdout)
    assert report["agreement"]["cosine"] > 0.99, report["agreement"]
    graph = parse_tflite(out.read_bytes(), kind)
    kinds = {op.kind for op in graph.ops}
    assert UNROLLED_OPS[kind] <= kinds, kinds
    assert {t.dtype for t in graph.activations} <= {"int8"}, "no int16 or float tensors"
    v = tinykit("verify", str(out), "--data", str(rnns["data"]), "--samples", "20", "--json",
                log_dir=tmp_path / "logs")
    assert v.returncode == 0, v.stdout[-2000:] + v.stderr
    result = json.loads(v.stdout)
    assert result["bit_exact"] and result["samples"] == 60 and result["max_abs_diff"] == 0


def test_fresh_gru_first_step_split_is_int8_in_every_process(rnns: dict[str, Path],
                                                              tmp_path: Path) -> None:
    """An untrained unrolled GRU: TF's MLIR quantizer left the first step's SPLIT in
    float in 7 of 12 processes here (its reset-gate part is never read). quantize
    falls back to TF's older quantizer: three separate runs are all int8 (exit 0)
    and bit-exact."""
    for run in range(3):
        out = tmp_path / f"fresh{run}.tflite"
        q = tinykit("quantize", str(rnns["GRU_fresh"]), "--data", str(rnns["data"]), "-o",
                    str(out), log_dir=tmp_path / "logs")
        assert q.returncode == 0, q.stderr
        graph = parse_tflite(out.read_bytes(), "fresh")
        assert {t.dtype for t in graph.activations} <= {"int8"}
    v = tinykit("verify", str(out), "--data", str(rnns["data"]), "--samples", "10", "--json",
                log_dir=tmp_path / "logs")
    assert v.returncode == 0 and json.loads(v.stdout)["bit_exact"], v.stderr


@pytest.mark.parametrize("name", ["bidirectional", "stacked"])
def test_bidirectional_and_stacked_unrolled_rnns_bit_exact(rnns: dict[str, Path], tmp_path: Path,
                                                           name: str) -> None:
    """Bidirectional(LSTM(unroll=True)) (two directions joined by CONCATENATION) and a GRU
    feeding an LSTM (PACK then UNPACK between them), each with a softmax head: exit 0
    and bit-exact."""
    out = tmp_path / f"{name}.tflite"
    q = tinykit("quantize", str(rnns[name]), "--data", str(rnns["data"]), "-o", str(out),
                log_dir=tmp_path / "logs")
    assert q.returncode == 0 and "not supported" not in q.stderr, q.stderr
    kinds = {op.kind for op in parse_tflite(out.read_bytes(), name).ops}
    assert {"UNPACK", "SPLIT", "FULLY_CONNECTED", "SOFTMAX"} <= kinds, kinds
    v = tinykit("verify", str(out), "--data", str(rnns["data"]), "--samples", "10", "--json",
                log_dir=tmp_path / "logs")
    assert v.returncode == 0 and json.loads(v.stdout)["bit_exact"], v.stdout[-2000:] + v.stderr
