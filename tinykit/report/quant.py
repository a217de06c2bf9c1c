"""Float-vs-int8 error per layer: tinykit's own comparison (not TF's quantization
debugger, which re-quantizes the Keras model and runs TFLite: this compares the very
``.tflite`` given, as the TFLM reference runs it).

Both models run end to end on the same samples: the float Keras model (every layer's
output kept) and the int8 model in the TFLM reference (every intermediate tensor
kept, in its isolated subprocess: :func:`tinykit.reference.run_tensors`). Each op's
output is dequantized and compared with the output of the Keras layer it computes,
so the figures are the error *accumulated* up to that layer: the cosine similarity
(mean over samples) and the RMSE in real units (and in steps of the tensor's scale).

Matching an op to its layer: the converter names an op's output tensor after the
Keras layers fused into it (``model/re_lu_3_1/Relu;model/conv2d_3_1/convolution``),
each name with a TF name-scope suffix (``_1``, ``_2``) appended
(:func:`layers_named`). The op's value is the output of the latest of those layers.
When TF folded a BatchNormalization or an activation into the op without naming it,
the layer's unnamed single-consumer successors of that kind are candidates too and the
one that agrees best is taken. The model's output tensor is the Keras model's output.
Ops matched to no layer (QUANTIZE, ...) are left out.

TensorFlow is imported only here, through :func:`tinykit.tf.import_tf`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinykit.errors import DataError
from tinykit.graph import Graph, Tensor, short_layer_name

METHOD = ("tinykit's own comparison (not TF's quantization debugger): the float Keras model and the "
          "int8 model in the TFLM reference run end to end on the same samples; each op's dequantized "
          "output is compared with the output of the Keras layer it computes (errors accumulate along "
          "the model)")
FUSABLE = frozenset({"BatchNormalization", "ReLU", "Activation", "LeakyReLU", "ReLU6"})
_SUFFIX = re.compile(r"^(?P<base>.+)_\d+$")


@dataclass(frozen=True)
class LayerError:
    index: int  # op index
    op: str
    label: str  # shortened tensor name
    keras_layer: str
    cosine: float
    rmse: float  # real units
    rmse_steps: float  # RMSE in steps of the int8 tensor's scale


@dataclass(frozen=True)
class QuantSection:
    method: str
    samples: int
    layers: tuple[LayerError, ...]
    unmatched: tuple[int, ...]  # op indices matched to no Keras layer

    def worst(self, n: int = 3) -> tuple[LayerError, ...]:
        """The ``n`` layers with the lowest cosine similarity, worst first."""
        return tuple(sorted(self.layers, key=lambda e: (e.cosine, -e.rmse_steps))[:n])


def layers_named(tensor_name: str, known: Sequence[str]) -> list[str]:
    """Keras layers a converted tensor's name mentions, in order of appearance. A
    component ``X_<n>`` names layer ``X`` (TF's name scope appends the suffix); a
    component that is a layer name itself counts when no such layer exists.

    >>> known = ["conv2d", "conv2d_1", "re_lu", "re_lu_1", "dense"]
    >>> layers_named("m_1/net_1/re_lu_1/Relu;m_1/net_1/conv2d_1/convolution", known)
    ['re_lu', 'conv2d']
    >>> layers_named("m_1/net_1/re_lu_1_2/Relu;m_1/net_1/conv2d_1_2/convolution", known)
    ['re_lu_1', 'conv2d_1']
    >>> layers_named("StatefulPartitionedCall_1:0", known)
    []
    """
    names = set(known)
    found: list[str] = []
    for part in tensor_name.split(";"):
        for comp in part.split("/")[:-1]:
            m = _SUFFIX.match(comp)
            layer = m.group("base") if m and m.group("base") in names else (comp if comp in names else None)
            if layer is not None and layer not in found:
                found.append(layer)
    return found


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-sample cosine similarity of two (N, ...) arrays (1.0 for two zero rows).

    >>> round(cosine(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 0.0], [0.0, -2.0]])), 6)
    0.0
    >>> cosine(np.zeros((1, 3)), np.zeros((1, 3)))
    1.0
    """
    x, y = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    dot = np.sum(x * y, axis=1)
    both_zero = (nx == 0) & (ny == 0)
    cos = np.where(both_zero, 1.0, dot / np.maximum(nx * ny, 1e-30))
    return float(np.mean(cos))


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """
    >>> rmse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    1.4142135623730951
    """
    return float(np.sqrt(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def _dequantized(t: Tensor, values: np.ndarray) -> np.ndarray | None:
    from tinykit.tensors import to_real

    if t.quant is None or t.quant.per_channel:
        return None
    return to_real(values, t)


def compare(graph: Graph, int8: dict[int, np.ndarray], floats: dict[str, np.ndarray], order: Sequence[str],
            successors: dict[str, list[str]], output_layer: str, samples: int) -> QuantSection:
    """Match ops to layers and measure the error (pure numpy; see the module docstring).

    ``int8``: tensor index -> (N, ...) values from TFLM; ``floats``: Keras layer -> (N, ...)
    outputs; ``order``: the layers in topological order; ``successors``: for each layer,
    its unnamed fusable single-consumer successors, nearest first."""
    rank = {name: i for i, name in enumerate(order)}
    errors, unmatched = [], []
    for op in graph.ops:
        t = graph.tensor(op.outputs[0])
        q = int8.get(t.index)
        real = None if q is None else _dequantized(t, q)
        named = [n for n in layers_named(t.name, order) if n in floats]
        if t.index in graph.outputs and output_layer in floats:
            named.append(output_layer)
        if real is None or not named:
            unmatched.append(op.index)
            continue
        last = max(named, key=lambda n: rank[n])
        candidates = [c for c in [last, *successors.get(last, [])]
                      if floats[c][0].size == real[0].size]
        if not candidates:
            unmatched.append(op.index)
            continue
        scored = [(cosine(floats[c], real), c) for c in candidates]
        cos, layer = max(scored)
        f = floats[layer].reshape(real.shape)
        err = rmse(f, real)
        errors.append(LayerError(op.index, op.kind, short_layer_name(t.name, 22), layer, cos, err,
                                 err / t.quant.scale[0] if t.quant else float("nan")))
    return QuantSection(METHOD, samples, tuple(errors), tuple(unmatched))


def _keras_graph(model: Any) -> tuple[list[Any], dict[str, list[str]]]:
    """The model's layers with a single output (topological order) and, for each, its
    chain of fusable single-consumer successors."""
    layers = []
    for layer in model.layers:
        try:
            out = layer.output
        except (AttributeError, ValueError):  # a shared layer has no single output
            continue
        if not isinstance(out, list | tuple) and type(layer).__name__ != "InputLayer":
            layers.append(layer)
    consumers: dict[int, list[Any]] = {}
    for layer in layers:
        try:
            ins = layer.input
        except (AttributeError, ValueError):
            continue
        for t in ins if isinstance(ins, list | tuple) else [ins]:
            consumers.setdefault(id(t), []).append(layer)
    chains: dict[str, list[str]] = {}
    for layer in layers:
        chain, cur = [], layer
        while True:
            nxt = consumers.get(id(cur.output), [])
            if len(nxt) != 1 or type(nxt[0]).__name__ not in FUSABLE:
                break
            cur = nxt[0]
            chain.append(cur.name)
        chains[layer.name] = chain
    return layers, chains


def quantization_errors(model_bytes: bytes, graph: Graph, keras: Path, data: Path, samples: int = 8) -> QuantSection:
    """Run the float Keras model and the int8 model on the first ``samples`` of ``data``
    and compare layer by layer. Imports TensorFlow."""
    from tinykit.load import check_shape, load_data, load_model, validate_data
    from tinykit.reference import run_tensors
    from tinykit.reference.predict import model_input_shape
    from tinykit.tensors import to_model_input
    from tinykit.tf import import_tf, quiet

    if samples < 1:
        raise DataError("--samples must be at least 1")
    tin = graph.input_tensors[0]
    x = check_shape(validate_data(load_data(data), str(data)), model_input_shape(tin.shape), str(data))[:samples]
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"{data}: the float model needs float samples, not {x.dtype}")
    model = load_model(keras)
    tf = import_tf()
    with quiet():
        layers, chains = _keras_graph(model)
        probe = tf.keras.Model(model.inputs, [layer.output for layer in layers])
        outs = probe.predict(x.astype(np.float32), verbose=0, batch_size=len(x))
    outs = outs if isinstance(outs, list) else [outs]
    floats = {layer.name: np.asarray(o) for layer, o in zip(layers, outs, strict=True)}
    model_in = to_model_input(x, tin, str(data)).array
    per_sample = [run_tensors(model_bytes, model_in[i:i + 1]) for i in range(len(x))]
    int8 = {i: np.stack([s[i].reshape(-1) for s in per_sample]) for i in per_sample[0]}  # (N, size)
    output_layer = _output_layer(model, layers)
    return compare(graph, int8, floats, [layer.name for layer in layers], chains, output_layer, len(x))


def _output_layer(model: Any, layers: Sequence[Any]) -> str:
    out = model.outputs[0] if model.outputs else None
    for layer in layers:
        if layer.output is out:
            return layer.name
    return layers[-1].name if layers else ""
