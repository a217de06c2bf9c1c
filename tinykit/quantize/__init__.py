"""Quantize stage: Keras/SavedModel + calibration data -> full-integer int8 .tflite."""

from tinykit.quantize.api import Agreement, QuantizeConfig, QuantizeResult, quantize, quantize_many
from tinykit.quantize.convert import convert_float, convert_int8, fix_batch, import_tf

__all__ = ["Agreement", "QuantizeConfig", "QuantizeResult", "convert_float", "convert_int8",
           "fix_batch", "import_tf", "quantize", "quantize_many"]
