"""Instructions per inference of the AOT UNIDIRECTIONAL_SEQUENCE_LSTM on the emulated
Cortex-M4 (a script, not a test; ``make test`` never runs it).

The generated model.c of a quantized fused-LSTM .tflite (e.g. the tf_keras LSTM of
tests/test_lstm_fused.py) runs ``tk_model_invoke`` once on a pseudo-random input under
QEMU ``-icount shift=0`` (1 instruction = 1 ns); SysTick counts it (exact to one tick,
40 instructions). TFLM's reference LSTM is not restated in C here (see the README's
"Recurrent layers"), so there is no TFLM column.

usage: python tests/bench_lstm.py MODEL.tflite [--opt=-O2] [--cpu cortex-m4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_harness import NS_PER_TICK, SEMIHOST_EXIT_C, build_elf, device_counts, run_qemu  # noqa: E402

from tinykit.codegen.api import generate, write_files  # noqa: E402
from tinykit.graph import parse_tflite  # noqa: E402

MAIN_C = SEMIHOST_EXIT_C + r"""
#include "model.h"
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
int main(void) {
  uint32_t i, seed = 12345u, t0, t1, base;
  int8_t *in;
  tk_hal_init();
  SYST_CSR = 0u;
  SYST_RVR = 0xFFFFFFu;
  SYST_CSR = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  in = (int8_t *)tk_model_input();
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (int8_t)(seed >> 16);
  }
  SYST_CVR = 0u; t0 = SYST_CVR; t1 = SYST_CVR; base = (t0 - t1) & 0xFFFFFFu;
  SYST_CVR = 0u; t0 = SYST_CVR;
  if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
  t1 = SYST_CVR;
  put("tk "); put_u32(((t0 - t1) & 0xFFFFFFu) - base); put("\n");
  tk_semihost_exit();
  return 0;
}
"""


def bench(model: Path, work: Path, opt: str, cpu: str) -> int:
    data = model.read_bytes()
    write_files(generate(parse_tflite(data, model.stem), data, model_file=model.name), work / "gen")
    elf = build_elf(work / "gen", work, MAIN_C, cpu=cpu, opt=opt)
    counts = device_counts(run_qemu(elf, cpu, icount=True, timeout=300), model.stem)
    if "tk" not in counts:
        raise RuntimeError(f"{model.stem}: no count printed")
    return counts["tk"] * NS_PER_TICK[cpu]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--cpu", default="cortex-m4", choices=sorted(NS_PER_TICK))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tk-bench-lstm-") as tmp:
        n = bench(args.model, Path(tmp), args.opt, args.cpu)
    print(f"{args.model.name}: {n} instructions per inference on {args.cpu} ({args.opt})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
