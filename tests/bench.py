"""Benchmark (``make bench``; a script, not a test): the AOT C against TFLM on the
four fixture models. RAM: AOT arena (incl. scratch) vs TFLM arena. Flash:
arm-none-eabi-size of the linked model + runtime (cortex-m4 -Os) vs the .tflite.
Host latency: AOT binary (timed inside, per inference) vs TFLM's Python
interpreter invoke(). Prints a markdown table."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fixture_models import SPECS, build  # noqa: E402

from tinykit.verify.api import VerifyConfig, verify  # noqa: E402


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinykit-bench-") as tmp:
        for name in sorted(SPECS):
            m = build(name, tmp)
            path = Path(tmp) / f"{name}.tflite"
            path.write_bytes(m.tflite)
            r = verify(VerifyConfig(path, samples=20, seed=0))
            rows.append(
                f"| {name} | {'yes' if r.bit_exact else 'NO'} | {r.aot_ram_bytes} "
                f"(scratch {r.scratch_bytes}) | {r.tflm_arena_bytes} | {r.ram_ratio:.2f} | "
                f"{r.flash_bytes} | {r.model_bytes} | {r.aot_us:.0f} | {r.tflm_us:.0f} | "
                f"{r.aot_us / r.tflm_us:.2f} |")
            print(f"{name} done", file=sys.stderr, flush=True)
    print("| model | bit-exact | AOT RAM B | TFLM arena B | RAM ratio | AOT flash B "
          "| .tflite B | AOT us | TFLM us | latency ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
