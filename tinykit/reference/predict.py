"""Host inference on an int8 .tflite with the TFLM reference: what the board
should answer for the same inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinykit.errors import ModelError, UnsupportedError


@dataclass(frozen=True)
class Prediction:
    outputs: np.ndarray  # (N, *output_shape) in the model's output dtype
    real: np.ndarray  # the same, dequantized to float32
    argmax: np.ndarray | None  # (N,) class per sample when the output is a probability vector
    input_dtype: str
    output_dtype: str
    input_quantized: bool  # float data was quantized with the input scale/zero point
    us_per_inference: float


def model_input_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A tensor shape without its batch dimension of 1.

    >>> model_input_shape((1, 49, 10, 1))
    (49, 10, 1)
    >>> model_input_shape((640,))
    (640,)
    """
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def predict(model: bytes, data: np.ndarray, name: str = "model", what: str = "input") -> Prediction:
    """Run ``data`` ((N, *input shape) or one sample) through the int8 model in TFLM.

    int8 data is used as is; float data is quantized with the input tensor's scale and
    zero point (see :attr:`Prediction.input_quantized`).
    """
    from tinykit import reference
    from tinykit.graph import parse_tflite
    from tinykit.load import check_shape, validate_data
    from tinykit.tensors import output_step, to_model_input, to_real, top1

    graph = parse_tflite(model, name)
    if not any(t.dtype == "int8" for t in graph.tensors):
        raise ModelError(f"{name}: a float model (no int8 tensors); quantize first",
                         hint="tinykit quantize MODEL.keras --data calib.npy -o model.tflite")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedError(f"{name}: the model has {len(graph.inputs)} inputs and "
                               f"{len(graph.outputs)} outputs; tinykit needs exactly one of each")
    tin, tout = graph.input_tensors[0], graph.output_tensors[0]
    batch = check_shape(validate_data(data, what), model_input_shape(tin.shape), what)
    model_in = to_model_input(batch, tin, what)
    result = reference.run(model, model_in.array)
    real = to_real(result.outputs, tout)
    argmax = top1(real, output_step(tout))
    return Prediction(result.outputs, real, argmax, tin.dtype, tout.dtype, model_in.quantized,
                      result.us_per_inference)
