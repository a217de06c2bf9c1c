"""The activation memory planner: one arena, buffers placed by lifetime.

A :class:`Buffer` is a block of bytes live from the op that writes it
(``first``) to the last op that reads it (``last``), both inclusive. Two
buffers may share bytes only when their lifetimes do not intersect. A buffer
with ``alias_of`` must sit at the same offset as the buffer it names (no-copy
reshape, in-place kernels): the planner merges every alias chain into one
*group* with one base offset. Members of a group may overlap each other;
each member still occupies only ``[base, base + size)`` during its own
lifetime, so a group is not a rectangle (max size x union of lifetimes) but a
staircase of its members.

Two planners implement :class:`Planner`:

- :class:`LinearPlanner` (trivial): every group gets its own bytes (its
  largest member), in order.
- :class:`GreedyPlanner` (smart): first-fit, member-wise, biggest groups first
  (or another order when that gives a smaller arena).

:func:`lifetimes` turns a :class:`~tinykit.graph.Graph` into buffers.
:meth:`MemoryPlan.check` proves a plan has no overlapping live buffers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tinykit.graph import Graph, Op, Tensor
from tinykit.ops import ALIAS_KINDS

# Ops whose output is the input's bytes with another shape: never copied.
NO_COPY_OPS = ALIAS_KINDS


@dataclass(frozen=True)
class Buffer:
    id: int  # tensor index (or any unique id, e.g. negative for scratch)
    size: int  # bytes
    first: int  # index of the op that writes it; -1 for graph inputs
    last: int  # index of the last op that reads it; len(ops) for graph outputs
    alias_of: int | None = None  # must share the SAME offset as this buffer

    def live_with(self, other: Buffer) -> bool:
        """Whether the two lifetimes intersect (inclusive).

        >>> Buffer(0, 8, 0, 1).live_with(Buffer(1, 8, 1, 2))
        True
        >>> Buffer(0, 8, 0, 1).live_with(Buffer(1, 8, 2, 3))
        False
        """
        return self.first <= other.last and other.first <= self.last


def align_up(n: int, alignment: int) -> int:
    """
    >>> align_up(100, 16), align_up(112, 16), align_up(0, 16), align_up(5, 1)
    (112, 112, 0, 5)
    """
    return -(-n // alignment) * alignment


@dataclass(frozen=True)
class _Group:
    """Buffers that share one offset: size is the max, lifetime the union."""

    members: tuple[Buffer, ...]
    size: int
    first: int
    last: int

    @property
    def key(self) -> int:
        return self.members[0].id

    @property
    def area(self) -> int:
        """Bytes x ops over the members' own lifetimes."""
        return sum(m.size * (m.last - m.first + 1) for m in self.members)


def _groups(buffers: Sequence[Buffer]) -> list[_Group]:
    """Merge alias chains (union-find); errors name the bad buffer."""
    by_id: dict[int, Buffer] = {}
    for b in buffers:
        if b.id in by_id:
            raise ValueError(f"buffer id {b.id} appears twice")
        if b.size < 0 or b.first > b.last:
            raise ValueError(f"buffer {b.id}: bad size {b.size} or lifetime [{b.first}, {b.last}]")
        by_id[b.id] = b
    parent = {i: i for i in by_id}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for b in buffers:
        if b.alias_of is not None:
            if b.alias_of not in by_id:
                raise ValueError(f"buffer {b.id} aliases unknown buffer {b.alias_of}")
            parent[root(b.id)] = root(b.alias_of)
    members: dict[int, list[Buffer]] = {}
    for b in buffers:  # keep input order inside and across groups
        members.setdefault(root(b.id), []).append(b)
    return [
        _Group(tuple(ms), max(m.size for m in ms), min(m.first for m in ms),
               max(m.last for m in ms))
        for ms in members.values()
    ]


@dataclass(frozen=True)
class MemoryPlan:
    strategy: str
    offsets: dict[int, int]  # buffer id -> byte offset in the arena
    arena_bytes: int  # total arena size (aligned)
    buffers: tuple[Buffer, ...]

    def check(self) -> None:
        """Raise ``ValueError`` naming two live buffers that overlap in memory,
        a buffer without an offset, an alias at another offset than its group's
        base, or a buffer past the arena's end. The check is member-wise: each
        buffer occupies ``[offset, offset + size)`` during its own lifetime only,
        and buffers of one alias group are exempt from each other (they share
        memory by design), never from anyone else."""
        for b in self.buffers:
            if b.id not in self.offsets:
                raise ValueError(f"buffer {b.id} has no offset")
            if self.offsets[b.id] < 0 or self.offsets[b.id] + b.size > self.arena_bytes:
                raise ValueError(f"buffer {b.id} [{self.offsets[b.id]}, +{b.size}) "
                                 f"lies outside the {self.arena_bytes}-byte arena")
            if b.alias_of is not None and self.offsets[b.id] != self.offsets.get(b.alias_of):
                raise ValueError(f"buffer {b.id} aliases buffer {b.alias_of} but sits at "
                                 f"{self.offsets[b.id]}, not {self.offsets.get(b.alias_of)}")
        group_of = {m.id: g.key for g in _groups(self.buffers) for m in g.members}
        for b in self.buffers:
            base = self.offsets[group_of[b.id]]
            if self.offsets[b.id] != base:
                raise ValueError(f"buffer {b.id} sits at {self.offsets[b.id]}, not at the base "
                                 f"{base} of its alias group (buffer {group_of[b.id]})")
        for i, a in enumerate(self.buffers):
            for b in self.buffers[i + 1:]:
                if group_of[a.id] == group_of[b.id] or not a.live_with(b):
                    continue
                oa, ob = self.offsets[a.id], self.offsets[b.id]
                if a.size and b.size and oa < ob + b.size and ob < oa + a.size:
                    raise ValueError(
                        f"buffers {a.id} [{oa}, {oa + a.size}) live {a.first}..{a.last} and "
                        f"{b.id} [{ob}, {ob + b.size}) live {b.first}..{b.last} overlap")

    def table(self) -> str:
        """The plan as text, one buffer per line, by offset.

        >>> print(GreedyPlanner().plan([Buffer(0, 10, -1, 0), Buffer(1, 4, 0, 1)]).table())
        greedy plan: 32 bytes, 2 buffers
            id  offset  size  lifetime  alias
             0       0    10     -1..0
             1      16     4      0..1
        """
        lines = [f"{self.strategy} plan: {self.arena_bytes} bytes, {len(self.buffers)} buffers",
                 f"{'id':>6}  {'offset':>6}  {'size':>4}  {'lifetime':>8}  alias"]
        for b in sorted(self.buffers, key=lambda b: (self.offsets[b.id], b.first, b.id)):
            alias = "" if b.alias_of is None else str(b.alias_of)
            life = f"{b.first}..{b.last}"
            row = f"{b.id:>6}  {self.offsets[b.id]:>6}  {b.size:>4}  {life:>8}  {alias}"
            lines.append(row.rstrip())
        return "\n".join(lines)


class Planner(Protocol):
    name: str

    def plan(self, buffers: Sequence[Buffer], alignment: int = 16) -> MemoryPlan: ...


def _finish(name: str, buffers: Sequence[Buffer], groups: list[_Group],
            placed: dict[int, int], alignment: int) -> MemoryPlan:
    offsets = {m.id: placed[g.key] for g in groups for m in g.members}
    end = max((offsets[b.id] + b.size for b in buffers), default=0)
    return MemoryPlan(name, offsets, align_up(end, alignment), tuple(buffers))


def _check_alignment(alignment: int) -> None:
    if alignment < 1:
        raise ValueError(f"alignment must be >= 1, got {alignment}")


class LinearPlanner:
    """Every group gets its own aligned bytes, one after another in input order.

    >>> p = LinearPlanner().plan([Buffer(0, 100, -1, 0), Buffer(1, 8, 0, 1)])
    >>> p.offsets, p.arena_bytes
    ({0: 0, 1: 112}, 128)
    """

    name = "linear"

    def plan(self, buffers: Sequence[Buffer], alignment: int = 16) -> MemoryPlan:
        _check_alignment(alignment)
        groups = _groups(buffers)
        placed: dict[int, int] = {}
        offset = 0
        for g in groups:
            placed[g.key] = offset
            offset = align_up(offset + g.size, alignment)
        return _finish(self.name, buffers, groups, placed, alignment)


def _first_fit(g: _Group, placed: list[tuple[Buffer, int]], alignment: int) -> int:
    """The lowest aligned base where no member of ``g`` overlaps, in time and in bytes,
    a placed buffer of another group.

    Member ``m`` at ``base`` clashes with a placed ``p`` at ``off`` (live together)
    exactly when ``off - m.size < base < off + p.size``: each pair forbids an open
    interval of bases. Sweep those by their low end; a base that falls inside one
    moves to the aligned high end.

    >>> _first_fit(_Group((Buffer(9, 50, 0, 0),), 50, 0, 0), [(Buffer(1, 40, 0, 0), 60)], 16)
    0
    >>> _first_fit(_Group((Buffer(9, 70, 0, 0),), 70, 0, 0), [(Buffer(1, 40, 0, 0), 60)], 16)
    112
    """
    forbidden = sorted((off - m.size, off + p.size) for m in g.members if m.size
                       for p, off in placed if p.size and m.live_with(p))
    base = 0
    for lo, hi in forbidden:
        if base <= lo:
            break  # fits below this interval and every later one starts higher
        if base < hi:
            base = align_up(hi, alignment)
    return base


# Orders the greedy planner tries, best arena kept (first on ties). Peak size first is
# TFLM's order; the others win when big groups are short-lived or tall but thin.
GREEDY_ORDERS: dict[str, Callable[[_Group], tuple[int, ...]]] = {
    "size": lambda g: (-g.size, g.first, g.key),
    "area": lambda g: (-g.area, -g.size, g.first, g.key),
    "first": lambda g: (g.first, -g.size, g.key),
}


class GreedyPlanner:
    """First-fit, member-wise, by decreasing size (TFLM's greedy planner, with alias groups).

    1. Merge alias chains into groups: one base offset per group.
    2. Sort groups by peak size, largest first; ties by first use, then by id.
    3. Place each group at the lowest offset, a multiple of ``alignment``,
       where none of its members overlaps a member of an already placed group
       that is live at the same time (inclusive lifetimes). A member only
       claims its own bytes during its own lifetime (see :func:`_first_fit`).
    4. The arena is the highest member end, rounded up to ``alignment``.
    5. Steps 2-4 are repeated with the other :data:`GREEDY_ORDERS` (by area:
       bytes x ops, then by first use); the smallest arena wins, the size order
       on ties. Planning a model takes milliseconds, so trying three is cheap.

    Three chained buffers: ``b`` (the biggest) goes first at 0; ``a`` is live
    with ``b`` so it goes after it; ``c`` is live with ``b`` but not with ``a``,
    so it reuses ``a``'s bytes.

    >>> bufs = [Buffer(0, 100, -1, 0), Buffer(1, 200, 0, 1), Buffer(2, 100, 1, 2)]
    >>> p = GreedyPlanner().plan(bufs)
    >>> p.offsets, p.arena_bytes
    ({0: 208, 1: 0, 2: 208}, 320)

    An in-place chain ``a`` -> ``b`` (``b`` grows) shares a base with the group's small
    member ``a`` live next to the graph input ``x``; ``x`` fits above ``a``:

    >>> bufs = [Buffer(0, 200, -1, 0), Buffer(1, 100, 0, 1), Buffer(2, 300, 1, 2, alias_of=1)]
    >>> p = GreedyPlanner().plan(bufs, alignment=1)
    >>> p.offsets, p.arena_bytes
    ({0: 100, 1: 0, 2: 0}, 300)
    """

    name = "greedy"

    def __init__(self, orders: Sequence[str] = tuple(GREEDY_ORDERS)) -> None:
        unknown = [o for o in orders if o not in GREEDY_ORDERS]
        if unknown or not orders:
            raise ValueError(f"unknown greedy order(s) {unknown}; use {sorted(GREEDY_ORDERS)}")
        self.orders = tuple(orders)

    def plan(self, buffers: Sequence[Buffer], alignment: int = 16) -> MemoryPlan:
        _check_alignment(alignment)
        groups = _groups(buffers)
        plans = [self._plan_in(sorted(groups, key=GREEDY_ORDERS[o]), buffers, groups, alignment)
                 for o in self.orders]
        return min(plans, key=lambda p: p.arena_bytes)

    def _plan_in(self, order: list[_Group], buffers: Sequence[Buffer], groups: list[_Group],
                 alignment: int) -> MemoryPlan:
        placed: dict[int, int] = {}
        done: list[tuple[Buffer, int]] = []
        for g in order:
            base = _first_fit(g, done, alignment)
            placed[g.key] = base
            done.extend((m, base) for m in g.members)
        return _finish(self.name, buffers, groups, placed, alignment)


PLANNERS: dict[str, Planner] = {"linear": LinearPlanner(), "greedy": GreedyPlanner()}


# --- lifetimes of a graph ---------------------------------------------------------


def _nbytes(t: Tensor) -> int:
    """Bytes of an activation; a dynamic (-1) dimension counts as 1."""
    n = t.itemsize
    for d in t.shape:
        n *= max(d, 1)
    return n


def _never(graph: Graph, op: Op) -> bool:
    return False


def _no_scratch(graph: Graph, op: Op) -> int:
    return 0


def lifetimes(graph: Graph, *, inplace: Callable[[Graph, Op], bool] = _never,
              scratch: Callable[[Graph, Op], int] = _no_scratch) -> list[Buffer]:
    """Buffers of all activation tensors of the graph (non-const), with lifetimes from op order.

    RESHAPE and SQUEEZE outputs always alias their input (no copy). For an op where
    ``inplace(graph, op)`` is True, its output aliases its first input IF that input's last use
    is this op and it is not a graph input or output (else no alias). ``scratch(graph, op) > 0``
    adds a buffer (id = ``-(op.index+1)``) live only during that op.
    """
    n_ops = len(graph.ops)
    acts = {t.index: t for t in graph.activations}
    first = {i: -1 for i in acts}
    last: dict[int, int] = {}
    for op in graph.ops:
        for i in op.outputs:
            if i in acts and i not in graph.inputs:
                first[i] = op.index
        for i in op.inputs:
            if i in acts:
                last[i] = op.index
    for i in graph.outputs:
        if i in acts:
            last[i] = n_ops
    boundary = set(graph.inputs) | set(graph.outputs)

    alias: dict[int, int] = {}
    for op in graph.ops:
        src = op.inputs[0] if op.inputs else -1
        if not op.outputs or src not in acts or op.outputs[0] not in acts:
            continue
        out = op.outputs[0]
        if op.kind in NO_COPY_OPS:
            alias[out] = src
        elif (inplace(graph, op) and last.get(src) == op.index and src not in boundary
              and out not in boundary):
            alias[out] = src

    buffers = [
        Buffer(i, _nbytes(t), first[i], last.get(i, max(first[i], 0)), alias.get(i))
        for i, t in acts.items()
    ]
    for op in graph.ops:
        size = scratch(graph, op)
        if size > 0:
            buffers.append(Buffer(-(op.index + 1), size, op.index, op.index))
    return buffers
