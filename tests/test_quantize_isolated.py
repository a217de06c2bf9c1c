"""``quantize`` runs TensorFlow in an isolated subprocess: a native crash is one line
(exit 2) with a log file, and a model that converts but that the int8 runtimes
cannot run is written and fails the check (exit 1). Real Keras models, real TF 2.21."""

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

pytestmark = pytest.mark.host  # TF conversion in every test


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small Keras models of the kinds people deploy, and calibration data for each."""
    from tinykit.tf import import_tf, quiet

    tf = import_tf()
    tf.keras.utils.set_random_seed(0)
    L = tf.keras.layers
    d = tmp_path_factory.mktemp("isolated")
    rng = np.random.default_rng(0)
    paths: dict[str, Path] = {}

    def save(name: str, inp: object, out: object) -> None:
        with quiet():
            tf.keras.Model(inp, out).save(d / f"{name}.keras")
        np.save(d / f"{name}.npy", rng.random((12, *inp.shape[1:])).astype(np.float32))  # type: ignore[attr-defined]
        paths[name] = d / f"{name}.keras"

    i = tf.keras.Input((10, 4))
    save("lstm", i, L.Dense(3, activation="softmax")(L.LSTM(8, name="lstm")(i)))
    i = tf.keras.Input((10, 4))
    save("gru", i, L.Dense(3, activation="softmax")(L.GRU(8, name="gru")(i)))
    i = tf.keras.Input((10, 4))
    save("lstm_unrolled", i, L.Dense(3, activation="softmax")(L.LSTM(8, unroll=True)(i)))
    i = tf.keras.Input((8, 16))
    x = L.LayerNormalization()(L.Add()([L.MultiHeadAttention(2, 8)(i, i), i]))
    save("attention", i, L.Dense(3, activation="softmax")(L.GlobalAveragePooling1D()(x)))
    i = tf.keras.Input((6, 6, 2))
    save("upsample", i, L.Conv2D(2, 3, padding="same")(L.UpSampling2D()(i)))
    i = tf.keras.Input((6, 6, 2))
    d2s = tf.keras.Model(i, L.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(L.Conv2D(8, 1)(i)))
    with quiet():  # a SavedModel: Keras does not reload a Lambda from a .keras file
        d2s.export(str(d / "depth_to_space"))
    np.save(d / "depth_to_space.npy", rng.random((12, 6, 6, 2)).astype(np.float32))
    paths["depth_to_space"] = d / "depth_to_space"
    i = tf.keras.Input((8,))
    sin = tf.keras.Model(i, L.Lambda(lambda t: tf.math.sin(t))(L.Dense(8)(i)))
    with quiet():  # SIN stays float (libm: no exact int8 table)
        sin.export(str(d / "sin"))
    np.save(d / "sin.npy", rng.random((12, 8)).astype(np.float32))
    paths["sin"] = d / "sin"
    i = tf.keras.Input((8,))
    save("dense", i, L.Dense(3, activation="softmax")(L.Dense(8, activation="relu")(i)))
    return paths


def run_quantize(model: Path, out: Path, log_dir: Path,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "tinykit", "quantize", str(model), "--data", str(model.with_suffix(".npy")),
         "-o", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
        env={**os.environ, "TINYKIT_LOG_DIR": str(log_dir), **(env or {})})


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_real_rnn_calibrator_segfault_is_one_line_exit_2(models: dict[str, Path], tmp_path: Path,
                                                         rnn: str) -> None:
    """TF 2.21's calibrator really segfaults on a batch-1 LSTM/GRU (measured here):
    tinykit survives it, names the calibrator, the RNN layer and a workaround, and
    keeps the native fault text (faulthandler's stack) in a log file."""
    out = tmp_path / f"{rnn}.tflite"
    proc = run_quantize(models[rnn], out, tmp_path / "logs")
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc)
    assert line.startswith("tinykit: error: the TensorFlow calibrator crashed (SIGSEGV)"), line
    assert f"layer '{rnn}' ({rnn.upper()})" in line and "unroll=True" in line
    logs = list((tmp_path / "logs").glob("quantize-*.log"))
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text()
    assert "Fatal Python error: Segmentation fault" in text and "calibrator.py" in text
    assert proc.stdout == "" and not out.exists()


def test_the_workaround_avoids_the_crash(models: dict[str, Path], tmp_path: Path) -> None:
    """The crash message's advice: the same LSTM with unroll=True converts. (Depending
    on the weights TF may still leave an op of the cell in float: then quantize says
    so with exit 1, see test_float_islands_written_and_check_failed.)"""
    proc = run_quantize(models["lstm_unrolled"], tmp_path / "u.tflite", tmp_path / "logs")
    assert proc.returncode in (0, 1), proc.stderr
    assert "crashed" not in proc.stderr and (tmp_path / "u.tflite").stat().st_size > 0


def test_deliberate_sigsegv_in_converter_test_hook(models: dict[str, Path], tmp_path: Path) -> None:
    """TINYKIT_TEST_CRASH (a test-only hook) raises a real SIGSEGV in the worker as the
    converter starts: the line names the converter, and a plain model has no suspect."""
    proc = run_quantize(models["dense"], tmp_path / "d.tflite", tmp_path / "logs",
                        {"TINYKIT_TEST_CRASH": "converter"})
    assert proc.returncode == 2
    line = one_line(proc)
    assert "the TensorFlow converter crashed (SIGSEGV) on dense.keras" in line
    assert "no layer stands out" in line and "workaround" in line
    log = next((tmp_path / "logs").glob("quantize-dense-*.log"))
    assert str(log) in line and "Fatal Python error: Segmentation fault" in log.read_text()


def test_float_islands_fold_and_the_rest_are_written_and_check_failed(
        models: dict[str, Path], tmp_path: Path) -> None:
    """MultiHeadAttention + LayerNormalization: TF leaves a float NEG between DEQUANTIZE
    and QUANTIZE, which folds into an int8 table: quantize exits 0 and analyze accepts
    the model (the island is one FLOAT_ISLAND layer). A float SIN does not fold: quantize
    exits 1 naming it, the file written, and analyze refuses the same model naming the
    same op."""
    out = tmp_path / "attention.tflite"
    proc = run_quantize(models["attention"], out, tmp_path / "logs")
    assert proc.returncode == 0, proc.stderr
    assert "NEG" in {op.kind for op in parse_tflite(out.read_bytes()).ops}
    ana = subprocess.run([PYTHON, "-m", "tinykit", "analyze", str(out), "--board", "qemu-m4",
                          "--json"], capture_output=True, text=True, cwd=REPO, timeout=300)
    layers = json.loads(ana.stdout)["layers"]
    assert "FLOAT_ISLAND" in [la["op"] for la in layers] and all(la["supported"] for la in layers)
    out = tmp_path / "sin.tflite"
    proc = run_quantize(models["sin"], out, tmp_path / "logs")
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc)
    assert line.startswith("tinykit: check failed:") and "not int8-quantized" in line
    assert "SIN v1" in line and str(out) in line
    assert out.stat().st_size > 0
    ana = subprocess.run([PYTHON, "-m", "tinykit", "analyze", str(out), "--board", "qemu-m4"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert ana.returncode != 0 and "SIN v1" in ana.stderr


def test_op_only_aot_runs_is_a_warning(models: dict[str, Path], tmp_path: Path) -> None:
    """UpSampling2D lowers to TILE, which TFLM has no kernel for but the AOT runtime
    runs: exit 0 with a warning naming the op (no "TFLM failed to allocate tensors"),
    the agreement measured through TFLite's reference kernels, the .tflite written."""
    out = tmp_path / "up.tflite"
    proc = run_quantize(models["upsample"], out, tmp_path / "logs")
    assert proc.returncode == 0, proc.stderr
    assert "not supported by the tflm runtime" in proc.stderr and "TILE v3" in proc.stderr
    assert "up_sampling2d" in proc.stderr and "allocate" not in proc.stderr
    assert "the aot runtime" in proc.stderr and "runs every op" in proc.stderr
    assert out.stat().st_size > 0


def test_op_only_tflm_runs_is_a_warning(models: dict[str, Path], tmp_path: Path) -> None:
    """DEPTH_TO_SPACE: TFLM runs it (quantize succeeds, agreement measured), the AOT
    runtime does not: quantize warns with the line analyze will print."""
    out = tmp_path / "t.tflite"
    proc = run_quantize(models["depth_to_space"], out, tmp_path / "logs")
    assert proc.returncode == 0, proc.stderr
    assert "not supported by the aot runtime" in proc.stderr and "DEPTH_TO_SPACE v" in proc.stderr
    assert "--runtime tflm" in proc.stderr and out.stat().st_size > 0


@pytest.mark.unit
def test_deliberate_sigsegv_while_loading_test_hook_no_tf(tmp_path: Path) -> None:
    """The crash plumbing without TensorFlow: TINYKIT_TEST_CRASH=load (a test-only
    hook) segfaults the worker before it imports TF. tinykit exits 2, never with a
    signal, with one line and a log holding faulthandler's dump."""
    model = tmp_path / "m.keras"
    model.write_bytes(b"never read: the worker crashes first")
    np.save(tmp_path / "m.npy", np.zeros((4, 3), np.float32))
    proc = run_quantize(model, tmp_path / "m.tflite", tmp_path / "logs",
                        {"TINYKIT_TEST_CRASH": "load"})
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc)
    assert line.startswith("tinykit: error: TensorFlow crashed while loading the model (SIGSEGV)")
    assert "layers are unknown" in line and "workaround" in line
    log = next((tmp_path / "logs").glob("quantize-m-*.log"))
    assert str(log) in line and "Fatal Python error: Segmentation fault" in log.read_text()
    assert not (tmp_path / "m.tflite").exists()


def test_quantize_many_one_worker_goes_on_after_a_crash(models: dict[str, Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``quantize_many``: each model gets what ``quantize`` gives it, in order; a bad
    path is its own error, and the models after a segfaulting one run in a new worker."""
    from tinykit.errors import TinykitError
    from tinykit.quantize import QuantizeResult, quantize, quantize_many

    monkeypatch.setenv("TINYKIT_LOG_DIR", str(tmp_path / "logs"))
    data = {n: np.load(models[n].with_suffix(".npy")) for n in ("dense", "lstm", "gru")}
    results = quantize_many([(models["dense"], data["dense"]), (models["lstm"], data["lstm"]),
                             (tmp_path / "missing.keras", data["dense"]),
                             (models["gru"], data["gru"]), (models["dense"], data["dense"])])
    assert [type(r).__name__ for r in results] == ["QuantizeResult", "QuantizeError",
                                                   "ModelError", "QuantizeError", "QuantizeResult"]
    assert isinstance(results[1], TinykitError) and isinstance(results[3], TinykitError)
    assert "crashed (SIGSEGV) on lstm.keras" in results[1].message
    assert "crashed (SIGSEGV) on gru.keras" in results[3].message
    one = quantize(models["dense"], data["dense"])
    assert isinstance(results[0], QuantizeResult) and isinstance(results[4], QuantizeResult)
    assert results[0].tflite == results[4].tflite == one.tflite
