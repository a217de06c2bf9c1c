"""The channel-pair weight layout of issue 9 (tinykit.ops.conv.pack_pairs, tk_dot.h):
CONV_2D and FULLY_CONNECTED with ``packed = 1``, called through the C API on seeded
random shapes and compared bit by bit with numpy's restatement of TFLM's arithmetic
(tests/test_kernels_c.py).

The filters are in the packed layout, so only the packed code can produce the right
bytes: an unpacked path reading them would be wrong. Covered on QEMU Cortex-M4 and
M7 (DSP: tk_dot4p_s8, the 1x1 pixel-pair asm over channel pairs, the SSAT clamp)
and with ``-DTK_NO_DSP`` and on the host (the portable decode): 1x1 convs over pixel
pairs with input channels 4 mod 8 (the odd asm step) and 0 mod 8, odd pixel counts,
strided, in place growing and shrinking; 3x3 and 5x3 windows through the im2col
buffer with more than 256 inputs (the 24-bit chunks of the odd rows' sums) and over
the 1024-byte buffer (the packed reference path); windows of k not a multiple of 4
(rows padded with zero weights: 3x3 over 3 and 5 channels, 1x1 over 5 and 3
channels, in place, a full-width kernel straight from the input); channel counts 2, 3, 5, 6, 7 (a
pair after the fours, an odd plain last row); dense layers up to 640 inputs; every
clamp (the whole int8 range: SSAT; ReLU; a narrow range); weights at -128 and
inputs at the extremes (the odd rows' sums at their largest).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from arm_harness import build_elf, disassembly, run_qemu
from test_kernels_c import HOST_FLAGS, HOST_IO, QEMU_IO, Case, Geo, check_output, conv_case_of, fc_case_of, program

from tinykit.ops.conv import pack_pairs
from tinykit.toolchain import kernel_sources, runtime_include_dirs

pytestmark = pytest.mark.host


def _weights(rng: np.random.Generator, shape: tuple[int, ...], extreme: bool) -> np.ndarray:
    """int8 weights [rows][...] that pack_pairs accepts: -128 allowed except in an odd
    row where the even row's weight is negative (v = 256 * w_odd + w_even < -32768)."""
    wt = (np.where(rng.random(shape) < 0.5, -128, 127) if extreme
          else rng.integers(-128, 128, shape)).astype(np.int64)
    flat = wt.reshape(shape[0], -1)
    n = shape[0] - shape[0] % 2
    bad = (flat[1:n:2] == -128) & (flat[0:n:2] < 0)
    flat[1:n:2][bad] = -127
    return wt


def _packed(wt: np.ndarray) -> np.ndarray:
    """As the generator emits a CONV_2D filter: rows rounded up to 4 (zero weights)."""
    rows = wt.reshape(wt.shape[0], -1)
    packed = pack_pairs(np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4))))
    assert packed is not None
    return packed


def packed_conv_case(rng: np.random.Generator, k: int, name: str, g: Geo, *,
                     inplace: bool = False, extreme: bool = False) -> Case:
    x = (rng.choice([-128, 127], (g.h, g.w, g.ic)) if extreme
         else rng.integers(-128, 128, (g.h, g.w, g.ic))).astype(np.int64)
    wt = _weights(rng, (g.oc, g.kh, g.kw, g.ic), extreme)
    bias = rng.integers(-3000, 3000, g.oc, dtype=np.int64)
    in_off = 128 if extreme else -int(rng.integers(-128, 128))
    out_off = int(rng.integers(-20, 21))
    return conv_case_of(rng, k, name, g, x, wt, bias, in_off, out_off, inplace=inplace,
                        packed=_packed(wt))


def packed_fc_case(rng: np.random.Generator, k: int, batches: int, n_in: int, n_out: int,
                   extreme: bool = False) -> Case:
    x = (rng.choice([-128, 127], (batches, n_in)) if extreme
         else rng.integers(-128, 128, (batches, n_in))).astype(np.int64)
    wt = _weights(rng, (n_out, n_in), extreme)
    bias = rng.integers(-3000, 3000, n_out, dtype=np.int64)
    in_off = 128 if extreme else -int(rng.integers(-128, 128))
    out_off = int(rng.integers(-20, 21))
    return fc_case_of(rng, k, f"fc{n_in}x{n_out}{'_extreme' if extreme else ''}", x, wt, bias,
                      in_off, out_off, packed=_packed(wt))


@cache
def cases(seed: int = 9) -> list[Case]:
    """Seeded random shapes around each branch of the packed paths."""
    rng = np.random.default_rng(seed)
    out: list[Case] = []

    def r(*choices: int) -> int:
        return int(rng.choice(choices))

    convs = [
        # 1x1 over pixel pairs: in_c 4 mod 8 (odd asm step) and 0 mod 8, odd pixel counts
        ("pw_c4mod8", Geo(r(3, 5), r(3, 5, 7), r(4, 12, 20), r(2, 6, 8), 1, 1, same=False), False),
        ("pw_c0mod8", Geo(r(4, 5), r(5, 7), r(8, 16, 64), r(3, 5, 7), 1, 1, same=False), False),
        ("pw_c128", Geo(3, 3, 128, r(4, 6), 1, 1, same=False), False),
        ("pw_stride2", Geo(r(7, 9), r(6, 8), r(8, 12), r(5, 6), 1, 1, s=2, same=False), False),
        ("pw_grow_inplace", Geo(r(3, 5), r(3, 5), 8, r(11, 12), 1, 1, same=False), True),
        ("pw_shrink_inplace", Geo(r(3, 5), r(4, 5), 16, r(6, 7), 1, 1, same=False), True),
        # windows through the im2col buffer: borders, > 256 inputs (chunks), over 1024 (reference)
        ("conv3x3", Geo(r(5, 7), r(5, 6), r(4, 8), r(5, 6, 7, 8), 3, 3), False),
        ("conv3x3_k288", Geo(r(5, 6), r(4, 5), 32, r(4, 6), 3, 3), False),
        ("conv3x3_k576_s2", Geo(r(7, 8), r(6, 7), 64, r(2, 3, 4), 3, 3, s=2), False),
        ("conv5x3_inplace", Geo(r(6, 7), r(5, 6), 8, r(5, 6, 8), 5, 3), True),
        ("conv3x3_over_1024", Geo(4, 4, 128, r(3, 4), 3, 3), False),
        # k not a multiple of 4: rows padded with zero weights, the window copied and padded
        ("conv3x3_k27_s2", Geo(r(7, 9), r(7, 8), 3, r(5, 8), 3, 3, s=2, same=False), False),
        ("conv3x3_k45", Geo(r(4, 5), r(4, 6), 5, r(3, 4, 6), 3, 3), False),
        ("pw_c5", Geo(r(3, 4), r(3, 5), r(5, 7), r(4, 5), 1, 1, same=False), False),
        ("pw_c3_grow_inplace", Geo(r(3, 4), r(3, 5), 3, r(7, 8), 1, 1, same=False), True),
        ("conv_full_width_k30", Geo(r(5, 6), 5, 3, r(2, 4), 2, 5, same=False), False),
    ]
    for name, g, inplace in convs:
        out.append(packed_conv_case(rng, len(out), name, g, inplace=inplace))
    out.append(packed_conv_case(rng, len(out), "conv3x3_k288_extreme", Geo(4, 4, 32, 4, 3, 3),
                                extreme=True))
    for batches, n_in, n_out in [(1, r(4, 8), r(2, 3)), (2, r(44, 48), r(5, 7, 13)),
                                 (1, r(300, 512), r(6, 12)), (1, 640, r(16, 17))]:
        out.append(packed_fc_case(rng, len(out), batches, n_in, n_out))
    out.append(packed_fc_case(rng, len(out), 1, 512, 4, extreme=True))
    return out


def test_packed_kernels_on_host_bit_exact(tmp_path: Path) -> None:
    src = tmp_path / "packed_main.c"
    src.write_text(program(cases(), HOST_IO))
    exe = tmp_path / "packed"
    subprocess.run(["gcc", *HOST_FLAGS, *(f"-I{d}" for d in runtime_include_dirs()), str(src),
                    *map(str, kernel_sources()), "-o", str(exe)], check=True)
    check_output(cases(), subprocess.run([str(exe)], capture_output=True, text=True,
                                         check=True).stdout, "host")


@pytest.mark.emu
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("dsp", [True, False], ids=["dsp", "TK_NO_DSP"])
def test_packed_kernels_on_qemu_bit_exact(cpu: str, dsp: bool, tmp_path: Path) -> None:
    elf = build_elf(None, tmp_path, program(cases(), QEMU_IO), cpu=cpu, opt="-O2",
                    defines=[] if dsp else ["TK_NO_DSP"])
    code = disassembly(elf)
    # the DSP build has the out-of-line packed loop, the 1x1 pixel-pair kernel (packed
    # filters only) and the SSAT clamp; the portable build no SXTB16/SMLAD
    assert ("<tk_dot4p_s8>:" in code) == dsp and ("<tk_conv_pair_dsp>:" in code) == dsp
    assert ("\tsmlad" in code) == dsp and ("\tsxtb16" in code) == dsp
    assert not dsp or "\tssat\t" in code
    check_output(cases(), run_qemu(elf, cpu, icount=False, timeout=120),
                 f"{cpu}{'' if dsp else ' TK_NO_DSP'}")


@pytest.mark.unit
def test_pack_pairs_decodes_as_the_kernels_do() -> None:
    """pack_pairs against a restatement of tk_packed_w (tk_dot.h) on random matrices,
    and None where the layout does not apply."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        rows, k = int(rng.integers(2, 9)), 4 * int(rng.integers(1, 20))
        w = _weights(rng, (rows, k), extreme=bool(rng.integers(0, 2)))
        b = _packed(w)
        assert b.dtype == np.int8 and b.size == w.size
        for r in range(rows):
            for i in range(k):
                if rows % 2 and r == rows - 1:
                    got = int(b[r * k + i])
                else:
                    q = (r & ~1) * k + 2 * ((i & ~3) | ((i & 1) << 1) | ((i & 2) >> 1))
                    lo = int(b[q])
                    got = lo if r % 2 == 0 else int(b[q + 1]) + (lo < 0)
                assert got == w[r, i], (rows, k, r, i)
    assert pack_pairs(np.ones((1, 8), np.int64)) is None  # one row
    assert pack_pairs(np.ones((4, 6), np.int64)) is None  # k not a multiple of 4
    assert pack_pairs(np.array([[-1, 0, 0, 0], [-128, 0, 0, 0]])) is None  # v < -32768
