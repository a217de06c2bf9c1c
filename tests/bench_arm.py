"""``make bench-arm``: tinykit's int8 kernels next to CMSIS-NN's on the emulated
Cortex-M4 and Cortex-M7 (a benchmark script, not a test; ``make test`` never runs it).

Every row is one int8 layer as a one-op graph: the layers of issue 9 (built here
with seeded random weights and TFLite-style quantization) and every layer of the
four fixture models. For each, tinykit's generator writes the model.c it would
ship (so the kernel gets its params exactly as generated); a bare-metal main
includes it, runs ``tk_model_invoke`` on a pseudo-random input, then runs
CMSIS-NN's kernel for the same layer on the same input with the same numbers
(multipliers, shifts, offsets, the raw bias; the weights in the model's layout, where
tinykit's are in its channel-pair layout), checks on the device that both
outputs are byte-identical, and prints both SysTick counts. QEMU runs with
``-icount shift=0`` (1 instruction = 1 ns of virtual time, SysTick on the 25 MHz
mps2 clock), so the counts are instructions, exact to one SysTick tick (40).

Whole models: the generated firmware's instructions per inference (the full
``tk_model_invoke``) next to the sum of CMSIS-NN's per-layer figures; a layer
CMSIS-NN has no int8 kernel for (MEAN; SOFTMAX, whose params tinykit folds into a
table) counts with tinykit's figure and is flagged.

CMSIS-NN is found through one variable, ``CMSIS_NN_DIR`` (default
``../shared/third_party/CMSIS-NN`` from the repository; the CMSIS Core headers are
taken from ``$CMSIS_NN_DIR/../CMSIS_6/CMSIS/Core/Include``). Without it the bench
says so and prints tinykit's figures alone. Its library is compiled once per core
and flags into ``build/bench-arm/``.

usage: python tests/bench_arm.py [--cores cortex-m4,cortex-m7] [--opt=-O2]
           [--only SUBSTRING] [--no-models] [-o build/bench-arm.md] [-j 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_harness import CORES, NS_PER_TICK, SEMIHOST_EXIT_C, run_qemu  # noqa: E402

from tinykit.codegen.api import generate  # noqa: E402
from tinykit.graph import Graph, Op, Quant, Tensor, load_tflite  # noqa: E402
from tinykit.resources import firmware_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MODELS = ("ds_cnn", "mobilenet", "resnet", "autoencoder")
CMSIS_SUBDIRS = ("ConvolutionFunctions", "FullyConnectedFunctions", "BasicMathFunctions",
                 "PoolingFunctions", "NNSupportFunctions")
VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "ADD": 2,
            "AVERAGE_POOL_2D": 2}


def cmsis_nn_dir() -> Path:
    """``$CMSIS_NN_DIR``, default ``../shared/third_party/CMSIS-NN`` from the repository."""
    return Path(os.environ.get("CMSIS_NN_DIR") or ROOT.parent / "shared" / "third_party" / "CMSIS-NN")


def cmsis_missing(nn: Path) -> str | None:
    """What is missing of CMSIS-NN and the CMSIS Core headers, or None."""
    core = nn.parent / "CMSIS_6" / "CMSIS" / "Core" / "Include"
    for path in (nn / "Include" / "arm_nnfunctions.h", nn / "Source", core / "cmsis_compiler.h"):
        if not path.exists():
            return f"{path} is missing (set CMSIS_NN_DIR to a CMSIS-NN checkout next to CMSIS_6)"
    return None


# --- one-op graphs ----------------------------------------------------------------------


class _Builder:
    """Collects the tensors of a one-op graph."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []

    def add(self, name: str, shape: tuple[int, ...], dtype: str, scale: Sequence[float],
            zp: Sequence[int], axis: int = 0, data: bytes | None = None) -> int:
        q = Quant(tuple(float(s) for s in scale), tuple(int(z) for z in zp), axis)
        self.tensors.append(Tensor(len(self.tensors), name, shape, dtype, q, data))
        return len(self.tensors) - 1

    def graph(self, name: str, kind: str, inputs: tuple[int, ...], out: int,
              options: dict[str, object], activations: tuple[int, ...]) -> Graph:
        op = Op(0, kind, VERSIONS[kind], inputs, (out,), options)
        return Graph(name, tuple(self.tensors), (op,), activations[:1], (out,), 0)


def _acc_std(k: int, s_in: float, s_w: float) -> float:
    # real-valued std of a k-term int8 dot product of uniform inputs and weights
    return float(np.sqrt(k)) * 74.0 * 73.0 * s_in * s_w


def conv_graph(name: str, hw: tuple[int, int], cin: int, cout: int, k: tuple[int, int],
               stride: int, *, depthwise: bool = False, padding: str = "SAME",
               act: str = "RELU", seed: int = 0) -> Graph:
    """A CONV_2D or DEPTHWISE_CONV_2D on a 1xHxWxCin input, per-channel weights."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    h, w = hw
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        oh, ow = (h - k[0]) // stride + 1, (w - k[1]) // stride + 1
    s_in, z_in = 0.02, -3
    s_w = rng.uniform(0.004, 0.012, cout)
    x = b.add("input", (1, h, w, cin), "int8", [s_in], [z_in])
    fshape = (1, *k, cout) if depthwise else (cout, *k, cin)
    wdata = rng.integers(-127, 128, fshape, dtype=np.int8).tobytes()
    f = b.add("filter", fshape, "int8", s_w, [0] * cout, 3 if depthwise else 0, wdata)
    std = _acc_std(k[0] * k[1] * (1 if depthwise else cin), s_in, float(s_w.mean()))
    bias = rng.integers(-int(std / s_in / s_w.min() / 4) - 1, int(std / s_in / s_w.min() / 4) + 1,
                        cout).astype(np.int32)
    bt = b.add("bias", (cout,), "int32", s_in * s_w, [0] * cout, 0, bias.tobytes())
    relu = act == "RELU"
    s_out, z_out = (3 * std / 255, -128) if relu else (6 * std / 255, 5)
    y = b.add("output", (1, oh, ow, cout), "int8", [s_out], [z_out])
    opts: dict[str, object] = {"padding": padding, "stride_h": stride, "stride_w": stride,
                               "dilation_h_factor": 1, "dilation_w_factor": 1,
                               "fused_activation_function": act}
    if depthwise:
        opts["depth_multiplier"] = 1
    return b.graph(name, "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", (x, f, bt), y, opts, (x,))


def fc_graph(name: str, n_in: int, n_out: int, seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    b = _Builder()
    s_in, s_w = 0.02, 0.006
    x = b.add("input", (1, n_in), "int8", [s_in], [-3])
    f = b.add("filter", (n_out, n_in), "int8", [s_w], [0], 0,
              rng.integers(-127, 128, (n_out, n_in), dtype=np.int8).tobytes())
    std = _acc_std(n_in, s_in, s_w)
    bias = rng.integers(-2000, 2000, n_out).astype(np.int32)
    bt = b.add("bias", (n_out,), "int32", [s_in * s_w], [0], 0, bias.tobytes())
    y = b.add("output", (1, n_out), "int8", [6 * std / 255], [4])
    opts = {"fused_activation_function": "NONE", "keep_num_dims": False, "weights_format": 0}
    return b.graph(name, "FULLY_CONNECTED", (x, f, bt), y, opts, (x,))


def add_graph(name: str, shape: tuple[int, ...], seed: int = 0) -> Graph:
    """ADD of two tensors with different scales (the second one constant here: the
    generated code needs one graph input; the bench feeds both from the device)."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    x = b.add("input1", shape, "int8", [0.05], [-3])
    x2 = b.add("input2", shape, "int8", [0.08], [7], 0,
               rng.integers(-128, 128, shape, dtype=np.int8).tobytes())
    y = b.add("output", shape, "int8", [0.1], [-2])
    return b.graph(name, "ADD", (x, x2), y, {"fused_activation_function": "RELU"}, (x,))


def avgpool_graph(name: str, hw: tuple[int, int], c: int, k: tuple[int, int], stride: int) -> Graph:
    b = _Builder()
    h, w = hw
    x = b.add("input", (1, h, w, c), "int8", [0.05], [-3])
    y = b.add("output", (1, (h - k[0]) // stride + 1, (w - k[1]) // stride + 1, c), "int8",
              [0.05], [-3])
    opts = {"padding": "VALID", "stride_h": stride, "stride_w": stride, "filter_height": k[0],
            "filter_width": k[1], "fused_activation_function": "NONE"}
    return b.graph(name, "AVERAGE_POOL_2D", (x,), y, opts, (x,))


# MobileNet v1 0.25 at 96x96: the input H,W of the depthwise layer at each width.
MOBILENET_HW = {8: 48, 16: 48, 32: 24, 64: 12, 128: 6, 256: 3}


def issue_layers() -> list[Graph]:
    """The layer list of issue 9."""
    out = [conv_graph("ds-cnn conv 10x4/2 1->64 49x10", (49, 10), 1, 64, (10, 4), 2)]
    for c, hw in MOBILENET_HW.items():
        for s in (1, 2):
            out.append(conv_graph(f"dw 3x3/{s} {hw}x{hw}x{c}", (hw, hw), c, c, (3, 3), s,
                                  depthwise=True, seed=c + s))
    for s in (1, 2):
        out.append(conv_graph(f"dw 3x3/{s} 25x5x64", (25, 5), 64, 64, (3, 3), s, depthwise=True,
                              seed=s))
    for cin, cout, hw in ((8, 16, 48), (16, 32, 24), (32, 32, 24), (32, 64, 12), (64, 64, 12),
                          (64, 128, 6), (128, 128, 6), (128, 256, 3), (256, 256, 3)):
        out.append(conv_graph(f"1x1 {cin}->{cout} {hw}x{hw}", (hw, hw), cin, cout, (1, 1), 1,
                              padding="VALID", seed=cin + cout))
    out.append(conv_graph("conv 3x3/2 3->8 96x96", (96, 96), 3, 8, (3, 3), 2))
    out.append(conv_graph("conv 3x3/1 3->16 32x32", (32, 32), 3, 16, (3, 3), 1))
    for c, hw in ((16, 32), (32, 16), (64, 8)):
        out.append(conv_graph(f"conv 3x3/1 {c}->{c} {hw}x{hw}", (hw, hw), c, c, (3, 3), 1,
                              act="NONE", seed=c))
        out.append(conv_graph(f"conv 3x3/2 {c}->{2 * c} {2 * hw}x{2 * hw}", (2 * hw, 2 * hw), c,
                              2 * c, (3, 3), 2, seed=c + 1))
    out.append(add_graph("add 32x32x16, two scales", (1, 32, 32, 16)))
    out.append(fc_graph("fc 640->128", 640, 128))
    out.append(fc_graph("fc 256->12", 256, 12))
    out.append(avgpool_graph("avgpool 25x5 over 25x5x64", (25, 5), 64, (25, 5), 1))
    out.append(avgpool_graph("avgpool 2x2/2 24x24x32", (24, 24), 32, (2, 2), 2))
    return out


def one_op_graph(graph: Graph, op: Op, name: str, seed: int = 0) -> Graph:
    """Layer ``op`` of ``graph`` alone: its first activation input is the graph input;
    any other activation input becomes a constant with random data."""
    rng = np.random.default_rng(seed)
    index: dict[int, int] = {}
    tensors: list[Tensor] = []
    first = None
    for i in (*op.inputs, *op.outputs):
        if i < 0 or i in index:
            continue
        t = graph.tensor(i)
        data = t.data
        if not t.is_const and i in op.inputs:
            if first is None:
                first = len(tensors)
            else:
                data = rng.integers(-128, 128, t.nbytes, dtype=np.int8).tobytes()
        index[i] = len(tensors)
        tensors.append(Tensor(len(tensors), t.name, t.shape, t.dtype, t.quant, data))
    new_op = Op(0, op.kind, op.version, tuple(index.get(i, -1) for i in op.inputs),
                tuple(index[i] for i in op.outputs), op.options, op.custom_code)
    assert first is not None
    return Graph(name, tuple(tensors), (new_op,), (first,), (index[op.outputs[0]],), 0)


# --- the device program -----------------------------------------------------------------


def work_count(graph: Graph) -> tuple[int, str]:
    """(count, unit): MACs of a conv/FC layer, elements of the others."""
    op = graph.ops[0]
    ins, out = graph.op_inputs(op), graph.op_outputs(op)[0]
    if op.kind == "CONV_2D":
        f = ins[1]
        assert f is not None
        return out.size * f.shape[1] * f.shape[2] * f.shape[3], "MAC"
    if op.kind == "DEPTHWISE_CONV_2D":
        f = ins[1]
        assert f is not None
        return out.size * f.shape[1] * f.shape[2], "MAC"
    if op.kind == "FULLY_CONNECTED":
        f = ins[1]
        assert f is not None
        return f.shape[0] * f.shape[1], "MAC"
    x = ins[0]
    assert x is not None
    return x.size, "elem"


def _c_ints(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


def _c_filter(filt: Tensor | None) -> str:
    """CMSIS-NN's copy of the weights in the model's layout (tinykit's generated array
    may be in its channel-pair layout, tinykit.ops.conv.pack_pairs)."""
    assert filt is not None
    return (f"static const int8_t cm_filter[{filt.size}] __attribute__((aligned(4))) = "
            f"{{{_c_ints(filt.array().reshape(-1))}}};\n")


def cmsis_call(graph: Graph) -> tuple[str, str] | None:
    """(declarations, C statements) running CMSIS-NN on ``in1`` (and ``in2``) into
    ``out_cm``; None when CMSIS-NN has no int8 kernel for the op."""
    op = graph.ops[0]
    ins = graph.op_inputs(op)
    P = "tk_l0_params"
    dims = "cmsis_nn_dims id, fd, bd, od; cmsis_nn_context ctx;"
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        dw = op.kind == "DEPTHWISE_CONV_2D"
        prm = ("cmsis_nn_dw_conv_params cp = {" + f"{P}.input_offset, {P}.output_offset, "
               f"{P}.depth_multiplier, " if dw else
               "cmsis_nn_conv_params cp = {" + f"{P}.input_offset, {P}.output_offset, ")
        prm += (f"{{{P}.stride_w, {P}.stride_h}}, {{{P}.pad_w, {P}.pad_h}}, "
                f"{{{P}.dil_w, {P}.dil_h}}, {{{P}.act_min, {P}.act_max}}}};")
        fn = "arm_depthwise_conv_wrapper_s8" if dw else "arm_convolve_wrapper_s8"
        filt = f"{P}.filter" if dw else "cm_filter"  # tinykit's may be in the channel-pair layout
        body = f"""
  {prm}
  cmsis_nn_per_channel_quant_params qp = {{(int32_t *){P}.mult, (int32_t *){P}.shift}};
  {dims}
  id.n = {P}.batches; id.h = {P}.in_h; id.w = {P}.in_w; id.c = {P}.in_c;
  fd.n = {'1' if dw else f'{P}.out_c'}; fd.h = {P}.k_h; fd.w = {P}.k_w; fd.c = {f'{P}.out_c' if dw else f'{P}.in_c'};
  bd.n = 1; bd.h = 1; bd.w = 1; bd.c = {P}.out_c;
  od.n = {P}.batches; od.h = {P}.out_h; od.w = {P}.out_w; od.c = {P}.out_c;
  ctx.buf = cm_scratch; ctx.size = {fn}_get_buffer_size(&cp, &id, &fd, &od);
  if (ctx.size > (int32_t)sizeof cm_scratch) {{ put("error scratch\\n"); tk_semihost_exit(); }}
  T0();
  st = {fn}(&ctx, &cp, &qp, &id, in1, &fd, {filt}, &bd, {P}.bias, &od, out_cm);
  T1();"""
        return ("" if dw else _c_filter(ins[1])), body
    if op.kind == "FULLY_CONNECTED":
        x, f, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
        assert x is not None and f is not None and x.quant is not None and f.quant is not None
        n_out, n_in = f.shape[0], f.shape[1]
        raw = (np.frombuffer(bias.data, np.int32) if bias is not None and bias.data
               else np.zeros(n_out, np.int32))
        decl = f"static const int32_t cm_bias[{n_out}] = {{{_c_ints(raw)}}};\n" + _c_filter(f)
        per_channel = int(f.quant.per_channel)
        batches = x.size // n_in
        body = f"""
  cmsis_nn_fc_params fp = {{{-x.quant.zero_point[0]}, 0, {P}.output_offset, {{{P}.act_min, {P}.act_max}}}};
  cmsis_nn_quant_params qp = {{(int32_t *){P}.mult, (int32_t *){P}.shift, {per_channel}}};
  {dims}
  id.n = {batches}; id.h = 1; id.w = 1; id.c = {n_in};
  fd.n = {n_in}; fd.h = 1; fd.w = 1; fd.c = {n_out};
  bd.n = 1; bd.h = 1; bd.w = 1; bd.c = {n_out};
  od.n = {batches}; od.h = 1; od.w = 1; od.c = {n_out};
  ctx.buf = cm_scratch; ctx.size = arm_fully_connected_s8_get_buffer_size(&fd);
  if (ctx.size > 0) arm_vector_sum_s8((int32_t *)cm_scratch, {n_in}, {n_out}, cm_filter, fp.input_offset, 0, cm_bias);
  T0();
  st = arm_fully_connected_wrapper_s8(&ctx, &fp, &qp, &id, in1, &fd, cm_filter, &bd, cm_bias, &od, out_cm);
  T1();"""
        return decl, body
    if op.kind == "ADD":
        n = graph.op_outputs(op)[0].size
        body = f"""
  (void)cm_scratch;
  T0();
  st = arm_elementwise_add_s8(in1, in2, {P}.input1_offset, {P}.input1_mult, {P}.input1_shift,
                              {P}.input2_offset, {P}.input2_mult, {P}.input2_shift, {P}.left_shift,
                              out_cm, {P}.output_offset, {P}.output_mult, {P}.output_shift,
                              {P}.act_min, {P}.act_max, {n});
  T1();"""
        return "", body
    if op.kind == "AVERAGE_POOL_2D":
        body = f"""
  cmsis_nn_pool_params pp = {{{{{P}.stride_w, {P}.stride_h}}, {{{P}.pad_w, {P}.pad_h}}, {{{P}.act_min, {P}.act_max}}}};
  {dims}
  id.n = {P}.batches; id.h = {P}.in_h; id.w = {P}.in_w; id.c = {P}.channels;
  fd.n = 1; fd.h = {P}.k_h; fd.w = {P}.k_w; fd.c = 1;
  od.n = {P}.batches; od.h = {P}.out_h; od.w = {P}.out_w; od.c = {P}.channels;
  (void)bd;
  ctx.buf = cm_scratch; ctx.size = arm_avgpool_s8_get_buffer_size({P}.out_w, {P}.channels);
  T0();
  st = arm_avgpool_s8(&ctx, &pp, &id, in1, &fd, &od, out_cm);
  T1();"""
        return "", body
    return None


MAIN_HEAD = SEMIHOST_EXIT_C + r"""
#include "model.c"
#define TK_SYST_CSR_B (*(volatile uint32_t *)0xE000E010u)
#define TK_SYST_RVR_B (*(volatile uint32_t *)0xE000E014u)
#define TK_SYST_CVR_B (*(volatile uint32_t *)0xE000E018u)
static uint32_t t_start, t_ticks;
#define T0() do { TK_SYST_CVR_B = 0u; t_start = TK_SYST_CVR_B; } while (0)
#define T1() do { t_ticks = (t_start - TK_SYST_CVR_B) & 0xFFFFFFu; } while (0)
static int8_t in1[TK_MODEL_INPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_tk[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
"""


def main_c(graph: Graph, with_cmsis: bool) -> str:
    op = graph.ops[0]
    call = cmsis_call(graph) if with_cmsis else None
    parts = []
    if call is not None:
        parts.append('#include "arm_nnfunctions.h"\n')
        parts.append(f"static int8_t out_cm[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));\n"
                     f"static int8_t cm_scratch[{1 << 16}] __attribute__((aligned(4)));\n")
        if op.kind == "ADD":
            b = graph.op_inputs(op)[1]
            assert b is not None and b.data is not None
            vals = np.frombuffer(b.data, np.int8)
            parts.append(f"static const int8_t in2[{vals.size}] = {{{_c_ints(vals)}}};\n")
        parts.append(call[0])
    body = r"""
int main(void) {
  uint32_t i, seed = 12345u, overhead;
  tk_hal_init();
  TK_SYST_CSR_B = 0u;
  TK_SYST_RVR_B = 0xFFFFFFu;
  TK_SYST_CSR_B = 0x5u; /* enabled, core clock, no interrupt */
  if (tk_model_init() != TK_OK) put("error init\n");
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in1[i] = (int8_t)(seed >> 16);
  }
  T0();
  T1();
  overhead = t_ticks;
  put("overhead "); put_u32(overhead); put("\n");
  memcpy(tk_model_input(), in1, TK_MODEL_INPUT_BYTES);
  T0();
  if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
  T1();
  put("tk "); put_u32(t_ticks - overhead); put("\n");
  memcpy(out_tk, tk_model_output(), TK_MODEL_OUTPUT_BYTES);
"""
    if call is not None:
        body += r"""  {
  arm_cmsis_nn_status st;
""" + call[1] + r"""
  if (st != ARM_CMSIS_NN_SUCCESS) put("error cmsis\n");
  put("cm "); put_u32(t_ticks - overhead); put("\n");
  }
  for (i = 0; i < TK_MODEL_OUTPUT_BYTES && out_cm[i] == out_tk[i]; ++i) {
  }
  put("same "); put_u32(i == TK_MODEL_OUTPUT_BYTES); put(" "); put_u32(i); put("\n");
"""
    body += "  tk_semihost_exit();\n  return 0;\n}\n"
    return MAIN_HEAD + "".join(parts) + body


def whole_model_main() -> str:
    return SEMIHOST_EXIT_C + r"""
#include "model.h"
#define TK_SYST_CSR_B (*(volatile uint32_t *)0xE000E010u)
#define TK_SYST_RVR_B (*(volatile uint32_t *)0xE000E014u)
#define TK_SYST_CVR_B (*(volatile uint32_t *)0xE000E018u)
int main(void) {
  uint32_t i, seed = 12345u, t0, t1;
  int8_t *in;
  tk_hal_init();
  TK_SYST_CSR_B = 0u;
  TK_SYST_RVR_B = 0xFFFFFFu;
  TK_SYST_CSR_B = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  in = (int8_t *)tk_model_input();
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (int8_t)(seed >> 16);
  }
  TK_SYST_CVR_B = 0u;
  t0 = TK_SYST_CVR_B;
  if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
  t1 = TK_SYST_CVR_B;
  put("tk "); put_u32((t0 - t1) & 0xFFFFFFu); put("\n");
  tk_semihost_exit();
  return 0;
}
"""


# --- compiling ----------------------------------------------------------------------------


def _flags(cpu: str, opt: str) -> list[str]:
    return [f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=hard", f"-mfpu={CORES[cpu][1]}", opt,
            "-ffunction-sections", "-fdata-sections"]


def _archive(out: Path, sources: Sequence[Path], flags: Sequence[str], jobs: int,
             tolerate: bool = False) -> tuple[Path, list[str]]:
    """Compile sources into out (a static library) unless it is there; returns the
    library and the sources that did not compile (only with ``tolerate``)."""
    stamp = out.with_suffix(".skipped")
    if out.is_file() and stamp.is_file():
        return out, [s for s in stamp.read_text().split("\n") if s]
    objdir = out.parent / (out.stem + "-obj")
    objdir.mkdir(parents=True, exist_ok=True)

    def one(src: Path) -> str | None:
        obj = objdir / (src.stem + ".o")
        done = subprocess.run(["arm-none-eabi-gcc", *flags, "-c", str(src), "-o", str(obj)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            if not tolerate:
                raise RuntimeError(f"arm-none-eabi-gcc failed on {src}:\n{done.stderr}")
            return src.name
        return None

    with ThreadPoolExecutor(jobs) as pool:
        skipped = [s for s in pool.map(one, sources) if s]
    objs = sorted(str(p) for p in objdir.glob("*.o"))
    out.unlink(missing_ok=True)
    subprocess.run(["arm-none-eabi-ar", "rcs", str(out), *objs], check=True)
    stamp.write_text("\n".join(skipped))
    return out, skipped


def include_dirs(fw: Path) -> list[Path]:
    """The runtime's include folders in the firmware tree ``fw`` (as tinykit.toolchain)."""
    return [fw / "include", fw / "src" / "kernels", fw / "src" / "link"]


@dataclass
class Toolchain:
    cpu: str
    opt: str
    work: Path
    fw: Path  # the firmware tree: kernels, headers, QEMU HAL, linker scripts
    tinykit_lib: Path
    cmsis_lib: Path | None
    cmsis_includes: list[Path]


def toolchain(cpu: str, opt: str, work: Path, nn: Path | None, jobs: int,
              fw: Path | None = None) -> Toolchain:
    tag = f"{cpu}{opt}"
    fw = fw or firmware_dir()
    inc = [f"-I{d}" for d in include_dirs(fw)]
    # kernels + QEMU HAL/startup: rebuilt every run (they are what is being measured)
    tk_lib = work / tag / "libtinykit.a"
    for p in (tk_lib, tk_lib.with_suffix(".skipped")):
        p.unlink(missing_ok=True)
    srcs = [*sorted((fw / "src" / "kernels").glob("*.c")), fw / "hal" / "qemu" / "tk_hal_qemu.c",
            fw / "hal" / "qemu" / "tk_startup_qemu.c"]
    _archive(tk_lib, srcs, [*_flags(cpu, opt), "-std=c99", "-Wall", "-Wextra", "-Werror", *inc],
             jobs)
    if nn is None:
        return Toolchain(cpu, opt, work, fw, tk_lib, None, [])
    includes = [nn / "Include", nn.parent / "CMSIS_6" / "CMSIS" / "Core" / "Include"]
    srcs = sorted(p for d in CMSIS_SUBDIRS for p in (nn / "Source" / d).glob("*.c")
                  if not p.stem.endswith(("_f16", "_f32")))  # int8 only
    lib, _skipped = _archive(work / tag / "libcmsisnn.a", srcs,
                             [*_flags(cpu, opt), *(f"-I{d}" for d in includes)], jobs,
                             tolerate=True)
    return Toolchain(cpu, opt, work, fw, tk_lib, lib, includes)


def compile_run(tc: Toolchain, name: str, main: str, model_c: str, model_h: str,
                with_cmsis: bool) -> dict[str, int]:
    """Build one program (main.c includes or links model.c) and run it; returns the
    ``key value`` lines it printed as ints (``same`` -> 1/0, ``first_diff``)."""
    d = tc.work / f"{tc.cpu}{tc.opt}" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.c").write_text(model_c)
    (d / "model.h").write_text(model_h)
    (d / "main.c").write_text(main)
    srcs = [d / "main.c"] if "#include \"model.c\"" in main else [d / "main.c", d / "model.c"]
    fw = tc.fw
    cmd = ["arm-none-eabi-gcc", *_flags(tc.cpu, tc.opt), "-std=c99", "-Wall", "-Wextra", "-Werror",
           f"-I{d}", *(f"-I{p}" for p in include_dirs(fw)),
           *(f for p in (tc.cmsis_includes if with_cmsis else []) for f in ("-isystem", str(p))),
           *map(str, srcs), str(tc.tinykit_lib),
           *([str(tc.cmsis_lib)] if with_cmsis and tc.cmsis_lib else []),
           "-T", str(fw / "platform" / "ldscripts" / CORES[tc.cpu][2]), "-nostartfiles",
           "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-o",
           str(d / "bench.elf")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: arm-none-eabi-gcc failed:\n{done.stderr[-3000:]}")
    text = run_qemu(d / "bench.elf", tc.cpu, icount=True, timeout=600)
    result: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "error":
            raise RuntimeError(f"{name}: the device said {line!r}")
        if parts[0] == "same":
            result["same"], result["first_diff"] = int(parts[1]), int(parts[2])
        elif len(parts) == 2 and parts[1].isdigit():
            result[parts[0]] = int(parts[1])
    ns = NS_PER_TICK[tc.cpu]
    for key in ("tk", "cm"):
        if key in result:
            result[key] *= ns
    return result


@dataclass(frozen=True)
class Row:
    label: str
    kind: str
    work: int
    unit: str
    tk: int
    cm: int | None  # None: no CMSIS-NN kernel (or CMSIS-NN absent)
    same: bool | None


def bench_layer(tc: Toolchain, graph: Graph, slug: str) -> Row:
    gen = generate(graph, graph.name.encode(), model_file=f"{slug}.tflite")
    with_cmsis = tc.cmsis_lib is not None and cmsis_call(graph) is not None
    r = compile_run(tc, slug, main_c(graph, with_cmsis), gen.files["model.c"], gen.files["model.h"],
                    with_cmsis)
    work, unit = work_count(graph)
    same = bool(r["same"]) if "same" in r else None
    return Row(graph.name, graph.ops[0].kind, work, unit, r["tk"], r.get("cm"), same)


def bench_model(tc: Toolchain, name: str) -> int:
    path = FIXTURES / f"{name}.tflite"
    gen = generate(load_tflite(path), path.read_bytes(), model_file=path.name)
    r = compile_run(tc, f"model-{name}", whole_model_main(), gen.files["model.c"],
                    gen.files["model.h"], False)
    return r["tk"]


# --- report ---------------------------------------------------------------------------------


def _fmt(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _per(n: int | None, work: int) -> str:
    return "-" if n is None or work == 0 else f"{n / work:.2f}"


def layer_table(rows: Sequence[Row]) -> list[str]:
    lines = ["| layer | work | tinykit instr | per MAC/elem | CMSIS-NN instr | per MAC/elem "
             "| tinykit / CMSIS-NN | byte-identical |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio = "-" if not r.cm else f"{r.tk / r.cm:.2f}"
        same = {True: "yes", False: "**NO**", None: "-"}[r.same]
        lines.append(f"| {r.label} | {r.work:,} {r.unit} | {_fmt(r.tk)} | {_per(r.tk, r.work)} | "
                     f"{_fmt(r.cm)} | {_per(r.cm, r.work)} | {ratio} | {same} |")
    return lines


def model_table(results: dict[str, tuple[int, list[Row]]]) -> list[str]:
    lines = ["| model | tinykit firmware instr/inference | sum of tinykit layers "
             "| sum of CMSIS-NN layers | tinykit / CMSIS-NN | layers byte-identical |",
             "|---|---:|---:|---:|---:|---|"]
    for name, (total, rows) in results.items():
        tk_sum = sum(r.tk for r in rows)
        cm_rows = [r for r in rows if r.cm is not None]
        cm_sum = sum(r.cm if r.cm is not None else r.tk for r in rows) if cm_rows else None
        no_cm = sorted({r.kind for r in rows if r.cm is None})
        note = f" (+ tinykit's {', '.join(no_cm)})" if cm_rows and no_cm else ""
        same = f"{sum(1 for r in cm_rows if r.same)}/{len(cm_rows)}" if cm_rows else "-"
        ratio = f"{total / cm_sum:.2f}" if cm_sum else "-"
        lines.append(f"| {name} | {total:,} | {tk_sum:,} | {_fmt(cm_sum)}{note} | {ratio} | {same} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", default="cortex-m4,cortex-m7",
                    help=f"comma-separated, of {', '.join(CORES)}")
    ap.add_argument("--opt", default="-O2", help="optimization for both libraries (default -O2)")
    ap.add_argument("--only", default="", help="only layers whose label contains this")
    ap.add_argument("--no-models", action="store_true", help="skip the whole-model rows")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "build" / "bench-arm.md")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--firmware", type=Path, default=None,
                    help="kernels, headers and QEMU HAL from this firmware tree instead of the "
                         "repository's (e.g. `git archive HEAD firmware | tar -x -C /tmp/head` "
                         "for a before/after comparison)")
    args = ap.parse_args(argv)
    cores = [c.strip() for c in args.cores.split(",") if c.strip()]
    unknown = [c for c in cores if c not in CORES]
    if unknown:
        print(f"error: unknown core {unknown[0]!r}; use {', '.join(CORES)}", file=sys.stderr)
        return 2
    nn: Path | None = cmsis_nn_dir()
    missing = cmsis_missing(nn)
    if missing:
        print(f"CMSIS-NN NOT FOUND: {missing}; printing tinykit's figures alone", file=sys.stderr)
        nn = None
    work = ROOT / "build" / ("bench-arm-other" if args.firmware else "bench-arm")
    layers = [g for g in issue_layers() if args.only.lower() in g.name.lower()]
    fixtures = {} if args.no_models else {
        name: [one_op_graph(g, op, f"{name} L{op.index} {op.kind}")
               for op in g.ops] for name in MODELS for g in [load_tflite(FIXTURES / f"{name}.tflite")]}
    out = [f"# tinykit vs CMSIS-NN, instructions on QEMU (-icount shift=0, {args.opt}, "
           f"arm-none-eabi-gcc)", ""]
    if args.firmware:
        out += [f"tinykit kernels from `{args.firmware}`", ""]
    if nn is None:
        out += [f"**CMSIS-NN is absent** ({missing}): tinykit's figures only.", ""]
    else:
        out += [f"CMSIS-NN: `{nn}`", ""]
    try:
        failed = _run(cores, args, work, nn, layers, fixtures, out)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {str(exc).strip()}", file=sys.stderr)
        return 2
    text = "\n".join(out)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    if failed:
        print("error: some outputs are NOT byte-identical (marked **NO**)", file=sys.stderr)
    return 1 if failed else 0


def _run(cores: list[str], args: argparse.Namespace, work: Path, nn: Path | None,
         layers: list[Graph], fixtures: dict[str, list[Graph]], out: list[str]) -> bool:
    started = time.monotonic()
    failed = False
    by_core: dict[str, tuple[list[Row], dict[str, tuple[int, list[Row]]]]] = {}
    for cpu in cores:
        print(f"{cpu}: compiling the libraries ...", file=sys.stderr)
        tc = toolchain(cpu, args.opt, work, nn, args.jobs, args.firmware)
        run: Callable[[tuple[Graph, str]], Row] = lambda a, tc=tc: bench_layer(tc, *a)  # noqa: E731
        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(run, [(g, f"L{i:02d}") for i, g in enumerate(layers)]))
            per_model = {}
            for name, graphs in fixtures.items():
                mrows = list(pool.map(run, [(g, f"{name}-L{i:02d}") for i, g in enumerate(graphs)]))
                per_model[name] = (bench_model(tc, name), mrows)
        by_core[cpu] = (rows, per_model)
        failed |= any(r.same is False for r in rows)
        failed |= any(r.same is False for _, mr in per_model.values() for r in mr)
        machine = CORES[cpu][0]
        out += [f"## {cpu} ({machine})", "", *layer_table(rows), ""]
        if per_model:
            out += [f"### whole models, {cpu}", "", *model_table(per_model), "",
                    "<details><summary>per layer</summary>", "",
                    *layer_table([r for _, mr in per_model.values() for r in mr]), "",
                    "</details>", ""]
        print(f"{cpu}: done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    if len(by_core) > 1:
        out[2:2] = ["## all cores side by side (instructions; ratio = tinykit / CMSIS-NN)", "",
                    *side_by_side(by_core), ""]
    return failed


def side_by_side(by_core: dict[str, tuple[list[Row], dict[str, tuple[int, list[Row]]]]]
                 ) -> list[str]:
    """One table: per layer and per whole model, tinykit, CMSIS-NN and their ratio on each core."""
    cores = list(by_core)
    short = [c.replace("cortex-", "").upper() for c in cores]
    head = "| layer | " + " | ".join(f"{s} tinykit | {s} CMSIS-NN | {s} ratio" for s in short) + " |"
    lines = [head, "|---|" + "---:|---:|---:|" * len(cores)]

    def cells(tk: int, cm: int | None) -> str:
        return f"{tk:,} | {_fmt(cm)} | {'-' if not cm else f'{tk / cm:.2f}'}"

    first = by_core[cores[0]][0]
    for i, r in enumerate(first):
        same = all(by_core[c][0][i].same is not False for c in cores)
        lines.append(f"| {r.label}{'' if same else ' **NOT IDENTICAL**'} | "
                     + " | ".join(cells(by_core[c][0][i].tk, by_core[c][0][i].cm) for c in cores)
                     + " |")
    for name in by_core[cores[0]][1]:
        row = []
        for c in cores:
            total, rows = by_core[c][1][name]
            cm = sum(r.cm if r.cm is not None else r.tk for r in rows)
            row.append(cells(total, cm if any(r.cm is not None for r in rows) else None))
        lines.append(f"| **{name}** (whole model; CMSIS-NN = sum of layers) | " + " | ".join(row) + " |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
