"""Per-layer instruction counts of a generated model on the emulated Cortex-M4
(a benchmark script, not a test).

Compiles the generated model.c + the runtime + the QEMU startup/HAL with a tiny
main that runs ``tk_model_invoke(layer_us)`` on a pseudo-random input, prints
the per-layer microseconds over the UART and exits through semihosting. QEMU runs
with ``-icount shift=0`` (1 instruction = 1 ns), so microseconds x 1000 are
instructions.

usage: python tests/perf_arm_layers.py MODEL.tflite [--opt -Os|-O2] [--cpu cortex-m4|cortex-m7|cortex-m33]
           [--no-dsp]    (--no-dsp: -DTK_NO_DSP, the portable kernel paths)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_harness import SEMIHOST_EXIT_C, build_elf, elf_size, run_qemu  # noqa: E402

from tinykit.codegen.api import generate, write_files  # noqa: E402
from tinykit.graph import load_tflite  # noqa: E402

MAIN_C = SEMIHOST_EXIT_C + r"""
#include "model.h"

int main(void) {
  static uint32_t layer_us[TK_MODEL_N_LAYERS];
  uint8_t *in;
  uint32_t i, t0, t1, seed = 12345u;
  tk_hal_init();
  if (tk_model_init() != TK_OK) put("init failed\n");
  in = (uint8_t *)tk_model_input();
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (uint8_t)(seed >> 16);
  }
  t0 = tk_hal_micros();
  if (tk_model_invoke(NULL) != TK_OK) put("invoke failed\n");
  t1 = tk_hal_micros();
  put("total_us "); put_u32(t1 - t0); put("\n");
  if (tk_model_invoke(layer_us) != TK_OK) put("invoke failed\n");
  for (i = 0; i < TK_MODEL_N_LAYERS; ++i) {
    put("layer "); put_u32(i); put(" "); put_u32(layer_us[i]); put("\n");
  }
  tk_semihost_exit();
  return 0;
}
"""


def profile(model: Path, opt: str, cpu: str, no_dsp: bool = False) -> str:
    graph = load_tflite(model)
    gen = generate(graph, model.read_bytes(), model_file=model.name)
    with tempfile.TemporaryDirectory(prefix="tinykit-armprof-") as tmp:
        work = Path(tmp)
        write_files(gen, work / "gen")
        elf = build_elf(work / "gen", work, MAIN_C, cpu=cpu, opt=opt,
                        defines=["TK_NO_DSP"] if no_dsp else [])
        size = elf_size(elf)
        output = run_qemu(elf, cpu, icount=True, timeout=300)
    lines = [f"{opt} {cpu}{' TK_NO_DSP' if no_dsp else ''}: text {size[0]} data {size[1]} "
             f"bss {size[2]}"]
    for ln in output.splitlines():
        parts = ln.split()
        if parts and parts[0] == "layer":
            op = graph.ops[int(parts[1])]
            lines.append(f"  layer {parts[1]:>3} {op.kind:<20} {int(parts[2]) / 1000:8.3f} M instr")
        elif ln.strip():
            lines.append("  " + ln)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--opt", default="-Os")
    ap.add_argument("--cpu", default="cortex-m4")
    ap.add_argument("--no-dsp", action="store_true", help="build with -DTK_NO_DSP")
    args = ap.parse_args()
    print(profile(args.model, args.opt, args.cpu, args.no_dsp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
