"""Parsed ``.tflite`` IR: plain frozen dataclasses built with the maintained
``tflite`` schema package (no hand-written flatbuffer reading).

A :class:`Graph` holds tensors (with quantization and constant data), ops in
execution order (with builtin name, version and snake_case options), and the
model's input/output tensor indices. Only the first subgraph is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tinykit.errors import ModelError

# tflite TensorType -> (name, numpy dtype)
_TENSOR_TYPES: dict[int, tuple[str, Any]] = {
    0: ("float32", np.float32),
    1: ("float16", np.float16),
    2: ("int32", np.int32),
    3: ("uint8", np.uint8),
    4: ("int64", np.int64),
    6: ("bool", np.bool_),
    7: ("int16", np.int16),
    9: ("int8", np.int8),
    10: ("float64", np.float64),
}

_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
_PADDINGS = {0: "SAME", 1: "VALID"}


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True, eq=False)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # "int8", "int32", "float32", ...
    quant: Quant | None
    data: bytes | None = field(default=None, repr=False)  # constant buffer, None for activations

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def itemsize(self) -> int:
        return np.dtype(numpy_dtype(self.dtype)).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    def array(self) -> np.ndarray:
        """The constant data as a numpy array of this tensor's shape."""
        if self.data is None:
            raise ModelError(f"tensor {self.name!r} has no constant data")
        return np.frombuffer(self.data, dtype=numpy_dtype(self.dtype)).reshape(self.shape)


@dataclass(frozen=True)
class Op:
    index: int
    kind: str  # builtin op name, e.g. "CONV_2D"
    version: int
    inputs: tuple[int, ...]  # tensor indices; -1 marks an absent optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    custom_code: str | None = None


@dataclass(frozen=True, eq=False)
class Graph:
    name: str
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    model_bytes: int  # size of the .tflite file
    description: str = ""

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Op) -> list[Tensor | None]:
        return [None if i < 0 else self.tensors[i] for i in op.inputs]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    def layer_name(self, op: Op) -> str:
        """A readable layer name: the op's first output tensor name."""
        return self.tensors[op.outputs[0]].name if op.outputs else f"op{op.index}"

    @cached_property
    def producers(self) -> dict[int, Op]:
        return {t: op for op in self.ops for t in op.outputs}

    @cached_property
    def activations(self) -> list[Tensor]:
        """Non-constant tensors touched by the graph (inputs, outputs, intermediates)."""
        used = {i for op in self.ops for i in (*op.inputs, *op.outputs) if i >= 0}
        used |= set(self.inputs) | set(self.outputs)
        return [t for t in self.tensors if t.index in used and not t.is_const]

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]


def numpy_dtype(name: str) -> Any:
    for n, dt in _TENSOR_TYPES.values():
        if n == name:
            return dt
    raise ModelError(f"tensor type {name!r} is not supported")


def _snake(name: str) -> str:
    """
    >>> _snake("FusedActivationFunction")
    'fused_activation_function'
    >>> _snake("StrideW")
    'stride_w'
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _read_options(op: Any, tfl: Any) -> dict[str, Any]:
    """All scalar builtin options of an op, snake_case, enums as names."""
    opt_type = op.BuiltinOptionsType()
    if opt_type == 0:
        return {}
    names = {v: k for k, v in vars(tfl.BuiltinOptions).items() if isinstance(v, int)}
    cls_name = names.get(opt_type)
    table = op.BuiltinOptions()
    if cls_name is None or table is None or not hasattr(tfl, cls_name):
        return {}
    obj = getattr(tfl, cls_name)()
    obj.Init(table.Bytes, table.Pos)
    options: dict[str, Any] = {}
    for attr in dir(obj):
        if attr[0] == "_" or not attr[0].isupper() or attr in ("Init",) or attr.startswith("GetRootAs"):
            continue
        if attr.endswith(("Length", "IsNone", "AsNumpy")) or "BufferHasIdentifier" in attr:
            continue
        method = getattr(obj, attr)
        try:
            if hasattr(obj, attr + "AsNumpy"):
                value: Any = tuple(int(v) for v in np.atleast_1d(getattr(obj, attr + "AsNumpy")()))
            else:
                value = method()
        except TypeError:
            continue
        key = _snake(attr)
        if key == "fused_activation_function":
            value = _ACTIVATIONS.get(value, str(value))
        elif key == "padding":
            value = _PADDINGS.get(value, str(value))
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        options[key] = value
    return options


def parse_tflite(data: bytes, name: str = "model") -> Graph:
    """Parse a .tflite flatbuffer. Any malformed input raises :class:`ModelError`."""
    import tflite as tfl  # the maintained schema package

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{name}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    try:
        return _parse(data, name, tfl)
    except ModelError:
        raise
    except Exception as exc:  # truncated or corrupt flatbuffers fail deep inside
        raise ModelError(f"{name}: corrupt or truncated .tflite file (its flatbuffer cannot be read: "
                         f"{' '.join(str(exc).split()) or type(exc).__name__})") from None


def _parse(data: bytes, name: str, tfl: Any) -> Graph:
    from tflite.utils import BUILTIN_OPCODE2NAME

    model = tfl.Model.GetRootAs(data, 0)
    if model.SubgraphsLength() < 1:
        raise ModelError(f"{name}: the model has no subgraph")
    sg = model.Subgraphs(0)
    buffers = [model.Buffers(i) for i in range(model.BuffersLength())]

    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        type_code = t.Type()
        if type_code not in _TENSOR_TYPES:
            raise ModelError(f"{name}: tensor {i} has unsupported type code {type_code}")
        dtype = _TENSOR_TYPES[type_code][0]
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        quant = None
        q = t.Quantization()
        if q is not None and q.ScaleLength() > 0:
            quant = Quant(
                scale=tuple(float(s) for s in q.ScaleAsNumpy()),
                zero_point=tuple(int(z) for z in q.ZeroPointAsNumpy()),
                axis=int(q.QuantizedDimension()),
            )
        buf_data = None
        b = t.Buffer()
        if 0 < b < len(buffers):
            buf = buffers[b]
            if buf.DataLength() > 0:
                buf_data = buf.DataAsNumpy().tobytes()
            elif buf.Offset() > 1:  # large models keep buffers after the flatbuffer
                buf_data = data[buf.Offset() : buf.Offset() + buf.Size()]
        tname = t.Name().decode("utf-8", "replace") if t.Name() else f"tensor{i}"
        tensor = Tensor(i, tname, shape, dtype, quant, buf_data)
        if buf_data is not None and len(buf_data) != tensor.nbytes:
            raise ModelError(f"{name}: tensor {tname!r} has {len(buf_data)} data bytes, "
                             f"expected {tensor.nbytes}")
        tensors.append(tensor)

    ops = []
    for i in range(sg.OperatorsLength()):
        o = sg.Operators(i)
        code = model.OperatorCodes(o.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        custom = code.CustomCode().decode() if code.CustomCode() else None
        kind = "CUSTOM" if custom else BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
        ins = tuple(int(x) for x in o.InputsAsNumpy()) if o.InputsLength() else ()
        outs = tuple(int(x) for x in o.OutputsAsNumpy()) if o.OutputsLength() else ()
        for idx in (*ins, *outs):
            if idx >= len(tensors) or idx < -1:
                raise ModelError(f"{name}: op {i} ({kind}) refers to tensor {idx}, "
                                 f"but there are {len(tensors)}")
        ops.append(Op(i, kind, int(code.Version()), ins, outs, _read_options(o, tfl), custom))

    inputs = tuple(int(x) for x in sg.InputsAsNumpy()) if sg.InputsLength() else ()
    outputs = tuple(int(x) for x in sg.OutputsAsNumpy()) if sg.OutputsLength() else ()
    desc = model.Description().decode("utf-8", "replace") if model.Description() else ""
    graph = Graph(name, tuple(tensors), tuple(ops), inputs, outputs, len(data), desc)
    validate(graph)
    return graph


# Fewest inputs an op reads (absent optional inputs are -1 and still counted).
_MIN_INPUTS = {
    "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3,
    "ADD": 2, "SUB": 2, "MUL": 2, "DIV": 2, "MAXIMUM": 2, "MINIMUM": 2, "SQUARED_DIFFERENCE": 2,
    "MEAN": 2, "SUM": 2, "REDUCE_MAX": 2, "REDUCE_MIN": 2, "PAD": 2, "PADV2": 2, "PRELU": 2,
    "BATCH_MATMUL": 2, "GATHER": 2, "STRIDED_SLICE": 4, "SLICE": 3, "TILE": 2, "TRANSPOSE": 2,
    "SPLIT": 2, "SPLIT_V": 3, "RESIZE_BILINEAR": 2, "RESIZE_NEAREST_NEIGHBOR": 2,
}
# Inputs that must be present (not -1) for every op that has them.
_REQUIRED_INPUTS = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2}


def validate(graph: Graph) -> None:
    """Structural checks of a parsed graph, so that a damaged file gets a one-line
    :class:`ModelError` here instead of an exception deep inside a later stage: op arity,
    tensor indices, shapes, quantization parameters, subgraph inputs and outputs."""
    name, n = graph.name, len(graph.tensors)

    def bad(msg: str) -> ModelError:
        return ModelError(f"{name}: {msg} (the .tflite file is damaged or not a supported model)")

    for t in graph.tensors:
        if any(d < 0 for d in t.shape):
            raise bad(f"tensor {t.name!r} has a negative dimension in shape {list(t.shape)}")
        q = t.quant
        if q is None:
            continue
        if len(q.zero_point) != len(q.scale):
            raise bad(f"tensor {t.name!r} has {len(q.scale)} scales but {len(q.zero_point)} zero points")
        if not all(np.isfinite(s) and s > 0 for s in q.scale):
            raise bad(f"tensor {t.name!r} has a quantization scale that is not a positive number")
        if q.per_channel and (not 0 <= q.axis < len(t.shape) or t.shape[q.axis] != len(q.scale)):
            raise bad(f"tensor {t.name!r} has {len(q.scale)} per-channel scales on axis {q.axis} "
                      f"of shape {list(t.shape)}")
    for io, indices in (("input", graph.inputs), ("output", graph.outputs)):
        if not indices:
            raise bad(f"the model has no {io}s")
        for i in indices:
            if not 0 <= i < n:
                raise bad(f"model {io} refers to tensor {i}, but there are {n}")
    for op in graph.ops:
        where = f"op {op.index} ({op.kind})"
        if not op.outputs or any(i < 0 for i in op.outputs):
            raise bad(f"{where} has no output tensor")
        if len(op.inputs) < _MIN_INPUTS.get(op.kind, 1 if op.kind != "CUSTOM" else 0):
            raise bad(f"{where} has {len(op.inputs)} inputs, expected at least "
                      f"{_MIN_INPUTS.get(op.kind, 1)}")
        if op.inputs and op.kind != "CUSTOM" and op.inputs[0] < 0:
            raise bad(f"{where} has no first input")
        if any(i < 0 for i in op.inputs[: _REQUIRED_INPUTS.get(op.kind, 0)]):
            raise bad(f"{where} is missing a required input")


def load_tflite(path: str | Path) -> Graph:
    """Read and parse a .tflite file; errors are one-line :class:`ModelError`."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() != ".tflite":
        raise ModelError(f"{p}: expected a .tflite file", hint="quantize a Keras model first: "
                         "tinykit quantize MODEL --data CALIB.npy -o model.tflite")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_tflite(data, p.stem)


def model_hash(data: bytes) -> str:
    """Short content hash identifying a model (device and host compare it)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16]


_MAIN_LAYER = re.compile(r"conv|dense|depthwise|matmul|pool|lstm|gru|rnn|attention|embedding", re.I)
_NOT_MAIN = re.compile(r"^(batch_normalization|re_lu|relu|activation|dropout)", re.I)


def short_layer_name(name: str, width: int = 24) -> str:
    """A readable name for a fused TF tensor name: the Keras layer that does the op's
    main work, without the model scope and the TF op suffix; cut at the front to
    ``width`` characters.

    >>> short_layer_name("functional_2_1/mobilenet_1/re_lu_14_1/Relu6;functional_2_1/mobilenet_1/"
    ...                  "batch_normalization_14_1/batchnorm/add_1;functional_2_1/mobilenet_1/"
    ...                  "conv2d_5_1/convolution;functional_2_1/mobilenet_1/x/sub1")
    'conv2d_5_1'
    >>> short_layer_name("model/dense_1/MatMul;model/dense_1/BiasAdd")
    'dense_1'
    >>> short_layer_name("Identity:0"), short_layer_name("serving_default_input:0")
    ('Identity:0', 'serving_default_input:0')
    >>> short_layer_name("a/very_long_layer_name_for_a_tiny_table_19_1/Conv2D", width=16)
    '…tiny_table_19_1'
    """
    layers = []
    for part in name.split(";"):
        path = part.split("/")
        if len(path) < 2:
            continue
        layer = path[-2] if not re.fullmatch(r"(batchnorm|BiasAdd|convolution)", path[-2]) else path[-3]
        if layer not in layers:
            layers.append(layer)
    main = [x for x in layers if _MAIN_LAYER.search(x) and not _NOT_MAIN.match(x)]
    best = (main or [x for x in layers if not _NOT_MAIN.match(x)] or layers or [name])[0]
    return best if len(best) <= width else "…" + best[-(width - 1):]
