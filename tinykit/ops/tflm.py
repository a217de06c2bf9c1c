"""Ops that only the TFLM runtime runs (``--runtime tflm``): op -> highest op
version TFLM handles, its MicroMutableOpResolver method and its cost rule. The
ops the AOT runtime also runs carry the same facts in their own spec.

When an op gets an AOT kernel, its row moves from here into its module's spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinykit.graph import Graph, Op
from tinykit.ops._common import data_movement, per_output_element
from tinykit.ops.spec import OpCost


@dataclass(frozen=True)
class TflmOp:
    version: int  # highest op version TFLM runs
    resolver: str  # MicroMutableOpResolver method
    cost: Callable[[Graph, Op], OpCost]
    code_bytes: int = 4096  # estimated TFLM kernel code


_MATH = per_output_element
_MOVE = data_movement

TFLM_ONLY: dict[str, TflmOp] = {
    "ADD_N": TflmOp(1, "AddAddN", _MATH),
    "BATCH_TO_SPACE_ND": TflmOp(4, "AddBatchToSpaceNd", _MOVE),
    "CAST": TflmOp(6, "AddCast", _MOVE),
    "CEIL": TflmOp(2, "AddCeil", _MATH),
    "COS": TflmOp(1, "AddCos", _MATH),
    "CUMSUM": TflmOp(1, "AddCumSum", _MATH),
    "DEPTH_TO_SPACE": TflmOp(2, "AddDepthToSpace", _MOVE),
    "DIV": TflmOp(2, "AddDiv", _MATH),
    "ELU": TflmOp(1, "AddElu", _MATH),
    "EQUAL": TflmOp(4, "AddEqual", _MATH),
    "EXP": TflmOp(2, "AddExp", _MATH),
    "FILL": TflmOp(4, "AddFill", _MOVE),
    "FLOOR": TflmOp(3, "AddFloor", _MATH),
    "FLOOR_DIV": TflmOp(3, "AddFloorDiv", _MATH),
    "FLOOR_MOD": TflmOp(2, "AddFloorMod", _MATH),
    "GATHER_ND": TflmOp(4, "AddGatherNd", _MOVE),
    "GREATER": TflmOp(2, "AddGreater", _MATH),
    "GREATER_EQUAL": TflmOp(2, "AddGreaterEqual", _MATH),
    "L2_NORMALIZATION": TflmOp(2, "AddL2Normalization", _MATH),
    "L2_POOL_2D": TflmOp(1, "AddL2Pool2D", _MATH),
    "LESS_EQUAL": TflmOp(2, "AddLessEqual", _MATH),
    "LOG": TflmOp(2, "AddLog", _MATH),
    "LOGICAL_AND": TflmOp(1, "AddLogicalAnd", _MATH),
    "LOGICAL_NOT": TflmOp(1, "AddLogicalNot", _MATH),
    "LOGICAL_OR": TflmOp(1, "AddLogicalOr", _MATH),
    "MIRROR_PAD": TflmOp(2, "AddMirrorPad", _MOVE),
    "NEG": TflmOp(2, "AddNeg", _MATH),
    "NOT_EQUAL": TflmOp(3, "AddNotEqual", _MATH),
    "ROUND": TflmOp(2, "AddRound", _MATH),
    "SHAPE": TflmOp(1, "AddShape", _MOVE),
    "SIN": TflmOp(1, "AddSin", _MATH),
    "SPACE_TO_BATCH_ND": TflmOp(4, "AddSpaceToBatchNd", _MOVE),
    "SPACE_TO_DEPTH": TflmOp(2, "AddSpaceToDepth", _MOVE),
    "SQRT": TflmOp(2, "AddSqrt", _MATH),
    "SQUARE": TflmOp(2, "AddSquare", _MATH),
    "SVDF": TflmOp(4, "AddSvdf", _MATH),
    "ZEROS_LIKE": TflmOp(1, "AddZerosLike", _MOVE),
}
