"""The stack in the RAM figure: the static call-graph figure of
tinykit.analyze.stack against the peak the firmware really uses, measured by
painting the stack on QEMU (the bare-metal harness, -Os as the firmware)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from arm_harness import SEMIHOST_EXIT_C, STACK_PAINT_C, build_elf, run_qemu

from tinykit.analyze.stack import EXCEPTION_FRAME_BYTES, deepest, kernel_stack, parse_callgraph
from tinykit.codegen.api import generate, write_files
from tinykit.graph import load_tflite

pytestmark = pytest.mark.emu  # QEMU

FIXTURES = Path(__file__).parent / "fixtures"

# Runs the model once without and once with per-layer timing (the protocol's
# --layers path calls the HAL clock too), each on a freshly painted stack.
PAINT_MAIN = SEMIHOST_EXIT_C + STACK_PAINT_C + r"""
#include "model.h"

static uint32_t layer_us[TK_MODEL_N_LAYERS];

__attribute__((noinline)) static uint32_t run(uint32_t *times) {
  uint32_t sp = tk_sp();
  tk_stack_paint();
  if (tk_model_invoke(times) != TK_OK) put("invoke failed\n");
  return tk_stack_peak(sp);
}

int main(void) {
  uint32_t i, seed = 7u;
  uint8_t *in;
  tk_hal_init();
  if (tk_model_init() != TK_OK) put("init failed\n");
  in = (uint8_t *)tk_model_input();
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (uint8_t)(seed >> 16);
  }
  put("stack "); put_u32(run(NULL)); put("\n");
  put("stack_layers "); put_u32(run(layer_us)); put("\n");
  tk_semihost_exit();
  return 0;
}
"""


def painted_peak(model: Path, cpu: str, work: Path) -> tuple[int, int]:
    """(peak stack bytes below tk_model_invoke's caller, the static figure)."""
    data = model.read_bytes()
    gen = generate(load_tflite(model), data, model_file=model.name)
    write_files(gen, work / "gen")
    elf = build_elf(work / "gen", work, PAINT_MAIN, cpu=cpu, opt="-Os")
    out = run_qemu(elf, cpu, icount=True, timeout=300)
    peaks = [int(v) for v in re.findall(r"^stack\w* (\d+)$", out, re.M)]
    assert len(peaks) == 2, out
    return max(peaks), kernel_stack(gen.files, cpu).bytes


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m33"])  # the M7: the M4's ISA
@pytest.mark.parametrize("name", ["ds_cnn", "mobilenet", "resnet", "autoencoder"])
def test_static_stack_covers_the_painted_peak(name: str, cpu: str, tmp_path: Path) -> None:
    peak, static = painted_peak(FIXTURES / f"{name}.tflite", cpu, tmp_path)
    assert peak > 64  # the kernels did run on the painted stack
    assert static >= peak, f"{name} {cpu}: static {static} B < painted {peak} B"
    # and close: the static figure only adds the interrupt allowance and call slack
    assert static - peak <= EXCEPTION_FRAME_BYTES + 512, (static, peak)


@pytest.mark.host  # arm-none-eabi-gcc only
@pytest.mark.parametrize(("protocol", "source"), [("tinykit", "tk_protocol.c"), ("eembc", "tk_eembc.c")])
def test_protocol_ram_covers_the_link_code(protocol: str, source: str, tmp_path: Path) -> None:
    """build's RAM figure adds PROTOCOL_RAM_BYTES: never under the link code's static RAM
    (.data + .bss) + its deepest frame chain (at most 4 frames of its largest)."""
    from tinykit.project.api import PROTOCOL_RAM_BYTES
    from tinykit.toolchain import link_sources, runtime_include_dirs

    src = next(p for p in link_sources() if p.name == source)
    gen = generate(load_tflite(FIXTURES / "ds_cnn.tflite"), b"x")
    write_files(gen, tmp_path)
    obj = tmp_path / "link.o"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99",
                    "-fstack-usage", f"-I{tmp_path}", *(f"-I{d}" for d in runtime_include_dirs()),
                    "-c", str(src), "-o", str(obj)], check=True, capture_output=True, cwd=tmp_path)
    size = subprocess.run(["arm-none-eabi-size", str(obj)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[1].split()
    frames = [int(ln.split("\t")[1]) for ln in (tmp_path / "link.su").read_text().splitlines()]
    assert int(size[1]) + int(size[2]) + 4 * max(frames) <= PROTOCOL_RAM_BYTES[protocol]


@pytest.mark.unit
def test_callgraph_of_gcc_output_format() -> None:
    """The .ci text GCC 12 writes (static functions titled file:name, an indirect call
    placeholder, an external callee without a frame)."""
    ci = "\n".join([
        'graph: { title: "k.c"',
        'node: { title: "k.c:row" label: "row\\nk.c:3:13\\n40 bytes (static)" }',
        'node: { title: "tk_k_s8" label: "tk_k_s8\\nk.c:9:10\\n32 bytes (static)" }',
        'node: { title: "tk_walk" label: "tk_walk\\nh.h:1:6" shape : ellipse }',
        'edge: { sourcename: "tk_k_s8" targetname: "tk_walk" label: "k.c:10:3" }',
        "}",
        'graph: { title: "w.c"',
        'node: { title: "tk_walk" label: "tk_walk\\nw.c:5:6\\n24 bytes (static)" }',
        'node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }',
        'edge: { sourcename: "tk_walk" targetname: "__indirect_call" label: "w.c:7:5" }',
        "}",
        'graph: { title: "model.c"',
        'node: { title: "tk_model_invoke" label: "tk_model_invoke\\nmodel.c:1:10\\n16 bytes (static)" }',
        'edge: { sourcename: "tk_model_invoke" targetname: "tk_k_s8" label: "model.c:2:3" }',
        'edge: { sourcename: "tk_model_invoke" targetname: "memcpy" label: "model.c:3:3" }',
        "}"])
    g = parse_callgraph([ci])
    assert g.frames == {"k.c:row": 40, "tk_k_s8": 32, "tk_walk": 24, "tk_model_invoke": 16}
    assert deepest(g) == (16 + 32 + 24 + 40, ("tk_model_invoke", "tk_k_s8", "tk_walk", "k.c:row"))


@pytest.mark.unit
def test_build_budget_counts_arena_stack_and_protocol(ds_cnn) -> None:  # noqa: ANN001
    from tinykit.analyze.api import AnalyzeConfig, analyze
    from tinykit.boards import get_board
    from tinykit.project.api import PROTOCOL_INPUT_COPIES, PROTOCOL_RAM_BYTES, with_protocol

    board = get_board("qemu-m4")
    a = analyze(ds_cnn.tflite, AnalyzeConfig(board), name="ds_cnn")
    assert a.memory.ram_bytes == a.memory.aot_ram_bytes + a.memory.stack_bytes
    built = with_protocol(a, board, "tinykit", 490)
    m = built.memory
    assert m.ram_bytes == m.aot_ram_bytes + m.stack_bytes + PROTOCOL_RAM_BYTES["tinykit"]
    assert (built.ram.used, built.ram.budget) == (m.ram_bytes, board.memory.ram_budget)
    eembc = with_protocol(a, board, "eembc", 490).memory.protocol_bytes
    assert eembc == PROTOCOL_RAM_BYTES["eembc"] + PROTOCOL_INPUT_COPIES["eembc"] * 490
