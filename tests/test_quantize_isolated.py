"""``quantize`` runs TensorFlow in an isolated subprocess: a native crash is one line
(exit 2) with a log file, and a model that converts but that the int8 runtimes
cannot run is written and fails the check (exit 1). Real Keras models, real TF 2.21."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from tiny_models import PYTHON

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
    save("upsample", i, L.Conv2DTranspose(2, 3, padding="same")(L.UpSampling2D()(i)))
    i = tf.keras.Input((6, 6, 2))
    save("transpose", i, L.Conv2DTranspose(2, 3, strides=2, padding="same")(i))
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


def test_float_islands_written_and_check_failed(models: dict[str, Path], tmp_path: Path) -> None:
    """MultiHeadAttention + LayerNormalization: TF leaves a float NEG between DEQUANTIZE
    and QUANTIZE. quantize no longer reports success: exit 1, the op named, file written,
    and analyze refuses the same model naming the same op."""
    out = tmp_path / "attention.tflite"
    proc = run_quantize(models["attention"], out, tmp_path / "logs")
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc)
    assert line.startswith("tinykit: check failed:") and "not int8-quantized" in line
    assert "NEG v1" in line and "layer_normalization" in line and str(out) in line
    assert out.stat().st_size > 0
    ana = subprocess.run([PYTHON, "-m", "tinykit", "analyze", str(out), "--board", "qemu-m4"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert ana.returncode != 0 and "NEG v1" in ana.stderr


def test_op_tflm_lacks_written_and_check_failed(models: dict[str, Path], tmp_path: Path) -> None:
    """UpSampling2D lowers to TILE, which TFLM has no kernel for: exit 1 naming the op
    (no more "TFLM failed to allocate tensors"), and the .tflite is written."""
    out = tmp_path / "up.tflite"
    proc = run_quantize(models["upsample"], out, tmp_path / "logs")
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc)
    assert "not supported by the tflm runtime" in line and "TILE v3" in line
    assert "up_sampling2d" in line and "allocate" not in line
    assert "interpolation='bilinear'" in line  # the advice: RESIZE_BILINEAR, which TFLM runs
    assert out.stat().st_size > 0


def test_op_only_tflm_runs_is_a_warning(models: dict[str, Path], tmp_path: Path) -> None:
    """TRANSPOSE_CONV: TFLM runs it (quantize succeeds, agreement measured), the AOT
    runtime does not: quantize warns with the line analyze will print."""
    out = tmp_path / "t.tflite"
    proc = run_quantize(models["transpose"], out, tmp_path / "logs")
    assert proc.returncode == 0, proc.stderr
    assert "not supported by the aot runtime" in proc.stderr and "TRANSPOSE_CONV v" in proc.stderr
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
