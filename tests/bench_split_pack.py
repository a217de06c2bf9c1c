"""The SPLIT, SPLIT_V, UNPACK, PACK and TILE rows of tests/bench_issue10_ops.py: one-op
graphs and the C statement running the restated reference loop
(tests/c/tflm_ref_split_pack.c: TFLM's Split, Unpack, Pack; TFLite's Tile, TFLM has
none) into ``out_ref``. Every output of a multi-output op is written by both sides;
the graph output (output 0) is compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinykit.graph import Graph, Op, Quant, Tensor

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_split_pack.c"
REF_H = REF_C.with_suffix(".h")
KINDS = ("SPLIT", "SPLIT_V", "UNPACK", "PACK", "TILE")
_Q = Quant((0.05,), (-3,), 0)


def _t(i: int, shape: tuple[int, ...], data: np.ndarray | None = None) -> Tensor:
    if data is not None:
        return Tensor(i, f"c{i}", shape, "int32", None, data.astype(np.int32).tobytes())
    return Tensor(i, f"t{i}", shape, "int8", _Q)


def split(shape: tuple[int, ...], axis: int, sizes: list[int]) -> Graph:
    """SPLIT (equal sizes) or SPLIT_V of ``shape`` along ``axis``; output 0 is the graph's."""
    outs = [tuple(s if d == axis else n for d, n in enumerate(shape)) for s in sizes]
    ts = [_t(0, shape), _t(1, (), np.asarray(axis)), _t(2, (len(sizes),), np.asarray(sizes))]
    ts += [_t(3 + i, o) for i, o in enumerate(outs)]
    ids = tuple(range(3, 3 + len(sizes)))
    equal = len(set(sizes)) == 1
    op = Op(0, "SPLIT" if equal else "SPLIT_V", 1, (1, 0) if equal else (0, 2, 1), ids,
            {"num_splits": len(sizes)})
    return Graph(f"{op.kind} {shape} axis {axis} into {sizes}", tuple(ts), (op,), (0,), (3,), 0)


def unpack(shape: tuple[int, ...], axis: int) -> Graph:
    out = tuple(n for d, n in enumerate(shape) if d != axis)
    ts = [_t(0, shape)] + [_t(1 + i, out) for i in range(shape[axis])]
    op = Op(0, "UNPACK", 1, (0,), tuple(range(1, 1 + shape[axis])),
            {"axis": axis, "num": shape[axis]})
    return Graph(f"UNPACK {shape} axis {axis}", tuple(ts), (op,), (0,), (1,), 0)


def pack(shape: tuple[int, ...], n: int, axis: int) -> Graph:
    """PACK of n copies of the graph input (one tensor read n times)."""
    out = (*shape[:axis], n, *shape[axis:])
    ts = (_t(0, shape), _t(1, out))
    op = Op(0, "PACK", 1, (0,) * n, (1,), {"axis": axis, "values_count": n})
    return Graph(f"PACK {n} x {shape} axis {axis}", ts, (op,), (0,), (1,), 0)


def tile(shape: tuple[int, ...], mult: list[int]) -> Graph:
    out = tuple(a * b for a, b in zip(shape, mult, strict=True))
    ts = (_t(0, shape), _t(1, (len(mult),), np.asarray(mult)), _t(2, out))
    op = Op(0, "TILE", 1, (0, 1), (2,))
    return Graph(f"TILE {shape} by {mult}", ts, (op,), (0,), (2,), 0)


CASES = [
    split((1, 16, 16, 32), 3, [16, 16]),
    split((1, 16, 16, 32), 1, [4, 4, 4, 4]),
    split((1, 10, 64), 2, [16, 16, 16, 16]),  # LSTM gates
    split((1, 16, 16, 32), 3, [8, 24]),
    unpack((1, 32, 64), 1),  # an unrolled RNN's time steps
    unpack((1, 16, 16, 8), 3),
    pack((1, 64), 32, 1),
    pack((1, 16, 16), 8, 3),
    tile((1, 16, 1, 16, 32), [1, 1, 2, 1, 1]),  # UpSampling2D's two TILEs
    tile((1, 32, 16, 1, 32), [1, 1, 1, 2, 1]),
    tile((1, 8, 8, 3), [1, 2, 2, 1]),
]


def _ints(v: list[int] | tuple[int, ...]) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


def ref_call(g: Graph) -> tuple[str, str]:
    """C declarations + the statement running the restated reference into out_ref."""
    op = g.ops[0]
    x = g.tensor(0)
    if op.kind == "PACK":
        axis, n = int(op.options["axis"]), len(op.inputs)
        outer, copy = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))
        decl = f"static const int8_t *const ins[{n}] = {{{', '.join(['in1'] * n)}}};"
        return decl, f"ref_pack({outer}, {copy}, {n}, ins, out_ref);"
    if op.kind == "TILE":
        mult = [int(v) for v in g.tensor(1).array()]
        decl = f"static const int32_t dims[] = {_ints(x.shape)}, mult[] = {_ints(mult)};"
        return decl, f"ref_tile(dims, {len(x.shape)}, mult, in1, out_ref);"
    outs = [g.tensor(i) for i in op.outputs]
    decls = [f"static int8_t o{i}[{t.size}];" for i, t in enumerate(outs) if i]
    decls.append(f"static int8_t *const outs[{len(outs)}] = {{out_ref"
                 + "".join(f", o{i}" for i in range(1, len(outs))) + "};")
    if op.kind == "UNPACK":
        axis = int(op.options["axis"])
        outer, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
        return "\n".join(decls), f"ref_unpack({outer}, {inner}, {len(outs)}, in1, outs);"
    axis = int(g.tensor(1).array())  # the axis tensor of SPLIT and SPLIT_V
    outer, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
    decls.append(f"static const int32_t out_axis[] = {_ints([t.shape[axis] for t in outs])};")
    return "\n".join(decls), f"ref_split({outer}, {inner}, {len(outs)}, out_axis, in1, outs);"
