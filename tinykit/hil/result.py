"""HIL results are data: a status enum, case and suite records."""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass, field
from typing import Any


class Status(enum.Enum):
    PASSED = "passed"  # bit-exact with the TFLM reference
    FAILED = "failed"  # the device answered, with other bits
    ERRORED = "errored"  # no valid answer (device gone, protocol error)
    SKIPPED = "skipped"  # not run: the run stopped before this sample


@dataclass(frozen=True)
class CaseResult:
    index: int
    status: Status
    device_us: int | None = None
    max_abs_diff: int | None = None
    top1_device: int | None = None
    top1_reference: int | None = None
    label: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status.value, "device_us": self.device_us,
                "max_abs_diff": self.max_abs_diff, "top1_device": self.top1_device,
                "top1_reference": self.top1_reference, "label": self.label, "message": self.message}


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile.

    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)
    10
    >>> percentile([5], 50)
    5
    """
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


@dataclass
class SuiteResult:
    model: str
    model_hash: str
    port: str
    planned: int
    device: dict[str, Any] = field(default_factory=dict)
    cases: list[CaseResult] = field(default_factory=list)
    wall_seconds: float = 0.0
    stopped: str = ""  # why the run stopped early, if it did

    @property
    def completed(self) -> bool:
        return not self.stopped and len(self.cases) == self.planned

    def summary(self) -> dict[str, Any]:
        run = [c for c in self.cases if c.status in (Status.PASSED, Status.FAILED)]
        mismatches = [c.index for c in self.cases if c.status == Status.FAILED]
        lat = [float(c.device_us) for c in run if c.device_us is not None]
        diffs = [c.max_abs_diff for c in run if c.max_abs_diff is not None]
        top1 = [c for c in run if c.top1_device is not None and c.top1_reference is not None]
        labelled = [c for c in top1 if c.label is not None]
        return {
            "samples": len(run),
            "planned": self.planned,
            "mismatches": len(mismatches),
            "mismatch_indices": mismatches,
            "errors": sum(c.status == Status.ERRORED for c in self.cases),
            "bit_exact": self.completed and not mismatches and len(run) == self.planned,
            "max_abs_diff": max(diffs) if diffs else None,
            "top1_agreement": (sum(c.top1_device == c.top1_reference for c in top1) / len(top1)
                               if top1 else None),
            "accuracy": (sum(c.top1_device == c.label for c in labelled) / len(labelled)
                         if labelled else None),
            "latency_us": ({"min": min(lat), "median": statistics.median(lat), "p95": percentile(lat, 95),
                            "max": max(lat)} if lat else None),
            "throughput_per_s": (len(run) / self.wall_seconds) if self.wall_seconds > 0 and run else None,
            "completed": self.completed,
            "stopped": self.stopped,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_hash": self.model_hash, "port": self.port,
                "device": self.device, **self.summary(), "wall_seconds": round(self.wall_seconds, 3),
                "cases": [c.to_dict() for c in self.cases]}
