"""Compile generated C (a leaf module; analyze, verify and the tests use it): the
runtime's sources and include folders, the host binary (gcc, with the verify
harness in tinykit/verify/harness.c) and the flash measurement
(arm-none-eabi-gcc + arm-none-eabi-size)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tinykit.errors import CodegenError, ToolError
from tinykit.resources import firmware_dir

HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
ARM_FLAGS = ["-std=c99", "-Os", "-mthumb", "-Wall", "-Wextra", "-Werror",
             "-ffunction-sections", "-fdata-sections"]
APT_HINT = "sudo apt-get install -y gcc gcc-arm-none-eabi libnewlib-arm-none-eabi"
HARNESS = Path(__file__).with_name("verify") / "harness.c"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolError(f"{tool} is not installed", hint=APT_HINT)
    return path


def kernel_sources() -> list[Path]:
    """The kernels, one file per op family (firmware/src/kernels/*.c)."""
    return sorted((firmware_dir() / "src" / "kernels").glob("*.c"))


def link_sources() -> list[Path]:
    """The serial protocols and their helpers (firmware/src/link/*.c)."""
    return sorted((firmware_dir() / "src" / "link").glob("*.c"))


def runtime_sources() -> list[Path]:
    """The whole C runtime: kernels, then link code."""
    return kernel_sources() + link_sources()


def runtime_include_dirs() -> list[Path]:
    """Include folders of the runtime: the public header, then the internal
    headers of the kernels (tk_kernels.h) and of the link code (tk_crc.h)."""
    fw = firmware_dir()
    return [fw / "include", fw / "src" / "kernels", fw / "src" / "link"]


def _includes(gen_dir: Path) -> list[str]:
    return [f"-I{gen_dir}", *(f"-I{d}" for d in runtime_include_dirs())]


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what} did not finish within 600 s") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if "error" in ln] or proc.stderr.splitlines()
        first = lines[0].strip() if lines else f"exit code {proc.returncode}"
        raise CodegenError(f"{what} failed: {first}")
    return proc.stdout


def build_host(gen_dir: Path, out: Path, *, dump: bool = False) -> Path:
    """Compile model.c + the kernels (as a library: only what the model uses is
    linked) + the harness into an executable."""
    gcc = require("gcc")
    ar = require("ar")
    obj_dir = out.parent / (out.name + ".obj")
    obj_dir.mkdir(parents=True, exist_ok=True)
    flags = HOST_FLAGS + _includes(gen_dir) + (["-DTK_DUMP_TENSORS"] if dump else [])
    objs = []
    for src in kernel_sources():
        obj = obj_dir / (src.stem + ".o")
        _run([gcc, *flags, "-c", str(src), "-o", str(obj)], f"gcc {src.name}")
        objs.append(str(obj))
    lib = obj_dir / "libtkrt.a"
    lib.unlink(missing_ok=True)
    if objs:
        _run([ar, "rcs", str(lib), *objs], "ar")
    cmd = [gcc, *flags, str(gen_dir / "model.c"), str(HARNESS), "-o", str(out)]
    _run(cmd + ([str(lib)] if objs else []) + ["-lm"], "gcc model.c (host)")
    return out


_STUB = """#include "tinykit.h"
uint32_t tk_hal_micros(void) { return 0; }
"""


def arm_flash_bytes(gen_dir: Path, work: Path, cpu: str = "cortex-m4") -> int | None:
    """text + data of the model and the runtime parts it uses, linked for a Cortex-M with
    unused sections dropped; None when arm-none-eabi-gcc is missing."""
    gcc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if gcc is None or size is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    stub = work / "tk_stub_hal.c"
    stub.write_text(_STUB)
    elf = work / "model.elf"
    roots = ["tk_model_invoke", "tk_model_info", "tk_model_input", "tk_model_output",
             "tk_model_init"]
    cmd = [gcc, f"-mcpu={cpu}", *ARM_FLAGS, *_includes(gen_dir), str(gen_dir / "model.c"),
           str(stub), *[str(s) for s in kernel_sources_used(gen_dir)],
           "-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections", "-Wl,-e,tk_model_invoke",
           *[f"-Wl,-u,{r}" for r in roots], "-o", str(elf)]
    _run(cmd, f"arm-none-eabi-gcc -mcpu={cpu}")
    text = _run([size, "-A", str(elf)], "arm-none-eabi-size")
    total = 0
    for name, n in re.findall(r"^(\.\S+)\s+(\d+)", text, flags=re.M):
        if name.startswith((".text", ".rodata", ".data")):
            total += int(n)
    return total


_CALL = re.compile(r"\b(tk_\w+)\s*\(")
_DEFINITION = re.compile(r"^\w[\w\s\*]*?\b(tk_\w+)\s*\(", flags=re.M)


def kernel_sources_used(gen_dir: Path) -> list[Path]:
    """Kernel sources defining a tk_ function that model.c calls, directly or
    through another kernel source (e.g. tk_add.c -> tk_broadcast.c)."""
    texts = {src: src.read_text() for src in kernel_sources()}
    called = set(_CALL.findall((gen_dir / "model.c").read_text()))
    used: list[Path] = []
    grew = True
    while grew:
        grew = False
        for src, text in texts.items():
            if src not in used and set(_DEFINITION.findall(text)) & called:
                used.append(src)
                called |= set(_CALL.findall(text))
                grew = True
    return sorted(used)
