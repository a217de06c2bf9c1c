"""The BATCH_MATMUL rows of tests/bench_issue10_ops.py: one-op graphs (the graph input
on one side, a random constant on the other) and the C statement running the
restated TFLM reference (tests/c/tflm_ref_batch_matmul.c) into ``out_ref``.

The rows: a constant rhs (tinykit stores it transposed: both operands along the
depth, SXTB16/SMLAD dot products; TFLM transposes a constant rhs once and caches
it, so its row gets the transposed copy for free), an activation rhs without
adj_y (the attention layout: tinykit's strided path; TFLM transposes it on every
invoke), a constant rhs broadcast over the batch, and an attention-sized one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops.batch_matmul import extended, matmul_multiplier

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_batch_matmul.c"
REF_H = REF_C.with_suffix(".h")
KINDS = ("BATCH_MATMUL",)
Q = {"lhs": (0.05, -3), "rhs": (0.04, 5), "out": (0.5, 2)}


def _t(i: int, name: str, shape: tuple[int, ...], q: tuple[float, int],
       data: np.ndarray | None = None) -> Tensor:
    return Tensor(i, name, shape, "int8", Quant((q[0],), (q[1],), 0),
                  None if data is None else data.astype(np.int8).tobytes())


def matmul(lhs: tuple[int, ...], rhs: tuple[int, ...], const: str) -> Graph:
    """lhs @ rhs (no adj), the operand named by ``const`` a random constant."""
    batch = [max(a, b) for a, b in zip(extended(lhs, 4)[:-2], extended(rhs, 4)[:-2], strict=True)]
    out = (*batch, lhs[-2], rhs[-1])
    rng = np.random.default_rng(2)
    ts = (_t(0, "lhs", lhs, Q["lhs"], rng.integers(-128, 128, lhs) if const == "lhs" else None),
          _t(1, "rhs", rhs, Q["rhs"], rng.integers(-128, 128, rhs) if const == "rhs" else None),
          _t(2, "out", out, Q["out"]))
    op = Op(0, "BATCH_MATMUL", 2, (0, 1), (2,), {"adj_x": False, "adj_y": False})
    src = 1 if const == "lhs" else 0
    return Graph(f"BATCH_MATMUL {lhs} @ {rhs} ({const} constant)", ts, (op,), (src,), (2,), 0)


CASES = [
    matmul((1, 4, 32, 64), (1, 4, 64, 32), "rhs"),
    matmul((1, 4, 32, 64), (1, 4, 64, 32), "lhs"),
    matmul((1, 4, 32, 64), (1, 1, 64, 32), "rhs"),
    matmul((1, 2, 8, 8), (1, 2, 8, 8), "lhs"),  # attention-sized: seq 8, 2 heads of 8
]


def _ints(v: list[int] | tuple[int, ...] | np.ndarray) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


def ref_call(g: Graph) -> tuple[str, str]:
    """C declarations + the statement running the restated TFLM kernel into out_ref."""
    lhs, rhs = g.tensor(0), g.tensor(1)
    const_rhs = rhs.data is not None
    depth, cols = rhs.shape[-2], rhs.shape[-1]
    rdims = extended(rhs.shape)
    a_dims = [*rdims[:3], cols, depth]  # the rhs transposed
    b_dims = extended(lhs.shape)
    b_dims = [*b_dims[:3], b_dims[4], b_dims[3]]  # the lhs shape with rows and depth swapped
    mult, shift = matmul_multiplier(Q["lhs"][0], Q["rhs"][0], Q["out"][0])
    n_rhs = int(np.prod(rhs.shape))
    decls = [f"static int8_t bmm_rhs_t[{n_rhs}];"]
    if const_rhs:  # TFLM transposes a constant rhs once and keeps it
        data = np.frombuffer(rhs.data or b"", np.int8).reshape(rhs.shape)
        decls.append(f"static const int8_t bmm_rhs[] = "
                     f"{_ints(np.swapaxes(data, -1, -2).reshape(-1))};")
        lhs_ptr, rhs_ptr = "in1", "bmm_rhs"
    else:
        data = np.frombuffer(lhs.data or b"", np.int8)
        decls.append(f"static const int8_t bmm_lhs[] = {_ints(data)};")
        lhs_ptr, rhs_ptr = "bmm_lhs", "in1"
    rhs_batches = n_rhs // (depth * cols)
    decls.append(f"static const RefBatchMatMul bmm = {{{_ints(a_dims)}, {_ints(b_dims)}, "
                 f"{-Q['rhs'][1]}, {-Q['lhs'][1]}, {Q['out'][1]}, {mult}, {shift}, "
                 f"{int(not const_rhs)}, {rhs_batches}, {depth}, {cols}}};")
    return "\n".join(decls), f"ref_batch_matmul(&bmm, {lhs_ptr}, {rhs_ptr}, bmm_rhs_t, out_ref);"
