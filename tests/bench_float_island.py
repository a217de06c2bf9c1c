"""The FLOAT_ISLAND rows of tests/bench_issue10_ops.py: a DEQUANTIZE -> float NEG or
SQUARE -> QUANTIZE chain, folded by tinykit into one int8 table (tk_lut_s8), against
the three loops TFLM runs for it (tests/c/tflm_ref_float_island.c: double-precision
Dequantize, the float op, AffineQuantize)."""

from __future__ import annotations

from pathlib import Path

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.graph.islands import ISLAND

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_float_island.c"
REF_H = REF_C.with_suffix(".h")
KINDS = (ISLAND,)
_IN, _OUT = (0.05, -3), (0.1, -2)


def island(kind: str, shape: tuple[int, ...]) -> Graph:
    out_q = (0.2, -128) if kind == "SQUARE" else _OUT
    ts = (Tensor(0, "x", shape, "int8", Quant((_IN[0],), (_IN[1],), 0)),
          Tensor(1, "out", shape, "int8", Quant((out_q[0],), (out_q[1],), 0)))
    op = Op(0, ISLAND, 1, (0,), (1,), {"chain": ("DEQUANTIZE", kind, "QUANTIZE")})
    return Graph(f"{ISLAND} DEQUANTIZE-{kind}-QUANTIZE {shape}", ts, (op,), (0,), (1,), 0)


CASES = [island("NEG", (1, 16, 16, 32)), island("SQUARE", (1, 16, 16, 32))]


def ref_call(g: Graph) -> tuple[str, str]:
    """C declarations + the statement running the restated TFLM kernels into out_ref."""
    x, y = g.tensor(0), g.tensor(1)
    assert x.quant is not None and y.quant is not None
    square = int(g.ops[0].options["chain"][1] == "SQUARE")
    decls = (f"static float deq[{x.size}], mid[{x.size}];\n"
             f"static const RefIsland isl = {{(double){x.quant.scale[0]!r}f, {x.quant.zero_point[0]}, "
             f"{y.quant.scale[0]!r}f, {y.quant.zero_point[0]}, {square}}};")
    return decls, f"ref_float_island(&isl, {x.size}, in1, deq, mid, out_ref);"
