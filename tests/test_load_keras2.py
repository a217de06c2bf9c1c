"""Which Keras loads an .h5 model: Keras 2 (tf_keras) for a file Keras 2 wrote (its LSTM
is the one the converter fuses into UNIDIRECTIONAL_SEQUENCE_LSTM), TF's Keras 3 otherwise.
HDF5 files are written with h5py directly (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from tinykit.load.model import h5_keras_major

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("version", "major"), [("2.21.0", 2), (b"2.15.0", 2), ("3.15.1", 3),
                                                (None, None), ("tf-nightly", None)])
def test_h5_keras_major_reads_keras_version(tmp_path: Path, version: str | bytes | None,
                                            major: int | None) -> None:
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        if version is not None:
            f.attrs["keras_version"] = version
    assert h5_keras_major(path) == major


def test_h5_keras_major_is_none_for_other_files(tmp_path: Path) -> None:
    """Not HDF5, or not an .h5 suffix: None (Keras 3's own loader reports the file)."""
    (tmp_path / "random.h5").write_bytes(b"\x00not hdf5" * 64)
    assert h5_keras_major(tmp_path / "random.h5") is None
    with h5py.File(tmp_path / "m.keras", "w") as f:
        f.attrs["keras_version"] = "2.21.0"
    assert h5_keras_major(tmp_path / "m.keras") is None
