"""The AOT code generator: a parsed int8 graph -> ``model.c`` + ``model.h``
(no interpreter, no flatbuffer, one static arena planned at generation time).

:func:`generate` checks every op first (an unsupported op or version raises
:class:`~tinykit.errors.UnsupportedOpError`, exit 1, before anything is written), plans
the arena through :mod:`tinykit.plan` (in-place kernels alias their input), lets
each op's spec (:mod:`tinykit.ops`) emit its C, and renders the templates. Same
input, same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from tinykit.cgen import banner, c_comment, c_ident, c_literal, c_string
from tinykit.cgen import c_array as _c_array
from tinykit.errors import CodegenError, UnsupportedError, UnsupportedOpError
from tinykit.graph import Graph, Op, Tensor, model_hash
from tinykit.graph.islands import fold_islands
from tinykit.ops import SPECS, find_unsupported, unsupported_hint, unsupported_message
from tinykit.plan import Buffer, MemoryPlan, plan_arena
from tinykit.resources import templates_dir

_CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
          "float32": "float", "bool": "uint8_t"}  # bool: one byte, 0 or 1 (as TFLite)
_TKTYPE = {"int8": "TK_INT8", "float32": "TK_FLOAT32", "int32": "TK_INT32", "int16": "TK_INT16",
           "uint8": "TK_UINT8", "bool": "TK_UINT8"}
_SIZEOF = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
           "float": 4}


@dataclass(frozen=True)
class GeneratedModel:
    files: dict[str, str]  # file name -> text ("model.c", "model.h")
    arena_bytes: int  # the one static arena: activations and kernel scratch
    scratch_bytes: int  # the largest kernel scratch (inside the arena)
    ram_bytes: int  # RAM the model needs (= arena_bytes: scratch lives in the arena)
    plan: MemoryPlan
    const_bytes: int  # flash held by static const data (weights, params, LUTs)
    inplace_ops: tuple[int, ...] = ()  # op indices run in place
    unsupported: tuple[str, ...] = field(default=())  # always empty on success


def unsupported_ops(graph: Graph) -> list[str]:
    """One line per op the AOT runtime cannot run, naming layer, op, version and why."""
    return [str(u) for u in find_unsupported("aot", graph)]


class _Context:
    """The concrete :class:`~tinykit.ops.spec.EmitContext`."""

    def __init__(self, graph: Graph, plan: MemoryPlan, prefix: str) -> None:
        self.graph = graph
        self.plan = plan
        self.prefix = c_ident(prefix)
        self.op: Op | None = None
        self.const_decls: dict[int, str] = {}
        self._used: set[str] = set()

    def sym(self, op: Op, field: str) -> str:
        name = c_ident(self.prefix, f"l{op.index}", field)
        if name in self._used:
            raise CodegenError(f"symbol {name} generated twice (layer {op.index})")
        self._used.add(name)
        return name

    def ptr(self, tensor_index: int) -> str:
        t = self.graph.tensor(tensor_index)
        ctype = _CTYPE.get(t.dtype)
        if ctype is None:
            raise UnsupportedError(f"tensor {t.name!r} has type {t.dtype}, "
                                   "which the AOT runtime does not support")
        if t.is_const:
            name = c_ident(self.prefix, f"t{t.index}")
            if t.index not in self.const_decls:
                self.const_decls[t.index] = _c_array(name, t.array(), ctype, align=4)
            return name
        off = self.plan.offsets[tensor_index]
        if ctype == "int8_t":
            return f"(tk_arena + {off})"
        return f"(({ctype} *)(void *)(tk_arena + {off}))"

    def scratch(self) -> str:
        assert self.op is not None
        sid = -(self.op.index + 1)
        if sid not in self.plan.offsets:
            raise CodegenError(f"layer {self.op.index} asked for scratch it did not reserve")
        return f"(tk_arena + {self.plan.offsets[sid]})"


def _tensor_info(t: Tensor) -> str:
    dims = list(t.shape) + [0] * (5 - len(t.shape))
    scale = c_literal(t.quant.scale[0], "float") if t.quant else "0.0f"
    zp = t.quant.zero_point[0] if t.quant else 0
    return (f"{{{len(t.shape)}, {{{', '.join(str(d) for d in dims)}}}, {t.nbytes}u, "
            f"{_TKTYPE[t.dtype]}, {scale}, {zp}}}")


def _const_bytes(decls: list[str]) -> int:
    """Bytes of the static const arrays and structs in the declarations (arrays exactly,
    structs approximated by their field count x 4)."""
    total = 0
    for d in decls:
        for ctype, n in re.findall(r"static const (\w+) \w+\[(\d+)\]", d):
            total += _SIZEOF.get(ctype, 4) * int(n)
        if re.search(r"static const Tk\w+ \w+ = \{", d):
            total += 4 * d.count("\n  .")
    return total


def generate(graph: Graph, model_bytes: bytes, *, prefix: str = "tk",
             model_file: str | None = None) -> GeneratedModel:
    """Generate model.c/model.h for an int8 graph (see module doc)."""
    graph = fold_islands(graph)  # exact float islands run as one int8 table each
    problems = find_unsupported("aot", graph)
    if problems:  # a failed check (exit 1), the same line as analyze and build
        raise UnsupportedOpError(unsupported_message("aot", problems),
                                 hint=unsupported_hint("aot", graph.ops))
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedError(f"the AOT runtime needs one input and one output, the model has "
                               f"{len(graph.inputs)} and {len(graph.outputs)}")

    buffers, plan = plan_arena(graph)
    try:
        plan.check()
    except ValueError as exc:
        raise CodegenError(f"memory plan is invalid: {exc}") from None

    ctx = _Context(graph, plan, prefix)
    decls: list[str] = []
    layers = []
    for op in graph.ops:
        ctx.op = op
        try:
            emitted = SPECS[op.kind].emit(ctx, op)
        except (ValueError, AssertionError) as exc:
            raise CodegenError(f"layer {op.index} {graph.layer_name(op)!r} ({op.kind}): "
                               f"{exc}") from None
        decls.extend(emitted.decls)
        dumps = [{"index": i, "ptr": ctx.ptr(i), "bytes": graph.tensor(i).nbytes}
                 for i in op.outputs if not graph.tensor(i).is_const]
        layers.append({"index": op.index, "call": emitted.call, "dumps": dumps,
                       "comment": c_comment(f"{op.kind} v{op.version} {graph.layer_name(op)}")})
    decls = [ctx.const_decls[i] for i in sorted(ctx.const_decls)] + decls

    data = bytes(model_bytes)
    hash_ = model_hash(data)
    head = banner({"model": model_file or f"{graph.name}.tflite", "sha256[:16]": hash_,
                   "runtime": "tinykit AOT (interpreter-less int8)"})
    inp, out = graph.input_tensors[0], graph.output_tensors[0]
    scratch_sizes = [b.size for b in buffers if b.id < 0]
    info = ",\n  ".join([
        c_string(graph.name), c_string(hash_), c_string("aot"), f"{plan.arena_bytes}u",
        f"{len(graph.ops)}u", _tensor_info(inp), _tensor_info(out)])
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    values = {
        "banner": head, "arena_bytes": plan.arena_bytes, "strategy": plan.strategy,
        "decls": decls, "info": info, "layers": layers,
        "input_offset": plan.offsets[inp.index], "output_offset": plan.offsets[out.index],
        "input_bytes": inp.nbytes, "output_bytes": out.nbytes,
        "scratch_bytes": max(scratch_sizes, default=0), "n_layers": len(graph.ops),
        "hash": c_string(hash_),
    }
    files = {name: env.get_template(f"{name}.j2").render(values) for name in ("model.c", "model.h")}
    aliased = tuple(op.index for op in graph.ops if not SPECS[op.kind].alias
                    and any(b.id == op.outputs[0] and b.alias_of is not None for b in buffers))
    return GeneratedModel(files, plan.arena_bytes, max(scratch_sizes, default=0),
                          plan.arena_bytes, plan, _const_bytes(decls), aliased)


def write_files(generated: GeneratedModel, out_dir: str | Path) -> list[Path]:
    """Write the generated files into out_dir (created); returns their paths."""
    d = Path(out_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, text in sorted(generated.files.items()):
            (d / name).write_text(text)
            paths.append(d / name)
    except OSError as exc:
        raise CodegenError(f"cannot write generated C into {d}: {exc.strerror}") from None
    return paths


__all__ = ["Buffer", "GeneratedModel", "generate", "unsupported_ops", "write_files"]
