"""Per-layer instruction counts of a generated model on the emulated Cortex-M4
(a benchmark script, not a test).

Compiles the generated model.c + the runtime + the QEMU startup/HAL with a tiny
main that runs ``tk_model_invoke(layer_us)`` on a pseudo-random input, prints
the per-layer microseconds over the UART and exits through semihosting. QEMU runs
with ``-icount shift=0`` (1 instruction = 1 ns), so microseconds x 1000 are
instructions.

usage: python tests/perf_arm_layers.py MODEL.tflite [--opt -Os|-O2] [--cpu cortex-m4|cortex-m7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinykit.codegen.api import generate, write_files  # noqa: E402
from tinykit.graph import load_tflite  # noqa: E402
from tinykit.resources import firmware_dir  # noqa: E402
from tinykit.verify.build import runtime_sources  # noqa: E402

MAIN_C = r"""
#include <stdint.h>
#include <string.h>
#include "model.h"
#include "tinykit.h"

static void put(const char *s) { tk_hal_write((const uint8_t *)s, strlen(s)); }
static void put_u32(uint32_t v) {
  char b[12];
  int i = 11;
  b[i] = 0;
  do { b[--i] = (char)('0' + v % 10u); v /= 10u; } while (v && i > 0);
  put(b + i);
}
static void tk_semihost_exit(void) {
  register uint32_t r0 __asm__("r0") = 0x18u; /* SYS_EXIT */
  register uint32_t r1 __asm__("r1") = 0x20026u; /* ADP_Stopped_ApplicationExit */
  __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
}
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


def profile(model: Path, opt: str, cpu: str) -> str:
    graph = load_tflite(model)
    gen = generate(graph, model.read_bytes(), model_file=model.name)
    fw = firmware_dir()
    with tempfile.TemporaryDirectory(prefix="tinykit-armprof-") as tmp:
        work = Path(tmp)
        write_files(gen, work / "gen")
        (work / "main.c").write_text(MAIN_C)
        fpu = ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16" if cpu == "cortex-m4" else "-mfpu=fpv5-d16"]
        elf = work / "prof.elf"
        srcs = [work / "main.c", work / "gen" / "model.c", *runtime_sources(),
                fw / "hal" / "qemu" / "tk_hal_qemu.c", fw / "hal" / "qemu" / "tk_startup_qemu.c"]
        cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", *fpu, "-std=c99", opt, "-Wall",
               "-Wextra", "-ffunction-sections", "-fdata-sections", f"-I{work / 'gen'}",
               f"-I{fw / 'include'}", f"-I{fw / 'src'}", *map(str, srcs),
               "-T", str(fw / "platform" / "ldscripts" / "mps2.ld"), "-nostartfiles",
               "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf)]
        subprocess.run(cmd, check=True)
        size = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True,
                              check=True).stdout.splitlines()[1].split()
        machine = "mps2-an386" if cpu == "cortex-m4" else "mps2-an500"
        run = subprocess.run(["qemu-system-arm", "-machine", machine, "-cpu", cpu, "-kernel",
                              str(elf), "-display", "none", "-monitor", "none", "-serial", "stdio",
                              "-semihosting-config", "enable=on,target=native",
                              "-icount", "shift=0"], capture_output=True, text=True, timeout=300)
    lines = [f"{opt} {cpu}: text {size[0]} data {size[1]} bss {size[2]}"]
    for ln in run.stdout.splitlines():
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
    args = ap.parse_args()
    print(profile(args.model, args.opt, args.cpu))
    return 0


if __name__ == "__main__":
    sys.exit(main())
