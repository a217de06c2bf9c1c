"""``tinykit predict``: host inference with the TFLM reference."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from fixture_models import FixtureModel
from tiny_models import PYTHON

from tinykit import reference
from tinykit.cli import cli
from tinykit.graph import parse_tflite
from tinykit.quantize.convert import convert_float, import_tf

pytestmark = pytest.mark.unit  # committed fixture models; tests on `bad_models` (TF): host


def quantize_by_hand(x: np.ndarray, model: bytes) -> np.ndarray:
    q = parse_tflite(model).input_tensors[0].quant
    assert q is not None
    return np.clip(np.round(x / q.scale[0]) + q.zero_point[0], -128, 127).astype(np.int8)


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, ["predict", *args])


def test_float_input_quantized_matches_reference(ds_cnn: FixtureModel, model_dir: Path,
                                                 tmp_path: Path) -> None:
    x = ds_cnn.calib[:6]
    np.save(tmp_path / "x.npy", x)
    res = invoke(str(model_dir / "ds_cnn.tflite"), "--input", str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "y.npy"))
    assert res.exit_code == 0, res.output
    assert "quantized with the model's input scale" in res.stderr
    got = np.load(tmp_path / "y.npy")
    want = reference.run(ds_cnn.tflite, quantize_by_hand(x, ds_cnn.tflite)).outputs
    assert got.dtype == np.int8 and np.array_equal(got, want)


def test_int8_input_used_as_is_json(ds_cnn: FixtureModel, model_dir: Path, tmp_path: Path) -> None:
    xq = quantize_by_hand(ds_cnn.calib[:4], ds_cnn.tflite)
    np.save(tmp_path / "xq.npy", xq)
    res = invoke(str(model_dir / "ds_cnn.tflite"), "--input", str(tmp_path / "xq.npy"), "--json")
    assert res.exit_code == 0, res.output
    assert "quantized" not in res.stderr
    report = json.loads(res.stdout)
    want = reference.run(ds_cnn.tflite, xq).outputs
    assert report["input_quantized"] is False and report["samples"] == 4
    assert np.array_equal(np.array(report["outputs"]), want)
    assert report["argmax"] == np.argmax(want, axis=1).tolist()  # a softmax: a classifier


def test_single_sample_and_regression_table(autoencoder: FixtureModel, model_dir: Path,
                                            tmp_path: Path) -> None:
    np.save(tmp_path / "one.npy", autoencoder.calib[0])  # no batch axis
    res = invoke(str(model_dir / "autoencoder.tflite"), "--input", str(tmp_path / "one.npy"),
                 "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["samples"] == 1 and report["output_shape"] == [640]
    assert report["argmax"] is None  # not a probability vector
    res = invoke(str(model_dir / "autoencoder.tflite"), "--input", str(tmp_path / "one.npy"))
    assert res.exit_code == 0 and "output (real)" in res.stdout and "class" not in res.stdout


def test_dequantize_output(resnet: FixtureModel, model_dir: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", resnet.calib[:3])
    res = invoke(str(model_dir / "resnet.tflite"), "--input", str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "y.npy"), "--dequantize")
    assert res.exit_code == 0, res.output
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and y.shape == (3, 10)
    assert np.allclose(y.sum(axis=1), 1.0, atol=10 / 256)


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory: pytest.TempPathFactory, ds_cnn: FixtureModel) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    (d / "random.tflite").write_bytes(rng.bytes(5000))
    (d / "truncated.tflite").write_bytes(ds_cnn.tflite[: len(ds_cnn.tflite) // 3])
    tf = import_tf()
    inp = tf.keras.Input((8,))
    (d / "float.tflite").write_bytes(convert_float(tf.keras.Model(inp, tf.keras.layers.Dense(2)(inp))))
    np.save(d / "x.npy", ds_cnn.calib[:2])
    np.save(d / "flat.npy", ds_cnn.calib[:2].reshape(2, -1))
    np.save(d / "ints.npy", np.zeros((2, 49, 10, 1), np.int32))
    np.save(d / "x8.npy", np.zeros((2, 8), np.float32))
    return d


CASES = {
    "random": ("random.tflite", "x.npy", "not a TFLite model"),
    "truncated": ("truncated.tflite", "x.npy", "truncated"),
    "float": ("float.tflite", "x8.npy", "quantize first"),
    "shape": ("ds_cnn.tflite", "flat.npy", "samples have shape (490,), model input is (49, 10, 1)"),
    "dtype": ("ds_cnn.tflite", "ints.npy", "has dtype int32"),
    "no model": ("missing.tflite", "x.npy", "cannot read"),
    "no input": ("ds_cnn.tflite", "missing.npy", "no such file"),
}


@pytest.mark.host
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inputs(case: str, bad_models: Path, model_dir: Path) -> None:
    model, data, words = CASES[case]
    model_path = model_dir / model if model == "ds_cnn.tflite" else bad_models / model
    res = invoke(str(model_path), "--input", str(bad_models / data))
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinykit: error:") and words in lines[0]


@pytest.mark.host
@pytest.mark.parametrize("case", ["truncated", "random", "float"])
def test_subprocess_errors_are_one_line(case: str, bad_models: Path) -> None:
    model, data, words = CASES[case]
    proc = subprocess.run([PYTHON, "-m", "tinykit", "predict", str(bad_models / model),
                           "--input", str(bad_models / data)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_subprocess_predict(mobilenet: FixtureModel, model_dir: Path, tmp_path: Path) -> None:
    xq = quantize_by_hand(mobilenet.calib[:2], mobilenet.tflite)
    np.save(tmp_path / "x.npy", xq)
    proc = subprocess.run([PYTHON, "-m", "tinykit", "predict", str(model_dir / "mobilenet.tflite"),
                           "--input", str(tmp_path / "x.npy"), "--json"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    want = reference.run(mobilenet.tflite, xq).outputs
    assert np.array_equal(np.array(json.loads(proc.stdout)["outputs"]), want)
