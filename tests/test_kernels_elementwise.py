"""The element-wise / LUT int8 kernels of the AOT runtime against TFLM, bit by bit.

Each case is a small Keras model made only of ops from
tinykit.ops (real TF conversion). The test emits every op
through its rule into a C harness, compiles it with gcc -Wall -Wextra -Werror,
runs it on random inputs (and all 256 int8 values where the input is int8) and
compares the raw output bytes with the TFLM reference interpreter.
"""

from __future__ import annotations

import dataclasses
import subprocess
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinykit import reference
from tinykit.cgen import c_array, c_ident
from tinykit.graph import Graph, Op, numpy_dtype, parse_tflite
from tinykit.ops import SPECS as RULES
from tinykit.ops import Emitted

pytestmark = pytest.mark.host  # TF conversion + gcc

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "firmware" / "src" / "kernels"
# the kernel files these ops use (tk_add/tk_mul need the shared broadcast walk)
EW_SOURCES = [SRC / f"{name}.c" for name in ("tk_lut", "tk_mul", "tk_broadcast", "tk_concat",
                                               "tk_pad", "tk_quantize")]
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
_CTYPE = {"int8": "int8_t", "int32": "int32_t", "float32": "float"}


# ---- a test EmitContext: one static buffer per activation, consts as arrays ----

class HarnessContext:
    def __init__(self, graph: Graph, inplace: bool) -> None:
        self.graph = graph
        self.buffer = {t.index: f"buf{t.index}" for t in graph.activations}
        self.consts: dict[int, str] = {}
        if inplace:
            self._alias()

    def _alias(self) -> None:
        """Give an op's output its first input's buffer when its rule allows it
        and nothing later reads that input."""
        g = self.graph
        for op in g.ops:
            src = op.inputs[0] if op.inputs else -1
            if src < 0 or g.tensor(src).is_const or not RULES[op.kind].inplace(g, op):
                continue
            later = {i for o in g.ops if o.index > op.index for i in o.inputs}
            if src in later or src in g.outputs:
                continue
            self.buffer[op.outputs[0]] = self.buffer[src]

    def sym(self, op: Op, field: str) -> str:
        return c_ident("tk", f"op{op.index}", field)

    def ptr(self, tensor_index: int) -> str:
        t = self.graph.tensor(tensor_index)
        if t.is_const:
            self.consts[tensor_index] = c_ident("tk_const", tensor_index)
            return self.consts[tensor_index]
        return f"((int8_t *){self.buffer[tensor_index]})"

    def scratch(self) -> str:
        raise AssertionError("no element-wise kernel uses scratch")

    def buffers(self) -> list[str]:
        sizes: dict[str, int] = {}
        for t in self.graph.activations:
            name = self.buffer[t.index]
            sizes[name] = max(sizes.get(name, 0), t.nbytes)
        return [f"static int8_t {n}[{s}] __attribute__((aligned(8)));" for n, s in sizes.items()]

    def const_decls(self) -> list[str]:
        out = []
        for i, name in self.consts.items():
            t = self.graph.tensor(i)
            out.append(c_array(name, t.array().astype(numpy_dtype(t.dtype)), _CTYPE[t.dtype],
                               align=8))
        return out


def render_model(graph: Graph, inplace: bool = False) -> str:
    """model.c: buffers, constants, emitted decls and tk_test_invoke()."""
    ctx = HarnessContext(graph, inplace)
    emitted: list[Emitted] = []
    for op in graph.ops:
        rule = RULES[op.kind]
        assert rule.check(graph, op) is None, (op.kind, rule.check(graph, op))
        emitted.append(rule.emit(ctx, op))
    (inp,), (outp,) = graph.inputs, graph.outputs
    lines = ["#include <stddef.h>", "#include <stdint.h>", '#include "tk_kernels.h"', ""]
    lines += ctx.buffers() + ctx.const_decls() + [d for e in emitted for d in e.decls]
    lines += [
        f"void *tk_test_input(void) {{ return {ctx.buffer[inp]}; }}",
        f"const void *tk_test_output(void) {{ return {ctx.buffer[outp]}; }}",
        "TkStatus tk_test_invoke(void);",
        "TkStatus tk_test_invoke(void) {",  # the calls are TK_TRY(...): return a kernel's error
        *("  " + ln for e in emitted for ln in e.call.splitlines()),
        "  return TK_OK;",
        "}",
    ]
    return "\n".join(lines) + "\n"


MAIN_C = """#include <stdio.h>
#include <stdint.h>
#include "tinykit.h"
void *tk_test_input(void);
const void *tk_test_output(void);
TkStatus tk_test_invoke(void);
int main(void) {
  while (fread(tk_test_input(), 1, IN_BYTES, stdin) == IN_BYTES) {
    if (tk_test_invoke() != TK_OK) return 1;
    fwrite(tk_test_output(), 1, OUT_BYTES, stdout);
  }
  return 0;
}
"""


def run_harness(graph: Graph, inputs: np.ndarray, tmp: Path, inplace: bool = False) -> np.ndarray:
    (model_c := tmp / "model.c").write_text(render_model(graph, inplace))
    (main_c := tmp / "main.c").write_text(MAIN_C)
    x, y = graph.input_tensors[0], graph.output_tensors[0]
    exe = tmp / "harness"
    subprocess.run(["gcc", *CFLAGS, f"-DIN_BYTES={x.nbytes}", f"-DOUT_BYTES={y.nbytes}",
                    f"-I{SRC}", f"-I{REPO / 'firmware' / 'include'}", str(model_c), str(main_c),
                    *map(str, EW_SOURCES), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    data = np.ascontiguousarray(inputs.astype(numpy_dtype(x.dtype))).tobytes()
    out = subprocess.run([str(exe)], input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=numpy_dtype(y.dtype)).reshape(len(inputs), -1)


# ---- the cases: single-op (or all-ours) Keras models, really converted ----------

def _build(case: str) -> Any:
    from tinykit.quantize.convert import import_tf

    tf = import_tf()
    L = tf.keras.layers  # noqa: N806
    ops = tf.keras.ops

    def model(shape: tuple[int, ...], f: Callable[[Any], Any]) -> Any:
        x = tf.keras.Input(shape=shape)
        return tf.keras.Model(x, f(x))

    c4 = np.linspace(-2.0, 1.5, 4).astype(np.float32)
    builders: dict[str, Callable[[], Any]] = {
        "sigmoid": lambda: model((16,), lambda x: L.Activation("sigmoid")(x)),
        "tanh": lambda: model((16,), lambda x: L.Activation("tanh")(x)),
        "relu": lambda: model((16,), lambda x: L.ReLU()(x)),
        "relu6": lambda: model((16,), lambda x: L.ReLU(max_value=6.0)(x)),
        "leaky0.2": lambda: model((16,), lambda x: L.LeakyReLU(negative_slope=0.2)(x)),
        "leaky0.01": lambda: model((16,), lambda x: L.LeakyReLU(negative_slope=0.01)(x)),
        "hard_swish": lambda: model((16,), lambda x: L.Activation("hard_swish")(x)),
        "mul_tanh": lambda: model((16,), lambda x: L.Multiply()([x, L.Activation("tanh")(x)])),
        "mul_const_channel": lambda: model((3, 4), lambda x: L.Lambda(lambda t: t * c4)(x)),
        "mul_const_relu": lambda: model((3, 4), lambda x: L.ReLU()(L.Lambda(lambda t: t * c4)(x))),
        "concat_last": lambda: model((16,), lambda x: L.Concatenate()(
            [x, L.Activation("tanh")(x), L.LeakyReLU(negative_slope=0.1)(x)])),
        "concat_axis1": lambda: model((3, 4), lambda x: L.Concatenate(axis=1)(
            [L.LeakyReLU(negative_slope=0.3)(x), x, L.ReLU(max_value=6.0)(x)])),
        "pad2d": lambda: model((4, 4, 3), lambda x: L.ZeroPadding2D(((1, 2), (0, 1)))(x)),
        "pad_channels": lambda: model((3, 5), lambda x: L.Lambda(
            lambda t: ops.pad(t, [[0, 0], [2, 0], [1, 3]]))(x)),
        "padv2": lambda: model((4, 4, 3), lambda x: L.Lambda(
            lambda t: ops.pad(t, [[0, 0], [1, 1], [2, 0], [0, 0]], constant_values=0.5))(x)),
    }
    return builders[case]()


# case -> TFLite ops that must appear (so a converter change cannot hide an op)
EXPECT = {
    "sigmoid": {"LOGISTIC"}, "tanh": {"TANH"}, "relu": {"RELU"}, "relu6": {"RELU6"},
    "leaky0.2": {"LEAKY_RELU"}, "leaky0.01": {"LEAKY_RELU"}, "hard_swish": {"HARD_SWISH"},
    "mul_tanh": {"MUL", "TANH"}, "mul_const_channel": {"MUL"}, "mul_const_relu": {"MUL"},
    "concat_last": {"CONCATENATION", "QUANTIZE", "TANH", "LEAKY_RELU"},
    "concat_axis1": {"CONCATENATION"}, "pad2d": {"PAD"}, "pad_channels": {"PAD"},
    "padv2": {"PADV2"},
}

# calibration distributions (mean, std): different scales and zero points
CALIB = {"narrow": (0.0, 0.5), "wide": (0.0, 4.0), "shifted": (1.5, 1.0)}


@cache
def converted(case: str, calib: str, io: str) -> bytes:
    from tinykit.quantize.convert import convert_int8

    km = _build(case)
    mean, std = CALIB[calib]
    rng = np.random.default_rng(zlib.crc32(f"{case}/{calib}".encode()))
    data = rng.normal(mean, std, (64, *km.input_shape[1:])).astype(np.float32)
    return convert_int8(km, data, io=io)


def sample_inputs(graph: Graph, calib: str, n: int = 50) -> np.ndarray:
    x = graph.input_tensors[0]
    shape = x.shape[1:] if x.shape and x.shape[0] == 1 else x.shape
    rng = np.random.default_rng(7)
    if x.dtype == "int8":
        sweep = np.resize(np.arange(-128, 128, dtype=np.int8), (-(-256 // x.size) * x.size,))
        rand = rng.integers(-128, 128, (n, *shape), dtype=np.int8)
        return np.concatenate([sweep.reshape(-1, *shape), rand])
    mean, std = CALIB[calib]
    rand = rng.normal(mean, 2 * std, (n, *shape)).astype(np.float32)
    q = graph.op_outputs(graph.ops[0])[0].quant  # QUANTIZE's output: hit rounding ties
    assert q is not None
    ties = ((np.arange(x.size) - x.size // 2 + 0.5) * q.scale[0]).astype(np.float32)
    return np.concatenate([rand, ties.reshape(1, *shape)])


def assert_bit_exact(graph: Graph, model: bytes, inputs: np.ndarray, tmp: Path,
                     inplace: bool = False) -> None:
    ref = reference.run(model, inputs).outputs.reshape(len(inputs), -1)
    got = run_harness(graph, inputs, tmp, inplace)
    assert got.dtype == ref.dtype
    bad = np.argwhere(got.view(f"u{got.itemsize}") != ref.view(f"u{ref.itemsize}"))  # bits
    assert bad.size == 0, (
        f"{len(bad)} of {got.size} values differ; first at sample/elem {bad[0].tolist()}: "
        f"got {got[tuple(bad[0])]}, TFLM {ref[tuple(bad[0])]}")


CASES = [(case, calib) for case in EXPECT for calib in CALIB
         if not (case.startswith(("pad", "concat")) and calib == "shifted")]


@pytest.mark.parametrize("case,calib", CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_int8_model_bit_exact(case: str, calib: str, tmp_path: Path) -> None:
    model = converted(case, calib, "int8")
    graph = parse_tflite(model, case)
    assert EXPECT[case] <= {op.kind for op in graph.ops}
    assert_bit_exact(graph, model, sample_inputs(graph, calib), tmp_path)


FLOAT_CASES = ["sigmoid", "tanh", "hard_swish", "mul_tanh", "concat_last", "padv2"]


@pytest.mark.parametrize("case", FLOAT_CASES)
def test_float_io_quantize_dequantize_bit_exact(case: str, tmp_path: Path) -> None:
    model = converted(case, "wide", "float")
    graph = parse_tflite(model, case)
    kinds = [op.kind for op in graph.ops]
    assert kinds[0] == "QUANTIZE" and kinds[-1] == "DEQUANTIZE"
    assert graph.input_tensors[0].dtype == graph.output_tensors[0].dtype == "float32"
    assert_bit_exact(graph, model, sample_inputs(graph, "wide"), tmp_path)


@pytest.mark.parametrize("case,io", [("concat_last", "float"), ("mul_tanh", "float"),
                                     ("sigmoid", "int8"), ("mul_const_channel", "int8")])
def test_inplace_buffers_bit_exact(case: str, io: str, tmp_path: Path) -> None:
    """Outputs written over their input's buffer where the rule says inplace."""
    model = converted(case, "wide", io)
    graph = parse_tflite(model, case)
    ctx = HarnessContext(graph, inplace=True)
    assert len(set(ctx.buffer.values())) < len(ctx.buffer)  # something is aliased
    assert_bit_exact(graph, model, sample_inputs(graph, "wide"), tmp_path, inplace=True)


def _fold_requantize_into_concat(graph: Graph) -> Graph:
    """Drop each int8->int8 QUANTIZE feeding a CONCATENATION and let the concat
    read the QUANTIZE's input: the concat must then rescale that input itself."""
    remap: dict[int, int] = {}
    ops = []
    for op in graph.ops:
        x = graph.tensor(op.inputs[0]) if op.inputs else None
        if op.kind == "QUANTIZE" and x is not None and x.dtype == "int8":
            remap[op.outputs[0]] = op.inputs[0]
            continue
        ops.append(dataclasses.replace(op, inputs=tuple(remap.get(i, i) for i in op.inputs)))
    return dataclasses.replace(graph, ops=tuple(ops))


@pytest.mark.parametrize("calib", ["narrow", "wide"])
def test_concat_rescales_inputs_bit_exact(calib: str, tmp_path: Path) -> None:
    model = converted("concat_last", calib, "int8")
    graph = parse_tflite(model, "concat_last")
    folded = _fold_requantize_into_concat(graph)
    assert "QUANTIZE" not in {op.kind for op in folded.ops}
    concat = next(op for op in folded.ops if op.kind == "CONCATENATION")
    scales = {folded.tensor(i).quant.scale for i in concat.inputs}  # type: ignore[union-attr]
    assert len(scales) > 1  # the concat really sees differing input scales
    assert "_lut" in "".join(RULES["CONCATENATION"].emit(HarnessContext(folded, False), concat).decls)
    assert_bit_exact(folded, model, sample_inputs(graph, calib), tmp_path)


# ---- support checks reject what the kernels do not do ------------------------------

def _with_tensor(graph: Graph, index: int, **changes: Any) -> Graph:
    tensors = list(graph.tensors)
    tensors[index] = dataclasses.replace(tensors[index], **changes)
    return dataclasses.replace(graph, tensors=tuple(tensors))


def test_checks_reject_unsupported_variants() -> None:
    g = parse_tflite(converted("sigmoid", "wide", "int8"), "sigmoid")
    op = g.ops[0]
    assert RULES["LOGISTIC"].check(g, op) is None
    assert "int16" in str(RULES["LOGISTIC"].check(_with_tensor(g, op.inputs[0], dtype="int16"), op))
    q = g.tensor(op.outputs[0]).quant
    assert q is not None
    bad_out = dataclasses.replace(q, zero_point=(0,))
    assert "zero point" in str(RULES["LOGISTIC"].check(_with_tensor(g, op.outputs[0], quant=bad_out), op))
    per_channel = dataclasses.replace(q, scale=(0.1, 0.2), zero_point=(0, 0))
    assert "per channel" in str(RULES["LOGISTIC"].check(_with_tensor(g, op.inputs[0], quant=per_channel), op))

    g = parse_tflite(converted("pad2d", "wide", "int8"), "pad2d")
    op = g.ops[0]
    assert RULES["PAD"].check(g, op) is None
    assert "constant" in str(RULES["PAD"].check(_with_tensor(g, op.inputs[1], data=None), op))

    g = parse_tflite(converted("concat_axis1", "wide", "int8"), "concat")
    op = next(o for o in g.ops if o.kind == "CONCATENATION")
    relu_concat = dataclasses.replace(op, options={**op.options, "fused_activation_function": "RELU"})
    assert "fused activation" in str(RULES["CONCATENATION"].check(g, relu_concat))


def test_kernels_compile_for_cortex_m() -> None:
    for cpu in ("cortex-m4", "cortex-m7"):
        for src in EW_SOURCES:
            subprocess.run(["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", *CFLAGS, f"-I{SRC}",
                            f"-I{REPO / 'firmware' / 'include'}", "-c", str(src), "-o", "/dev/null"],
                           check=True)


def test_generated_model_compiles_for_cortex_m(tmp_path: Path) -> None:
    model = converted("concat_last", "wide", "float")
    (src := tmp_path / "model.c").write_text(render_model(parse_tflite(model, "m")))
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", *CFLAGS, f"-I{SRC}",
                    f"-I{REPO / 'firmware' / 'include'}", "-c", str(src), "-o", str(tmp_path / "model.o")],
                   check=True)


# ---- whole models through the codegen helper's verify pipeline --------------------

def _mixed_model() -> Any:
    from tinykit.quantize.convert import import_tf

    tf = import_tf()
    L = tf.keras.layers  # noqa: N806
    x = tf.keras.Input(shape=(8, 8, 3))
    a = L.Activation("hard_swish")(L.Conv2D(8, 3)(L.ZeroPadding2D(1)(x)))
    b = L.Activation("sigmoid")(L.Conv2D(8, 1)(x))
    c = L.Multiply()([a, b])
    d = L.Concatenate()([c, L.LeakyReLU(negative_slope=0.1)(a), L.Activation("tanh")(b)])
    e = L.ZeroPadding2D(((1, 0), (0, 2)))(d)
    y = L.Dense(4)(L.GlobalAveragePooling2D()(e))
    return tf.keras.Model(x, y)


@pytest.mark.parametrize("io", ["int8", "float"])
def test_whole_model_through_verify_bit_exact(io: str, tmp_path: Path) -> None:
    from tinykit.quantize.convert import convert_int8
    from tinykit.verify.api import VerifyConfig, verify

    calib = np.random.default_rng(3).normal(0, 1, (64, 8, 8, 3)).astype(np.float32)
    model = convert_int8(_mixed_model(), calib, io=io)
    kinds = {op.kind for op in parse_tflite(model).ops}
    assert {"PAD", "HARD_SWISH", "LOGISTIC", "MUL", "CONCATENATION", "LEAKY_RELU"} <= kinds
    if io == "float":
        assert {"QUANTIZE", "DEQUANTIZE"} <= kinds
    (path := tmp_path / "mixed.tflite").write_bytes(model)
    report = verify(VerifyConfig(model=path, samples=30, measure=False))
    assert report.bit_exact, report.first_diff_layer
    assert report.samples == 30
