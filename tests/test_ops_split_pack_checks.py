"""SPLIT, SPLIT_V, UNPACK, PACK, TILE and EXPAND_DIMS without TF or a compiler: what
each support check refuses, the generation-time walks replayed in Python (the C
strided copy's loop) against numpy on seeded random shapes, the planner giving
every output of a multi-output op its own buffer and lifetime, and the C the
generator emits for them."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tinykit.codegen.api import generate
from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import ALIAS_KINDS, SPECS, TFLM_OPS, tflm_resolver, unsupported_reason
from tinykit.ops._common import ALIAS_KINDS as COMMON_ALIAS_KINDS
from tinykit.ops.split_pack import collapse, padded_walk, split_walks, tile_walk
from tinykit.ops.tflm import TFLM_ONLY
from tinykit.plan import plan_arena

pytestmark = pytest.mark.unit

NEW = ("SPLIT", "SPLIT_V", "UNPACK", "PACK", "TILE", "EXPAND_DIMS")
Q = (0.1, 3)


def _t(i: int, shape: tuple[int, ...], q: tuple[float, int] | None = Q,
       data: np.ndarray | None = None, dtype: str = "int8") -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def _ints(i: int, values: list[int]) -> Tensor:
    return _t(i, (len(values),), None, np.asarray(values, np.int32), "int32")


def _check(kind: str, tensors: list[Tensor], ins: tuple[int, ...], outs: tuple[int, ...],
           options: dict | None = None) -> str | None:
    op = Op(0, kind, 1, ins, outs, options or {})
    g = Graph("g", tuple(tensors), (op,), (ins[0],), outs, 0)
    return SPECS[kind].check(g, op)


def test_new_ops_are_aot_specs_tflm_rows_moved() -> None:
    for kind in NEW:
        assert kind in SPECS and kind not in TFLM_ONLY
        assert unsupported_reason("aot", Op(0, kind, 1, (), ())) is None
    assert "EXPAND_DIMS" in ALIAS_KINDS and ALIAS_KINDS == COMMON_ALIAS_KINDS
    # TFLM has no TILE kernel: still not a TFLM op, no resolver method
    assert "TILE" not in TFLM_OPS and tflm_resolver("TILE") is None
    assert unsupported_reason("tflm", Op(0, "TILE", 3, (), ())) == "the tflm runtime has no TILE kernel"
    assert tflm_resolver("UNPACK") == "AddUnpack" and TFLM_OPS["SPLIT_V"] == 2


def test_split_checks() -> None:
    x = _t(1, (1, 4, 6))
    ok = [_ints(0, [2]), x, _t(2, (1, 4, 3)), _t(3, (1, 4, 3))]
    assert _check("SPLIT", ok, (0, 1), (2, 3)) is None
    assert _check("SPLIT", [_ints(0, [-1]), *ok[1:]], (0, 1), (2, 3)) is None
    other = [*ok[:3], _t(3, (1, 4, 3), (0.2, 3))]
    assert "quantized alike" in str(_check("SPLIT", other, (0, 1), (2, 3)))
    dyn = [_t(0, (1,), None, None, "int32"), *ok[1:]]
    assert "constant scalar axis" in str(_check("SPLIT", dyn, (0, 1), (2, 3)))
    assert "out of range" in str(_check("SPLIT", [_ints(0, [3]), *ok[1:]], (0, 1), (2, 3)))
    short = [*ok[:3], _t(3, (1, 4, 2))]
    assert "cover 5 of the 6" in str(_check("SPLIT", short, (0, 1), (2, 3)))
    f32 = [ok[0], _t(1, (1, 4, 6), None, dtype="float32"), *ok[2:]]
    assert "only int8" in str(_check("SPLIT", f32, (0, 1), (2, 3)))
    # SPLIT_V: (input, size_splits, axis)
    v = [x, _ints(1, [1, 5]), _ints(2, [2]), _t(3, (1, 4, 1)), _t(4, (1, 4, 5))]
    assert _check("SPLIT_V", v, (0, 1, 2), (3, 4)) is None
    assert _check("SPLIT_V", [x, _ints(1, [1, -1]), *v[2:]], (0, 1, 2), (3, 4)) is None
    assert "do not match its outputs" in str(_check("SPLIT_V", [x, _ints(1, [2, 4]), *v[2:]],
                                                    (0, 1, 2), (3, 4)))
    assert "split sizes for" in str(_check("SPLIT_V", [x, _ints(1, [1, 2, 3]), *v[2:]], (0, 1, 2), (3, 4)))
    nonconst = [x, _t(1, (2,), None, None, "int32"), *v[2:]]
    assert "constant split sizes" in str(_check("SPLIT_V", nonconst, (0, 1, 2), (3, 4)))


def test_unpack_pack_tile_checks() -> None:
    x = _t(0, (1, 3, 4))
    outs = [_t(i, (1, 4)) for i in (1, 2, 3)]
    assert _check("UNPACK", [x, *outs], (0,), (1, 2, 3), {"axis": 1, "num": 3}) is None
    assert _check("UNPACK", [x, *outs], (0,), (1, 2, 3), {"axis": -2, "num": 3}) is None
    assert "do not match" in str(_check("UNPACK", [x, *outs], (0,), (1, 2, 3), {"axis": 2}))
    bad_q = [x, *outs[:2], _t(3, (1, 4), (0.1, 0))]
    assert "quantized alike" in str(_check("UNPACK", bad_q, (0,), (1, 2, 3), {"axis": 1}))
    # PACK: 3 inputs (1, 4) -> (1, 3, 4) on axis 1
    ins = [_t(i, (1, 4)) for i in (0, 1, 2)]
    y = _t(3, (1, 3, 4))
    assert _check("PACK", [*ins, y], (0, 1, 2), (3,), {"axis": 1, "values_count": 3}) is None
    assert "does not give" in str(_check("PACK", [*ins, y], (0, 1, 2), (3,), {"axis": 2}))
    assert "quantized alike" in str(_check("PACK", [*ins, _t(3, (1, 3, 4), (0.3, 3))], (0, 1, 2),
                                           (3,), {"axis": 1}))
    # TILE
    x = _t(0, (1, 2, 3))
    assert _check("TILE", [x, _ints(1, [1, 2, 2]), _t(2, (1, 4, 6))], (0, 1), (2,)) is None
    assert "is not (1, 4, 6)" in str(_check("TILE", [x, _ints(1, [1, 2, 2]), _t(2, (1, 4, 3))],
                                             (0, 1), (2,)))
    assert "positive multiples" in str(_check("TILE", [x, _ints(1, [1, 2]), _t(2, (1, 4, 3))],
                                               (0, 1), (2,)))
    assert "quantized alike" in str(_check("TILE", [x, _ints(1, [1, 2, 2]),
                                                     _t(2, (1, 4, 6), (0.5, 0))], (0, 1), (2,)))
    x5 = _t(0, (2, 3, 2, 3))  # every axis tiled: 8 dims, no merge possible
    assert "walks at most 5" in str(_check("TILE", [x5, _ints(1, [2, 2, 2, 2]),
                                                     _t(2, (4, 6, 4, 6))], (0, 1), (2,)))


def run_walk(flat: np.ndarray, fields: dict[str, list[int]], base: int) -> np.ndarray:
    """The C strided copy (tk_strided_copy_s8) in Python: the output written in order."""
    d, s = fields["dims"], fields["in_stride"]
    out = []
    for i0 in range(d[0]):
        for i1 in range(d[1]):
            for i2 in range(d[2]):
                for i3 in range(d[3]):
                    for i4 in range(d[4]):
                        out.append(flat[base + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3]
                                        + i4 * s[4]])
    return np.asarray(out, flat.dtype)


@pytest.mark.parametrize("seed", range(6))
def test_walks_match_numpy(seed: int) -> None:
    r = random.Random(seed)
    shape = tuple(r.randint(1, 4) for _ in range(r.randint(1, 4)))
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    axis = r.randrange(len(shape))
    cuts = sorted(r.sample(range(1, shape[axis]), r.randint(0, shape[axis] - 1))) if shape[axis] > 1 else []
    sizes = np.diff([0, *cuts, shape[axis]]).tolist()
    for part, walk in zip(np.split(x, cuts, axis=axis), split_walks(shape, axis, sizes), strict=True):
        assert np.array_equal(run_walk(x.reshape(-1), padded_walk(walk), walk[2]), part.reshape(-1))
    for i, walk in enumerate(split_walks(shape, axis, [1] * shape[axis])):  # UNPACK
        got = run_walk(x.reshape(-1), padded_walk(walk), walk[2])
        assert np.array_equal(got, np.take(x, i, axis=axis).reshape(-1))
    mult = [r.randint(1, 3) for _ in shape]
    fields = padded_walk(tile_walk(shape, mult))
    assert np.array_equal(run_walk(x.reshape(-1), fields, 0), np.tile(x, mult).reshape(-1))
    dims, strides = collapse(*tile_walk(shape, mult)[:2])
    assert int(np.prod(dims)) == x.size * int(np.prod(mult)) and len(dims) == len(strides)


def _split_graph() -> Graph:
    """x -> SPLIT into a, b, c (axis 2); a read by op 1 only (TILE by 1s: a copy), b by
    op 2 (the last op), c by nobody; PACK(a', b) is the graph output."""
    ts = (_ints(0, [2]), _t(1, (1, 4, 6)), _t(2, (1, 4, 2)), _t(3, (1, 4, 2)), _t(4, (1, 4, 2)),
          _t(5, (1, 4, 2)), _ints(6, [1, 1, 1]), _t(7, (1, 2, 4, 2)))
    ops = (Op(0, "SPLIT", 1, (0, 1), (2, 3, 4), {"num_splits": 3}),
           Op(1, "TILE", 1, (2, 6), (5,)),
           Op(2, "PACK", 1, (5, 3), (7,), {"axis": 1, "values_count": 2}))
    return Graph("split", ts, ops, (1,), (7,), 0)


def test_planner_gives_each_output_its_own_buffer_and_lifetime() -> None:
    g = _split_graph()
    assert all(SPECS[op.kind].check(g, op) is None for op in g.ops)
    buffers, plan = plan_arena(g)
    plan.check()
    life = {b.id: (b.first, b.last, b.alias_of) for b in buffers}
    assert life[2] == (0, 1, None)  # a: written by SPLIT, last read by TILE
    assert life[3] == (0, 2, None)  # b: read by PACK
    assert life[4] == (0, 0, None)  # c: nobody reads it, live only while SPLIT runs
    assert life[1] == (-1, 0, None) and life[7] == (2, 3, None)
    off = plan.offsets
    assert len({off[1], off[2], off[3], off[4]}) == 4  # live together in op 0
    assert off[5] not in (off[3],)  # TILE's output is live with b
    size = {b.id: b.size for b in buffers}
    assert size[2] == size[3] == size[4] == 8


def test_codegen_one_copy_per_output() -> None:
    g = _split_graph()
    gen = generate(g, b"split")
    c = gen.files["model.c"]
    off = gen.plan.offsets
    for i, t in enumerate((2, 3, 4)):
        # output i reads the input from plane 2 * i on: offset 2 * i, one row of 6 per outer;
        # the three walks are the same: one params struct
        src = f"(tk_arena + {off[1]})" if i == 0 else f"((tk_arena + {off[1]}) + {2 * i})"
        assert f"tk_strided_copy_s8(&tk_l0_params0, {src}, (tk_arena + {off[t]})));" in c
    assert "tk_l0_params1" not in c
    assert ".dims = {1, 1, 1, 4, 2}" in c and ".in_stride = {0, 0, 0, 6, 1}" in c
    # PACK on axis 1 of two (1, 4, 2) inputs: each input one run of 8 bytes, 8 bytes apart
    assert f"tk_strided_store_s8(&tk_l2_params, (tk_arena + {off[5]}), (tk_arena + {off[7]})));" in c
    assert (f"tk_strided_store_s8(&tk_l2_params, (tk_arena + {off[3]}), "
            f"((tk_arena + {off[7]}) + 8)));") in c
    assert ".dims = {1, 1, 1, 1, 8}" in c and ".out_stride = {0, 0, 0, 0, 1}" in c


def test_expand_dims_is_a_no_copy_alias() -> None:
    ts = (_t(0, (1, 6)), _ints(1, [1]), _t(2, (1, 1, 6)), _ints(3, [1, 2, 1]), _t(4, (1, 2, 6)))
    ops = (Op(0, "EXPAND_DIMS", 1, (0, 1), (2,)), Op(1, "TILE", 1, (2, 3), (4,)))
    g = Graph("e", ts, ops, (0,), (4,), 0)
    buffers, plan = plan_arena(g)
    assert {b.id: b.alias_of for b in buffers}[2] == 0 and plan.offsets[2] == plan.offsets[0]
    c = generate(g, b"e").files["model.c"]
    assert "no copy: the output aliases the input" in c
    assert ".dims = {1, 1, 1, 2, 6}" in c and ".in_stride = {0, 0, 0, 0, 1}" in c
