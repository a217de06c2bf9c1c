"""Memory planning: the generic planner (:mod:`tinykit.plan.planner`), the
in-place policy for ops that grow their tensor (:mod:`tinykit.plan.growth`), and
the AOT arena as the op specs lay it out (:mod:`tinykit.plan.arena`). Both
``analyze`` and ``codegen`` plan through here."""

from __future__ import annotations

from tinykit.plan.arena import ALIGNMENT, inplace, plan_arena, scratch
from tinykit.plan.planner import (
    PLANNERS,
    Buffer,
    GreedyPlanner,
    LinearPlanner,
    MemoryPlan,
    Planner,
    align_up,
    lifetimes,
)

__all__ = ["ALIGNMENT", "PLANNERS", "Buffer", "GreedyPlanner", "LinearPlanner", "MemoryPlan",
           "Planner", "align_up", "inplace", "lifetimes", "plan_arena", "scratch"]
