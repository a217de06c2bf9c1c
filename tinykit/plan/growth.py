"""Which in-place ops that *grow* their tensor (a 1x1 conv from 8 to 16 channels
written over its input) should really run in place.

In place, the output must start where the input starts: that saves the input's
bytes, but pins the output to the input's base, which may have been chosen to
dodge a tensor that is live beside the input and dead beside the output. So
growth in place pays on some ops and costs on others (MobileNet: the first 8->16
conv pays, the 16->32 conv after a stride-2 depthwise costs 9 KB). The choice is
made by planning: start from the better of "all grow in place" and "none does",
then flip one op at a time while the greedy arena shrinks (a few dozen plans of
a few milliseconds). Same graph, same choice: results are cached per graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tinykit.graph import Graph, Op
from tinykit.plan.planner import GreedyPlanner, lifetimes

# inplace(graph, op, allowed) / scratch(graph, op, allowed): the rules when exactly the
# growing ops in ``allowed`` run in place.
InplaceFn = Callable[[Graph, Op, frozenset[int]], bool]
ScratchFn = Callable[[Graph, Op, frozenset[int]], int]

_CACHE: dict[tuple[object, ...], tuple[Graph, frozenset[int]]] = {}
_CACHE_SIZE = 8


def arena_with(graph: Graph, allowed: frozenset[int], inplace: InplaceFn, scratch: ScratchFn,
               alignment: int = 16) -> int:
    """The greedy arena when the growing ops in ``allowed`` run in place."""
    buffers = lifetimes(graph, inplace=lambda g, op: inplace(g, op, allowed),
                        scratch=lambda g, op: scratch(g, op, allowed))
    return GreedyPlanner().plan(buffers, alignment).arena_bytes


def choose_growth(graph: Graph, growing: Sequence[int], inplace: InplaceFn, scratch: ScratchFn,
                  alignment: int = 16) -> frozenset[int]:
    """The growing ops (indices from ``growing``) to run in place: a local minimum of
    the arena over subsets, reached from the better of all and none (all on ties)."""
    key = (id(graph), tuple(growing), inplace, scratch, alignment)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is graph:
        return hit[1]
    if not growing:
        best = frozenset[int]()
    else:
        def cost(s: frozenset[int]) -> int:
            return arena_with(graph, s, inplace, scratch, alignment)

        best, best_cost = min(((s, cost(s)) for s in (frozenset(growing), frozenset[int]())),
                              key=lambda sc: sc[1])
        improved = True
        while improved:  # the arena strictly shrinks on every flip: this ends
            improved = False
            for i in growing:
                trial = best ^ {i}
                c = cost(trial)
                if c < best_cost:
                    best, best_cost, improved = trial, c, True
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (graph, best)
    return best
