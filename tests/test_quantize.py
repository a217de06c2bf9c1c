"""``quantize``: real TF conversion, agreement measured against the TFLM reference."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from fixture_models import FixtureModel
from tiny_models import PYTHON, tiny_models

from tinykit import reference
from tinykit.cli import cli
from tinykit.errors import QuantizeError
from tinykit.graph import parse_tflite
from tinykit.quantize import QuantizeConfig, quantize
from tinykit.tensors import dequantize_array, quantize_array

pytestmark = pytest.mark.host  # TF conversion; config checks: unit


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_models(tmp_path_factory.mktemp("tiny"))


def test_fixture_agreement(trained_model: FixtureModel) -> None:
    """Measured on data held back from calibration; the thresholds sit below the
    figures measured for the fixture models (top-1 1.0, cosine >= 0.999)."""
    r = quantize(trained_model.keras_path, trained_model.calib, QuantizeConfig())
    a = r.agreement
    assert r.calibration_samples + r.holdout_samples == len(trained_model.calib)
    assert a.on == "holdout" and a.samples == r.holdout_samples == 40
    if trained_model.labels is not None:
        assert a.kind == "top1" and a.top1 is not None and a.top1 >= 0.8
    else:
        assert a.kind == "regression" and a.top1 is None
        assert a.cosine is not None and a.cosine >= 0.9
    assert 0 < r.int8_bytes < r.float_bytes  # int8 weights: smaller than the float32 file
    graph = parse_tflite(r.tflite)
    assert graph.input_tensors[0].dtype == "int8" and graph.output_tensors[0].dtype == "int8"


def test_agreement_recomputed_by_hand(trained_autoencoder: FixtureModel) -> None:
    """The API's figures equal ones computed here from the Keras model and TFLM."""
    from tinykit.load import load_model

    cfg = QuantizeConfig(holdout=0.25, seed=3)
    r = quantize(trained_autoencoder.keras_path, trained_autoencoder.calib, cfg)
    order = np.random.default_rng(3).permutation(len(trained_autoencoder.calib))
    held = trained_autoencoder.calib[order[:50]]
    g = parse_tflite(r.tflite)
    tin, tout = g.input_tensors[0], g.output_tensors[0]
    q = reference.run(r.tflite, quantize_array(held, tin.quant)).outputs
    got = dequantize_array(q, tout.quant)
    want = np.asarray(load_model(trained_autoencoder.keras_path).predict(held, verbose=0))
    rmse = float(np.sqrt(np.mean((got.astype(np.float64) - want) ** 2)))
    assert r.holdout_samples == 50
    assert r.agreement.rmse == pytest.approx(rmse, rel=1e-6)


def test_float_io_and_savedmodel(tiny: dict[str, Path]) -> None:
    r = quantize(tiny["savedmodel"], tiny["calib"], QuantizeConfig(io="float"))
    g = parse_tflite(r.tflite)
    assert g.input_tensors[0].dtype == "float32" and g.output_tensors[0].dtype == "float32"
    assert any(t.dtype == "int8" for t in g.tensors)
    assert r.agreement.kind == "top1" and r.agreement.top1 is not None


def test_single_sample_calibrates_and_compares_on_it(tiny: dict[str, Path]) -> None:
    x = np.load(tiny["calib"])[0]  # one sample, no batch axis
    r = quantize(tiny["regressor"], x)
    assert (r.calibration_samples, r.holdout_samples) == (1, 0)
    assert r.agreement.on == "calibration" and r.agreement.samples == 1


@pytest.mark.unit
@pytest.mark.parametrize("kwargs", [{"io": "int4"}, {"holdout": 1.0}, {"holdout": -0.1}])
def test_bad_config(kwargs: dict) -> None:
    with pytest.raises(QuantizeError):
        QuantizeConfig(**kwargs)


# --- the verb -------------------------------------------------------------------------


def test_cli_json(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "tiny.tflite"
    res = CliRunner().invoke(cli, ["quantize", str(tiny["keras"]), "--data", str(tiny["calib"]),
                                   "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["int8_bytes"] == out.stat().st_size
    assert report["output"] == str(out) and report["tinykit_version"]
    assert set(report["agreement"]) >= {"kind", "samples", "top1", "rmse", "cosine"}
    assert parse_tflite(out.read_bytes()).input_tensors[0].dtype == "int8"


def test_cli_table_and_min_agreement_fails(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "reg.tflite"
    # cosine of a quantized regression is < 1, so 1.0 cannot be met: exit 1, file still written
    res = CliRunner().invoke(cli, ["quantize", str(tiny["regressor"]), "--data",
                                   str(tiny["calib"]), "-o", str(out), "--min-agreement", "1"])
    assert res.exit_code == 1, res.output
    assert "cosine" in res.stdout and "int8 .tflite" in res.stdout
    assert "below --min-agreement" in res.stderr and out.stat().st_size > 0


def test_cli_warns_about_one_or_constant_calibration_samples(tiny: dict[str, Path], tmp_path: Path) -> None:
    x = np.load(tiny["calib"])
    for name, data, words in (("one", x[:1], "1 calibration sample"),
                              ("const", np.zeros_like(x), "every calibration value is 0")):
        np.save(tmp_path / f"{name}.npy", data)
        res = CliRunner().invoke(cli, ["quantize", str(tiny["regressor"]), "--data",
                                       str(tmp_path / f"{name}.npy"), "-o", str(tmp_path / "w.tflite"),
                                       "--json"])
        assert res.exit_code == 0, res.output
        assert words in res.stderr and "warning:" in res.stderr
        assert words in json.loads(res.stdout)["warnings"][0]


def test_cli_json_failed_check_is_one_report(tiny: dict[str, Path], tmp_path: Path) -> None:
    """--min-agreement not met under --json: the report says ok false, exit 1; no second object."""
    res = CliRunner().invoke(cli, ["quantize", str(tiny["regressor"]), "--data", str(tiny["calib"]),
                                   "-o", str(tmp_path / "r.tflite"), "--min-agreement", "1", "--json"])
    assert res.exit_code == 1
    report = json.loads(res.stdout)  # exactly one JSON object
    assert (report["ok"], report["exit_code"]) == (False, 1) and report["agreement"]["kind"] == "regression"
    assert report["agreement"]["top1"] is None and report["model_hash"] is not None


def test_cli_min_agreement_passes(tiny: dict[str, Path], tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["quantize", str(tiny["regressor"]), "--data",
                                   str(tiny["calib"]), "-o", str(tmp_path / "r.tflite"),
                                   "--min-agreement", "0.5", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["agreement"]["cosine"] >= 0.5


def bad_inputs(tiny: dict[str, Path], tmp: Path) -> dict[str, tuple[list[str], str]]:
    x = np.load(tiny["calib"])
    nan = x.copy()
    nan[2, 3] = np.nan
    np.save(tmp / "nan.npy", nan)
    np.save(tmp / "empty.npy", x[:0])
    np.save(tmp / "shape.npy", x[:, :6])
    (tmp / "broken.keras").write_bytes(b"PK\x03\x04 not really a zip")
    good, data = str(tiny["keras"]), str(tiny["calib"])
    return {
        "nan": ([good, "--data", str(tmp / "nan.npy")], "1 NaN"),
        "empty": ([good, "--data", str(tmp / "empty.npy")], "is empty"),
        "shape": ([good, "--data", str(tmp / "shape.npy")],
                  "samples have shape (6,), model input is (8,)"),
        "broken": ([str(tmp / "broken.keras"), "--data", data], "cannot load the model"),
        "missing": ([str(tmp / "none.keras"), "--data", data], "no such file"),
    }


def test_cli_bad_inputs(tiny: dict[str, Path], tmp_path: Path) -> None:
    for name, (args, words) in bad_inputs(tiny, tmp_path).items():
        out = tmp_path / f"{name}.tflite"
        res = CliRunner().invoke(cli, ["quantize", *args, "-o", str(out)])
        assert res.exit_code == 2, (name, res.output)
        lines = res.stderr.strip().splitlines()
        assert words in lines[-1] and lines[-1].startswith("tinykit: error:"), name
        assert not out.exists()


def test_subprocess_json_is_clean(tiny: dict[str, Path], tmp_path: Path) -> None:
    """A real process: the converter's prints (Python and C level) stay off stdout."""
    out = tmp_path / "p.tflite"
    proc = subprocess.run([PYTHON, "-m", "tinykit", "quantize", str(tiny["keras"]), "--data",
                           str(tiny["calib"]), "-o", str(out), "--json"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["int8_bytes"] == out.stat().st_size
    assert proc.stderr == ""  # nothing from TensorFlow, Python or C level


def test_subprocess_error_is_one_line(tiny: dict[str, Path], tmp_path: Path) -> None:
    args, words = bad_inputs(tiny, tmp_path)["nan"]
    proc = subprocess.run([PYTHON, "-m", "tinykit", "quantize", *args, "-o",
                           str(tmp_path / "n.tflite")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
