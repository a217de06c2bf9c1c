"""Trained models: ``.keras``, ``.h5`` or a SavedModel directory, loaded with
TensorFlow imported lazily. Any failure is one line (never a TF traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinykit.errors import ModelError, UnsupportedError

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_HINT = "give a .keras or .h5 file, or a SavedModel directory (with saved_model.pb)"


def _why(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception, shortened.

    >>> _why(ValueError("bad file\\nmore detail"))
    'bad file'
    >>> _why(KeyError())
    'KeyError'
    """
    text = str(exc).strip().strip("'\"")
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def model_kind(path: Path) -> str:
    """``"keras"`` or ``"savedmodel"``; a one-line error for anything else."""
    if not path.exists():
        raise ModelError(f"{path}: no such file or directory", hint=_HINT)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ModelError(f"{path}: a directory without saved_model.pb, not a SavedModel",
                             hint=_HINT)
        return "savedmodel"
    suffix = path.suffix.lower()
    if suffix in KERAS_SUFFIXES:
        return "keras"
    if suffix == ".tflite":
        raise ModelError(f"{path.name}: already a .tflite model; quantize takes the trained "
                         "(float) Keras model", hint=_HINT)
    raise ModelError(f"{path.name}: unknown model type {suffix or '(no suffix)'!r}", hint=_HINT)


def load_model(path: str | Path) -> Any:
    """Load a Keras model (``.keras``/``.h5``) or wrap a SavedModel's ``serving_default``
    signature in a Keras model. Raises :class:`ModelError` in one line."""
    from tinykit.tf import import_tf, quiet

    p = Path(path)
    kind = model_kind(p)
    tf = import_tf()
    with quiet():
        try:
            if kind == "keras":
                keras = keras_for(p, tf)
                model = keras.models.load_model(str(p), compile=False)
            else:
                model = _wrap_saved_model(tf, p)
        except (ModelError, UnsupportedError):
            raise
        except Exception as exc:  # Keras/TF raise many types with long messages
            raise ModelError(f"{p.name}: cannot load the model ({_why(exc)})", hint=_HINT) from None
    if not isinstance(model, keras.Model if kind == "keras" else tf.keras.Model):
        raise ModelError(f"{p.name}: holds a {type(model).__name__}, not a Keras model", hint=_HINT)
    return model


def h5_keras_major(path: Path) -> int | None:
    """The Keras major version that wrote an HDF5 model (its ``keras_version``
    attribute), or None (not HDF5, or no such attribute)."""
    if path.suffix.lower() not in (".h5", ".hdf5"):
        return None
    try:
        import h5py

        with h5py.File(path, "r") as f:
            version = f.attrs.get("keras_version")
    except Exception:  # not an HDF5 file: Keras's own loader says so in one line
        return None
    if isinstance(version, bytes):
        version = version.decode()
    head = str(version).split(".")[0] if version is not None else ""
    return int(head) if head.isdigit() else None


def keras_for(path: Path, tf: Any) -> Any:
    """The Keras that loads ``path``: Keras 2 (the ``tf_keras`` package) for an HDF5
    file written by Keras 2, whose LSTM Keras 3 cannot load (``time_major``) and
    which the converter fuses into UNIDIRECTIONAL_SEQUENCE_LSTM; else TF's Keras 3."""
    if h5_keras_major(path) == 2:
        try:
            import tf_keras
        except ImportError:
            raise ModelError(f"{path.name}: written by Keras 2, which needs the tf_keras package",
                             hint="pip install tf_keras (the version matching TensorFlow)") from None
        return tf_keras
    return tf.keras


def _wrap_saved_model(tf: Any, p: Path) -> Any:
    loaded = tf.saved_model.load(str(p))
    sig = loaded.signatures.get("serving_default")
    if sig is None:
        raise ModelError(f"{p.name}: the SavedModel has no 'serving_default' signature")
    specs = list(sig.structured_input_signature[1].values())
    if len(specs) != 1:
        raise UnsupportedError(f"{p.name}: the model has {len(specs)} inputs; tinykit needs one")
    spec = specs[0]
    inp = tf.keras.Input(shape=tuple(spec.shape[1:]), dtype=spec.dtype)
    out = tf.keras.layers.TFSMLayer(str(p), call_endpoint="serving_default")(inp)
    if isinstance(out, dict):
        if len(out) != 1:
            raise UnsupportedError(f"{p.name}: the model has {len(out)} outputs; tinykit needs one")
        out = next(iter(out.values()))
    return tf.keras.Model(inp, out)


def model_io_shapes(model: Any, name: str = "model") -> tuple[tuple[int | None, ...],
                                                               tuple[int | None, ...]]:
    """(input shape, output shape) without the batch dimension; one input and one output."""
    n_in, n_out = len(model.inputs), len(model.outputs)
    if n_in != 1 or n_out != 1:
        raise UnsupportedError(f"{name}: the model has {n_in} inputs and {n_out} outputs; "
                               "tinykit needs exactly one of each")

    def dims(shape: Any) -> tuple[int | None, ...]:
        return tuple(None if d is None else int(d) for d in tuple(shape)[1:])

    return dims(model.inputs[0].shape), dims(model.outputs[0].shape)
