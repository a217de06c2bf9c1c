"""The AOT runtime's stack: the deepest call chain below ``tk_model_invoke``.

The arena holds the activations; the kernels' locals, saved registers and the
calls between them live on the stack (up to about 1-2 KiB), so the RAM a model
needs is arena + this stack (+ the serial protocol's buffers in a built firmware).

Measured (``method`` "static"): the generated model.c and the kernels it uses are
compiled with arm-none-eabi-gcc as the firmware is (-Os, the board's -mcpu) plus
``-fcallgraph-info=su``; each function's frame (GCC's ``-fstack-usage`` figure:
locals, spills and pushed registers) and the call edges give the worst path from
``tk_model_invoke``. An indirect call (the broadcast helper's row function) costs
the deepest function in the source file of the kernel that passed it; a function
outside the compiled sources (libc,
libgcc, the HAL) costs :data:`EXTERNAL_FRAME_BYTES`; one exception frame with FP
context (:data:`EXCEPTION_FRAME_BYTES`: the SysTick interrupt may fire during an
inference) is added on top. A board without a Cortex-M core (ESP32-S3) is
approximated by the Cortex-M4 build of its code paths (``-DTK_NO_DSP``: the
portable kernels, int16 windows). tests/test_stack.py paints the stack on QEMU and
checks the figure is never under the peak the firmware really uses.

Estimated (no compiler, or a frame GCC cannot bound): :data:`STACK_ESTIMATE_BYTES`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# an upper bound of the kernels' stack when it cannot be computed (the static figures of
# the fixture models: 0.3-1.8 KiB on Cortex-M, up to 3.3 KiB on the portable paths)
STACK_ESTIMATE_BYTES = 4096
# a call into code not compiled here (memcpy, libgcc helpers, the HAL's clock)
EXTERNAL_FRAME_BYTES = 64
# an interrupt during an inference: 26 words of exception frame with FP context + the
# handler's own push (SysTick: a leaf incrementing a counter)
EXCEPTION_FRAME_BYTES = 112
ROOT = "tk_model_invoke"
INDIRECT = "__indirect_call"

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"\\]*\\n([^"\\]*)\\n(\d+) bytes \(([^)]*)\)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


@dataclass(frozen=True)
class StackFigure:
    bytes: int
    method: str  # "static" | "estimated"
    detail: str
    path: tuple[str, ...] = ()  # the deepest call chain (static)


@dataclass(frozen=True)
class CallGraph:
    frames: dict[str, int]  # frame bytes per function
    calls: dict[str, set[str]]  # callees per function
    files: dict[str, str]  # source file per function
    unbounded: frozenset[str]  # functions GCC could not bound (a dynamic frame)


def parse_callgraph(texts: Iterable[str]) -> CallGraph:
    """The call graph of the ``.ci`` files of ``-fcallgraph-info=su``. Static
    functions are titled ``file:name`` there.

    >>> ci = ('node: { title: "f" label: "f\\\\na.c:1:5\\\\n24 bytes (static)" }\\n'
    ...       'node: { title: "a.c:g" label: "g\\\\na.c:9:5\\\\n8 bytes (dynamic,bounded)" }\\n'
    ...       'edge: { sourcename: "f" targetname: "a.c:g" label: "a.c:2:3" }')
    >>> g = parse_callgraph([ci])
    >>> g.frames, g.calls, g.files["a.c:g"], g.unbounded
    ({'f': 24, 'a.c:g': 8}, {'f': {'a.c:g'}}, 'a.c', frozenset())
    """
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    files: dict[str, str] = {}
    unbounded: set[str] = set()
    for text in texts:
        for name, where, size, kind in _NODE.findall(text):
            frames[name] = max(frames.get(name, 0), int(size))
            files[name] = where.rsplit(":", 2)[0]
            if "dynamic" in kind and "bounded" not in kind:
                unbounded.add(name)
        for src, dst in _EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return CallGraph(frames, calls, files, frozenset(unbounded))


def deepest(graph: CallGraph, root: str = ROOT) -> tuple[int, tuple[str, ...]]:
    """(bytes, chain) of the deepest path from ``root``: the frame of each function
    on it, :data:`EXTERNAL_FRAME_BYTES` for a callee not compiled. An indirect call
    (the broadcast helper calling the row function the kernel passed it) costs the
    deepest function, in the source files of the kernels that called the helper,
    that cannot itself reach an indirect call. A recursive cycle is an error (the
    kernels never recurse).

    >>> g = CallGraph({"r": 16, "a": 40, "b": 8}, {"r": {"a", "b"}, "a": {"memcpy"}}, {}, frozenset())
    >>> deepest(g, "r")
    (120, ('r', 'a', 'memcpy'))
    >>> g = CallGraph({"r": 16, "k": 40, "h": 8, "row": 24, "other": 500},
    ...               {"r": {"k"}, "k": {"h"}, "h": {"__indirect_call"}},
    ...               {"k": "k.c", "row": "k.c", "h": "h.c", "other": "o.c"}, frozenset())
    >>> deepest(g, "r")
    (88, ('r', 'k', 'h', 'row'))
    """
    frames, calls = graph.frames, graph.calls
    reaching = {INDIRECT}
    grew = True
    while grew:  # every function that reaches an indirect call
        more = {f for f, callees in calls.items() if callees & reaching}
        grew = not more <= reaching
        reaching |= more
    memo: dict[str, tuple[int, tuple[str, ...]]] = {}
    active: set[str] = set()
    caller_files: list[str] = []  # files of the kernels on the current path

    def depth(f: str) -> tuple[int, tuple[str, ...]]:
        if f == INDIRECT:
            targets = [g for g in frames if g not in reaching
                       and graph.files.get(g) in caller_files]
            return max((depth(g) for g in targets), default=(EXTERNAL_FRAME_BYTES, ("?",)))
        if f not in frames:
            return EXTERNAL_FRAME_BYTES, (f,)
        if f in memo and f not in reaching:
            return memo[f]
        if f in active:
            raise ValueError(f"recursive call through {f}")
        active.add(f)
        caller_files.append(graph.files.get(f, ""))
        below = max((depth(g) for g in calls.get(f, ())), default=(0, ()))
        caller_files.pop()
        active.discard(f)
        memo[f] = (frames[f] + below[0], (f, *below[1]))
        return memo[f]

    return depth(root)


def _short(name: str) -> str:
    return name.rsplit(":", 1)[-1]


@lru_cache(maxsize=32)
def _static_stack(model_c: str, model_h: str, cpu: str, fpu_flags: tuple[str, ...],
                  defines: tuple[str, ...]) -> StackFigure:
    from tinykit.toolchain import kernel_sources, runtime_include_dirs

    with tempfile.TemporaryDirectory(prefix="tinykit-stack-") as tmp:
        d = Path(tmp)
        (d / "model.c").write_text(model_c)
        (d / "model.h").write_text(model_h)
        called = set(re.findall(r"\b(tk_[a-z0-9_]+)\s*\(", model_c))
        srcs = [d / "model.c", *(s for s in kernel_sources()
                                 if called & set(re.findall(r"\b(tk_[a-z0-9_]+)\s*\(", s.read_text()))
                                 or s.stem == "tk_broadcast")]
        cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", *fpu_flags, "-std=c99", "-Os",
               *(f"-D{d}" for d in defines),
               "-ffunction-sections", "-fdata-sections", "-fcallgraph-info=su", "-c",
               f"-I{d}", *(f"-I{p}" for p in runtime_include_dirs()), *map(str, srcs)]
        done = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
        if done.returncode != 0:
            first = next((ln for ln in done.stderr.splitlines() if "error" in ln), "compile failed")
            return StackFigure(STACK_ESTIMATE_BYTES, "estimated",
                               f"upper-bound estimate (the stack could not be computed: {first})")
        graph = parse_callgraph(p.read_text() for p in d.glob("*.ci"))
    unbounded = graph.unbounded
    if unbounded:
        return StackFigure(STACK_ESTIMATE_BYTES, "estimated",
                           f"upper-bound estimate ({', '.join(sorted(map(_short, unbounded)))} "
                           f"has a dynamic frame)")
    total, chain = deepest(graph)
    chain_text = " > ".join(_short(f) for f in chain)
    return StackFigure(total + EXCEPTION_FRAME_BYTES, "static",
                       f"deepest call chain {chain_text} ({total} B, arm-none-eabi-gcc -Os "
                       f"-mcpu={cpu}{''.join(' -D' + d for d in defines)} -fcallgraph-info=su) "
                       f"+ {EXCEPTION_FRAME_BYTES} B for an "
                       f"interrupt", tuple(_short(f) for f in chain))


FPU_FLAGS = {"cortex-m4": ("-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
             "cortex-m7": ("-mfloat-abi=hard", "-mfpu=fpv5-d16"),
             "cortex-m33": ("-mfloat-abi=hard", "-mfpu=fpv5-sp-d16")}


def kernel_stack(files: dict[str, str], cpu: str, measure: bool = True,
                 portable: bool = False) -> StackFigure:
    """The stack of ``tk_model_invoke`` for generated ``files`` (model.c, model.h)
    on ``cpu`` (a -mcpu value; ``portable``: the kernels' portable paths, for a core
    that is not a Cortex-M): static when ``measure`` and arm-none-eabi-gcc is
    installed, else :data:`STACK_ESTIMATE_BYTES`."""
    if not measure or shutil.which("arm-none-eabi-gcc") is None:
        why = "arm-none-eabi-gcc not installed" if measure else "not measured"
        return StackFigure(STACK_ESTIMATE_BYTES, "estimated", f"upper-bound estimate ({why})")
    return _static_stack(files["model.c"], files["model.h"], cpu,
                         FPU_FLAGS.get(cpu, ("-mfloat-abi=soft",)),
                         ("TK_NO_DSP",) if portable else ())
