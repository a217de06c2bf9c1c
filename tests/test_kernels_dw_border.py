"""The 3x3 depthwise border path on Cortex-M (tk_dw3x3_border_dsp in
tk_depthwise.c) compared bit by bit with TFLM's integer arithmetic on QEMU M4 and M7.

Windows that reach into the padding compute only their taps inside the input, on
the raw bias with the input offset added by SXTAB16 (no multiply for a padding
tap). On small maps nearly every pixel is such a window (3x3: 8 of 9), so the
cases are seeded random depthwise layers with channels in fours (4 to 256), maps
from 1x1 to 9x9 (and the issue-9 shapes 3x3x256, 6x6x128, 25x5x64), stride 1, 2
and 3, SAME and VALID padding, fused clamps, out of place and in place (the row
ring), called through the kernel's C API (tests/test_kernels_c.py's harness: numpy
restates TFLM's DepthwiseConvPerChannel arithmetic).

Proof that the path ran: ``tk_dw3x3_border_dsp`` and SXTAB16 (emitted only there)
are in the ELF, and the 3x3x256 stride-2 layer (2x2 outputs, all four corners:
4 of 9 taps valid) runs within an instruction budget under ``-icount shift=0``
that only the border path meets (the earlier kernel, which multiplied the zero
point in for every padding tap: 73,360 instructions at -O2 on the M4; with the
border path: about 50,000).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from arm_harness import NS_PER_TICK, SEMIHOST_EXIT_C, build_elf, disassembly, run_qemu
from test_kernels_c import QEMU_IO, Case, Geo, check_output, conv_case, program

pytestmark = pytest.mark.emu  # QEMU

FIXED = [Geo(3, 3, 256, 256, 3, 3), Geo(3, 3, 256, 256, 3, 3, s=2), Geo(6, 6, 128, 128, 3, 3),
         Geo(25, 5, 64, 64, 3, 3, s=2), Geo(1, 1, 8, 8, 3, 3), Geo(2, 2, 4, 4, 3, 3, s=2),
         Geo(1, 6, 12, 12, 3, 3), Geo(7, 1, 16, 16, 3, 3, s=3), Geo(4, 4, 20, 20, 3, 3, same=False)]


def _random_geos(seed: int, n: int) -> list[tuple[Geo, bool]]:
    r = random.Random(f"dw-border-{seed}")
    out = []
    for _ in range(n):
        s = r.choice([1, 1, 2, 2, 3])
        same = r.random() < 0.75
        lo = 1 if same else 3
        g = Geo(r.randint(lo, 9), r.randint(lo, 9), 0, 0, 3, 3, s=s, same=same)
        g.ic = g.oc = 4 * r.choice([1, 2, 3, 5, 8, 16, 32, 64])
        inplace = s == 1 and same and 2 * g.w * g.ic <= 4096 and r.random() < 0.4
        out.append((g, inplace))
    return out


def border_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    geos = [(g, False) for g in FIXED] + [(Geo(3, 3, 256, 256, 3, 3), True)] + _random_geos(seed, 24)
    for g, inplace in geos:
        name = (f"dw3x3/{g.s} {g.h}x{g.w}x{g.ic} {'same' if g.same else 'valid'}"
                f"{' inplace' if inplace else ''}")
        cases.append(conv_case(rng, len(cases), name, g, depthwise=True, inplace=inplace))
    return cases


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("seed", [0, 1])
def test_dw_border_path_bit_exact(seed: int, cpu: str, tmp_path: Path) -> None:
    cases = border_cases(seed)
    elf = build_elf(None, tmp_path, program(cases, QEMU_IO), cpu=cpu, opt="-O2")
    code = disassembly(elf)
    assert "<tk_dw3x3_border_dsp>:" in code, "the border path was not compiled in"
    assert "\tsxtab16\t" in code, "the border path's SXTAB16 taps are missing"
    check_output(cases, run_qemu(elf, cpu, icount=False, timeout=180), f"{cpu} seed {seed}")


TIMED_MAIN = SEMIHOST_EXIT_C + r"""
#include "tk_kernels.h"
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
@DECLS@
int main(void) {
  uint32_t t0, t1, base;
  TkStatus st;
  tk_hal_init();
  SYST_CSR = 0u;
  SYST_RVR = 0xFFFFFFu;
  SYST_CSR = 0x5u;
  SYST_CVR = 0u; t0 = SYST_CVR; t1 = SYST_CVR; base = (t0 - t1) & 0xFFFFFFu;
  SYST_CVR = 0u; t0 = SYST_CVR;
  st = @CALL@;
  t1 = SYST_CVR;
  put("ticks "); put_u32(((t0 - t1) & 0xFFFFFFu) - base); put("\n");
  put("out "); put_u32((uint32_t)st); put(" "); put_hex((const uint8_t *)k0_y, sizeof k0_y); put("\n");
  tk_semihost_exit();
  return 0;
}
"""

# instructions of the 3x3x256 stride-2 layer at -O2 (measured 49,760 on the M4 and
# 54,160 on the M7 with the border path, 73,360 / 80,440 without)
BUDGET = {"cortex-m4": 60_000, "cortex-m7": 65_000}


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
def test_dw_border_path_meets_instruction_budget(cpu: str, tmp_path: Path) -> None:
    case = conv_case(np.random.default_rng(7), 0, "dw3x3/2 3x3x256",
                     Geo(3, 3, 256, 256, 3, 3, s=2), depthwise=True)
    decls, _ = case.code.split("@@\n")
    main = TIMED_MAIN.replace("@DECLS@", decls).replace("@CALL@", "tk_depthwise_s8(&k0_p, k0_x, k0_y)")
    elf = build_elf(None, tmp_path, main, cpu=cpu, opt="-O2")
    text = run_qemu(elf, cpu, icount=True, timeout=120)
    lines = dict(ln.split(" ", 1) for ln in text.splitlines() if " " in ln)
    status, data = lines["out"].split()
    assert int(status) == 0 and bytes.fromhex(data) == case.want, "not bit-exact"
    instructions = int(lines["ticks"]) * NS_PER_TICK[cpu]
    assert instructions <= BUDGET[cpu], f"{cpu}: {instructions} instructions > {BUDGET[cpu]}"
