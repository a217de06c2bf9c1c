"""Benchmark of the Embedding kernels (int32 LESS, ADD, SELECT / SELECT_V2, GATHER by
computed indices) against TFLM's reference kernels on the emulated Cortex-M4 (a
script, not a test; ``make test`` never runs it), as tests/bench_issue10_ops.py.

Each row is one op as a one-op graph (other operands constant). tinykit's generator
writes its model.c; a bare-metal main fills the input (int32 values, 0/1 conditions,
token ids inside the vocabulary), runs ``tk_model_invoke``, then TFLM's reference loop
restated in C (tests/c/tflm_ref_embedding.c: Broadcast4DSlowLess, the int32
broadcast add, BroadcastSelect5DSlow, Gather's checked loop), checks on the device
that both outputs are byte-identical and prints both SysTick counts. QEMU runs with
``-icount shift=0``: the counts are instructions, exact to one SysTick tick.

TFLM takes its broadcast paths whenever the shapes differ (a scalar operand, as an
Embedding's ``idx < 0`` and ``idx + n``), its flat loops otherwise; the rows cover both.

usage: python tests/bench_embedding.py [--opt=-O2] [--only SUBSTRING] [--cpu cortex-m7]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_harness import SEMIHOST_EXIT_C, build_elf, device_counts, run_qemu  # noqa: E402

from tinykit.codegen.api import generate, write_files  # noqa: E402
from tinykit.graph import Graph, Op, Quant, Tensor  # noqa: E402
from tinykit.ops._common import broadcast_strides, padded  # noqa: E402

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_embedding.c"
REF_H = REF_C.with_suffix(".h")
KINDS = ("LESS", "ADD", "SELECT", "SELECT_V2", "GATHER")
_Q = Quant((0.05,), (-3,), 0)


def _t(i: int, shape: tuple[int, ...], dtype: str = "int32", data: np.ndarray | None = None,
       quant: Quant | None = None) -> Tensor:
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def binary(kind: str, shape: tuple[int, ...], other: tuple[int, ...]) -> Graph:
    """LESS or ADD of the int32 input and a constant of shape ``other``."""
    c = np.random.default_rng(2).integers(-1000, 1000, other).astype(np.int32)
    ts = (_t(0, shape), _t(1, other, data=c), _t(2, shape, "bool" if kind == "LESS" else "int32"))
    op = Op(0, kind, 1, (0, 1), (2,), {"fused_activation_function": "NONE"})
    return Graph(f"{kind} int32 {shape} {other}", ts, (op,), (0,), (2,), 0)


def select(kind: str, cond: tuple[int, ...], x: tuple[int, ...], out: tuple[int, ...]) -> Graph:
    rng = np.random.default_rng(3)
    ts = (_t(0, cond, "bool"), _t(1, x, data=rng.integers(-99, 99, x).astype(np.int32)),
          _t(2, out, data=rng.integers(-99, 99, out).astype(np.int32)), _t(3, out))
    return Graph(f"{kind} cond {cond} x {x} y {out}", ts, (Op(0, kind, 1, (0, 1, 2), (3,)),),
                 (0,), (3,), 0)


def gather(vocab: int, dim: int, seq: int) -> Graph:
    table = np.random.default_rng(4).integers(-128, 128, (vocab, dim), dtype=np.int8)
    ts = (_t(0, (vocab, dim), "int8", table, _Q), _t(1, (1, seq)), _t(2, (1, seq, dim), "int8",
                                                                       quant=_Q))
    op = Op(0, "GATHER", 2, (0, 1), (2,), {"axis": 0, "batch_dims": 0})
    return Graph(f"GATHER table ({vocab}, {dim}) by {seq} computed ids", ts, (op,), (1,), (2,), 0)


CASES = [
    binary("LESS", (1, 64), ()),  # an Embedding's idx < 0 (a scalar: TFLM's broadcast path)
    binary("ADD", (1, 64), ()),  # idx + n
    binary("LESS", (1, 256), (1, 256)),  # same shapes: TFLM's flat loop
    binary("ADD", (1, 256), (1, 256)),
    binary("ADD", (1, 16, 32), (32,)),
    select("SELECT", (1, 64), (1, 64), (1, 64)),
    select("SELECT_V2", (16, 1), (1, 32), (16, 32)),
    gather(50, 8, 8),
    gather(1000, 16, 64),
    gather(256, 64, 32),
]


def _ints(v: Sequence[int]) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


def _desc(name: str, shape: tuple[int, ...], out: tuple[int, ...]) -> str:
    s, so = padded(shape), padded(out)
    return f"static const RefDesc5 {name} = {{{_ints(s)}, {_ints(broadcast_strides(s, so))}}};"


def _const(name: str, t: Tensor) -> str:
    return f"static const int32_t {name}[{max(t.size, 1)}] = {_ints(t.array().reshape(-1))};"


def case_c(g: Graph) -> tuple[str, str, str]:
    """(declarations, the statement filling the input bytes ``in1``, the statement running
    the restated TFLM kernel into ``out_ref``)."""
    op = g.ops[0]
    out = g.tensor(op.outputs[0])
    so = padded(out.shape)
    int32_fill = "((int32_t *)(void *)in1)[i / 4u] = (int32_t)(seed >> 4) - (1 << 26);"
    if op.kind in ("LESS", "ADD"):
        x, y = g.tensor(0), g.tensor(1)
        decls = [_desc("d1", x.shape, out.shape), _desc("d2", y.shape, out.shape),
                 _const("in2", y), f"static const int32_t out_dims[5] = {_ints(so)};"]
        if x.shape == y.shape:  # TFLM's flat loops
            fn = "ref_less_flat" if op.kind == "LESS" else "ref_add_s32_flat"
            cast = "(uint8_t *)" if op.kind == "LESS" else "(int32_t *)(void *)"
            return _const("in2", y), int32_fill, (f"{fn}({out.size}, (const int32_t *)(void *)in1, "
                                                  f"in2, {cast}out_ref);")
        if op.kind == "LESS":
            call = "ref_less_4d(out_dims, &d1, &d2, (const int32_t *)(void *)in1, in2, " \
                   "(uint8_t *)out_ref);"
        else:
            call = "ref_add_s32_4d(out_dims, &d1, &d2, (const int32_t *)(void *)in1, in2, " \
                   "(int32_t *)(void *)out_ref);"
        return "\n".join(decls), int32_fill, call
    if op.kind in ("SELECT", "SELECT_V2"):
        c, x, y = (g.tensor(i) for i in op.inputs)
        decls = [_desc("dc", c.shape, out.shape), _desc("dx", x.shape, out.shape),
                 _desc("dy", y.shape, out.shape), _const("vx", x), _const("vy", y),
                 f"static const int32_t out_dims[5] = {_ints(so)};"]
        if c.shape == x.shape == y.shape:  # TFLM's flat Select
            return (_const("vx", x) + "\n" + _const("vy", y), "in1[i] = (int8_t)((seed >> 16) & 1u);",
                    f"ref_select_flat({out.size}, (const uint8_t *)in1, vx, vy, "
                    "(int32_t *)(void *)out_ref);")
        return ("\n".join(decls), "in1[i] = (int8_t)((seed >> 16) & 1u);",
                "ref_select_5d(out_dims, &dc, &dx, &dy, (const uint8_t *)in1, vx, vy, "
                "(int32_t *)(void *)out_ref);")
    table, idx = g.tensor(0), g.tensor(1)
    vocab, dim = table.shape
    decls = [f"static const int8_t table[{table.size}] = "
             f"{_ints(table.array().reshape(-1))};"]
    fill = f"((int32_t *)(void *)in1)[i / 4u] = (int32_t)((seed >> 8) % {vocab}u);"
    call = (f"if (ref_gather_checked(1, {vocab}, {dim}, (const int32_t *)(void *)in1, {idx.size}, "
            "table, out_ref) != 0) put(\"error ref\\n\");")
    return "\n".join(decls), fill, call


SYST = r"""
#include "model.h"
#include "tflm_ref_embedding.h"
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static int8_t in1[TK_MODEL_INPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_tk[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_ref[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
"""


def main_c(g: Graph) -> str:
    decls, fill, call = case_c(g)
    step = 4 if g.tensor(g.inputs[0]).dtype == "int32" else 1
    return SEMIHOST_EXIT_C + SYST + decls + r"""
int main(void) {
  uint32_t i, seed = 12345u, t0, t1, base;
  tk_hal_init();
  SYST_CSR = 0u;
  SYST_RVR = 0xFFFFFFu;
  SYST_CSR = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  for (i = 0; i < TK_MODEL_INPUT_BYTES; i += """ + str(step) + r"""u) {
    seed = seed * 1103515245u + 12345u;
    """ + fill + r"""
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
    write_files(generate(g, g.name.encode(), model_file="bench.tflite"), work / "gen")
    (work / REF_H.name).write_text(REF_H.read_text())  # build_elf puts work on the include path
    elf = build_elf(work / "gen", work, main_c(g), cpu=cpu, opt=opt, extra_sources=(REF_C,))
    return device_counts(run_qemu(elf, cpu, icount=True, timeout=300), g.name)


def main(argv: Sequence[str] | None = None) -> int:
    from bench_issue10_ops import speed_table  # it imports this module for its rows

    return speed_table(CASES, bench, argv, __doc__.splitlines()[0],
                       lambda g: g.tensor(g.ops[0].outputs[0]).size)


if __name__ == "__main__":
    raise SystemExit(main())
