"""Full-integer int8 conversion with TensorFlow (imported lazily and quietly
through :mod:`tinykit.tf`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinykit.errors import QuantizeError
from tinykit.quantize.rnn import conversion_failed, left_in_float, lost_unread_output
from tinykit.tf import import_tf, quiet

__all__ = ["convert_float", "convert_int8", "fix_batch", "import_tf"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fix_batch(model: Any, tf: Any) -> Any:
    """A Keras model whose input batch is fixed to 1, so the converter emits no
    SHAPE/STRIDED_SLICE/PACK ops for a dynamic batch."""
    keras = keras_of(model, tf)
    shape = tuple(model.inputs[0].shape[1:])
    inp = keras.Input(shape=shape, batch_size=1, dtype=model.inputs[0].dtype)
    return keras.Model(inp, model(inp))


def keras_of(model: Any, tf: Any) -> Any:
    """The Keras package a model belongs to: ``tf_keras`` (Keras 2, loaded from a
    Keras-2 .h5 by :func:`tinykit.load.load_model`) or TF's Keras 3."""
    if type(model).__module__.split(".")[0] == "tf_keras":
        import tf_keras

        return tf_keras
    return tf.keras


def convert_int8(model: Any, calibration: np.ndarray, io: str = "int8") -> bytes:
    """Convert a Keras model to a full-integer int8 .tflite.

    ``io="int8"`` makes input and output int8 too; ``io="float"`` keeps float I/O
    (QUANTIZE/DEQUANTIZE at the edges).
    """
    tf = import_tf()
    with quiet():
        fixed = fix_batch(model, tf)
    calib = np.asarray(calibration)  # in the input's dtype: int32 token ids stay integers
    if not np.issubdtype(calib.dtype, np.integer):
        calib = calib.astype(np.float32)

    def representative() -> Any:
        for sample in calib:
            yield [sample[None, ...]]

    if io not in ("int8", "float"):
        raise QuantizeError(f"unknown --io {io!r}; expected int8 or float")

    def convert(new_quantizer: bool) -> bytes:
        conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.experimental_new_quantizer = new_quantizer
        if io == "int8":
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        with quiet():  # a QuantizeError carries what TensorFlow printed as a note
            try:
                return bytes(conv.convert())
            except Exception as exc:  # the converter's messages are many lines long
                raise conversion_failed(exc, _layers(model)) from None

    tflite = convert(new_quantizer=True)
    if lost_unread_output(tflite):  # TF's MLIR quantizer, at random: see tinykit.quantize.rnn
        try:
            legacy = convert(new_quantizer=False)
        except QuantizeError:
            return tflite
        if not left_in_float(legacy):
            return legacy
    return tflite


def _layers(model: Any) -> list[tuple[str, str]]:
    from tinykit.quantize._worker import layers_of  # a pure walk over the Keras layers

    return [(name, cls) for name, cls in layers_of(model)]


def convert_float(model: Any) -> bytes:
    """The plain float32 .tflite of a Keras model (no optimization): the size
    baseline that the int8 model is compared with."""
    tf = import_tf()
    with quiet():
        conv = tf.lite.TFLiteConverter.from_keras_model(fix_batch(model, tf))
    with quiet():
        try:
            return bytes(conv.convert())
        except Exception as exc:
            raise QuantizeError(f"float TFLite conversion failed: {_first_line(exc)}") from None
