"""Benchmark of the issue-10 int8 kernels against TFLM's reference kernels on the
emulated Cortex-M4 (a script, not a test; ``make test`` never runs it).

Each row is one op as a one-op graph (second operand constant, random). tinykit's
generator writes its model.c; a bare-metal main runs ``tk_model_invoke`` on a
pseudo-random input, then TFLM's reference loop for the same op restated in C
(tests/c/tflm_ref_issue10.c: broadcast walks with per-element index arithmetic,
ReduceImpl's odometer) with the same Prepare numbers, checks on the device that
both outputs are byte-identical and prints both SysTick counts. QEMU runs with
``-icount shift=0`` (1 instruction = 1 ns), so the counts are instructions, exact
to one SysTick tick (40).

usage: python tests/bench_issue10_ops.py [--opt=-O2] [--only SUBSTRING] [--cpu cortex-m7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_batch_matmul  # noqa: E402 - BATCH_MATMUL rows
import bench_embedding  # noqa: E402 - int32 LESS/ADD/SELECT, GATHER by computed ids (own main)
import bench_float_island  # noqa: E402 - FLOAT_ISLAND rows (DEQUANTIZE -> NEG/SQUARE -> QUANTIZE)
import bench_resize_ops  # noqa: E402 - RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, LOG_SOFTMAX rows
import bench_split_pack  # noqa: E402 - SPLIT, SPLIT_V, UNPACK, PACK, TILE rows
import bench_transpose_conv  # noqa: E402 - TRANSPOSE_CONV rows (its own script adds CMSIS-NN)
from arm_harness import NS_PER_TICK, SEMIHOST_EXIT_C, build_elf, device_counts, run_qemu  # noqa: E402

from tinykit.codegen.api import generate, write_files  # noqa: E402
from tinykit.graph import Graph, Op, Quant, Tensor  # noqa: E402
from tinykit.ops._common import broadcast_strides, padded  # noqa: E402
from tinykit.ops.mean import mean_multiplier  # noqa: E402
from tinykit.ops.prelu import prelu_multipliers  # noqa: E402
from tinykit.ops.quant import quantize_multiplier  # noqa: E402
from tinykit.ops.sub import squared_difference_multipliers, sub_multipliers  # noqa: E402

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_issue10.c"
REF_H = REF_C.with_suffix(".h")
Q = {"x": (0.05, -3), "y": (0.08, 7), "out": (0.1, -2)}


def _t(i: int, name: str, shape: tuple[int, ...], q: tuple[float, int] | None,
       data: bytes | None = None, dtype: str = "int8") -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, name, shape, dtype, quant, data)


def binary(kind: str, a: tuple[int, ...], b: tuple[int, ...], same_quant: bool = False) -> Graph:
    out = tuple(max(x, y) for x, y in zip(padded(a), padded(b), strict=True))[-max(len(a), len(b)):]
    qy, qo = (Q["x"], Q["x"]) if same_quant else (Q["y"], Q["out"])
    rng = np.random.default_rng(1)
    ts = (_t(0, "x", a, Q["x"]), _t(1, "y", b, qy, rng.integers(-128, 128, b, dtype=np.int8).tobytes()),
          _t(2, "out", out, qo))
    return Graph(f"{kind} {a} {b}", ts, (Op(0, kind, 1, (0, 1), (2,), {}),), (0,), (2,), 0)


def unary(kind: str, shape: tuple[int, ...]) -> Graph:
    ts = (_t(0, "x", shape, Q["x"]), _t(1, "out", shape, Q["out"]))
    return Graph(f"{kind} {shape}", ts, (Op(0, kind, 1, (0,), (1,), {}),), (0,), (1,), 0)


def reduce(kind: str, shape: tuple[int, ...], axes: Sequence[int], keep: bool = True) -> Graph:
    """MEAN, SUM, REDUCE_MAX, ARG_MAX (over ``axes``), TRANSPOSE (by the permutation
    ``axes``) or GATHER (the indices ``axes`` along axis 1)."""
    out = tuple(1 if d in axes else n for d, n in enumerate(shape)) if keep else \
        tuple(n for d, n in enumerate(shape) if d not in axes)
    if kind == "TRANSPOSE":
        out = tuple(shape[p] for p in axes)
    if kind == "GATHER":  # ``axes`` are the indices, along axis 1
        out = (shape[0], len(axes), *shape[2:])
    qo = Q["x"] if kind in ("REDUCE_MAX", "TRANSPOSE", "GATHER") else Q["out"]
    ax = np.asarray(axes, np.int32)
    y = _t(2, "out", out, None, dtype="int32") if kind == "ARG_MAX" else _t(2, "out", out, qo)
    ts = (_t(0, "x", shape, Q["x"]), _t(1, "axes", (len(axes),), None, ax.tobytes(), "int32"), y)
    label = f"{kind} {shape} " + (f"{len(axes)} indices" if kind == "GATHER" else f"axes {list(axes)}")
    options = {"axis": 1} if kind == "GATHER" else {"keep_dims": keep}
    return Graph(label, ts, (Op(0, kind, 1, (0, 1), (2,), options),), (0,), (2,), 0)


CASES = [
    binary("SUB", (1, 16, 16, 32), (1, 16, 16, 32)),
    binary("SUB", (1, 16, 16, 32), (32,)),
    binary("SUB", (1, 1, 1, 32), (1, 16, 16, 32)),
    binary("SQUARED_DIFFERENCE", (1, 16, 16, 32), (1, 1, 1, 32)),
    binary("MAXIMUM", (1, 16, 16, 32), (32,), same_quant=True),
    binary("MINIMUM", (1, 16, 16, 32), (1, 16, 16, 32), same_quant=True),
    binary("PRELU", (1, 16, 16, 32), (1, 1, 32)),
    unary("ABS", (1, 16, 16, 32)),
    reduce("MEAN", (1, 16, 16, 32), (1, 2)),
    reduce("MEAN", (1, 128, 32), (1,), keep=False),
    reduce("MEAN", (1, 16, 16, 32), (3,)),
    reduce("SUM", (1, 16, 16, 32), (1,)),
    reduce("REDUCE_MAX", (1, 16, 16, 32), (1, 2)),
    reduce("ARG_MAX", (1, 256, 32), (1,), keep=False),
    reduce("ARG_MAX", (1, 32, 256), (2,), keep=False),
    reduce("TRANSPOSE", (1, 16, 16, 32), (0, 3, 1, 2)),
    reduce("TRANSPOSE", (1, 64, 128), (0, 2, 1)),
    reduce("GATHER", (1, 64, 128), (63, 0, 5, 5, 17, 32, 1, 2) * 8),
    *bench_split_pack.CASES,
    *bench_resize_ops.CASES,
    *bench_batch_matmul.CASES,
    *bench_transpose_conv.CASES,
    *bench_float_island.CASES,
    *bench_embedding.CASES,
]


def _ints(v: Sequence[int]) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


def ref_call(g: Graph) -> str:
    """C declarations + the statement running the restated TFLM kernel into out_ref."""
    op = g.ops[0]
    if op.kind in bench_split_pack.KINDS:
        return bench_split_pack.ref_call(g)
    if op.kind in bench_resize_ops.KINDS:
        return bench_resize_ops.ref_call(g)
    if op.kind in bench_batch_matmul.KINDS:
        return bench_batch_matmul.ref_call(g)
    if op.kind in bench_transpose_conv.KINDS:
        return bench_transpose_conv.ref_call(g)
    if op.kind in bench_float_island.KINDS:
        return bench_float_island.ref_call(g)
    x = g.tensor(0)
    decls = []
    if op.kind in ("SUB", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "PRELU"):
        y, out = g.tensor(1), g.tensor(2)
        assert y.data is not None
        sa, sb, so = padded(x.shape), padded(y.shape), padded(out.shape)
        decls.append(f"static const int8_t in2[{y.size}] = {_ints(np.frombuffer(y.data, np.int8))};")
        decls.append(f"static const RefBroadcast bc = {{{_ints(so)}, {_ints(broadcast_strides(sa, so))}, "
                     f"{_ints(broadcast_strides(sb, so))}, {int(sa != so or sb != so)}}};")
        (s1, z1), (s2, z2), (s_o, z_o) = (Q["x"], Q["y"], Q["out"]) if y.quant.zero_point[0] != -3 \
            else (Q["x"], Q["x"], Q["x"])  # type: ignore[union-attr]
        if op.kind in ("SUB", "SQUARED_DIFFERENCE"):
            sq = op.kind == "SQUARED_DIFFERENCE"
            (m1, h1), (m2, h2), (mo, ho) = (squared_difference_multipliers if sq else sub_multipliers)(
                s1, s2, s_o)
            decls.append(f"static const RefArith ar = {{{-z1}, {-z2}, {7 if sq else 20}, {m1}, {h1}, "
                         f"{m2}, {h2}, {mo}, {ho}, {z_o}, -128, 127}};")
            fn = "ref_squared_difference" if sq else "ref_sub"
            return "\n".join(decls), f"{fn}(&ar, &bc, in1, in2, out_ref);"
        if op.kind == "PRELU":
            (m1, h1), (m2, h2) = prelu_multipliers(s1, s2, s_o)
            decls.append(f"static const RefPrelu pr = {{{-z1}, {-z2}, {z_o}, {m1}, {h1}, {m2}, {h2}}};")
            return "\n".join(decls), "ref_prelu(&pr, &bc, in1, in2, out_ref);"
        fn = "ref_maximum" if op.kind == "MAXIMUM" else "ref_minimum"
        return "\n".join(decls), f"{fn}(&bc, in1, in2, out_ref);"
    if op.kind == "ABS":
        m, h = quantize_multiplier(Q["x"][0] / Q["out"][0])
        decls.append(f"static const RefAbs ab = {{{Q['x'][1]}, {Q['out'][1]}, 1, {m}, {h}}};")
        return "\n".join(decls), f"ref_abs(&ab, {x.size}, in1, out_ref);"
    axes = [int(a) for a in np.frombuffer(g.tensor(1).data or b"", np.int32)]
    out = g.tensor(2)
    if op.kind == "ARG_MAX":
        a = axes[0]
        outer, inner = int(np.prod(x.shape[:a])), int(np.prod(x.shape[a + 1:]))
        return "", f"ref_arg_max({outer}, {x.shape[a]}, {inner}, in1, (int32_t *)(void *)out_ref);"
    if op.kind == "GATHER":
        decls.append(f"static const int32_t idx[] = {_ints(axes)};")
        inner = int(np.prod(x.shape[2:]))
        return "\n".join(decls), (f"ref_gather({x.shape[0]}, {x.shape[1]}, {inner}, idx, {len(axes)}, "
                                   "in1, out_ref);")
    if op.kind == "TRANSPOSE":
        decls.append(f"static const int32_t in_dims[] = {_ints(x.shape)}, perm[] = {_ints(axes)};")
        return "\n".join(decls), f"ref_transpose(in_dims, perm, {len(x.shape)}, in1, out_ref);"
    count = int(np.prod([x.shape[a] for a in axes]))
    is_max = op.kind == "REDUCE_MAX"
    if op.kind == "MEAN":
        m, h = mean_multiplier(Q["x"][0], Q["out"][0], count)
    else:
        m, h = quantize_multiplier(Q["x"][0] / Q["out"][0])
    dims = list(x.shape) + [1] * (5 - len(x.shape))
    decls.append(f"static int32_t temp[{out.size}];")
    decls.append(f"static const RefReduce rd = {{{len(x.shape)}, {_ints(dims)}, {len(axes)}, "
                 f"{_ints(axes + [0] * (2 - len(axes)))}, {out.size}, {count}, {int(is_max)}, "
                 f"{Q['x'][1]}, {Q['out'][1]}, {m}, {h}}};")
    return "\n".join(decls), "ref_reduce(&rd, in1, out_ref, temp);"


SYST = r"""
#include "model.h"
#include "tflm_ref_issue10.h"
#include "tflm_ref_split_pack.h"
#include "tflm_ref_resize.h"
#include "tflm_ref_batch_matmul.h"
#include "tflm_ref_float_island.h"
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static int8_t in1[TK_MODEL_INPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_tk[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_ref[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
"""


def main_c(g: Graph) -> str:
    decls, call = ref_call(g)
    return SEMIHOST_EXIT_C + SYST + decls + r"""
int main(void) {
  uint32_t i, seed = 12345u, t0, t1, base;
  tk_hal_init();
  SYST_CSR = 0u;
  SYST_RVR = 0xFFFFFFu;
  SYST_CSR = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in1[i] = (int8_t)(seed >> 16);
  }
  SYST_CVR = 0u; t0 = SYST_CVR; t1 = SYST_CVR; base = (t0 - t1) & 0xFFFFFFu;
  memcpy(tk_model_input(), in1, TK_MODEL_INPUT_BYTES);
  SYST_CVR = 0u; t0 = SYST_CVR;
  if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
  t1 = SYST_CVR;
  put("tk "); put_u32(((t0 - t1) & 0xFFFFFFu) - base); put("\n");
  memcpy(out_tk, tk_model_output(), TK_MODEL_OUTPUT_BYTES);
  SYST_CVR = 0u; t0 = SYST_CVR;
  """ + call + r"""
  t1 = SYST_CVR;
  put("ref "); put_u32(((t0 - t1) & 0xFFFFFFu) - base); put("\n");
  for (i = 0; i < TK_MODEL_OUTPUT_BYTES && out_ref[i] == out_tk[i]; ++i) {
  }
  put("same "); put_u32(i == TK_MODEL_OUTPUT_BYTES); put("\n");
  tk_semihost_exit();
  return 0;
}
"""


def bench(g: Graph, work: Path, opt: str, cpu: str = "cortex-m4") -> dict[str, int]:
    if g in bench_embedding.CASES:  # int32 / bool inputs: its main fills them (token ids)
        return bench_embedding.bench(g, work, opt, cpu)
    gen = generate(g, g.name.encode(), model_file="bench.tflite")
    write_files(gen, work / "gen")
    extra = (bench_split_pack, bench_resize_ops, bench_batch_matmul, bench_float_island)
    for h in (REF_H, *(m.REF_H for m in extra)):  # build_elf puts work on the include path
        (work / h.name).write_text(h.read_text())
    elf = build_elf(work / "gen", work, main_c(g), cpu=cpu, opt=opt,
                    extra_sources=(REF_C, *(m.REF_C for m in extra)))
    return device_counts(run_qemu(elf, cpu, icount=True, timeout=300), g.name)


def speed_table(cases: Sequence[Graph], run: Callable[..., dict[str, int]],
                argv: Sequence[str] | None, description: str,
                elements: Callable[[Graph], int]) -> int:
    """Parse ``--opt/--only/--cpu``, run ``run(graph, work, opt, cpu)`` for each case and
    print tinykit's and TFLM's reference instructions side by side (the bench scripts'
    one table)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--only", default="")
    ap.add_argument("--cpu", default="cortex-m4", choices=sorted(NS_PER_TICK))
    args = ap.parse_args(argv)
    ns = NS_PER_TICK[args.cpu]
    print(f"| op ({args.cpu}, {args.opt}) | elements | tinykit instr | TFLM reference instr | "
          "speed-up | same bytes |")
    print("|---|---:|---:|---:|---:|---|")
    worst = float("inf")
    with tempfile.TemporaryDirectory(prefix="tk-bench10-") as tmp:
        for i, g in enumerate(cases):
            if args.only not in g.name:
                continue
            r = run(g, Path(tmp) / str(i), args.opt, args.cpu)
            tk, ref = r["tk"] * ns, r["ref"] * ns
            worst = min(worst, ref / max(tk, 1))
            print(f"| {g.name} | {elements(g)} | {tk} | {ref} | {ref / max(tk, 1):.2f}x | "
                  f"{'yes' if r.get('same') == 1 else 'NO'} |", flush=True)
    print(f"\nslowest speed-up: {worst:.2f}x")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return speed_table(CASES, bench, argv, __doc__.splitlines()[0], lambda g: g.tensor(0).size)


if __name__ == "__main__":
    raise SystemExit(main())
