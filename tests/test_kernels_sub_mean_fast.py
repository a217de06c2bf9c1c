"""The Cortex-M fast paths of SUB and MEAN / SUM (issue 10 item 6) on QEMU M4 and M7,
byte for byte against TFLM's reference kernels restated in C (tests/c/tflm_ref_issue10.c,
the loops of TFLM's Sub / BroadcastQuantSubSlow and QuantizedMeanOrSum with the same
Prepare numbers; the benchmark tests/bench_issue10_ops.py uses them too).

- SUB (tk_sub.c, tk_sub_row_fused): every rescale one fused 64-bit multiply-accumulate
  on locals, same shape and broadcast on either side.
- MEAN over H and W (tk_mean.c) and MEAN / SUM over other axes (tk_reduce.c): four
  int8 values a word (tk_sum4_strided_s8: SXTAB16 into int16 lanes, flushed every 256
  words): four channels at a time with a 3-channel tail, more than 256 pixels (the
  flush; all -128 fills a lane to exactly INT16_MIN), four adjacent outputs at a time
  with leftover outputs, contiguous reduced rows with a tail, two reduced dims.

Each one-op graph (no TF conversion) runs on a pseudo-random input, all -128 and all
127. Proof that the fast paths ran: the instructions of the first input under
``-icount shift=0`` stay within budgets per element only the fast paths meet (the
earlier kernels: SUB 104-107 instructions an element, MEAN over H and W 6.2, MEAN over
H of [1, H, C] 5.8; with the fast paths 55, 1.7 and 2.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from arm_harness import NS_PER_TICK, SEMIHOST_EXIT_C, build_elf, run_qemu
from bench_issue10_ops import REF_C, REF_H, binary, reduce, ref_call

from tinykit.codegen.api import generate, write_files
from tinykit.graph import Graph

pytestmark = pytest.mark.emu  # QEMU

# (graph, instructions per input element the fast path stays within, or None: only
# checked bit-exact)
CASES: list[tuple[Graph, float | None]] = [
    (binary("SUB", (1, 5, 7, 12), (1, 5, 7, 12)), 75.0),
    (binary("SUB", (1, 4, 4, 6), (6,)), 75.0),
    (binary("SUB", (1, 1, 1, 6), (1, 4, 4, 6)), None),
    (binary("SUB", (1, 3, 1, 5), (1, 1, 4, 5)), None),
    (reduce("MEAN", (1, 20, 20, 12), (1, 2)), 3.0),
    (reduce("MEAN", (1, 17, 17, 7), (1, 2)), None),
    (reduce("MEAN", (1, 300, 6), (1,), keep=False), None),
    (reduce("MEAN", (1, 64, 32), (1,), keep=False), 3.5),
    (reduce("MEAN", (1, 6, 5, 13), (3,)), None),
    (reduce("SUM", (2, 9, 8), (1,)), None),
    (reduce("MEAN", (1, 4, 6, 8), (1, 3)), None),
]

MAIN = r"""
#include "model.h"
#include "tflm_ref_issue10.h"
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static int8_t in1[TK_MODEL_INPUT_BYTES] __attribute__((aligned(4)));
static int8_t out_ref[TK_MODEL_OUTPUT_BYTES] __attribute__((aligned(4)));
@DECLS@
int main(void) {
  uint32_t i, k, seed = 12345u, t0, t1, base;
  tk_hal_init();
  SYST_CSR = 0u;
  SYST_RVR = 0xFFFFFFu;
  SYST_CSR = 0x5u;
  if (tk_model_init() != TK_OK) put("error init\n");
  SYST_CVR = 0u; t0 = SYST_CVR; t1 = SYST_CVR; base = (t0 - t1) & 0xFFFFFFu;
  for (k = 0; k < 3u; ++k) {
    for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
      seed = seed * 1103515245u + 12345u;
      in1[i] = k == 0u ? (int8_t)(seed >> 16) : k == 1u ? (int8_t)-128 : (int8_t)127;
    }
    memcpy(tk_model_input(), in1, TK_MODEL_INPUT_BYTES);
    SYST_CVR = 0u; t0 = SYST_CVR;
    if (tk_model_invoke(NULL) != TK_OK) put("error invoke\n");
    t1 = SYST_CVR;
    @CALL@
    for (i = 0; i < TK_MODEL_OUTPUT_BYTES && out_ref[i] == ((const int8_t *)tk_model_output())[i]; ++i) {
    }
    put("run "); put_u32(k); put(" "); put_u32(((t0 - t1) & 0xFFFFFFu) - base); put(" ");
    put_u32(i == TK_MODEL_OUTPUT_BYTES); put("\n");
  }
  tk_semihost_exit();
  return 0;
}
"""


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("index", range(len(CASES)), ids=[g.name for g, _ in CASES])
def test_sub_mean_fast_paths_bit_exact(index: int, cpu: str, tmp_path: Path) -> None:
    g, budget = CASES[index]
    gen = generate(g, g.name.encode(), model_file="case.tflite")
    write_files(gen, tmp_path / "gen")
    (tmp_path / REF_H.name).write_text(REF_H.read_text())
    decls, call = ref_call(g)
    main = SEMIHOST_EXIT_C + MAIN.replace("@DECLS@", decls).replace("@CALL@", call)
    elf = build_elf(tmp_path / "gen", tmp_path, main, cpu=cpu, opt="-O2", extra_sources=(REF_C,))
    text = run_qemu(elf, cpu, icount=True, timeout=120)
    assert "error" not in text, text
    runs = [ln.split()[1:] for ln in text.splitlines() if ln.startswith("run ")]
    assert [r[0] for r in runs] == ["0", "1", "2"], text
    assert all(r[2] == "1" for r in runs), f"{g.name} on {cpu}: differs from TFLM ({runs})"
    if budget is not None:
        per = int(runs[0][1]) * NS_PER_TICK[cpu] / g.tensor(0).size
        assert per <= budget, f"{g.name} on {cpu}: {per:.1f} instructions an element > {budget}"
