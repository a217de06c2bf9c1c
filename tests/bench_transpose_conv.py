"""Benchmark of tinykit's TRANSPOSE_CONV kernel (gather form) against TFLM's reference
kernel and CMSIS-NN's on the emulated Cortex-M4 (a script, not a test; ``make test``
never runs it).

Each row is one TRANSPOSE_CONV layer as a one-op graph (seeded random per-channel
weights and bias, TFLite-style quantization). tinykit's generator writes its
model.c; a bare-metal main runs ``tk_model_invoke`` on a pseudo-random input, then
TFLM's reference_integer_ops::TransposeConv restated in C (the scatter into an
int32 buffer of the output's size with an Offset() per element and the bounds
test in the innermost loop, then the requantization pass: a lower bound of TFLM's
own count), then CMSIS-NN's ``arm_transpose_conv_wrapper_s8`` (what TFLM's CMSIS-NN
kernel calls: a reverse conv for strides <= 2 and more than 16 input channels, else
the row-scatter ``arm_transpose_conv_s8``) on the same input with the same numbers;
the device checks that the outputs are byte-identical and prints the SysTick
counts. QEMU runs with ``-icount shift=0`` (1 instruction = 1 ns), so the counts are
instructions, exact to one SysTick tick (40). The RAM columns: the int32 scratch
each needs beside the input and output (tinykit: none; its window lives on the stack).

CMSIS-NN is found as in tests/bench_arm.py (``CMSIS_NN_DIR``); without it the CMSIS-NN
columns are empty. Libraries are compiled into ``build/bench-tconv/``.

usage: python tests/bench_transpose_conv.py [--opt=-O2] [--only SUBSTRING] [-j 2]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_harness import NS_PER_TICK  # noqa: E402
from bench_arm import MAIN_HEAD, cmsis_missing, cmsis_nn_dir, compile_run, toolchain  # noqa: E402

from tinykit.codegen.api import generate  # noqa: E402
from tinykit.graph import Graph, Op, Quant, Tensor  # noqa: E402
from tinykit.ops.conv import channel_multipliers  # noqa: E402
from tinykit.ops.transpose_conv import geometry  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CPU = "cortex-m4"


def tconv_graph(name: str, hw: tuple[int, int], cin: int, cout: int, k: tuple[int, int],
                stride: tuple[int, int], padding: str = "SAME", act: str = "NONE",
                seed: int = 0) -> Graph:
    """A TRANSPOSE_CONV from 1xHxWxCin, per-channel weights, an int32 bias."""
    rng = np.random.default_rng(seed)
    (h, w), (sh, sw) = hw, stride
    if padding == "SAME":
        oh, ow = h * sh, w * sw
    else:
        oh, ow = (h - 1) * sh + max(k[0], sh), (w - 1) * sw + max(k[1], sw)
    s_in, z_in = 0.02, -3
    s_w = rng.uniform(0.004, 0.012, cout)
    taps = max(1.0, k[0] * k[1] / (sh * sw)) * cin
    std = float(np.sqrt(taps)) * 74.0 * 73.0 * s_in * float(s_w.mean())
    s_out, z_out = (3 * std / 255, -128) if act == "RELU" else (6 * std / 255, 5)
    bias = rng.integers(-2000, 2000, cout).astype(np.int32)
    ts = (Tensor(0, "input", (1, h, w, cin), "int8", Quant((s_in,), (z_in,))),
          Tensor(1, "filter", (cout, *k, cin), "int8", Quant(tuple(s_w), (0,) * cout, 0),
                 rng.integers(-127, 128, (cout, *k, cin), dtype=np.int8).tobytes()),
          Tensor(2, "shape", (4,), "int32", None,
                 np.asarray([1, oh, ow, cout], np.int32).tobytes()),
          Tensor(3, "bias", (cout,), "int32", Quant(tuple(s_in * s_w), (0,) * cout),
                 bias.tobytes()),
          Tensor(4, "output", (1, oh, ow, cout), "int8", Quant((s_out,), (z_out,))))
    # TFLite's input order: output shape, filter, input, bias
    op = Op(0, "TRANSPOSE_CONV", 4, (2, 1, 0, 3), (4,),
            {"padding": padding, "stride_h": sh, "stride_w": sw, "fused_activation_function": act})
    return Graph(name, ts, (op,), (0,), (4,), 0)


CASES = [
    tconv_graph("3x3/2 SAME 8x8x16 -> 16x16x8", (8, 8), 16, 8, (3, 3), (2, 2)),
    tconv_graph("3x3/2 SAME 4x4x32 -> 8x8x16, ReLU", (4, 4), 32, 16, (3, 3), (2, 2), act="RELU"),
    tconv_graph("2x2/2 VALID 8x8x16 -> 16x16x16", (8, 8), 16, 16, (2, 2), (2, 2), "VALID"),
    tconv_graph("4x4/2 SAME 8x8x8 -> 16x16x8", (8, 8), 8, 8, (4, 4), (2, 2)),
    tconv_graph("3x3/1 SAME 8x8x16 -> 8x8x16", (8, 8), 16, 16, (3, 3), (1, 1)),
    tconv_graph("3x3/3 VALID 5x5x8 -> 15x15x4", (5, 5), 8, 4, (3, 3), (3, 3), "VALID"),
    tconv_graph("3x2/2 SAME 6x6x12 -> 12x12x6", (6, 6), 12, 6, (3, 2), (2, 2)),
    tconv_graph("3x3/2 SAME 8x8x64 -> 16x16x32", (8, 8), 64, 32, (3, 3), (2, 2)),
]


def _ints(values: Sequence[int] | np.ndarray) -> str:
    return ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1))


REF_C = r"""
/* TFLM reference_integer_ops::TransposeConv (int8, per channel), restated. */
static inline int32_t ref_offset(const int32_t *d, int32_t i0, int32_t i1, int32_t i2, int32_t i3) {
  return ((i0 * d[1] + i1) * d[2] + i2) * d[3] + i3;
}
static void ref_transpose_conv(const int8_t *input, int8_t *output, int32_t *scratch) {
  int32_t batch, in_y, in_x, ic, fy, fx, oc, oy, ox, i;
  for (i = 0; i < REF_OUT_ELEMS; ++i) scratch[i] = 0;
  for (batch = 0; batch < ref_in_shape[0]; ++batch) {
    for (in_y = 0; in_y < ref_in_shape[1]; ++in_y) {
      for (in_x = 0; in_x < ref_in_shape[2]; ++in_x) {
        for (ic = 0; ic < ref_in_shape[3]; ++ic) {
          const int32_t out_x_origin = in_x * REF_STRIDE_W - REF_PAD_W;
          const int32_t out_y_origin = in_y * REF_STRIDE_H - REF_PAD_H;
          for (fy = 0; fy < ref_filter_shape[1]; ++fy) {
            for (fx = 0; fx < ref_filter_shape[2]; ++fx) {
              for (oc = 0; oc < ref_filter_shape[0]; ++oc) {
                const int32_t out_x = out_x_origin + fx;
                const int32_t out_y = out_y_origin + fy;
                if (out_x >= 0 && out_x < ref_out_shape[2] && out_y >= 0 && out_y < ref_out_shape[1]) {
                  const int8_t iv = input[ref_offset(ref_in_shape, batch, in_y, in_x, ic)];
                  const int8_t fv = ref_filter[ref_offset(ref_filter_shape, oc, fy, fx, ic)];
                  scratch[ref_offset(ref_out_shape, batch, out_y, out_x, oc)] +=
                      (iv + REF_INPUT_OFFSET) * fv;
                }
              }
            }
          }
        }
      }
    }
  }
  for (batch = 0; batch < ref_out_shape[0]; ++batch) {
    for (oy = 0; oy < ref_out_shape[1]; ++oy) {
      for (ox = 0; ox < ref_out_shape[2]; ++ox) {
        for (oc = 0; oc < ref_out_shape[3]; ++oc) {
          int32_t acc = scratch[ref_offset(ref_out_shape, batch, oy, ox, oc)];
          acc += ref_bias[oc];
          acc = tk_multiply_by_quantized_multiplier(acc, ref_mult[oc], (int)ref_shift[oc]);
          acc += REF_OUTPUT_OFFSET;
          acc = acc < REF_ACT_MIN ? REF_ACT_MIN : acc;
          acc = acc > REF_ACT_MAX ? REF_ACT_MAX : acc;
          output[ref_offset(ref_out_shape, batch, oy, ox, oc)] = (int8_t)acc;
        }
      }
    }
  }
}
"""


def _pad_offset(out: int, k: int, s: int) -> int:
    """TFLite's padding offset (total padding % 2) for 'SAME'."""
    conv_out = -(-out // s)
    return max(0, (conv_out - 1) * s + k - out) % 2


def _layer(g: Graph) -> tuple[Tensor, Tensor, Tensor, Tensor, tuple[int, int]]:
    """(input, filter, bias, output, activation clamp) of the graph's one op."""
    op = g.ops[0]
    _, filt, inp, bias = (g.tensor(i) for i in op.inputs)
    out = g.tensor(op.outputs[0])
    assert out.quant is not None
    act = (out.quant.zero_point[0], 127) if op.options["fused_activation_function"] == "RELU" \
        else (-128, 127)
    return inp, filt, bias, out, act


def ref_decls(g: Graph) -> str:
    """File-scope C of the restated TFLM kernel: ``ref_transpose_conv(in, out, ref_scratch)``
    with this layer's shapes, filter, bias, multipliers and shifts."""
    op = g.ops[0]
    geo = geometry(g, op)
    inp, filt, bias, out, act = _layer(g)
    assert filt.quant and inp.quant and out.quant and bias.data is not None
    mults, shifts = channel_multipliers(inp, filt, out, geo["out_c"])
    d = [f"#define REF_OUT_ELEMS {out.size}",
         f"#define REF_STRIDE_H {geo['stride_h']}", f"#define REF_STRIDE_W {geo['stride_w']}",
         f"#define REF_PAD_H {geo['pad_h']}", f"#define REF_PAD_W {geo['pad_w']}",
         f"#define REF_INPUT_OFFSET {-inp.quant.zero_point[0]}",
         f"#define REF_OUTPUT_OFFSET {out.quant.zero_point[0]}",
         f"#define REF_ACT_MIN {act[0]}", f"#define REF_ACT_MAX {act[1]}",
         '#include "tk_fixedpoint.h"',
         f"static const int32_t ref_in_shape[4] = {{{_ints(inp.shape)}}};",
         f"static const int32_t ref_filter_shape[4] = {{{_ints(filt.shape)}}};",
         f"static const int32_t ref_out_shape[4] = {{{_ints(out.shape)}}};",
         f"static const int8_t ref_filter[{filt.size}] __attribute__((aligned(4))) = "
         f"{{{_ints(filt.array())}}};",
         f"static const int32_t ref_bias[{geo['out_c']}] = {{{_ints(bias.array())}}};",
         f"static int32_t ref_mult[{geo['out_c']}] = {{{_ints(mults)}}};",
         f"static int32_t ref_shift[{geo['out_c']}] = {{{_ints(shifts)}}};",
         f"static int32_t ref_scratch[{out.size}];",
         REF_C]
    return "\n".join(d)


KINDS = frozenset({"TRANSPOSE_CONV"})  # the rows tests/bench_issue10_ops.py takes from CASES


def ref_call(g: Graph) -> tuple[str, str]:
    """For tests/bench_issue10_ops.py: (declarations, the statement running the restated
    TFLM kernel from ``in1`` into ``out_ref``)."""
    return ref_decls(g), "ref_transpose_conv(in1, out_ref, ref_scratch);"


def main_c(g: Graph, with_cmsis: bool) -> str:
    geo = geometry(g, g.ops[0])
    inp, filt, _, out, act = _layer(g)
    assert inp.quant and out.quant
    d = [ref_decls(g), "static int8_t out_ref[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));"]
    cm = ""
    if with_cmsis:
        d += ['#include "arm_nnfunctions.h"',
              "static int8_t out_cm[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));",
              "static int32_t cm_buf[16384];",
              f"static int8_t cm_rev[{filt.size}] __attribute__((aligned(4)));"]
        n, h, w, c = inp.shape
        cm = f"""
  {{
    const cmsis_nn_context ctx = {{cm_buf, (int32_t)sizeof cm_buf}};
    const cmsis_nn_context rctx = {{cm_rev, (int32_t)sizeof cm_rev}};
    const cmsis_nn_transpose_conv_params tp = {{{-inp.quant.zero_point[0]}, {out.quant.zero_point[0]},
      {{{geo['stride_w']}, {geo['stride_h']}}}, {{{geo['pad_w']}, {geo['pad_h']}}},
      {{{_pad_offset(geo['out_w'], geo['k_w'], geo['stride_w'])},
        {_pad_offset(geo['out_h'], geo['k_h'], geo['stride_h'])}}}, {{1, 1}}, {{{act[0]}, {act[1]}}}}};
    const cmsis_nn_per_channel_quant_params qp = {{ref_mult, ref_shift}};
    const cmsis_nn_dims in_d = {{{n}, {h}, {w}, {c}}};
    const cmsis_nn_dims f_d = {{{filt.shape[0]}, {filt.shape[1]}, {filt.shape[2]}, {filt.shape[3]}}};
    const cmsis_nn_dims b_d = {{1, 1, 1, {geo['out_c']}}};
    const cmsis_nn_dims o_d = {{{out.shape[0]}, {out.shape[1]}, {out.shape[2]}, {out.shape[3]}}};
    arm_cmsis_nn_status st;
    T0();
    st = arm_transpose_conv_wrapper_s8(&ctx, &rctx, &tp, &qp, &in_d, in1, &f_d, ref_filter, &b_d,
                                       ref_bias, &o_d, out_cm);
    T1();
    if (st != ARM_CMSIS_NN_SUCCESS) put("error cmsis\\n");
    put("cm "); put_u32(t_ticks - overhead); put("\\n");
    for (i = 0; i < TK_MODEL_OUTPUT_BYTES && out_cm[i] == out_tk[i]; ++i) {{
    }}
    put("samecm "); put_u32(i == TK_MODEL_OUTPUT_BYTES); put("\\n");
  }}
"""
    return MAIN_HEAD + "\n".join(d) + r"""
int main(void) {
  uint32_t i, seed = 12345u, overhead;
  tk_hal_init();
  TK_SYST_CSR_B = 0u;
  TK_SYST_RVR_B = 0xFFFFFFu;
  TK_SYST_CSR_B = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in1[i] = (int8_t)(seed >> 16);
  }
  T0();
  T1();
  overhead = t_ticks;
  memcpy(tk_model_input(), in1, TK_MODEL_INPUT_BYTES);
  T0();
  if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
  T1();
  put("tk "); put_u32(t_ticks - overhead); put("\n");
  memcpy(out_tk, tk_model_output(), TK_MODEL_OUTPUT_BYTES);
  T0();
  ref_transpose_conv(in1, out_ref, ref_scratch);
  T1();
  put("ref "); put_u32(t_ticks - overhead); put("\n");
  for (i = 0; i < TK_MODEL_OUTPUT_BYTES && out_ref[i] == out_tk[i]; ++i) {
  }
  put("sameref "); put_u32(i == TK_MODEL_OUTPUT_BYTES); put("\n");
""" + cm + r"""
  tk_semihost_exit();
  return 0;
}
"""


def cmsis_scratch_bytes(g: Graph) -> int:
    """The int32 buffer arm_transpose_conv_wrapper_s8 asks for (its get_buffer_size, DSP
    build) plus the reversed filter of the reverse-conv path."""
    geo = geometry(g, g.ops[0])
    sh, sw, kh, kw = geo["stride_h"], geo["stride_w"], geo["k_h"], geo["k_w"]
    ic, oc = geo["in_c"], geo["out_c"]
    if sh <= 2 and sw <= 2 and ic > 16:  # reverse conv: arm_convolve_s8's im2col, 2 columns
        return 2 * kh * kw * ic * 2 + kh * kw * ic * oc
    return ((geo["in_w"] - 1) * sw + max(kw, sh)) * oc * max(kh, sh) * 4


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--only", default="")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    nn: Path | None = cmsis_nn_dir()
    missing = cmsis_missing(nn)
    if missing:
        print(f"CMSIS-NN NOT FOUND: {missing}; no CMSIS-NN columns", file=sys.stderr)
        nn = None
    print(f"{CPU}: compiling the libraries ...", file=sys.stderr)
    tc = toolchain(CPU, args.opt, ROOT / "build" / "bench-tconv", nn, args.jobs)
    cases = [g for g in CASES if args.only in g.name]

    def run(item: tuple[int, Graph]) -> dict[str, int]:
        i, g = item
        gen = generate(g, g.name.encode(), model_file="bench.tflite")
        return compile_run(tc, f"T{i:02d}", main_c(g, nn is not None), gen.files["model.c"],
                           gen.files["model.h"], nn is not None)

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run, enumerate(cases)))
    ns = NS_PER_TICK[CPU]
    print(f"| TRANSPOSE_CONV (Cortex-M4, {args.opt}) | tinykit instr | TFLM reference instr | "
          "vs TFLM ref | CMSIS-NN instr | vs CMSIS-NN | scratch bytes tinykit / TFLM / CMSIS-NN "
          "| same bytes (ref, CMSIS-NN) |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    worst, failed = float("inf"), False
    for g, r in zip(cases, results, strict=True):
        tk, ref, cm = r["tk"], r["ref"] * ns, r.get("cm")
        worst = min(worst, ref / max(tk, 1))
        same = ("yes" if r["sameref"] else "NO") + ", " + (
            "-" if cm is None else "yes" if r["samecm"] else "NO")
        failed |= not r["sameref"] or (cm is not None and not r["samecm"])
        out = g.tensor(g.ops[0].outputs[0])
        print(f"| {g.name} | {tk:,} | {ref:,} | {ref / max(tk, 1):.1f}x | "
              f"{'-' if cm is None else f'{cm:,}'} | "
              f"{'-' if cm is None else f'{cm / max(tk, 1):.2f}x'} | "
              f"0 / {4 * out.size:,} / {cmsis_scratch_bytes(g):,} | {same} |", flush=True)
    print(f"\nslowest speed-up over TFLM's reference: {worst:.1f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
