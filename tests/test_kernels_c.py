"""The kernels through their C API (firmware/src/kernels/tk_kernels.h), without the
code generator: one C program calls every kernel on seeded cases and prints the
outputs; numpy restates TFLM's integer arithmetic and must agree bit by bit.

The program runs on the host (gcc) and bare-metal on QEMU Cortex-M4/M7 with the
DSP paths (SXTB16/SMLAD dot products, per-plane in-place depthwise) and with
``-DTK_NO_DSP`` (the portable paths); the disassembly proves which one ran.
Covered: CONV_2D (im2col, contiguous windows, strided, dilated, windows over the
im2col buffer, in place with a pixel ring and growing 1x1), DEPTHWISE_CONV_2D
(multiplier 1 fast rows, stride 2, multiplier 2, dilated, in place with 3x3, 5x5,
4x4 and 81 taps), FULLY_CONNECTED, ADD and MUL over the one broadcast helper (flat,
scalar, per-channel, inner and outer broadcasts up to 5-D, in place), the LUT,
CONCATENATION, PAD and (DE)QUANTIZE (in place too), the in-place scratch sizes
(their bytes suffice: a canary after them survives) and NULL arguments.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from arm_harness import SEMIHOST_EXIT_C, build_elf, disassembly, run_qemu

from tinykit.toolchain import kernel_sources, link_sources, runtime_include_dirs

pytestmark = pytest.mark.host

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
WARN = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
HOST_FLAGS = ["-std=c99", "-O2", *WARN]
SCRATCH_MAX = 4096  # bytes of the static scratch (+ a canary tail) in the program
CANARY = 16


# ---- TFLM's integer arithmetic in numpy (int64 arrays holding int32 values) ----------

def _wrap32(x: np.ndarray) -> np.ndarray:
    return (x + 2**31) % 2**32 - 2**31


def srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    x = a * b
    x = x + np.where(x >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(x >= 0, x // 2**31, -((-x) // 2**31))
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def rdbpot(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """RoundingDivideByPOT."""
    x, e = np.asarray(x, np.int64), np.asarray(e, np.int64)
    mask = (np.int64(1) << e) - 1
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))


def mbqm(x: np.ndarray, m: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """MultiplyByQuantizedMultiplier."""
    shift = np.asarray(shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    return rdbpot(srdhm(_wrap32(np.asarray(x, np.int64) << left), m), right)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = m / 2^31 * 2^shift, m in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    frac, shift = math.frexp(real)
    m = int(math.floor(abs(frac) * 2**31 + 0.5))
    if m == 2**31:
        m, shift = m // 2, shift + 1
    return m, shift


# ---- C text ------------------------------------------------------------------------------

def c_list(values: np.ndarray | list[int]) -> str:
    flat = np.asarray(values).ravel()
    return "{" + ", ".join(str(int(v)) for v in flat) + "}" if flat.size else "{0}"


def c_floats(values: np.ndarray) -> str:
    def lit(v: float) -> str:
        if math.isnan(v):
            return "NAN"
        if math.isinf(v):
            return "INFINITY" if v > 0 else "-INFINITY"
        return float(np.float32(v)).hex() + "f"
    return "{" + ", ".join(lit(float(v)) for v in np.asarray(values).ravel()) + "}"


def c_init(fields: dict[str, object]) -> str:
    """A designated initializer."""
    body = ", ".join(f".{k} = {c_list(v) if isinstance(v, list | np.ndarray) else v}"
                     for k, v in fields.items())
    return f"{{{body}}}"


@dataclass
class Case:
    name: str
    code: str  # C statements of one block; set st, need, ok, out, out_bytes
    want: bytes  # expected output bytes
    status: int = 0
    need: int = 0  # expected scratch bytes (in-place kernels)


# ---- geometry ----------------------------------------------------------------------------

def _out_pad(n: int, k: int, s: int, d: int, same: bool) -> tuple[int, int]:
    eff = (k - 1) * d + 1
    out = -(-n // s) if same else -(-(n - eff + 1) // s)
    pad = max(0, ((out - 1) * s + eff - n) // 2) if same else 0
    return out, pad


@dataclass
class Geo:
    h: int
    w: int
    ic: int
    oc: int
    kh: int
    kw: int
    s: int = 1
    d: int = 1
    same: bool = True
    dm: int = 1

    @property
    def out(self) -> tuple[int, int, int, int]:
        oh, ph = _out_pad(self.h, self.kh, self.s, self.d, self.same)
        ow, pw = _out_pad(self.w, self.kw, self.s, self.d, self.same)
        return oh, ow, ph, pw


def _padded_input(x: np.ndarray, g: Geo, in_off: int) -> np.ndarray:
    oh, ow, ph, pw = g.out
    need_h = (oh - 1) * g.s + (g.kh - 1) * g.d + 1
    need_w = (ow - 1) * g.s + (g.kw - 1) * g.d + 1
    xp = np.zeros((max(need_h, ph + g.h), max(need_w, pw + g.w), x.shape[2]), np.int64)
    xp[ph:ph + g.h, pw:pw + g.w] = x.astype(np.int64) + in_off
    return xp


def _patch(xp: np.ndarray, g: Geo, ky: int, kx: int) -> np.ndarray:
    oh, ow, _, _ = g.out
    return xp[ky * g.d: ky * g.d + (oh - 1) * g.s + 1: g.s, kx * g.d: kx * g.d + (ow - 1) * g.s + 1: g.s]


def conv_acc(x: np.ndarray, wt: np.ndarray, bias: np.ndarray, g: Geo, in_off: int, depthwise: bool) -> np.ndarray:
    oh, ow, _, _ = g.out
    xp = _padded_input(x, g, in_off)
    if depthwise:
        xp = np.repeat(xp, g.dm, axis=2)  # output channel oc reads input channel oc // dm
    acc = np.broadcast_to(bias.astype(np.int64), (oh, ow, g.oc)).copy()
    for ky in range(g.kh):
        for kx in range(g.kw):
            p = _patch(xp, g, ky, kx)
            acc += p * wt[ky, kx].astype(np.int64) if depthwise else p @ wt[:, ky, kx, :].astype(np.int64).T
    return acc


def requant(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, out_off: int, lo: int, hi: int) -> np.ndarray:
    return np.clip(mbqm(acc, mult, shift) + out_off, lo, hi).astype(np.int8)


def channel_multipliers(acc: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel: outputs spread over about +-60 (some clamp)."""
    flat = acc.reshape(-1, acc.shape[-1])
    ms, ss = [], []
    for c in range(flat.shape[1]):
        m, s = quantize_multiplier(float(rng.uniform(40, 90)) / (float(np.abs(flat[:, c]).max()) + 1.0))
        ms.append(m)
        ss.append(s)
    return np.array(ms, np.int64), np.array(ss, np.int64)


# ---- cases ---------------------------------------------------------------------------------

ACTS = [(-128, 127), (0, 127), (-10, 60)]


def conv_case(rng: np.random.Generator, k: int, name: str, g: Geo, *, depthwise: bool = False,
              inplace: bool = False) -> Case:
    x = rng.integers(-128, 128, (g.h, g.w, g.ic), dtype=np.int64)
    wshape = (g.kh, g.kw, g.oc) if depthwise else (g.oc, g.kh, g.kw, g.ic)
    wt = rng.integers(-127, 128, wshape, dtype=np.int64)
    bias = rng.integers(-3000, 3000, g.oc, dtype=np.int64)
    in_off, out_off = -int(rng.integers(-128, 128)), int(rng.integers(-20, 21))
    return conv_case_of(rng, k, name, g, x, wt, bias, in_off, out_off, depthwise=depthwise,
                        inplace=inplace)


def conv_case_of(rng: np.random.Generator, k: int, name: str, g: Geo, x: np.ndarray,
                 wt: np.ndarray, bias: np.ndarray, in_off: int, out_off: int, *,
                 depthwise: bool = False, inplace: bool = False,
                 packed: np.ndarray | None = None) -> Case:
    """The case of one conv on these operands (multipliers drawn from ``rng``): the
    expected bytes, the params and the call. ``packed``: the filter's bytes in the
    channel-pair layout (``.packed = 1``)."""
    oh, ow, ph, pw = g.out
    lo, hi = ACTS[k % len(ACTS)]
    acc = conv_acc(x, wt, bias, g, in_off, depthwise)
    mult, shift = channel_multipliers(acc, rng)
    want = requant(acc, mult, shift, out_off, lo, hi)
    wsum = wt.sum(axis=(0, 1)) if depthwise else wt.reshape(g.oc, -1).sum(axis=1)
    folded = bias + in_off * wsum
    p = f"k{k}_"
    decls = [
        filter_decl(f"{p}w", wt, packed),
        f"static const int32_t {p}b[] = {c_list(bias)};",
        f"static const int32_t {p}bf[] = {c_list(folded)};",
        f"static const int32_t {p}m[] = {c_list(mult)};",
        f"static const int32_t {p}s[] = {c_list(shift)};",
        f"static const TkConvParams {p}p = {{.batches = 1, .in_h = {g.h}, .in_w = {g.w}, "
        f".in_c = {g.ic}, .out_h = {oh}, .out_w = {ow}, .out_c = {g.oc}, .k_h = {g.kh}, "
        f".k_w = {g.kw}, .stride_h = {g.s}, .stride_w = {g.s}, .dil_h = {g.d}, .dil_w = {g.d}, "
        f".pad_h = {ph}, .pad_w = {pw}, .depth_multiplier = {g.dm}, .input_offset = {in_off}, "
        f".output_offset = {out_off}, .act_min = {lo}, .act_max = {hi}, .filter = {p}w, "
        f".bias = {p}b, .bias_folded = {p}bf, .mult = {p}m, .shift = {p}s"
        f"{'' if packed is None else ', .packed = 1'}}};",
    ]
    out_bytes = oh * ow * g.oc
    op = "depthwise" if depthwise else "conv"
    need = 0
    if inplace:
        need = (max(oh * ow, (ph + 1) * g.w * g.ic) if depthwise
                else (ph * g.w + pw + 1) * g.oc)
        assert need <= SCRATCH_MAX
        decls.append(f"static int8_t {p}buf[{max(x.size, out_bytes)}] = {c_list(x)};")
        code = (f"need = tk_{op}_inplace_scratch_bytes(&{p}p);\n"
                f"memset(scratch, 0x5A, sizeof scratch);\n"
                f"st = need > {SCRATCH_MAX} ? TK_ERROR : tk_{op}_inplace_s8(&{p}p, {p}buf, scratch);\n"
                f"ok = canary_ok(need);\nout = {p}buf;")
    else:
        decls.append(f"static const int8_t {p}x[] = {c_list(x)};")
        decls.append(f"static int8_t {p}y[{out_bytes}];")
        code = f"st = tk_{op}_s8(&{p}p, {p}x, {p}y);\nout = {p}y;"
    return Case(name, "\n".join(decls) + "\n@@\n" + code + f"\nout_bytes = {out_bytes};",
                want.tobytes(), need=need)


def fc_case(rng: np.random.Generator, k: int, batches: int, n_in: int, n_out: int) -> Case:
    x = rng.integers(-128, 128, (batches, n_in), dtype=np.int64)
    wt = rng.integers(-127, 128, (n_out, n_in), dtype=np.int64)
    bias = rng.integers(-3000, 3000, n_out, dtype=np.int64)
    in_off, out_off = -int(rng.integers(-128, 128)), int(rng.integers(-20, 21))
    return fc_case_of(rng, k, f"fc{n_in}x{n_out}", x, wt, bias, in_off, out_off)


def fc_case_of(rng: np.random.Generator, k: int, name: str, x: np.ndarray, wt: np.ndarray,
               bias: np.ndarray, in_off: int, out_off: int, packed: np.ndarray | None = None
               ) -> Case:
    """The case of one fully connected layer on these operands (x [batches][n_in], wt
    [n_out][n_in]; ``packed`` as in :func:`conv_case_of`)."""
    (batches, n_in), n_out = x.shape, wt.shape[0]
    lo, hi = ACTS[k % len(ACTS)]
    acc = bias + (x + in_off) @ wt.T
    mult, shift = channel_multipliers(acc, rng)
    want = requant(acc, mult, shift, out_off, lo, hi)
    p = f"k{k}_"
    decls = [
        filter_decl(f"{p}w", wt, packed),
        f"static const int32_t {p}bf[] = {c_list(bias + in_off * wt.sum(axis=1))};",
        f"static const int32_t {p}m[] = {c_list(mult)};",
        f"static const int32_t {p}s[] = {c_list(shift)};",
        f"static const TkFullyConnectedParams {p}p = {{.batches = {batches}, .in_depth = {n_in}, "
        f".out_depth = {n_out}, .output_offset = {out_off}, .act_min = {lo}, .act_max = {hi}, "
        f".filter = {p}w, .bias_folded = {p}bf, .mult = {p}m, .shift = {p}s"
        f"{'' if packed is None else ', .packed = 1'}}};",
        f"static const int8_t {p}x[] = {c_list(x)};",
        f"static int8_t {p}y[{want.size}];",
    ]
    code = f"st = tk_fully_connected_s8(&{p}p, {p}x, {p}y);\nout = {p}y;\nout_bytes = {want.size};"
    return Case(name, "\n".join(decls) + "\n@@\n" + code, want.tobytes())


def filter_decl(name: str, wt: np.ndarray, packed: np.ndarray | None) -> str:
    """The filter array: ``wt`` as is, or its ``packed`` bytes aligned for word loads."""
    if packed is None:
        return f"static const int8_t {name}[] = {c_list(wt)};"
    return f"static const int8_t {name}[] __attribute__((aligned(4))) = {c_list(packed)};"


def _strides(shape: list[int], out: list[int]) -> list[int]:
    """Element strides over the output dims, 0 where broadcast (tinykit's convention:
    also 0 on size-1 output dims)."""
    strides, acc = [0] * 5, 1
    for d in range(4, -1, -1):
        strides[d] = acc if shape[d] == out[d] and out[d] > 1 else 0
        acc *= shape[d]
    return strides


def binary_case(rng: np.random.Generator, k: int, op: str, sa: list[int], sb: list[int],
                inplace: bool = False) -> Case:
    so = [max(a, b) for a, b in zip(sa, sb, strict=True)]
    a = rng.integers(-128, 128, sa, dtype=np.int64)
    b = rng.integers(-128, 128, sb, dtype=np.int64)
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, 3))
    lo, hi = ACTS[k % len(ACTS)]
    common = {"dims": so, "stride1": _strides(sa, so), "stride2": _strides(sb, so),
              "broadcast": int(sa != so or sb != so), "input1_offset": -z1, "input2_offset": -z2,
              "output_offset": zo, "act_min": lo, "act_max": hi}
    ab = np.broadcast_to(a, so) - z1, np.broadcast_to(b, so) - z2
    if op == "add":
        s1, s2 = (float(v) for v in rng.uniform(0.01, 0.2, 2))
        twice = 2 * max(s1, s2)
        s_out = twice * float(rng.uniform(0.4, 1.2))
        m1, sh1 = quantize_multiplier(s1 / twice)
        m2, sh2 = quantize_multiplier(s2 / twice)
        mo, sho = quantize_multiplier(twice / (2**20 * s_out))
        fields = {**common, "left_shift": 20, "input1_mult": m1, "input1_shift": sh1,
                  "input2_mult": m2, "input2_shift": sh2, "output_mult": mo, "output_shift": sho}
        raw = mbqm(ab[0] * 2**20, m1, sh1) + mbqm(ab[1] * 2**20, m2, sh2)
        want = np.clip(mbqm(raw, mo, sho) + zo, lo, hi)
    else:
        mo, sho = quantize_multiplier(float(rng.uniform(0.002, 0.02)))
        fields = {**common, "output_mult": mo, "output_shift": sho}
        want = np.clip(mbqm(ab[0] * ab[1], mo, sho) + zo, lo, hi)
    want = want.astype(np.int8)
    p = f"k{k}_"
    ctype = "TkAddParams" if op == "add" else "TkMulParams"
    decls = [f"static const {ctype} {p}p = {c_init(fields)};",
             f"static int8_t {p}a[] = {c_list(a)};", f"static const int8_t {p}b[] = {c_list(b)};"]
    if inplace:
        assert sa == so
        code = f"st = tk_{op}_s8(&{p}p, {p}a, {p}b, {p}a);\nout = {p}a;"
    else:
        decls.append(f"static int8_t {p}y[{want.size}];")
        code = f"st = tk_{op}_s8(&{p}p, {p}a, {p}b, {p}y);\nout = {p}y;"
    return Case(f"{op}{sa}x{sb}{'-inplace' if inplace else ''}",
                "\n".join(decls) + "\n@@\n" + code + f"\nout_bytes = {want.size};", want.tobytes())


def lut_case(rng: np.random.Generator, k: int, inplace: bool) -> Case:
    lut = rng.integers(-128, 128, 256, dtype=np.int64)
    x = np.concatenate([np.arange(-128, 128), rng.integers(-128, 128, 45)])
    p = f"k{k}_"
    decls = [f"static const int8_t {p}lut[256] = {c_list(lut)};",
             f"static const TkLutParams {p}p = {{.size = {x.size}, .lut = {p}lut}};",
             f"static int8_t {p}x[] = {c_list(x)};"]
    if not inplace:
        decls.append(f"static int8_t {p}y[{x.size}];")
    y = f"{p}x" if inplace else f"{p}y"
    code = f"st = tk_lut_s8(&{p}p, {p}x, {y});\nout = {y};\nout_bytes = {x.size};"
    return Case(f"lut{'-inplace' if inplace else ''}", "\n".join(decls) + "\n@@\n" + code,
                lut[x + 128].astype(np.int8).tobytes())


def concat_case(rng: np.random.Generator, k: int, with_luts: bool) -> Case:
    outer, inner = 3, [4, 1, 6]
    xs = [rng.integers(-128, 128, (outer, n), dtype=np.int64) for n in inner]
    lut = rng.integers(-128, 128, 256, dtype=np.int64)
    parts = [xs[0], lut[xs[1] + 128] if with_luts else xs[1], xs[2]]
    want = np.concatenate(parts, axis=1).astype(np.int8)
    p = f"k{k}_"
    decls = [f"static const int8_t {p}x{i}[] = {c_list(x)};" for i, x in enumerate(xs)]
    if with_luts:
        decls += [f"static const int8_t {p}lut[256] = {c_list(lut)};",
                  f"static const int8_t *const {p}luts[3] = {{NULL, {p}lut, NULL}};"]
    decls += [f"static const int32_t {p}inner[3] = {c_list(inner)};",
              f"static const TkConcatParams {p}p = {{.n_inputs = 3, .outer = {outer}, "
              f".inner = {p}inner, .luts = {f'{p}luts' if with_luts else 'NULL'}}};",
              f"static int8_t {p}y[{want.size}];"]
    code = (f"{{\n  const int8_t *const ins[3] = {{{p}x0, {p}x1, {p}x2}};\n"
            f"  st = tk_concat_s8(&{p}p, ins, {p}y);\n}}\nout = {p}y;\nout_bytes = {want.size};")
    return Case(f"concat{'-luts' if with_luts else ''}", "\n".join(decls) + "\n@@\n" + code, want.tobytes())


def pad_case(rng: np.random.Generator, k: int, shape: list[int]) -> Case:
    x = rng.integers(-128, 128, shape, dtype=np.int64)
    before = [int(v) for v in rng.integers(0, 3, len(shape))]
    after = [int(v) for v in rng.integers(0, 3, len(shape))]
    value = int(rng.integers(-128, 128))
    want = np.pad(x, list(zip(before, after, strict=True)), constant_values=value).astype(np.int8)
    lead = [1] * (5 - len(shape))
    zero = [0] * (5 - len(shape))
    p = f"k{k}_"
    decls = [f"static const TkPadParams {p}p = {{.in_dims = {c_list(lead + shape)}, "
             f".before = {c_list(zero + before)}, .after = {c_list(zero + after)}, .value = {value}}};",
             f"static const int8_t {p}x[] = {c_list(x)};", f"static int8_t {p}y[{want.size}];"]
    code = f"st = tk_pad_s8(&{p}p, {p}x, {p}y);\nout = {p}y;\nout_bytes = {want.size};"
    return Case(f"pad{shape}", "\n".join(decls) + "\n@@\n" + code, want.tobytes())


def quantize_ref(x: np.ndarray, scale: np.float32, zp: int) -> np.ndarray:
    r = x.astype(np.float32) / scale
    with np.errstate(invalid="ignore"):
        a = np.abs(r)
        t = np.trunc(np.where(a < 1024, a, 0)).astype(np.float32)
        t = t + ((a - t) >= np.float32(0.5))
        q = np.clip(np.where(r < 0, -t, t).astype(np.int64) + zp, -128, 127)
        q = np.where(r >= 1024, 127, np.where(r <= -1024, -128, q))
    return np.where(np.isnan(r), np.clip(zp, -128, 127), q).astype(np.int8)


def quantize_case(rng: np.random.Generator, k: int, inplace: bool) -> Case:
    scale, zp = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-100, 100))
    ties = ((np.arange(-40, 40) + 0.5) * scale).astype(np.float32)
    x = np.concatenate([rng.normal(0, 3, 40).astype(np.float32), ties,
                        np.array([0.0, -0.0, 1e9, -1e9, np.inf, -np.inf, np.nan], np.float32)])
    p = f"k{k}_"
    decls = [f"static const TkQuantizeParams {p}p = {{.size = {x.size}, .scale = {c_floats(scale)[1:-1]}, "
             f".zero_point = {zp}}};"]
    if inplace:
        decls.append(f"static union {{ float f[{x.size}]; int8_t q[{x.size}]; }} {p}u = {{{c_floats(x)}}};")
        code = f"st = tk_quantize_f32_s8(&{p}p, {p}u.f, {p}u.q);\nout = {p}u.q;"
    else:
        decls += [f"static const float {p}x[] = {c_floats(x)};", f"static int8_t {p}y[{x.size}];"]
        code = f"st = tk_quantize_f32_s8(&{p}p, {p}x, {p}y);\nout = {p}y;"
    return Case(f"quantize{'-inplace' if inplace else ''}",
                "\n".join(decls) + "\n@@\n" + code + f"\nout_bytes = {x.size};",
                quantize_ref(x, scale, zp).tobytes())


def dequantize_case(rng: np.random.Generator, k: int, inplace: bool) -> Case:
    scale, zp = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-100, 100))
    x = np.arange(-128, 128, dtype=np.int64)
    want = (scale * (x - zp).astype(np.float32)).astype(np.float32)
    p = f"k{k}_"
    decls = [f"static const TkQuantizeParams {p}p = {{.size = {x.size}, .scale = {c_floats(scale)[1:-1]}, "
             f".zero_point = {zp}}};"]
    if inplace:
        decls.append(f"static union {{ float f[{x.size}]; int8_t q[{4 * x.size}]; }} {p}u = {{.q = {c_list(x)}}};")
        code = f"st = tk_dequantize_s8_f32(&{p}p, {p}u.q, {p}u.f);\nout = {p}u.f;"
    else:
        decls += [f"static const int8_t {p}x[] = {c_list(x)};", f"static float {p}y[{x.size}];"]
        code = f"st = tk_dequantize_s8_f32(&{p}p, {p}x, {p}y);\nout = {p}y;"
    return Case(f"dequantize{'-inplace' if inplace else ''}",
                "\n".join(decls) + "\n@@\n" + code + f"\nout_bytes = {4 * x.size};", want.tobytes())


NULL_CALLS = [
    "tk_conv_s8(NULL, buf, buf)", "tk_conv_inplace_s8(NULL, buf, buf)", "tk_depthwise_s8(NULL, buf, buf)",
    "tk_depthwise_inplace_s8(NULL, buf, buf)", "tk_fully_connected_s8(NULL, buf, buf)",
    "tk_avg_pool_s8(NULL, buf, buf)", "tk_max_pool_s8(NULL, buf, buf)", "tk_mean_hw_s8(NULL, buf, buf)",
    "tk_add_s8(NULL, buf, buf, buf)", "tk_mul_s8(NULL, buf, buf, buf)", "tk_softmax_s8(NULL, buf, buf)",
    "tk_lut_s8(NULL, buf, buf)", "tk_concat_s8(NULL, NULL, buf)", "tk_pad_s8(NULL, buf, buf)",
    "tk_quantize_f32_s8(NULL, NULL, buf)", "tk_dequantize_s8_f32(NULL, buf, NULL)",
]


def null_case(call: str) -> Case:
    code = f"{{\n  static int8_t buf[4];\n  st = {call};\n}}\nout = NULL;\nout_bytes = 0;"
    return Case(f"null:{call.split('(')[0]}", "@@\n" + code, b"", status=2)


def all_cases(seed: int = 0) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []

    def add(make: Callable[[int], Case]) -> None:
        cases.append(make(len(cases)))

    convs = [("conv3x3", Geo(7, 6, 8, 10, 3, 3)), ("conv1x1", Geo(5, 5, 12, 7, 1, 1, same=False)),
             ("conv3x3s2", Geo(9, 8, 3, 5, 3, 3, s=2)), ("conv3x3d2", Geo(8, 7, 5, 6, 3, 3, d=2)),
             ("conv_window_over_1024", Geo(4, 4, 120, 5, 3, 3)),
             ("conv_full_width", Geo(6, 5, 3, 4, 2, 5, same=False))]
    for name, g in convs:
        add(lambda k, name=name, g=g: conv_case(rng, k, name, g))
    add(lambda k: conv_case(rng, k, "conv3x5_inplace", Geo(6, 7, 9, 6, 3, 5), inplace=True))
    add(lambda k: conv_case(rng, k, "conv1x1_grow_inplace", Geo(5, 4, 4, 11, 1, 1, same=False), inplace=True))
    dws = [("dw3x3", Geo(7, 6, 13, 13, 3, 3)), ("dw5x3", Geo(6, 7, 5, 5, 5, 3)),
           ("dw3x3s2", Geo(9, 8, 7, 7, 3, 3, s=2)), ("dw3x3dm2", Geo(6, 5, 3, 6, 3, 3, dm=2)),
           ("dw3x3d2", Geo(8, 8, 6, 6, 3, 3, d=2))]
    for name, g in dws:
        add(lambda k, name=name, g=g: conv_case(rng, k, name, g, depthwise=True))
    for name, g in [("dw3x3_inplace", Geo(7, 6, 13, 13, 3, 3)), ("dw5x5_inplace", Geo(8, 7, 6, 6, 5, 5)),
                    ("dw4x4_inplace", Geo(6, 6, 5, 5, 4, 4)), ("dw9x9_inplace", Geo(10, 9, 3, 3, 9, 9)),
                    ("dw3x3d2_inplace", Geo(7, 8, 4, 4, 3, 3, d=2))]:
        add(lambda k, name=name, g=g: conv_case(rng, k, name, g, depthwise=True, inplace=True))
    add(lambda k: fc_case(rng, k, 2, 45, 13))
    add(lambda k: fc_case(rng, k, 1, 16, 8))
    pairs = [
        ([1, 1, 2, 3, 4], [1, 1, 2, 3, 4]),  # flat
        ([1, 1, 3, 4, 5], [1, 1, 1, 1, 1]),  # scalar
        ([1, 1, 1, 1, 1], [1, 2, 3, 1, 4]),  # scalar first
        ([1, 1, 3, 4, 6], [1, 1, 1, 1, 6]),  # per channel
        ([1, 1, 3, 4, 1], [1, 1, 1, 1, 1]),  # [H, W, 1] output
        ([1, 1, 3, 4, 1], [1, 1, 3, 1, 1]),  # inner broadcast, rows of 1
        ([2, 3, 1, 4, 2], [1, 3, 2, 1, 2]),  # both broadcast, 5-D
        ([2, 1, 3, 1, 3], [2, 4, 1, 2, 1]),
        ([1, 1, 3, 4, 6], [1, 1, 3, 1, 6]),
    ]
    for op in ("add", "mul"):
        for sa, sb in pairs:
            add(lambda k, op=op, sa=sa, sb=sb: binary_case(rng, k, op, sa, sb))
        add(lambda k, op=op: binary_case(rng, k, op, [1, 1, 3, 4, 6], [1, 1, 1, 1, 6], inplace=True))
        add(lambda k, op=op: binary_case(rng, k, op, [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], inplace=True))
    for inplace in (False, True):
        add(lambda k, i=inplace: lut_case(rng, k, i))
        add(lambda k, i=inplace: quantize_case(rng, k, i))
        add(lambda k, i=inplace: dequantize_case(rng, k, i))
    add(lambda k: concat_case(rng, k, True))
    add(lambda k: concat_case(rng, k, False))
    for shape in ([2, 3, 4], [1, 2, 3, 2, 3], [5]):
        add(lambda k, s=shape: pad_case(rng, k, s))
    cases += [null_case(c) for c in NULL_CALLS]
    return cases


# ---- the program -------------------------------------------------------------------------

HOST_IO = r"""
#include <stdio.h>
static void tk_test_begin(void) {}
static void tk_test_emit(uint32_t k, TkStatus st, int32_t need, int ok, const void *p, uint32_t n) {
  const uint8_t *b = (const uint8_t *)p;
  uint32_t i;
  printf("c %u %d %d %d ", (unsigned)k, (int)st, (int)need, ok);
  for (i = 0; i < n; ++i) printf("%02x", b[i]);
  printf("\n");
}
static void tk_test_end(void) { printf("done\n"); }
"""

QEMU_IO = SEMIHOST_EXIT_C + r"""
static void tk_test_begin(void) { tk_hal_init(); }
static void tk_test_emit(uint32_t k, TkStatus st, int32_t need, int ok, const void *p, uint32_t n) {
  put("c "); put_u32(k); put(" "); put_u32((uint32_t)st); put(" "); put_u32((uint32_t)need);
  put(ok ? " 1 " : " 0 ");
  put_hex((const uint8_t *)p, n);
  put("\n");
}
static void tk_test_end(void) { put("done\n"); tk_semihost_exit(); }
"""


def program(cases: list[Case], io: str) -> str:
    head = ["#include <math.h>", "#include <stddef.h>", "#include <stdint.h>", "#include <string.h>",
            '#include "tk_kernels.h"', io,
            f"static int8_t scratch[{SCRATCH_MAX + CANARY}];",
            "static int canary_ok(int32_t need) {",
            "  int32_t i;",
            f"  for (i = need; i < {SCRATCH_MAX + CANARY}; ++i) if (scratch[i] != 0x5A) return 0;",
            "  return 1;", "}"]
    body = ["int main(void) {", "  TkStatus st;", "  int32_t need;", "  int ok;", "  const void *out;",
            "  uint32_t out_bytes;", "  (void)canary_ok;", "  tk_test_begin();"]
    for k, case in enumerate(cases):
        decls, code = case.code.split("@@\n")
        head.append(f"/* case {k}: {case.name} */\n{decls}")
        body.append(f"  /* {case.name} */\n  need = 0;\n  ok = 1;")
        body += ["  " + line for line in code.splitlines()]
        body.append(f"  tk_test_emit({k}u, st, need, ok, out, out_bytes);")
    body += ["  tk_test_end();", "  return 0;", "}"]
    return "\n".join(head + body) + "\n"


def check_output(cases: list[Case], text: str, where: str) -> None:
    lines = text.splitlines()
    assert "done" in lines, f"{where}: program did not finish:\n{text[-2000:]}"
    got = {}
    for ln in lines:
        parts = ln.split()
        if parts[:1] == ["c"]:
            got[int(parts[1])] = parts[2:]
    assert sorted(got) == list(range(len(cases))), f"{where}: cases missing"
    bad = []
    for k, case in enumerate(cases):
        st, need, ok, *data = got[k]
        out = bytes.fromhex(data[0]) if data else b""
        if int(st) != case.status or int(need) != case.need or ok != "1" or out != case.want:
            n_diff = sum(a != b for a, b in zip(out, case.want, strict=False))
            bad.append(f"{case.name} (status {st}, scratch {need} want {case.need}, canary {ok}, "
                       f"{n_diff} bytes differ, {len(out)}/{len(case.want)} bytes)")
    assert not bad, f"{where}: " + "; ".join(bad)


@cache
def cases() -> list[Case]:
    return all_cases()


def test_kernels_on_host_bit_exact(tmp_path: Path) -> None:
    src = tmp_path / "kernels_main.c"
    src.write_text(program(cases(), HOST_IO))
    exe = tmp_path / "kernels"
    subprocess.run(["gcc", *HOST_FLAGS, *(f"-I{d}" for d in runtime_include_dirs()), str(src),
                    *map(str, kernel_sources()), "-o", str(exe)], check=True)
    check_output(cases(), subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout,
                 "host")


DSP_MARKERS = ("sxtb16", "smlad")  # emitted only by the DSP paths' inline assembly


@pytest.mark.emu
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("dsp", [True, False], ids=["dsp", "TK_NO_DSP"])
def test_kernels_on_qemu_bit_exact(cpu: str, dsp: bool, tmp_path: Path) -> None:
    defines = [] if dsp else ["TK_NO_DSP"]
    elf = build_elf(None, tmp_path, program(cases(), QEMU_IO), cpu=cpu, opt="-O2", defines=defines)
    code = disassembly(elf)
    for marker in DSP_MARKERS:  # which path was compiled in: the portable one under TK_NO_DSP
        assert (f"\t{marker}" in code) == dsp, f"{marker} {'missing' if dsp else 'present'}"
    check_output(cases(), run_qemu(elf, cpu, icount=False, timeout=120),
                 f"{cpu}{'' if dsp else ' TK_NO_DSP'}")


def test_scratch_bytes_match_python(tmp_path: Path) -> None:
    """tk_*_inplace_scratch_bytes (C, the one statement of the sizes) against the
    generator's twin in tinykit.ops.conv that sizes the arena."""
    from tinykit.ops.conv import scratch_bytes

    rng = np.random.default_rng(5)
    geos = [{k: int(v) for k, v in zip(("in_h", "in_w", "in_c", "out_c", "pad_h", "pad_w"),
                                       (*rng.integers(1, 40, 4), *rng.integers(0, 5, 2)), strict=True)}
            for _ in range(50)]
    for g in geos:
        g["out_h"], g["out_w"] = g["in_h"], g["in_w"]
    lines = ["#include <stdio.h>", '#include "tk_kernels.h"', "int main(void) {", "  TkConvParams p;"]
    for g in geos:
        lines.append("  memset(&p, 0, sizeof p);")
        lines += [f"  p.{k} = {v};" for k, v in g.items()]
        lines.append('  printf("%ld %ld\\n", (long)tk_conv_inplace_scratch_bytes(&p), '
                     "(long)tk_depthwise_inplace_scratch_bytes(&p));")
    lines += ["  return 0;", "}"]
    src = tmp_path / "scratch.c"
    src.write_text("#include <string.h>\n" + "\n".join(lines) + "\n")
    exe = tmp_path / "scratch"
    subprocess.run(["gcc", *HOST_FLAGS, *(f"-I{d}" for d in runtime_include_dirs()), str(src),
                    *map(str, kernel_sources()), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")
    for g, line in zip(geos, out, strict=False):
        conv, dw = map(int, line.split())
        assert (conv, dw) == (scratch_bytes("CONV_2D", g), scratch_bytes("DEPTHWISE_CONV_2D", g)), g


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m33"])
@pytest.mark.parametrize("dsp", [True, False], ids=["dsp", "TK_NO_DSP"])
def test_runtime_compiles_for_cortex_m(cpu: str, dsp: bool, tmp_path: Path) -> None:
    for src in [*kernel_sources(), *link_sources()]:
        subprocess.run(["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-std=c99", "-Os", *WARN,
                        *([] if dsp else ["-DTK_NO_DSP"]),
                        *(f"-I{d}" for d in runtime_include_dirs()), "-c", str(src),
                        "-o", str(tmp_path / (src.stem + ".o"))], check=True)
