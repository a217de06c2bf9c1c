"""The load stage: models (.keras, .h5, SavedModel) and data (.npy, .npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_models

from tinykit.errors import DataError, ModelError, UnsupportedError
from tinykit.load import check_shape, load_data, load_model, model_io_shapes

pytestmark = pytest.mark.unit  # data loading; Keras model loading (TensorFlow): host


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_models(tmp_path_factory.mktemp("tiny"))


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = exc.value.format_message()
    assert "\n" not in text
    return text


# --- data ---------------------------------------------------------------------------


def test_npy_roundtrip(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "x.npy", x)
    got = load_data(tmp_path / "x.npy")
    assert got.dtype == np.float32 and np.array_equal(got, x)


def test_npz_key_x_or_only_array(tmp_path: Path) -> None:
    x = np.ones((2, 3), np.float32)
    np.savez(tmp_path / "a.npz", x=x, y=np.zeros(2))
    np.savez(tmp_path / "b.npz", samples=x)
    assert np.array_equal(load_data(tmp_path / "a.npz"), x)
    assert np.array_equal(load_data(tmp_path / "b.npz"), x)


def test_npz_ambiguous_names_the_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "c.npz", a=np.ones(2), b=np.ones(2))
    with pytest.raises(DataError) as exc:
        load_data(tmp_path / "c.npz")
    msg = one_line(exc)
    assert "c.npz" in msg and "a, b" in msg and "x=" in msg


def test_nan_and_inf_counted_and_located(tmp_path: Path) -> None:
    x = np.zeros((4, 5), np.float32)
    x[1, 2] = np.nan
    x[3, 0] = np.inf
    x[3, 1] = np.nan
    np.save(tmp_path / "bad.npy", x)
    with pytest.raises(DataError) as exc:
        load_data(tmp_path / "bad.npy")
    msg = one_line(exc)
    assert "3 of 20 values" in msg and "2 NaN, 1 inf" in msg and "(1, 2)" in msg


@pytest.mark.parametrize("array, words", [
    (np.zeros((0, 4), np.float32), "is empty"),
    (np.array(["a", "b"]), "dtype <U1"),
    (np.array([True, False]), "dtype bool"),
    (np.array([1 + 2j]), "dtype complex128"),
    (np.float32(3.0), "single number"),
])
def test_rejected_arrays(tmp_path: Path, array: np.ndarray, words: str) -> None:
    np.save(tmp_path / "d.npy", array)
    with pytest.raises(DataError) as exc:
        load_data(tmp_path / "d.npy")
    assert words in one_line(exc)


def test_pickled_objects_rejected(tmp_path: Path) -> None:
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError) as exc:
        load_data(tmp_path / "o.npy")
    assert "Python objects" in one_line(exc)


def test_bad_files(tmp_path: Path) -> None:
    (tmp_path / "junk.npy").write_bytes(b"\x00not numpy at all" * 10)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 truncated zip")
    (tmp_path / "x.csv").write_text("1,2,3\n")
    for name, words in (("junk.npy", "junk.npy"), ("junk.npz", "junk.npz"),
                        ("x.csv", "expected a .npy or .npz"), ("none.npy", "no such file")):
        with pytest.raises(DataError) as exc:
            load_data(tmp_path / name)
        assert words in one_line(exc), name


def test_check_shape_batch_single_and_mismatch() -> None:
    assert check_shape(np.zeros((7, 49, 10, 1)), (49, 10, 1), "c").shape == (7, 49, 10, 1)
    assert check_shape(np.zeros((49, 10, 1)), (49, 10, 1), "c").shape == (1, 49, 10, 1)
    assert check_shape(np.zeros((2, 3, 5)), (None, 5), "c").shape == (2, 3, 5)
    with pytest.raises(DataError) as exc:
        check_shape(np.zeros((7, 49, 10)), (49, 10, 1), "calib.npy")
    assert one_line(exc).startswith(
        "calib.npy: samples have shape (49, 10), model input is (49, 10, 1)")
    with pytest.raises(DataError) as exc:
        check_shape(np.zeros(5), (640,), "x.npy")
    assert "data has shape (5,), model input is (640,)" in one_line(exc)


# --- models -------------------------------------------------------------------------


@pytest.mark.host
@pytest.mark.parametrize("kind", ["keras", "h5", "savedmodel"])
def test_load_model_kinds(tiny: dict[str, Path], kind: str) -> None:
    model = load_model(tiny[kind])
    assert model_io_shapes(model) == ((8,), (3,))
    x = np.load(tiny["calib"])[:4]
    y = np.asarray(model.predict(x, verbose=0))
    assert y.shape == (4, 3) and np.allclose(y.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.host
def test_saved_model_matches_keras(tiny: dict[str, Path]) -> None:
    x = np.load(tiny["calib"])[:4]
    a = np.asarray(load_model(tiny["keras"]).predict(x, verbose=0))
    b = np.asarray(load_model(tiny["savedmodel"]).predict(x, verbose=0))
    assert np.allclose(a, b, atol=1e-6)


@pytest.mark.host
def test_two_inputs_unsupported(tiny: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedError) as exc:
        model_io_shapes(load_model(tiny["two_inputs"]), "two.keras")
    assert "2 inputs" in one_line(exc)


@pytest.mark.host
def test_bad_model_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "random.keras").write_bytes(rng.bytes(4096))
    (tmp_path / "random.h5").write_bytes(rng.bytes(4096))
    (tmp_path / "m.tflite").write_bytes(b"x")
    (tmp_path / "m.onnx").write_bytes(b"x")
    (tmp_path / "emptydir").mkdir()
    cases = {
        "random.keras": "cannot load the model", "random.h5": "cannot load the model",
        "m.tflite": "already a .tflite", "m.onnx": "unknown model type '.onnx'",
        "emptydir": "without saved_model.pb", "missing.keras": "no such file",
    }
    for name, words in cases.items():
        with pytest.raises(ModelError) as exc:
            load_model(tmp_path / name)
        assert words in one_line(exc), name
