"""Render a complete PlatformIO project (plain data: relative path -> bytes).
Same inputs give byte-identical files: no timestamps, sorted listings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from tinykit import __version__
from tinykit.boards import Board
from tinykit.cgen import banner, c_array, c_literal, c_string
from tinykit.errors import ProjectError
from tinykit.graph import Graph, Tensor, model_hash
from tinykit.project.layout import TFLM_ARENA_MARGIN_PCT, layout_for, resolver_calls
from tinykit.resources import firmware_dir, templates_dir

RUNTIMES = ("aot", "tflm")
PROTOCOLS = {"tinykit": "tk_protocol", "eembc": "tk_eembc"}
ARENAS = ("sram", "psram")

_TK_TYPES = {"int8": "TK_INT8", "float32": "TK_FLOAT32", "int32": "TK_INT32", "int16": "TK_INT16",
             "uint8": "TK_UINT8"}


@dataclass(frozen=True)
class ProjectSpec:
    """Everything a project is rendered from."""

    graph: Graph
    model_bytes: bytes
    model_file: str  # name shown in banners and README
    board: Board
    runtime: str = "aot"
    protocol: str = "tinykit"
    arena: str = "sram"
    tflm_arena_bytes: int = 0  # measured, for --runtime tflm
    dir_hint: str = "."
    eembc_task: str = "auto"  # --protocol eembc: an MLPerf Tiny task key, or auto-detect


@dataclass(frozen=True)
class RenderedProject:
    files: dict[str, bytes]
    ram_bytes: int  # model RAM (AOT arena + scratch, or TFLM arena with margin)
    flash_bytes: int  # model constants (AOT) or model bytes (TFLM); code excluded
    notes: tuple[str, ...] = field(default=())
    eembc_task: str | None = None  # --protocol eembc: the MLPerf Tiny task key (None: no task)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "project")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def tensor_info_init(t: Tensor) -> str:
    """A TkTensorInfo initializer for a tensor."""
    dims = list(t.shape) + [0] * (5 - len(t.shape))
    scale = t.quant.scale[0] if t.quant else 0.0
    zp = t.quant.zero_point[0] if t.quant else 0
    return (f"{{{len(t.shape)}, {{{', '.join(str(d) for d in dims[:5])}}}, {t.nbytes}u, "
            f"{_TK_TYPES.get(t.dtype, 'TK_INT8')}, {c_literal(scale, 'float')}, {zp}}}")


def model_info_init(graph: Graph, model_bytes: bytes, runtime: str, arena_bytes: int) -> str:
    """A TkModelInfo initializer."""
    return (f"{{{c_string(graph.name)}, {c_string(model_hash(model_bytes))}, {c_string(runtime)}, "
            f"{arena_bytes}u, {len(graph.ops)}u, {tensor_info_init(graph.input_tensors[0])}, "
            f"{tensor_info_init(graph.output_tensors[0])}}}")


def _runtime_sources() -> dict[str, bytes]:
    """The C runtime (the public header, firmware/src/kernels/ and
    firmware/src/link/), copied flat into src/: PlatformIO (and the Arduino
    builders) compile src/ recursively but put only src/ itself on the include
    path, and generated model.c includes "tk_kernels.h"."""
    fw = firmware_dir()
    files = {"src/tinykit.h": (fw / "include" / "tinykit.h").read_bytes()}
    for folder in ("kernels", "link"):
        for path in sorted((fw / "src" / folder).glob("*")):
            if path.suffix not in (".c", ".h"):
                continue
            rel = f"src/{path.name}"
            if rel in files:
                raise ProjectError(f"two runtime files are named {path.name}; reinstall tinykit")
            files[rel] = path.read_bytes()
    return files


def _hal_sources(hal: str) -> dict[str, bytes]:
    folder = firmware_dir() / "hal" / hal
    if not folder.is_dir():
        raise ProjectError(f"the {hal} HAL is missing from {folder}; reinstall tinykit")
    return {f"src/{p.name}": p.read_bytes() for p in sorted(folder.iterdir())
            if p.suffix in (".c", ".cpp", ".h", ".s", ".S")}


def _ini_quote(text: str) -> str:
    """A -D string value for platformio.ini build_flags."""
    return '\\"' + text.replace('"', "") + '\\"'


def _eembc_main(graph: Graph, requested: str, notes: list[str]) -> tuple[str, str, str | None]:
    """(globals, setup, task key) of main for --protocol eembc: the db buffer the runner's
    bytes land in (it survives repeated inferences) and the MLPerf Tiny task."""
    from tinykit.project.eembc import resolve_task

    task, note = resolve_task(graph, requested)
    notes.append(note)
    n = graph.input_tensors[0].nbytes
    if task is None:
        return f"static uint8_t tk_eembc_db[{n}];\n\n", f"  tk_eembc_set_buffer(tk_eembc_db, {n}u);\n", None
    db = task.db_bytes(n)
    globals_ = f"static uint8_t tk_eembc_db[{db}];\n"
    quantized = "NULL"
    if task.input == "float32":
        globals_ += f"static int8_t tk_eembc_quantized[{n}];\n"
        quantized = "tk_eembc_quantized"
    globals_ += (f"static const TkEembcTask tk_eembc_task = {{{c_string(task.key)}, {task.c_input}, "
                 f"{task.c_output}, tk_eembc_db, {db}u, {quantized}}};\n\n")
    return globals_, "  tk_eembc_set_task(&tk_eembc_task);\n", task.key


def render_project(spec: ProjectSpec) -> RenderedProject:
    if spec.runtime not in RUNTIMES:
        raise ProjectError(f"unknown runtime {spec.runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if spec.protocol not in PROTOCOLS:
        raise ProjectError(f"unknown protocol {spec.protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if spec.arena not in ARENAS:
        raise ProjectError(f"unknown arena placement {spec.arena!r}; expected sram or psram")
    board = spec.board
    layout = layout_for(board.platformio.platform)
    if spec.runtime == "tflm" and layout.tflm_lib is None:
        raise ProjectError(f"--runtime tflm cannot be built for {board.id}: the emulated boards "
                           "have no TFLM library (TFLM's C++ sources are not shipped for them), so a "
                           "model outside the AOT op set cannot be HIL-tested on QEMU",
                           hint="use --runtime aot, or --runtime tflm with a real board")
    if spec.arena == "psram" and not board.memory.psram_bytes:
        raise ProjectError(f"--arena psram: {board.id} has no PSRAM",
                           hint="drop --arena psram to keep the arena in internal SRAM")

    env = _env()
    src_banner = banner({"model": spec.model_file, "model hash": model_hash(spec.model_bytes),
                         "board": board.id, "runtime": spec.runtime})
    files: dict[str, bytes] = {}
    files.update(_runtime_sources())
    files.update(_hal_sources(layout.hal))
    notes: list[str] = []
    op_kinds = sorted({op.kind for op in spec.graph.ops})

    if spec.runtime == "aot":
        from tinykit.codegen import generate

        gen = generate(spec.graph, spec.model_bytes)
        for name, text in sorted(gen.files.items()):
            files[f"src/{name}"] = text.encode()
        ram, flash = gen.ram_bytes, gen.const_bytes
    else:
        if spec.tflm_arena_bytes <= 0:
            raise ProjectError("--runtime tflm: TFLM's arena for this model is unknown (TFLM could not run it)",
                               hint="check `tinykit analyze MODEL --runtime tflm`")
        arena = -(-spec.tflm_arena_bytes * (100 + TFLM_ARENA_MARGIN_PCT) // 100 // 16) * 16
        data = np.frombuffer(spec.model_bytes, dtype=np.uint8)
        files["src/model_data.h"] = env.get_template("model_data.h.j2").render(
            banner=src_banner, size=len(data)).encode()
        files["src/model_data.c"] = env.get_template("model_data.c.j2").render(
            banner=src_banner,
            array=c_array("tk_model_data", data, "uint8_t", static=False, align=16),
        ).encode()
        files["src/tk_model_tflm.cpp"] = env.get_template("model_tflm.cpp.j2").render(
            banner=src_banner, tflm_header=layout.tflm_header, arena_bytes=arena,
            measured_arena=spec.tflm_arena_bytes, margin_pct=TFLM_ARENA_MARGIN_PCT,
            resolver_calls=resolver_calls(op_kinds),
            model_info=model_info_init(spec.graph, spec.model_bytes, "tflm", arena),
        ).encode()
        ram, flash = arena, len(spec.model_bytes)
        notes.append(f"TFLM comes from the PlatformIO library `{layout.tflm_lib}` (pinned); this "
                     "path is compiled on your machine, not in tinykit's CI.")

    proto = PROTOCOLS[spec.protocol]
    globals_, setup, eembc_task = "", "", None
    if spec.protocol == "eembc":
        globals_, setup, eembc_task = _eembc_main(spec.graph, spec.eembc_task, notes)
    elif spec.eembc_task != "auto":
        raise ProjectError(f"--eembc-task {spec.eembc_task} needs --protocol eembc")
    files[f"src/{layout.main_file}"] = env.get_template(layout.main_template).render(
        banner=src_banner, proto=proto, globals=globals_, setup=setup).encode()

    build_flags = [f"-DTK_BOARD_ID={_ini_quote(board.id)}",
                   f"-DTK_SERIAL_BAUD={board.platformio.monitor_speed}"]
    extra: list[tuple[str, str]] = []
    upload_command = None
    if board.emulated:
        from tinykit.pio.api import platform_dir, qemu_upload_command

        upload_command = qemu_upload_command(board.id)
    if spec.arena == "psram":
        # the generated arena (tk_arena, tk_tflm_arena) takes TK_ARENA_ATTR: with
        # TK_ARENA_IN_PSRAM that is esp_attr.h's external-RAM .bss section attribute
        build_flags += ["-DBOARD_HAS_PSRAM", "-DTK_ARENA_IN_PSRAM=1",
                        "-DCONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY=1"]
        extra += [("board_build.arduino.memory_type", "qio_opi")]
        notes.append("The arena is in PSRAM (--arena psram): it fits larger models but every "
                     "access is several times slower than internal SRAM.")
    platform = board.platformio.platform
    if board.emulated:
        platform = str(platform_dir())

    ini = env.get_template("platformio.ini.j2").render(
        banner_ini=f"Generated by tinykit {__version__} - do not edit (model {spec.model_file}, "
                   f"hash {model_hash(spec.model_bytes)}, board {board.id}, runtime {spec.runtime})",
        dir_hint=spec.dir_hint, board=board, env_name=board.id, platform=platform,
        framework=layout.framework, upload_command=upload_command, build_flags=build_flags,
        build_unflags=[], extra_options=extra,
        lib_deps=[layout.tflm_lib] if spec.runtime == "tflm" else [],
    )
    files["platformio.ini"] = ini.encode()
    files["README.md"] = env.get_template("README.md.j2").render(
        model_name=spec.graph.name, board=board, version=__version__, model_file=spec.model_file,
        model_hash=model_hash(spec.model_bytes), runtime=spec.runtime, protocol=spec.protocol,
        ram_bytes=ram, flash_bytes=flash, ops=op_kinds, notes=notes,
    ).encode()
    files[f"model/{Path(spec.model_file).stem}.tflite"] = spec.model_bytes
    return RenderedProject(dict(sorted(files.items())), ram, flash, tuple(notes), eembc_task)
