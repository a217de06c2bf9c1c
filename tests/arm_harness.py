"""Bare-metal Cortex-M harness on QEMU for generated models (shared by the ARM
kernel tests and the per-layer benchmark script).

:func:`build_elf` links the generated ``model.c`` + the C runtime + the QEMU
startup/HAL from ``firmware/`` (or, without a model, a main that calls the kernels
itself + the kernels + the HAL) with a caller-supplied ``main.c`` for
``-mcpu=cortex-m4`` (mps2-an386), ``cortex-m7`` (mps2-an500) or ``cortex-m33``
(mps2-an505, Armv8-M Mainline with the DSP extension) with
arm-none-eabi-gcc; :func:`run_qemu` runs the ELF with the UART on stdio and
returns what it printed. The main ends with :data:`SEMIHOST_EXIT_C`'s
``tk_semihost_exit()`` so QEMU stops by itself; the process is killed on a
timeout or any error, so none is ever left behind.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinykit.resources import firmware_dir
from tinykit.toolchain import kernel_sources, runtime_include_dirs, runtime_sources

# cpu -> (QEMU machine, FPU, linker script in firmware/platform/ldscripts)
CORES = {"cortex-m4": ("mps2-an386", "fpv4-sp-d16", "mps2.ld"),
         "cortex-m7": ("mps2-an500", "fpv5-d16", "mps2.ld"),
         "cortex-m33": ("mps2-an505", "fpv5-sp-d16", "mps2_an505.ld")}
# instructions per SysTick tick under -icount shift=0 (1 instruction = 1 ns):
# SysTick runs on the 25 MHz mps2 clock (20 MHz on mps2-an505)
NS_PER_TICK = {"cortex-m4": 40, "cortex-m7": 40, "cortex-m33": 50}

# UART text helpers and the semihosting exit for a harness main.c (static inline:
# unused ones draw no warning).
SEMIHOST_EXIT_C = r"""
#include <stdint.h>
#include <string.h>
#include "tinykit.h"

static inline void put(const char *s) { tk_hal_write((const uint8_t *)s, strlen(s)); }
static inline void put_u32(uint32_t v) {
  char b[12];
  int i = 11;
  b[i] = 0;
  do { b[--i] = (char)('0' + v % 10u); v /= 10u; } while (v && i > 0);
  put(b + i);
}
static inline void put_hex(const uint8_t *p, uint32_t n) {
  static const char digits[] = "0123456789abcdef";
  char b[2];
  uint32_t i;
  for (i = 0; i < n; ++i) {
    b[0] = digits[p[i] >> 4];
    b[1] = digits[p[i] & 15u];
    tk_hal_write((const uint8_t *)b, 2u);
  }
}
static inline void tk_semihost_exit(void) {
  register uint32_t r0 __asm__("r0") = 0x18u; /* SYS_EXIT */
  register uint32_t r1 __asm__("r1") = 0x20026u; /* ADP_Stopped_ApplicationExit */
  __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
}
"""


def main_c(inputs: np.ndarray) -> str:
    """A harness main for a generated model: runs each of ``inputs`` (baked into the
    image) and prints ``out I HEX`` (the output's bytes) per sample, then ``done``."""
    rows = ",\n".join("  {" + ",".join(str(int(v)) for v in x.ravel()) + "}" for x in inputs)
    return SEMIHOST_EXIT_C + f"""
#include "model.h"

#define TK_TEST_SAMPLES {len(inputs)}u
static const int8_t tk_test_inputs[TK_TEST_SAMPLES][TK_MODEL_INPUT_BYTES] = {{
{rows}
}};

int main(void) {{
  uint32_t s;
  tk_hal_init();
  if (tk_model_init() != TK_OK) put("init failed\\n");
  for (s = 0; s < TK_TEST_SAMPLES; ++s) {{
    memcpy(tk_model_input(), tk_test_inputs[s], TK_MODEL_INPUT_BYTES);
    if (tk_model_invoke(NULL) != TK_OK) put("invoke failed\\n");
    put("out "); put_u32(s); put(" ");
    put_hex((const uint8_t *)tk_model_output(), TK_MODEL_OUTPUT_BYTES);
    put("\\n");
  }}
  put("done\\n");
  tk_semihost_exit();
  return 0;
}}
"""


def parse_outputs(text: str, n: int, nbytes: int) -> np.ndarray:
    """The ``out I HEX`` lines of the harness main as an (n, nbytes) int8 array."""
    lines = text.splitlines()
    assert "done" in lines, f"firmware did not finish:\n{text[-2000:]}"
    got = [ln.split() for ln in lines if ln.startswith("out ")]
    assert [int(g[1]) for g in got] == list(range(n)), text[-2000:]
    for g in got:
        assert len(g) == 3 and len(g[2]) == 2 * nbytes, f"malformed line: {' '.join(g)[:80]}"
    return np.stack([np.frombuffer(bytes.fromhex(g[2]), dtype=np.int8) for g in got])


def build_elf(gen_dir: Path | None, work: Path, main_c: str, *, cpu: str = "cortex-m4",
              opt: str = "-Os", extra_sources: Sequence[Path] = (),
              defines: Sequence[str] = (), name: str = "") -> Path:
    """Compile gen_dir/model.c + runtime (or, gen_dir None, the kernels only) + QEMU
    HAL + main_c into work/<cpu><name>.elf (``-Wall -Wextra -Werror``, each of
    ``defines`` as ``-D``, e.g. ``TK_NO_DSP``); returns the ELF path."""
    if cpu not in CORES:
        raise ValueError(f"cpu must be one of {sorted(CORES)}, got {cpu!r}")
    fw = firmware_dir()
    work.mkdir(parents=True, exist_ok=True)
    main = work / f"main_{cpu}{name}.c"
    main.write_text(main_c)
    elf = work / f"{cpu}{name}.elf"
    # without a model, no protocol code either (it calls the model API)
    model, runtime = ([], kernel_sources()) if gen_dir is None else ([gen_dir / "model.c"],
                                                                      runtime_sources())
    srcs = [main, *model, *extra_sources, *runtime,
            fw / "hal" / "qemu" / "tk_hal_qemu.c", fw / "hal" / "qemu" / "tk_startup_qemu.c"]
    includes = [] if gen_dir is None else [f"-I{gen_dir}"]
    includes += [f"-I{work}", *(f"-I{d}" for d in runtime_include_dirs())]
    cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=hard",
           f"-mfpu={CORES[cpu][1]}", "-std=c99", opt, "-Wall", "-Wextra", "-Werror",
           "-ffunction-sections", "-fdata-sections", *(f"-D{d}" for d in defines),
           *includes, *map(str, srcs),
           "-T", str(fw / "platform" / "ldscripts" / CORES[cpu][2]), "-nostartfiles",
           "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"arm-none-eabi-gcc failed:\n{done.stderr}")
    return elf


def disassembly(elf: Path) -> str:
    """``arm-none-eabi-objdump -d`` of the ELF."""
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                          text=True, check=True).stdout


def elf_size(elf: Path) -> tuple[int, int, int]:
    """(text, data, bss) bytes from arm-none-eabi-size."""
    line = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[1].split()
    return int(line[0]), int(line[1]), int(line[2])


def device_counts(out: str, name: str) -> dict[str, int]:
    """The ``key number`` lines a bench firmware printed (SysTick counts, 0/1 flags);
    an ``error ...`` line raises ``RuntimeError`` naming ``name``."""
    result: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "error":
            raise RuntimeError(f"{name}: the device said {line!r}")
        if len(parts) == 2 and parts[1].isdigit():
            result[parts[0]] = int(parts[1])
    return result


def run_qemu(elf: Path, cpu: str = "cortex-m4", *, icount: bool = True,
             timeout: float = 120.0) -> str:
    """Run the ELF on the QEMU machine of ``cpu`` until it exits through
    semihosting; returns the UART output. With ``icount`` one instruction is
    1 ns of virtual time (deterministic timing). The process is killed on a
    timeout (``subprocess.TimeoutExpired`` is raised) and on any error."""
    cmd = ["qemu-system-arm", "-machine", CORES[cpu][0], "-cpu", cpu, "-kernel", str(elf),
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
           "-semihosting-config", "enable=on,target=native"]
    if icount:
        cmd += ["-icount", "shift=0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, errs = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"qemu-system-arm exited with {proc.returncode}: {errs.strip()}")
    return out


# Stack painting for a harness main.c (after SEMIHOST_EXIT_C): tk_stack_paint() fills
# the free stack below its caller's frame with a pattern; after the code under test
# ran, tk_stack_peak(sp) is how far below ``sp`` (the caller's stack pointer when it
# called that code) any word was written. The linker scripts export _sstack.
STACK_PAINT_C = r"""
#define TK_PAINT 0xC5A5A5C5u
extern uint32_t _sstack;
static inline uint32_t tk_sp(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}
__attribute__((noinline)) static void tk_stack_paint(void) {
  uint32_t *p = &_sstack;
  uint32_t *end = (uint32_t *)(tk_sp() - 32u);
  while (p < end) *p++ = TK_PAINT;
}
static uint32_t tk_stack_peak(uint32_t sp) {
  const uint32_t *p = &_sstack;
  while (p < (const uint32_t *)sp && *p == TK_PAINT) ++p;
  return sp - (uint32_t)p;
}
"""
