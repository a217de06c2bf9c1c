/* tinykit runtime: DEPTHWISE_CONV_2D int8 (any depth multiplier), bit-exact
 * with TFLM's reference_integer_ops::DepthwiseConvPerChannel.
 *
 * Fast paths (depth multiplier 1):
 * - Cortex-M with DSP, 3x3 without dilation, channels a multiple of 4 (the
 *   MobileNet / DS-CNN layers): tk_dw3x3_row_dsp, four channels at a time
 *   straight from NHWC memory (one word per tap, SXTB16 + SMLABB/SMLATT per
 *   lane, the three taps of a kernel row as one asm block), any stride; in
 *   place with the same ring of pad_h + 1 input rows as the portable path.
 *   Windows reaching into the padding (tk_dw3x3_border_dsp) compute only the
 *   taps inside the input, on the raw bias with the input offset added by
 *   SXTAB16: a padding tap costs nothing, which matters on small maps (3x3:
 *   8 of 9 pixels are border pixels).
 * - Cortex-M with DSP, other 3-wide kernels: one channel plane at a time
 *   (tk_dw_channel: zero-point-padded rows, folded bias, SMLAD for 3-wide
 *   rows); in place, the plane is copied into the scratch first.
 * - elsewhere (also under -DTK_NO_DSP): output rows with channels in blocks of
 *   TK_DW_BLOCK, the inner loop over contiguous channels (vectorized by the
 *   host compiler) and the valid kernel range per output; in place with a
 *   ring of pad_h + 1 input rows. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

#include <string.h>

#define TK_DW_BLOCK 16
#define TK_DW_MAX_TAPS 64
#define TK_DW_ROWS_BYTES 1024
#define TK_DW_MAX_ROWS 16

static int tk_dw_channel(const TkConvParams *p, const int8_t *src, int32_t src_stride, int32_t c,
                         int8_t *out);

/* One output value: output channel oc = ic * depth_multiplier + m. */
static int8_t tk_depthwise_value(const TkConvParams *p, const int8_t *in, int32_t oy,
                                 int32_t ox, int32_t ic, int32_t oc) {
  const int32_t y0 = oy * p->stride_h - p->pad_h;
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     x0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t acc, ky, kx;
  if (inside) {
    acc = p->bias_folded[oc];
    for (ky = 0; ky < p->k_h; ++ky) {
      const int8_t *x = in + ((y0 + ky * p->dil_h) * p->in_w + x0) * p->in_c + ic;
      const int8_t *w = p->filter + ky * p->k_w * p->out_c + oc;
      for (kx = 0; kx < p->k_w; ++kx) {
        acc += (int32_t)w[kx * p->out_c] * (int32_t)x[kx * p->dil_w * p->in_c];
      }
    }
  } else {
    acc = p->bias[oc];
    for (ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = y0 + ky * p->dil_h;
      if (iy < 0 || iy >= p->in_h) continue;
      for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dil_w;
        if (ix < 0 || ix >= p->in_w) continue;
        acc += (int32_t)p->filter[(ky * p->k_w + kx) * p->out_c + oc] *
               ((int32_t)in[(iy * p->in_w + ix) * p->in_c + ic] + p->input_offset);
      }
    }
  }
  acc = tk_multiply_by_quantized_multiplier(acc, p->mult[oc], (int)p->shift[oc]);
  acc += p->output_offset;
  return (int8_t)tk_clamp_i32(acc, p->act_min, p->act_max);
}

/* Valid kernel taps [*k0, *k1) of an output at input origin o (size n). */
static void tk_dw_range(int32_t o, int32_t k, int32_t dil, int32_t n, int32_t *k0, int32_t *k1) {
  int32_t a = 0, b = k;
  while (a < k && o + a * dil < 0) ++a;
  while (b > a && o + (b - 1) * dil >= n) --b;
  *k0 = a;
  *k1 = b;
}

/* Channels [c0, c0 + nb) of output pixel ox of one output row, depth
 * multiplier 1. rows[ky] is the input row that kernel row ky meets (element
 * (x, c) at rows[ky][x * in_c + c]), or 0 where it lies in the padding. The
 * inner loops run over contiguous channels (vectorized by the host compiler);
 * windows fully inside use the folded bias and raw int8 products. */
static void tk_dw_block(const TkConvParams *p, const int8_t *const *rows, int inside_rows,
                        int32_t ox, int32_t c0, int32_t nb, int8_t *dst) {
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int32_t in_c = p->in_c, out_c = p->out_c, off = p->input_offset;
  int32_t acc[TK_DW_BLOCK];
  int32_t kx0, kx1, ky, kx, j;
  int inside;
  tk_dw_range(x0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
  inside = inside_rows && kx0 == 0 && kx1 == p->k_w;
  for (j = 0; j < nb; ++j) acc[j] = inside ? p->bias_folded[c0 + j] : p->bias[c0 + j];
  for (ky = 0; ky < p->k_h; ++ky) {
    if (rows[ky] == 0) continue;
    for (kx = kx0; kx < kx1; ++kx) {
      const int8_t *x = rows[ky] + (x0 + kx * p->dil_w) * in_c + c0;
      const int8_t *w = p->filter + (ky * p->k_w + kx) * out_c + c0;
      if (nb == TK_DW_BLOCK) {
        if (inside) {
          for (j = 0; j < TK_DW_BLOCK; ++j) acc[j] += (int16_t)w[j] * (int16_t)x[j];
        } else {
          for (j = 0; j < TK_DW_BLOCK; ++j) acc[j] += (int16_t)w[j] * (int16_t)(x[j] + off);
        }
      } else if (inside) {
        for (j = 0; j < nb; ++j) acc[j] += (int32_t)w[j] * (int32_t)x[j];
      } else {
        for (j = 0; j < nb; ++j) acc[j] += (int32_t)w[j] * ((int32_t)x[j] + off);
      }
    }
  }
  for (j = 0; j < nb; ++j) {
    dst[c0 + j] = tk_requant_s8(acc[j], p->mult[c0 + j], p->shift[c0 + j], p->output_offset,
                                p->act_min, p->act_max);
  }
}

/* The k_h input rows that output row oy meets into rows (element (x, c) of
 * row ky at rows[ky][x * in_c + c], 0 where it lies in the padding): rows of
 * in, or of ring (ring_rows rows, row iy at iy % ring_rows) for rows iy <= oy,
 * whose bytes an in-place output already covers. Returns whether all k_h rows
 * lie inside the input. */
static int tk_dw_rows(const TkConvParams *p, const int8_t *in, const int8_t *ring,
                      int32_t ring_rows, int32_t oy, const int8_t **rows) {
  const int32_t row_bytes = p->in_w * p->in_c;
  int32_t ky;
  int inside = 1;
  for (ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
    if (iy < 0 || iy >= p->in_h) {
      rows[ky] = 0;
      inside = 0;
    } else if (ring != 0 && iy <= oy) {
      rows[ky] = ring + (iy % ring_rows) * row_bytes;
    } else {
      rows[ky] = in + iy * row_bytes;
    }
  }
  return inside;
}

#if TK_DOT_DSP
/* Whether tk_dw3x3_row_dsp computes this layer: 3x3, no dilation, depth
 * multiplier 1, channels a multiple of 4. */
static int tk_dw3x3_dsp_fits(const TkConvParams *p) {
  return p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1 &&
         p->depth_multiplier == 1 && p->in_c == p->out_c && (p->in_c & 3) == 0;
}

/* One tap for channels c..c+3 as asm text: x and y get the input and weight
 * words at XADDR and WADDR; SXTB16 gives the int16 lanes (c, c+2), ror 8 gives
 * (c+1, c+3), and SMLABB / SMLATT add each lane's product to its own
 * accumulator. EXT extends the input word: "sxtb16 %[t], %[x]" (raw, folded
 * bias) or "sxtab16 %[t], %[o], %[x]" (plus the input offset in both lanes of
 * o, raw bias: the same cost). */
#define TK_DW4_TAP_ASM(XADDR, WADDR, EXT)      \
  "ldr %[x], " XADDR "\n\t"                    \
  "ldr %[y], " WADDR "\n\t"                    \
  EXT "\n\t"                                   \
  "sxtb16 %[u], %[y]\n\t"                      \
  "smlabb %[a0], %[t], %[u], %[a0]\n\t"        \
  "smlatt %[a2], %[t], %[u], %[a2]\n\t"        \
  EXT ", ror #8\n\t"                           \
  "sxtb16 %[u], %[y], ror #8\n\t"              \
  "smlabb %[a1], %[t], %[u], %[a1]\n\t"        \
  "smlatt %[a3], %[t], %[u], %[a3]\n\t"
#define TK_DW4_T0(EXT) TK_DW4_TAP_ASM("[%[s]]", "[%[w]]", EXT)
#define TK_DW4_T1(EXT) TK_DW4_TAP_ASM("[%[s], %[c]]", "[%[w], %[c]]", EXT)
#define TK_DW4_T2(EXT) TK_DW4_TAP_ASM("[%[s], %[c], lsl #1]", "[%[w], %[c], lsl #1]", EXT)
#define TK_DW4_RAW "sxtb16 %[t], %[x]"
#define TK_DW4_OFF "sxtab16 %[t], %[o], %[x]"

/* Taps of one kernel row for channels c..c+3: x words at s, s + C, s + 2C, w
 * words at w, w + C, w + 2C (TAPS: the asm text of 1, 2 or 3 taps). One asm
 * block, so that the compiler neither hoists the loads nor spills: 10
 * instructions a tap (4 MACs), 12 registers. */
#define TK_DW4_ROW_ASM(TAPS, src, wts, stride, off2)                      \
  do {                                                                    \
    uint32_t x_, y_, t_, u_;                                              \
    __asm__(TAPS                                                          \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), \
              [x] "=&r"(x_), [y] "=&r"(y_), [t] "=&r"(t_), [u] "=&r"(u_)  \
            : [s] "r"(src), [w] "r"(wts), [c] "r"(stride), [o] "r"(off2)  \
            : "memory");                                                  \
  } while (0)
/* The three taps inside the input, raw products on the folded bias. */
#define TK_DW4_ROW(src, wts, stride) \
  TK_DW4_ROW_ASM(TK_DW4_T0(TK_DW4_RAW) TK_DW4_T1(TK_DW4_RAW) TK_DW4_T2(TK_DW4_RAW), src, wts, stride, 0)

/* The requantization of channels c..c+3 into dst[c..c+3]. */
#define TK_DW4_STORE(dst, c)                                                  \
  do {                                                                        \
    (dst)[(c)] = tk_requant_s8(a0, mult[(c)], shift[(c)], out_off, lo, hi);             \
    (dst)[(c) + 1] = tk_requant_s8(a1, mult[(c) + 1], shift[(c) + 1], out_off, lo, hi); \
    (dst)[(c) + 2] = tk_requant_s8(a2, mult[(c) + 2], shift[(c) + 2], out_off, lo, hi); \
    (dst)[(c) + 3] = tk_requant_s8(a3, mult[(c) + 3], shift[(c) + 3], out_off, lo, hi); \
  } while (0)

/* One border output pixel of a 3x3 depthwise conv (its window reaches into
 * the padding), all channels four at a time: only the taps inside the input
 * are computed, on the raw bias with the input offset added in the extension
 * (SXTAB16, free), so a tap in the padding costs nothing (the folded bias
 * would need their zero-point products). src[j], wts[j] (j < nr): the first
 * valid tap of the j-th valid kernel row and its weights, channel 0; nk
 * (1..3) valid taps in each row. */
static TK_NOINLINE void tk_dw3x3_border_dsp(const TkConvParams *p, const int8_t *const *src,
                                            const int8_t *const *wts, int32_t nr, int32_t nk,
                                            int8_t *dst) {
  const int32_t C = p->in_c, out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
  const uint32_t off2 = 0x10001u * (uint32_t)(uint16_t)(int16_t)p->input_offset;
  const int32_t *const bias = p->bias;
  const int32_t *const mult = p->mult;
  const int32_t *const shift = p->shift;
  int32_t c, j;
  if (nk <= 0) nr = 0;
  for (c = 0; c < C; c += 4) {
    int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
    for (j = 0; j < nr; ++j) {
      const int8_t *const s = src[j] + c;
      const int8_t *const w = wts[j] + c;
      if (nk >= 3) {
        TK_DW4_ROW_ASM(TK_DW4_T0(TK_DW4_OFF) TK_DW4_T1(TK_DW4_OFF) TK_DW4_T2(TK_DW4_OFF), s, w,
                       C, off2);
      } else if (nk == 2) {
        TK_DW4_ROW_ASM(TK_DW4_T0(TK_DW4_OFF) TK_DW4_T1(TK_DW4_OFF), s, w, C, off2);
      } else {
        TK_DW4_ROW_ASM(TK_DW4_T0(TK_DW4_OFF), s, w, C, off2);
      }
    }
    TK_DW4_STORE(dst, c);
  }
}

/* Output row of a 3x3 depthwise conv (tk_dw3x3_dsp_fits), four channels at a
 * time straight from NHWC memory (no copy). rows as tk_dw_rows. Windows inside
 * the input: TK_DW4_ROW on the folded bias; windows reaching into the padding:
 * tk_dw3x3_border_dsp (valid taps only). Any stride. */
static TK_NOINLINE void tk_dw3x3_row_dsp(const TkConvParams *p, const int8_t *const *rows,
                                         int8_t *dst) {
  const int32_t C = p->in_c, in_w = p->in_w, sw = p->stride_w, pad_w = p->pad_w;
  const int32_t out_w = p->out_w, C3 = 3 * p->in_c;
  const int32_t out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
  const int8_t *const filt = p->filter;
  const int32_t *const bf = p->bias_folded;
  const int32_t *const mult = p->mult;
  const int32_t *const shift = p->shift;
  const int8_t *const r0 = rows[0];
  const int8_t *const r1 = rows[1];
  const int8_t *const r2 = rows[2];
  const int all_rows = r0 != 0 && r1 != 0 && r2 != 0;
  int32_t ox, c, ky;
  for (ox = 0; ox < out_w; ++ox, dst += C) {
    const int32_t x0 = ox * sw - pad_w;
    const int32_t kx0 = tk_min_i32(3, tk_max_i32(0, -x0)), kx1 = tk_max_i32(0, tk_min_i32(3, in_w - x0));
    if (all_rows && kx0 == 0 && kx1 == 3) {
      const int32_t o = x0 * C;
      for (c = 0; c < C; c += 4) {
        const int8_t *w = filt + c;
        int32_t a0 = bf[c], a1 = bf[c + 1], a2 = bf[c + 2], a3 = bf[c + 3];
        TK_DW4_ROW(r0 + o + c, w, C);
        TK_DW4_ROW(r1 + o + c, w + C3, C);
        TK_DW4_ROW(r2 + o + c, w + 2 * C3, C);
        TK_DW4_STORE(dst, c);
      }
    } else {
      const int8_t *src[3];
      const int8_t *wts[3];
      int32_t nr = 0;
      for (ky = 0; ky < 3; ++ky) {
        if (rows[ky] == 0) continue;
        src[nr] = rows[ky] + (x0 + kx0) * C;
        wts[nr] = filt + ky * C3 + kx0 * C;
        ++nr;
      }
      tk_dw3x3_border_dsp(p, src, wts, nr, kx1 - kx0, dst);
    }
  }
}
#undef TK_DW4_STORE
#undef TK_DW4_ROW
#undef TK_DW4_ROW_ASM
#undef TK_DW4_OFF
#undef TK_DW4_RAW
#undef TK_DW4_T2
#undef TK_DW4_T1
#undef TK_DW4_T0
#undef TK_DW4_TAP_ASM
#endif

/* Output row oy (all pixels, all channels; depth multiplier 1) into dst.
 * The input rows come from tk_dw_rows: ring (rows still needed whose bytes
 * the output already covers) or in. */
static void tk_dw_out_row(const TkConvParams *p, const int8_t *in, const int8_t *ring,
                          int32_t ring_rows, int32_t oy, int8_t *dst) {
  const int8_t *rows[TK_DW_MAX_ROWS];
  const int inside = tk_dw_rows(p, in, ring, ring_rows, oy, rows);
  int32_t ox, c;
#if TK_DOT_DSP
  if (tk_dw3x3_dsp_fits(p)) {
    tk_dw3x3_row_dsp(p, rows, dst);
    return;
  }
#endif
  for (ox = 0; ox < p->out_w; ++ox, dst += p->out_c) {
    for (c = 0; c < p->out_c; c += TK_DW_BLOCK) {
      tk_dw_block(p, rows, inside, ox, c, tk_min_i32(TK_DW_BLOCK, p->out_c - c), dst);
    }
  }
}

TkStatus tk_depthwise_s8(const TkConvParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox, ic, m;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (p->depth_multiplier == 1 && p->k_h <= TK_DW_MAX_ROWS) {
#if TK_DOT_DSP
    if (p->k_w == 3 && p->dil_w == 1 && !tk_dw3x3_dsp_fits(p)) {
      for (b = 0; b < p->batches; ++b) {
        const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *bout = out + b * p->out_h * p->out_w * p->out_c;
        for (ic = 0; ic < p->out_c; ++ic) {
          if (!tk_dw_channel(p, bin + ic, p->in_c, ic, bout)) break;
        }
        if (ic < p->out_c) break;
      }
      if (b == p->batches) return TK_OK;
    }
#endif
    for (b = 0; b < p->batches; ++b) {
      const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
      int8_t *bout = out + b * p->out_h * p->out_w * p->out_c;
      for (oy = 0; oy < p->out_h; ++oy) {
        tk_dw_out_row(p, bin, 0, 1, oy, bout + oy * p->out_w * p->out_c);
      }
    }
    return TK_OK;
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
    int8_t *bout = out + b * p->out_h * p->out_w * p->out_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        int8_t *dst = bout + (oy * p->out_w + ox) * p->out_c;
        for (ic = 0; ic < p->in_c; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            const int32_t oc = ic * p->depth_multiplier + m;
            dst[oc] = tk_depthwise_value(p, bin, oy, ox, ic, oc);
          }
        }
      }
    }
  }
  return TK_OK;
}

/* Outputs of channel c (depth multiplier 1) into out (stride out_c) from its
 * input plane at src (element (y, x) at src[(y * in_w + x) * src_stride]).
 * For each output row the k_h input rows it needs are copied into rows
 * (stack, TK_DW_ROWS_BYTES) with the padding filled with the input zero point,
 * so every window uses the folded bias and no bounds checks. With the DSP
 * extension, 3-wide rows are 3 MACs in one word load, two SXTB16, two SMLAD.
 * Returns 0 when the rows do not fit. Parameters are read into locals once:
 * int8 stores may alias anything and would force reloads. */
static int tk_dw_channel(const TkConvParams *p, const int8_t *src, int32_t src_stride, int32_t c,
                         int8_t *out) {
  int8_t rows[TK_DW_ROWS_BYTES];
  int32_t w[TK_DW_MAX_TAPS];
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, dil_h = p->dil_h, dil_w = p->dil_w;
  const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_h = p->pad_h;
  const int32_t pad_w = p->pad_w, out_c = p->out_c;
  const int32_t out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
  const int32_t mult = p->mult[c], shift = p->shift[c], bias = p->bias_folded[c];
  const int8_t zp = (int8_t)(-p->input_offset);
  const int32_t width = (out_w - 1) * stride_w + (k_w - 1) * dil_w + 4;
  const int32_t ncopy = tk_max_i32(0, tk_min_i32(in_w, width - pad_w));
  int32_t oy, ox, ky, kx, t;
#if TK_DOT_DSP
  int32_t wp[2 * 16];
#endif
  if (k_h * k_w > TK_DW_MAX_TAPS || k_h * width > TK_DW_ROWS_BYTES) return 0;
  for (t = 0; t < k_h * k_w; ++t) w[t] = p->filter[t * out_c + c];
#if TK_DOT_DSP
  if (k_w == 3 && dil_w == 1 && k_h <= 16) {
    for (ky = 0; ky < k_h; ++ky) {
      const int32_t *wr = w + ky * 3;
      wp[2 * ky] = (int32_t)(((uint32_t)(uint16_t)wr[2] << 16) | (uint16_t)wr[0]);
      wp[2 * ky + 1] = (int32_t)(uint16_t)wr[1];
    }
  }
#endif
  for (oy = 0; oy < out_h; ++oy) {
    const int32_t y0 = oy * stride_h - pad_h;
    int8_t *dst = out + oy * out_w * out_c + c;
    for (ky = 0; ky < k_h; ++ky) {
      const int32_t iy = y0 + ky * dil_h;
      int8_t *r = rows + ky * width;
      memset(r, zp, (size_t)width);
      if (iy >= 0 && iy < in_h) {
        const int8_t *s = src + iy * in_w * src_stride;
        if (src_stride == 1) {
          memcpy(r + pad_w, s, (size_t)ncopy);
        } else {
          for (t = 0; t < ncopy; ++t) r[pad_w + t] = s[t * src_stride];
        }
      }
    }
#if TK_DOT_DSP
    if (k_w == 3 && dil_w == 1 && k_h <= 16) {
      for (ox = 0; ox < out_w; ++ox, dst += out_c) {
        const int8_t *r = rows + ox * stride_w;
        int32_t acc = bias;
        for (ky = 0; ky < k_h; ++ky, r += width) {
          const uint32_t v = tk_load_u32(r);
          acc = tk_smlad(tk_sxtb16(v), wp[2 * ky], acc);
          acc = tk_smlad(tk_sxtb16_ror8(v), wp[2 * ky + 1], acc);
        }
        *dst = tk_requant_s8(acc, mult, shift, out_off, lo, hi);
      }
      continue;
    }
#endif
    for (ox = 0; ox < out_w; ++ox, dst += out_c) {
      const int8_t *r = rows + ox * stride_w;
      const int32_t *wr = w;
      int32_t acc = bias;
      for (ky = 0; ky < k_h; ++ky, r += width, wr += k_w) {
        for (kx = 0; kx < k_w; ++kx) acc += wr[kx] * (int32_t)r[kx * dil_w];
      }
      *dst = tk_requant_s8(acc, mult, shift, out_off, lo, hi);
    }
  }
  return 1;
}

int32_t tk_depthwise_inplace_scratch_bytes(const TkConvParams *p) {
  if (p == 0) return 0;
  return tk_max_i32(p->out_h * p->out_w, (p->pad_h + 1) * p->in_w * p->in_c);
}

/* Input channel c is read only by output channel c: copy the plane of channel
 * c into scratch, then compute channel c's outputs from it over buf (fast
 * path), or compute the plane into scratch and write it back (reference). */
TkStatus tk_depthwise_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch) {
  int32_t n, c, oy, ox, i;
  if (p == 0 || buf == 0 || scratch == 0) return TK_BAD_ARGUMENT;
  n = p->out_h * p->out_w;
  if (p->batches != 1 || p->depth_multiplier != 1 || p->out_h != p->in_h ||
      p->out_w != p->in_w || p->out_c != p->in_c) {
    return TK_BAD_ARGUMENT;
  }
  /* Rows: before output row y overwrites input row y, row y is kept in a
   * ring of pad_h + 1 rows (scratch); output row y reads input rows >= y -
   * pad_h, so the ring holds every overwritten row still needed. With the DSP
   * extension only for 3x3 (tk_dw3x3_row_dsp), the other shapes go one
   * channel plane at a time below. */
#if TK_DOT_DSP
  if (p->stride_h == 1 && tk_dw3x3_dsp_fits(p)) {
#else
  if (p->stride_h == 1 && p->k_h <= TK_DW_MAX_ROWS) {
#endif
    const int32_t row_bytes = p->in_w * p->in_c;
    const int32_t ring_rows = p->pad_h + 1;
    for (oy = 0; oy < p->out_h; ++oy) {
      memcpy(scratch + (oy % ring_rows) * row_bytes, buf + oy * row_bytes, (size_t)row_bytes);
      tk_dw_out_row(p, buf, scratch, ring_rows, oy, buf + oy * row_bytes);
    }
    return TK_OK;
  }
  for (c = 0; c < p->out_c; ++c) {
    for (i = 0; i < n; ++i) scratch[i] = buf[i * p->out_c + c];
    if (!tk_dw_channel(p, scratch, 1, c, buf)) break;
  }
  if (c == p->out_c) return TK_OK;
  for (c = 0; c < p->out_c; ++c) {
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        scratch[oy * p->out_w + ox] = tk_depthwise_value(p, buf, oy, ox, c, c);
      }
    }
    for (i = 0; i < n; ++i) buf[i * p->out_c + c] = scratch[i];
  }
  return TK_OK;
}
