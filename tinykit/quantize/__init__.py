"""Quantize stage: Keras/SavedModel + calibration data -> full-integer int8 .tflite."""

from tinykit.quantize.convert import convert_int8, fix_batch, import_tf

__all__ = ["convert_int8", "fix_batch", "import_tf"]
