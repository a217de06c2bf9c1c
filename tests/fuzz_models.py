"""Damaged .tflite files: mutants of a good model, and the in-process pipeline that
must meet each one with a result or a one-line TinykitError, never another exception.

``python tests/fuzz_models.py MODEL.tflite N [SEED]`` runs N mutants (``make fuzz``).
"""

from __future__ import annotations

import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from tinykit.errors import TinykitError

KINDS = ("bitflip", "byte", "truncate", "splice", "word")


def mutate(data: bytes, rng: random.Random, kind: str) -> bytes:
    """One damaged copy of ``data``: a flipped bit, an overwritten byte or 32-bit word,
    a truncation, or a block copied from elsewhere in the file."""
    b = bytearray(data)
    n = len(b)
    if kind == "bitflip":
        i = rng.randrange(8, n)  # keep the 'TFL3' identifier: that check is trivial
        b[i] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        b[rng.randrange(8, n)] = rng.randrange(256)
    elif kind == "word":
        i = rng.randrange(8, n - 4) & ~3
        b[i:i + 4] = rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF, rng.randrange(1 << 32)]).to_bytes(4, "little")
    elif kind == "truncate":
        del b[rng.randrange(8, n):]
    else:  # splice
        size = rng.randrange(4, 64)
        src, dst = rng.randrange(0, n - size), rng.randrange(8, n - size)
        b[dst:dst + size] = data[src:src + size]
    return bytes(b)


def run_pipeline(data: bytes) -> str:
    """Parse, check, cost, plan and generate C, as analyze and verify do (TFLM aside).
    Returns "ok" or the error class name; any other exception propagates."""
    from tinykit.analyze.api import check_int8
    from tinykit.codegen import generate, unsupported_ops
    from tinykit.graph import parse_tflite
    from tinykit.ops import cost, unsupported_reason
    from tinykit.plan import plan_arena

    try:
        graph = parse_tflite(data, "mutant")
        check_int8(graph)
        for op in graph.ops:
            cost(graph, op)
            unsupported_reason("aot", op, graph)
        plan_arena(graph)[1].check()
        if not unsupported_ops(graph):
            generate(graph, data)
    except TinykitError as exc:
        return type(exc).__name__
    return "ok"


def fuzz(data: bytes, n: int, seed: int = 0) -> tuple[Counter[str], list[str]]:
    """Outcomes of n mutants, and the tracebacks of those that raised anything else."""
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        mutant = mutate(data, rng, kind)
        try:
            outcomes[run_pipeline(mutant)] += 1
        except Exception:  # noqa: BLE001 - a crash is what we are counting
            outcomes["CRASH"] += 1
            crashes.append(f"mutant {i} ({kind}):\n{traceback.format_exc()}")
    return outcomes, crashes


def main(argv: list[str]) -> int:
    model, n = Path(argv[0]), int(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 0
    t0 = time.monotonic()
    outcomes, crashes = fuzz(model.read_bytes(), n, seed)
    for c in crashes[:5]:
        print(c, file=sys.stderr)
    print(f"{n} mutants of {model.name} in {time.monotonic() - t0:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
