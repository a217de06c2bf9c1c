"""The memory planner: hand-computed offsets on small buffer lists, the overlap
check on broken plans, and real lifetimes of the fixture models."""

from __future__ import annotations

import random

import pytest

from tinykit.graph import Graph, Op, Quant, Tensor, parse_tflite
from tinykit.plan.planner import (
    GREEDY_ORDERS,
    PLANNERS,
    Buffer,
    GreedyPlanner,
    LinearPlanner,
    MemoryPlan,
    lifetimes,
)

pytestmark = pytest.mark.unit

GREEDY, LINEAR = GreedyPlanner(), LinearPlanner()

CHAIN = [Buffer(0, 100, -1, 0), Buffer(1, 200, 0, 1), Buffer(2, 100, 1, 2)]


def test_chain_greedy_reuses_dead_bytes() -> None:
    plan = GREEDY.plan(CHAIN)
    # 1 (biggest) at 0; 0 is live with 1 -> after it at align(200)=208; 2 is live
    # with 1 but not with 0 -> reuses 0's bytes.
    assert plan.offsets == {0: 208, 1: 0, 2: 208}
    assert plan.arena_bytes == 320
    plan.check()


def test_chain_linear_gives_everyone_its_own_bytes() -> None:
    plan = LINEAR.plan(CHAIN)
    assert plan.offsets == {0: 0, 1: 112, 2: 320}
    assert plan.arena_bytes == 432
    plan.check()


def test_first_fit_takes_a_gap_between_placed_buffers() -> None:
    bufs = [Buffer(0, 64, 0, 9), Buffer(1, 64, 0, 1), Buffer(2, 64, 0, 9), Buffer(3, 48, 5, 6)]
    plan = GREEDY.plan(bufs)
    # 0 at 0, 1 at 64, 2 at 128; 3 is dead with 1, so it fits in 1's gap at 64.
    assert plan.offsets == {0: 0, 1: 64, 2: 128, 3: 64}
    assert plan.arena_bytes == 192
    plan.check()


def test_alias_group_shares_offset_with_max_size_and_union_lifetime() -> None:
    bufs = [Buffer(0, 64, -1, 0), Buffer(1, 96, 0, 2, alias_of=0), Buffer(2, 32, 1, 2),
            Buffer(3, 80, 3, 4)]
    for planner in (GREEDY, LINEAR):
        plan = planner.plan(bufs)
        assert plan.offsets[0] == plan.offsets[1]
        plan.check()
    g = GREEDY.plan(bufs)
    # group {0,1}: 96 bytes live -1..2 at 0; 2 live with it -> 96; 3 (80, 3..4) is
    # dead with everything: sorted before 2 by size, it goes to 0.
    assert g.offsets == {0: 0, 1: 0, 2: 96, 3: 0}
    assert g.arena_bytes == 128
    assert LINEAR.plan(bufs).offsets == {0: 0, 1: 0, 2: 96, 3: 128}


def test_alias_chain_merges_transitively() -> None:
    bufs = [Buffer(0, 16, -1, 0), Buffer(1, 16, 0, 1, alias_of=0), Buffer(2, 16, 1, 2, alias_of=1),
            Buffer(3, 16, 0, 2)]
    plan = GREEDY.plan(bufs)
    assert plan.offsets[0] == plan.offsets[1] == plan.offsets[2] != plan.offsets[3]
    assert plan.arena_bytes == 32
    plan.check()


# group {A: 100 B live 0..1, B: 300 B live 1..2, in place of A}; the graph input X
# (200 B, live -1..0) meets only A, so it may sit on B's bytes above A.
GROWING = [Buffer(10, 100, 0, 1), Buffer(11, 300, 1, 2, alias_of=10), Buffer(12, 200, -1, 0)]


def test_group_is_placed_member_wise() -> None:
    plan = GREEDY.plan(GROWING, alignment=1)
    # the group (peak 300) first at 0; X clashes with A's [0, 100) only -> X at 100.
    assert plan.offsets == {10: 0, 11: 0, 12: 100}
    assert plan.arena_bytes == 300  # a max-size x union-lifetime rectangle would need 500
    plan.check()
    aligned = GREEDY.plan(GROWING)
    assert aligned.offsets == {10: 0, 11: 0, 12: 112}
    assert aligned.arena_bytes == 320
    aligned.check()
    assert LINEAR.plan(GROWING, alignment=1).offsets == {10: 0, 11: 0, 12: 300}


def test_group_member_blocks_only_during_its_own_lifetime() -> None:
    # Y (live 1..1) meets A and B; Z (live 2..3) meets B only; W (live 4..4) meets nobody.
    bufs = [*GROWING, Buffer(13, 50, 1, 1), Buffer(14, 60, 2, 3), Buffer(15, 400, 4, 4)]
    plan = GREEDY.plan(bufs, alignment=1)
    # W (400) first at 0; the group (300) meets nobody placed -> 0; X (200) clashes with
    # A [0, 100) -> 100; Z (60) clashes with B [0, 300) -> 300; Y (50) with B -> 300.
    assert plan.offsets == {10: 0, 11: 0, 12: 100, 13: 300, 14: 300, 15: 0}
    assert plan.arena_bytes == 400
    plan.check()


def test_group_slides_up_when_a_later_member_clashes() -> None:
    # P (250 B, live 2..2) is placed first at 0; the group's B (live 1..2) must avoid it,
    # so the whole group (A too) moves to P's end even though A never meets P.
    bufs = [Buffer(10, 100, 0, 1), Buffer(11, 300, 1, 2, alias_of=10), Buffer(20, 350, 2, 2)]
    plan = GREEDY.plan(bufs, alignment=1)
    assert plan.offsets == {10: 350, 11: 350, 20: 0}
    assert plan.arena_bytes == 650
    plan.check()


def test_greedy_keeps_the_best_order() -> None:
    bufs = [Buffer(0, 20, 0, 2), Buffer(1, 20, 1, 3), Buffer(2, 30, 3, 5), Buffer(3, 30, 0, 0)]
    by_size = GreedyPlanner(["size"]).plan(bufs, alignment=1)
    # size order: 3 (30, first 0) at 0, 2 at 0 (dead with 3), 0 meets 3 -> 30, 1 meets
    # 0 and 2 -> 50; arena 70.
    assert by_size.offsets == {0: 30, 1: 50, 2: 0, 3: 0} and by_size.arena_bytes == 70
    # area order (bytes x ops: 2=90, 0=60, 1=60, 3=30): 2 at 0, 0 at 0 (dead with 2),
    # 1 meets both -> 30, 3 meets 0 only -> 20; arena 50 = the live bytes at op 0.
    best = GREEDY.plan(bufs, alignment=1)
    assert best.offsets == {0: 0, 1: 30, 2: 0, 3: 20} and best.arena_bytes == 50
    best.check()
    assert GreedyPlanner(["area"]).plan(bufs, alignment=1) == best
    with pytest.raises(ValueError, match="unknown greedy order"):
        GreedyPlanner(["biggest"])
    assert set(GREEDY_ORDERS) == {"size", "area", "first"}


def test_check_is_member_wise() -> None:
    # X on B's bytes while only A is alive: fine. X on A's bytes at op 0: caught.
    MemoryPlan("ok", {10: 0, 11: 0, 12: 100}, 300, tuple(GROWING)).check()
    with pytest.raises(ValueError, match=r"buffers 10 .* 12 .* overlap"):
        MemoryPlan("broken", {10: 0, 11: 0, 12: 50}, 300, tuple(GROWING)).check()
    # a later member is exempt from its own group only: Y live with B is caught
    bufs = (*GROWING, Buffer(13, 50, 2, 2))
    with pytest.raises(ValueError, match=r"buffers 11 .* 13 .* overlap"):
        MemoryPlan("broken", {10: 0, 11: 0, 12: 100, 13: 250}, 300, bufs).check()
    # every member sits at its group's base
    chain = (Buffer(0, 8, 0, 1), Buffer(1, 8, 1, 2, alias_of=0), Buffer(2, 8, 2, 3, alias_of=1))
    MemoryPlan("ok", {0: 0, 1: 0, 2: 0}, 16, chain).check()
    with pytest.raises(ValueError, match="aliases buffer 1"):
        MemoryPlan("broken", {0: 0, 1: 0, 2: 8}, 16, chain).check()


@pytest.mark.parametrize("alignment,offsets,arena", [(1, {0: 0, 1: 10}, 20),
                                                      (4, {0: 0, 1: 12}, 24),
                                                      (16, {0: 0, 1: 16}, 32)])
def test_alignment(alignment: int, offsets: dict[int, int], arena: int) -> None:
    bufs = [Buffer(0, 10, 0, 1), Buffer(1, 10, 1, 2)]
    for planner in (GREEDY, LINEAR):
        plan = planner.plan(bufs, alignment=alignment)
        assert plan.offsets == offsets and plan.arena_bytes == arena
        assert all(o % alignment == 0 for o in plan.offsets.values())


def test_check_catches_overlapping_live_buffers() -> None:
    bufs = (Buffer(0, 16, 0, 1), Buffer(7, 16, 1, 2))
    with pytest.raises(ValueError, match=r"buffers 0 .* 7 .* overlap"):
        MemoryPlan("broken", {0: 0, 7: 8}, 32, bufs).check()
    # the same bytes are fine when the lifetimes do not meet
    MemoryPlan("ok", {0: 0, 1: 0}, 16, (Buffer(0, 16, 0, 1), Buffer(1, 16, 2, 3))).check()


def test_check_catches_broken_alias_and_arena_overflow() -> None:
    bufs = (Buffer(0, 16, 0, 1), Buffer(1, 16, 1, 2, alias_of=0))
    MemoryPlan("ok", {0: 0, 1: 0}, 16, bufs).check()
    with pytest.raises(ValueError, match="aliases buffer 0"):
        MemoryPlan("broken", {0: 0, 1: 16}, 32, bufs).check()
    with pytest.raises(ValueError, match="outside"):
        MemoryPlan("broken", {0: 0, 1: 0}, 8, bufs).check()


def test_check_catches_a_corrupted_greedy_plan() -> None:
    plan = GREEDY.plan(CHAIN)
    broken = MemoryPlan(plan.strategy, {**plan.offsets, 0: 0}, plan.arena_bytes, plan.buffers)
    with pytest.raises(ValueError, match="buffers 0 .* 1 .* overlap"):
        broken.check()


def test_bad_buffers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown buffer 9"):
        GREEDY.plan([Buffer(0, 8, 0, 1, alias_of=9)])
    with pytest.raises(ValueError, match="twice"):
        GREEDY.plan([Buffer(0, 8, 0, 1), Buffer(0, 8, 1, 2)])
    with pytest.raises(ValueError, match="lifetime"):
        GREEDY.plan([Buffer(0, 8, 3, 1)])


def test_random_plans_are_valid_and_greedy_never_loses() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        bufs = []
        for i in range(rng.randint(1, 12)):
            first = rng.randint(-1, 8)
            alias = rng.choice([None, None, None, *range(i)]) if i else None
            bufs.append(Buffer(i, rng.randint(0, 300), first, first + rng.randint(0, 4), alias))
        g, lin = GREEDY.plan(bufs), LINEAR.plan(bufs)
        g.check()
        lin.check()
        assert g.arena_bytes <= lin.arena_bytes
        assert g.arena_bytes >= _live_bytes(bufs)
        for order in GREEDY_ORDERS:  # every order alone is valid; the best is kept
            one = GreedyPlanner([order]).plan(bufs)
            one.check()
            assert g.arena_bytes <= one.arena_bytes


def _live_bytes(bufs: list[Buffer]) -> int:
    """A lower bound for any plan: the most bytes live at one op, counting one alias
    group as its largest member live then (members share their base)."""
    root = {b.id: b.id for b in bufs}
    for b in bufs:  # aliases only point back in this generator: one pass resolves chains
        if b.alias_of is not None:
            root[b.id] = root[b.alias_of]
    best = 0
    for t in range(min(b.first for b in bufs), max(b.last for b in bufs) + 1):
        per_group: dict[int, int] = {}
        for b in bufs:
            if b.first <= t <= b.last:
                per_group[root[b.id]] = max(per_group.get(root[b.id], 0), b.size)
        best = max(best, sum(per_group.values()))
    return best


def test_table_lists_every_buffer() -> None:
    text = GREEDY.plan(CHAIN).table()
    assert text.splitlines()[0] == "greedy plan: 320 bytes, 3 buffers"
    assert len(text.splitlines()) == 2 + len(CHAIN)
    assert "208" in text and "1..2" in text


def test_registry() -> None:
    assert set(PLANNERS) == {"linear", "greedy"}
    assert all(p.name == k for k, p in PLANNERS.items())


# --- lifetimes ---------------------------------------------------------------------


def _t(i: int, shape: tuple[int, ...], const: bool = False) -> Tensor:
    data = bytes(int(__import__("numpy").prod(shape))) if const else None
    return Tensor(i, f"t{i}", shape, "int8", Quant((0.1,), (0,)), data)


def _toy_graph() -> Graph:
    """in(0) -FC-> 2 -RESHAPE-> 3 -RELU-> 4 -ADD(4, 2)-> 5 (output); 1 is a weight."""
    tensors = (_t(0, (1, 8)), _t(1, (16, 8), const=True), _t(2, (1, 16)), _t(3, (4, 4)),
               _t(4, (4, 4)), _t(5, (4, 4)), _t(6, (2,), const=True))
    ops = (Op(0, "FULLY_CONNECTED", 4, (0, 1, -1), (2,)),
           Op(1, "RESHAPE", 1, (2, 6), (3,)),
           Op(2, "RELU", 1, (3,), (4,)),
           Op(3, "ADD", 2, (4, 2), (5,)))
    return Graph("toy", tensors, ops, (0,), (5,), 0)


def test_lifetimes_of_a_hand_built_graph() -> None:
    bufs = {b.id: b for b in lifetimes(_toy_graph())}
    assert set(bufs) == {0, 2, 3, 4, 5}  # constants 1 and 6 are not in the arena
    assert bufs[0] == Buffer(0, 8, -1, 0)
    assert bufs[2] == Buffer(2, 16, 0, 3)
    assert bufs[3] == Buffer(3, 16, 1, 2, alias_of=2)  # RESHAPE: no copy
    assert bufs[4] == Buffer(4, 16, 2, 3)
    assert bufs[5] == Buffer(5, 16, 3, 4)  # graph output: live to len(ops)


def test_lifetimes_inplace_only_when_input_dies_and_scratch() -> None:
    g = _toy_graph()
    bufs = {b.id: b for b in lifetimes(g, inplace=lambda g, op: op.kind in ("RELU", "ADD"),
                                       scratch=lambda g, op: 40 if op.kind == "ADD" else 0)}
    assert bufs[4].alias_of == 3  # RELU's input 3 dies at op 2
    assert bufs[5].alias_of is None  # ADD's output is the graph output
    assert bufs[-4] == Buffer(-4, 40, 3, 3)
    plan = GREEDY.plan(list(bufs.values()))
    plan.check()
    assert plan.offsets[4] == plan.offsets[3] == plan.offsets[2]

    # FC's input is the graph input: never in place
    fc = {b.id: b for b in lifetimes(g, inplace=lambda g, op: True)}
    assert fc[2].alias_of is None


def _lower_bound(graph: Graph) -> int:
    """The largest single op's live set: its distinct activation inputs and
    outputs (a no-copy op's input and output are the same bytes)."""
    best = 0
    for op in graph.ops:
        ids = {i for i in (*op.inputs, *op.outputs) if i >= 0 and not graph.tensor(i).is_const}
        sizes = [graph.tensor(i).nbytes for i in ids]
        need = max(sizes) if op.kind in ("RESHAPE", "SQUEEZE") else sum(sizes)
        best = max(best, need)
    return best


def test_real_model_lifetimes(any_model) -> None:  # noqa: ANN001 - pytest fixture
    graph = parse_tflite(any_model.tflite, any_model.name)
    bufs = lifetimes(graph)
    assert {b.id for b in bufs} == {t.index for t in graph.activations}
    for i in graph.inputs:
        assert next(b for b in bufs if b.id == i).first == -1
    for i in graph.outputs:
        assert next(b for b in bufs if b.id == i).last == len(graph.ops)
    reshapes = [op for op in graph.ops if op.kind in ("RESHAPE", "SQUEEZE")]
    for op in reshapes:
        assert next(b for b in bufs if b.id == op.outputs[0]).alias_of == op.inputs[0]

    greedy, linear = GREEDY.plan(bufs), LINEAR.plan(bufs)
    greedy.check()
    linear.check()
    assert greedy.arena_bytes <= linear.arena_bytes
    assert greedy.arena_bytes >= _lower_bound(graph)
    if len(graph.ops) > 3:  # a real chain: reuse must actually happen
        assert greedy.arena_bytes < linear.arena_bytes


# --- which growing ops run in place (tinykit.plan.growth) ----------------------


def _growing_graph() -> Graph:
    """0 (27 B) -op0-> 1 (18) -op1 grows-> 2 (36) -op2-> 3 (9) -op3 grows-> 4 (18) -op4-> 5.

    MobileNet's pattern: op3's input 3 is written while the big tensor 2 is alive."""
    sizes = (27, 18, 36, 9, 18, 2)
    tensors = tuple(_t(i, (1, n)) for i, n in enumerate(sizes))
    ops = tuple(Op(i, "X", 1, (i,), (i + 1,)) for i in range(5))
    return Graph("growing", tensors, ops, (0,), (5,), 0)


def _can_grow(g: Graph, op: Op, allowed: frozenset[int]) -> bool:
    return op.index in allowed


def _no_scratch(g: Graph, op: Op, allowed: frozenset[int]) -> int:
    return 0


def test_growth_in_place_is_chosen_by_planning() -> None:
    from tinykit.plan.growth import arena_with, choose_growth

    g = _growing_graph()
    # both in place: group {1, 2} at 0; 3 meets 2 at op 2 -> 36, and its group grows
    # to 36 + 18 = 54. Only op1 in place: 0 and 1 (45 at op 0), 2 and 3 (45 at op 2).
    assert arena_with(g, frozenset({1, 3}), _can_grow, _no_scratch, 1) == 54
    assert arena_with(g, frozenset({1}), _can_grow, _no_scratch, 1) == 45
    assert arena_with(g, frozenset(), _can_grow, _no_scratch, 1) == 54  # 1 + 2 at op 1
    chosen = choose_growth(g, [1, 3], _can_grow, _no_scratch, 1)
    assert chosen == {1}
    assert choose_growth(g, [1, 3], _can_grow, _no_scratch, 1) is chosen  # cached
    assert choose_growth(g, [], _can_grow, _no_scratch, 1) == frozenset()
