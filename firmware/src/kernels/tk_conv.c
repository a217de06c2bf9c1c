/* tinykit runtime: CONV_2D int8 (per-channel and per-tensor), bit-exact with
 * TFLM's reference_integer_ops::ConvPerChannel.
 *
 * Fast path: an output pixel's window (k_h * k_w * in_c values) is taken as
 * one contiguous vector - straight from the input when it is contiguous there
 * (1x1 kernels, interior windows of full-width kernels), else copied into a
 * stack buffer of TK_CONV_COL_BYTES with the padding filled with the input
 * zero point, which contributes (zp - zp) * w = 0 - so every window uses the
 * folded bias and a pure int8 dot product, 4 output channels per pass over the
 * window. The generator writes the filter in the channel-pair layout of
 * tk_dot.h (packed = 1, rows rounded up to 4 inputs with zero weights): on
 * Cortex-M with DSP, tk_dot4p_s8 (16 MACs in 17 instructions) and, for 1x1
 * convs, pixel pairs x channel pairs (tk_conv_pair_dsp, 16 MACs in 13). An
 * unpacked filter (a weight pair out of int16 range) takes tk_conv_group4_dsp
 * (tk_dot4_s8). Windows larger than the buffer take the reference path. */
#include <string.h>

#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* Stack bytes of the im2col buffer of one output pixel. */
#define TK_CONV_COL_BYTES 1024

static int8_t tk_conv_requant(const TkConvParams *p, int32_t acc, int32_t oc) {
  acc = tk_multiply_by_quantized_multiplier(acc, p->mult[oc], (int)p->shift[oc]);
  acc += p->output_offset;
  return (int8_t)tk_clamp_i32(acc, p->act_min, p->act_max);
}

/* All out_c outputs of one output pixel into dst, the filter in the
 * channel-pair layout, rows of k_h * k_w * in_c rounded up to 4 (reference
 * path: each weight through tk_packed_w). */
static void tk_conv_pixel_ref_packed(const TkConvParams *p, const int8_t *in, int32_t oy,
                                     int32_t ox, int8_t *dst) {
  const int32_t y0 = oy * p->stride_h - p->pad_h;
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int32_t kp = (p->k_h * p->k_w * p->in_c + 3) & ~3; /* packed row: rounded up to 4 */
  int32_t oc, ky, kx, ic;
  for (oc = 0; oc < p->out_c; ++oc) {
    int32_t acc = p->bias[oc];
    for (ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = y0 + ky * p->dil_h;
      if (iy < 0 || iy >= p->in_h) continue;
      for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dil_w;
        const int8_t *x;
        if (ix < 0 || ix >= p->in_w) continue;
        x = in + (iy * p->in_w + ix) * p->in_c;
        for (ic = 0; ic < p->in_c; ++ic) {
          acc += tk_packed_w(p->filter, p->out_c, kp, oc, (ky * p->k_w + kx) * p->in_c + ic) *
                 ((int32_t)x[ic] + p->input_offset);
        }
      }
    }
    dst[oc] = tk_conv_requant(p, acc, oc);
  }
}

/* All out_c outputs of one output pixel into dst (reference path). */
static void tk_conv_pixel_ref(const TkConvParams *p, const int8_t *in, int32_t oy, int32_t ox,
                          int8_t *dst) {
  const int32_t y0 = oy * p->stride_h - p->pad_h;
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int32_t fsize = p->k_h * p->k_w * p->in_c;
  const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     x0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t oc;
  if (p->packed) {
    tk_conv_pixel_ref_packed(p, in, oy, ox, dst);
    return;
  }
  for (oc = 0; oc < p->out_c; ++oc) {
    const int8_t *f = p->filter + oc * fsize;
    int32_t acc;
    int32_t ky, kx, ic;
    if (inside && p->dil_w == 1) {
      /* each filter row meets k_w * in_c contiguous input bytes */
      const int32_t row = p->k_w * p->in_c;
      acc = p->bias_folded[oc];
      for (ky = 0; ky < p->k_h; ++ky) {
        const int8_t *x = in + ((y0 + ky * p->dil_h) * p->in_w + x0) * p->in_c;
        const int8_t *w = f + ky * row;
        for (ic = 0; ic < row; ++ic) acc += (int32_t)w[ic] * (int32_t)x[ic];
      }
    } else if (inside) {
      acc = p->bias_folded[oc];
      for (ky = 0; ky < p->k_h; ++ky) {
        for (kx = 0; kx < p->k_w; ++kx) {
          const int8_t *x = in + ((y0 + ky * p->dil_h) * p->in_w + x0 + kx * p->dil_w) * p->in_c;
          const int8_t *w = f + (ky * p->k_w + kx) * p->in_c;
          for (ic = 0; ic < p->in_c; ++ic) acc += (int32_t)w[ic] * (int32_t)x[ic];
        }
      }
    } else {
      acc = p->bias[oc];
      for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) continue;
        for (kx = 0; kx < p->k_w; ++kx) {
          const int32_t ix = x0 + kx * p->dil_w;
          const int8_t *x;
          const int8_t *w;
          if (ix < 0 || ix >= p->in_w) continue;
          x = in + (iy * p->in_w + ix) * p->in_c;
          w = f + (ky * p->k_w + kx) * p->in_c;
          for (ic = 0; ic < p->in_c; ++ic) acc += (int32_t)w[ic] * ((int32_t)x[ic] + p->input_offset);
        }
      }
    }
    dst[oc] = tk_conv_requant(p, acc, oc);
  }
}

/* The window of the output pixel at input origin (y0, x0) as k_h * k_w * in_c
 * contiguous bytes (padding = input zero point); NULL when it must be copied
 * and does not fit col. */
static const int8_t *tk_conv_window(const TkConvParams *p, const int8_t *in, int32_t y0,
                                    int32_t x0, int8_t *col) {
  const int32_t row = p->k_w * p->in_c;
  const int8_t zp = (int8_t)(-p->input_offset);
  const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     x0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int8_t *dst = col;
  int32_t ky, kx;
  if (inside && p->dil_w == 1 &&
      (p->k_h == 1 || (p->dil_h == 1 && p->k_w == p->in_w))) {
    return in + (y0 * p->in_w + x0) * p->in_c;
  }
  if (p->k_h * row > TK_CONV_COL_BYTES) return 0;
  for (ky = 0; ky < p->k_h; ++ky, dst += row) {
    const int32_t iy = y0 + ky * p->dil_h;
    if (iy < 0 || iy >= p->in_h) {
      memset(dst, zp, (size_t)row);
    } else if (p->dil_w == 1) {
      const int32_t kx0 = tk_min_i32(p->k_w, tk_max_i32(0, -x0));
      const int32_t kx1 = tk_max_i32(kx0, tk_min_i32(p->k_w, p->in_w - x0));
      memset(dst, zp, (size_t)(kx0 * p->in_c));
      memcpy(dst + kx0 * p->in_c, in + (iy * p->in_w + x0 + kx0) * p->in_c,
             (size_t)((kx1 - kx0) * p->in_c));
      memset(dst + kx1 * p->in_c, zp, (size_t)((p->k_w - kx1) * p->in_c));
    } else {
      for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dil_w;
        if (ix < 0 || ix >= p->in_w) {
          memset(dst + kx * p->in_c, zp, (size_t)p->in_c);
        } else {
          memcpy(dst + kx * p->in_c, in + (iy * p->in_w + ix) * p->in_c, (size_t)p->in_c);
        }
      }
    }
  }
  return col;
}

#if TK_DOT_DSP
/* Output channels oc..oc+3 of the window win (k bytes) into dst[oc..oc+3]
 * (unpacked filters): the asm dot-product loop of tk_dot4_s8 and the
 * requantization, one call. */
static __attribute__((noinline)) void tk_conv_group4_dsp(const TkConvParams *p,
                                                         const int8_t *win, int32_t k,
                                                         int32_t oc, int8_t *dst) {
  const int32_t *const mult = p->mult + oc;
  const int32_t *const shift = p->shift + oc;
  int32_t acc[4], j;
  for (j = 0; j < 4; ++j) acc[j] = p->bias_folded[oc + j];
  tk_dot4_s8(win, p->filter + oc * k, k, k, acc);
  for (j = 0; j < 4; ++j) {
    dst[oc + j] = tk_requant_s8(acc[j], mult[j], shift[j], p->output_offset, p->act_min,
                                p->act_max);
  }
}
#endif

#if TK_DOT_DSP
/* 1x1 convs as a matrix multiply over 2 output pixels x 2 output channels
 * (Cortex-M with DSP, packed filters): the two input pixels are widened once
 * into int16 lane pairs on the stack, [A even, A odd, B even, B odd] per 4
 * inputs, so two LDRD load both pixels' operands and each packed weight word
 * serves both pixels and both channels of its pair: 16 MACs in 13
 * instructions. Input channels a multiple of 4, at most TK_CONV_PAIR_MAX_C
 * (the widened pair is 4 * in_c stack bytes). */
#define TK_CONV_PAIR_MAX_C 128

static int tk_conv_pair_fits(const TkConvParams *p) {
  return p->packed && p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
         (p->in_c & 3) == 0 && p->in_c <= TK_CONV_PAIR_MAX_C && p->out_c >= 2;
}

/* One step of the packed pair loop: 4 inputs of the two widened pixels
 * ([A even, A odd, B even, B odd] at px) x the packed row pair at w (tk_dot.h):
 * 16 MACs in 13 instructions, 12 registers. In_c <= TK_CONV_PAIR_MAX_C keeps
 * the odd rows' sums within 24 bits without chunks. */
#define TK_PAIRP_ASM_STEP                      \
  "ldrd %[xae], %[xao], [%[px]], #8\n\t"       \
  "ldrd %[xbe], %[xbo], [%[px]], #8\n\t"       \
  "ldrd %[t], %[u], [%[w]], #8\n\t"            \
  "smlad %[qa], %[t], %[xae], %[qa]\n\t"       \
  "smlad %[qb], %[t], %[xbe], %[qb]\n\t"       \
  "sxtb16 %[t], %[t]\n\t"                      \
  "smlad %[pa], %[t], %[xae], %[pa]\n\t"       \
  "smlad %[pb], %[t], %[xbe], %[pb]\n\t"       \
  "smlad %[qa], %[u], %[xao], %[qa]\n\t"       \
  "smlad %[qb], %[u], %[xbo], %[qb]\n\t"       \
  "sxtb16 %[u], %[u]\n\t"                      \
  "smlad %[pa], %[u], %[xao], %[pa]\n\t"       \
  "smlad %[pb], %[u], %[xbo], %[pb]\n\t"

/* Input pixel of output pixel q (raster order) of a 1x1 conv without padding. */
static const int8_t *tk_conv_pair_src(const TkConvParams *p, const int8_t *in, int32_t q) {
  const int32_t oy = q / p->out_w, ox = q - oy * p->out_w;
  return in + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c;
}

/* The outputs of tk_conv_pair_dsp from the widened pair xw; full (a constant
 * after inlining): the clamp is the whole int8 range (one SSAT). */
static inline TK_ALWAYS_INLINE void tk_conv_pair_out(const TkConvParams *p, const uint32_t *xw,
                                                     int8_t *da, int8_t *db, const int full) {
  const int32_t k = p->in_c, out_c = p->out_c, off = p->output_offset;
  const int32_t lo = p->act_min, hi = p->act_max;
  const int32_t *const bf = p->bias_folded;
  const int32_t *const mult = p->mult;
  const int32_t *const shift = p->shift;
  int32_t i, oc;
  /* channel pairs (tk_dot.h): 2 pixels x 2 channels x 4 inputs in 13 */
  for (oc = 0; oc + 2 <= out_c; oc += 2) {
    const int8_t *w = p->filter + oc * k;
    const int8_t *const wend = w + 2 * k;
    const uint32_t *px = xw;
    int32_t pa = bf[oc], pb = pa, qa = pa, qb = pa, oa = bf[oc + 1], ob = oa;
    uint32_t xae, xao, xbe, xbo, t, u;
    if ((k & 4) != 0) { /* an odd step first, then two a loop iteration */
      __asm__(TK_PAIRP_ASM_STEP
              : [pa] "+r"(pa), [qa] "+r"(qa), [pb] "+r"(pb), [qb] "+r"(qb), [px] "+r"(px),
                [w] "+r"(w), [xae] "=&r"(xae), [xao] "=&r"(xao), [xbe] "=&r"(xbe),
                [xbo] "=&r"(xbo), [t] "=&r"(t), [u] "=&r"(u)
              :
              : "memory");
    }
    if (w != wend) {
      __asm__("1:\n\t" TK_PAIRP_ASM_STEP TK_PAIRP_ASM_STEP
              "cmp %[w], %[wend]\n\t"
              "bne 1b"
              : [pa] "+r"(pa), [qa] "+r"(qa), [pb] "+r"(pb), [qb] "+r"(qb), [px] "+r"(px),
                [w] "+r"(w), [xae] "=&r"(xae), [xao] "=&r"(xao), [xbe] "=&r"(xbe),
                [xbo] "=&r"(xbo), [t] "=&r"(t), [u] "=&r"(u)
              : [wend] "r"(wend)
              : "cc", "memory");
    }
    oa += (int32_t)((uint32_t)qa - (uint32_t)pa) >> 8;
    ob += (int32_t)((uint32_t)qb - (uint32_t)pb) >> 8;
    da[oc] = tk_requant_act_s8(pa, mult[oc], shift[oc], off, lo, hi, full);
    da[oc + 1] = tk_requant_act_s8(oa, mult[oc + 1], shift[oc + 1], off, lo, hi, full);
    db[oc] = tk_requant_act_s8(pb, mult[oc], shift[oc], off, lo, hi, full);
    db[oc + 1] = tk_requant_act_s8(ob, mult[oc + 1], shift[oc + 1], off, lo, hi, full);
  }
  if (oc < out_c) { /* odd out_c: the last channel */
    const int8_t *w = p->filter + oc * k;
    int32_t a = bf[oc], b = a;
    for (i = 0; i < k; i += 4) {
      const uint32_t v = tk_load_u32(w + i);
      const int32_t we = tk_sxtb16(v), wo = tk_sxtb16_ror8(v);
      a = tk_smlad(we, (int32_t)xw[i], tk_smlad(wo, (int32_t)xw[i + 1], a));
      b = tk_smlad(we, (int32_t)xw[i + 2], tk_smlad(wo, (int32_t)xw[i + 3], b));
    }
    da[oc] = tk_requant_act_s8(a, mult[oc], shift[oc], off, lo, hi, full);
    db[oc] = tk_requant_act_s8(b, mult[oc], shift[oc], off, lo, hi, full);
  }
}

/* All out_c outputs of the 1x1 conv at input pixels xa and xb into da and db
 * (which may overlap xa and xb: both are read first). */
static TK_NOINLINE void tk_conv_pair_dsp(const TkConvParams *p, const int8_t *xa,
                                         const int8_t *xb, int8_t *da, int8_t *db) {
  uint32_t xw[TK_CONV_PAIR_MAX_C];
  int32_t i;
  for (i = 0; i < p->in_c; i += 4) {
    const uint32_t va = tk_load_u32(xa + i), vb = tk_load_u32(xb + i);
    xw[i] = (uint32_t)tk_sxtb16(va);
    xw[i + 1] = (uint32_t)tk_sxtb16_ror8(va);
    xw[i + 2] = (uint32_t)tk_sxtb16(vb);
    xw[i + 3] = (uint32_t)tk_sxtb16_ror8(vb);
  }
  if (p->act_min == -128 && p->act_max == 127) {
    tk_conv_pair_out(p, xw, da, db, 1);
  } else {
    tk_conv_pair_out(p, xw, da, db, 0);
  }
}
#endif

/* All out_c outputs of the window win (k bytes, a multiple of 4) into dst,
 * the filter in the channel-pair layout (tk_dot.h): four channels a pass, then
 * a pair, then an odd last (plain) row; where the clamp is the whole int8
 * range, one SSAT. */
static void tk_conv_window_packed(const TkConvParams *p, const int8_t *win, const int16_t *xp,
                                  int32_t k, int8_t *dst) {
  const int32_t lo = p->act_min, hi = p->act_max, off = p->output_offset;
  const int full = lo == -128 && hi == 127;
  int32_t oc, j;
  for (oc = 0; oc + 2 <= p->out_c; oc += 2) {
    int32_t acc[4];
    const int32_t n = oc + 4 <= p->out_c ? 4 : 2;
    acc[0] = p->bias_folded[oc];
    acc[1] = p->bias_folded[oc + 1];
#if TK_DOT_DSP
    (void)xp;
    if (n == 4) {
      acc[2] = p->bias_folded[oc + 2];
      acc[3] = p->bias_folded[oc + 3];
      tk_dot4p_s8(win, p->filter + oc * k, k, acc);
    } else {
      tk_dot2p_s8(win, p->filter + oc * k, k, &acc[0], &acc[1]);
    }
#else
    tk_dot2p_s16(xp, p->filter + oc * k, k, &acc[0], &acc[1]);
    if (n == 4) {
      acc[2] = p->bias_folded[oc + 2];
      acc[3] = p->bias_folded[oc + 3];
      tk_dot2p_s16(xp, p->filter + (oc + 2) * k, k, &acc[2], &acc[3]);
    }
#endif
    for (j = 0; j < n; ++j) {
      dst[oc + j] = tk_requant_act_s8(acc[j], p->mult[oc + j], p->shift[oc + j], off, lo, hi, full);
    }
    oc += n - 2;
  }
  if (oc < p->out_c) {
    const int32_t acc = p->bias_folded[oc] + tk_dot1_s8(win, p->filter + oc * k, k);
    dst[oc] = tk_requant_act_s8(acc, p->mult[oc], p->shift[oc], off, lo, hi, full);
  }
}

/* All out_c outputs of one output pixel into dst. */
static void tk_conv_pixel(const TkConvParams *p, const int8_t *in, int32_t oy, int32_t ox,
                          int8_t *dst) {
  int8_t col[TK_CONV_COL_BYTES];
  const int32_t k = p->k_h * p->k_w * p->in_c;
  const int8_t *win =
      tk_conv_window(p, in, oy * p->stride_h - p->pad_h, ox * p->stride_w - p->pad_w, col);
  int32_t oc, j;
#if !TK_DOT_DSP
  int16_t x16[TK_CONV_COL_BYTES];
#endif
  if (win == 0 || k > TK_CONV_COL_BYTES) {
    tk_conv_pixel_ref(p, in, oy, ox, dst);
    return;
  }
  if (p->packed) {
    /* packed rows hold k rounded up to 4 (zero weights at the end): the
     * window gets as many bytes, zeros in col (k <= TK_CONV_COL_BYTES, a
     * multiple of 4, so the rounded k fits too) */
    const int32_t kp = (k + 3) & ~3;
    if (kp != k) {
      if (win != col) memcpy(col, win, (size_t)k);
      memset(col + k, 0, (size_t)(kp - k));
      win = col;
    }
#if TK_DOT_DSP
    tk_conv_window_packed(p, win, 0, kp, dst);
#else
    tk_widen_packed(win, x16, kp); /* once for every channel pair */
    tk_conv_window_packed(p, win, x16, kp, dst);
#endif
    return;
  }
#if TK_DOT_DSP
  (void)j;
  for (oc = 0; oc + 4 <= p->out_c; oc += 4) tk_conv_group4_dsp(p, win, k, oc, dst);
#else
  for (j = 0; j < k; ++j) x16[j] = win[j];
  for (oc = 0; oc + 4 <= p->out_c; oc += 4) {
    int32_t acc[4];
    for (j = 0; j < 4; ++j) acc[j] = p->bias_folded[oc + j];
    tk_dot4_s16s8(x16, p->filter + oc * k, k, k, acc);
    for (j = 0; j < 4; ++j) {
      dst[oc + j] = tk_requant_s8(acc[j], p->mult[oc + j], p->shift[oc + j], p->output_offset,
                                  p->act_min, p->act_max);
    }
  }
#endif
  for (; oc < p->out_c; ++oc) {
#if TK_DOT_DSP
    const int32_t acc = p->bias_folded[oc] + tk_dot1_s8(win, p->filter + oc * k, k);
#else
    const int32_t acc = p->bias_folded[oc] + tk_dot1_s16s8(x16, p->filter + oc * k, k);
#endif
    dst[oc] = tk_requant_s8(acc, p->mult[oc], p->shift[oc], p->output_offset, p->act_min,
                            p->act_max);
  }
}

TkStatus tk_conv_s8(const TkConvParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
#if TK_DOT_DSP
  if (tk_conv_pair_fits(p)) {
    const int32_t n = p->out_h * p->out_w;
    int32_t q;
    for (b = 0; b < p->batches; ++b) {
      const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
      int8_t *bout = out + b * n * p->out_c;
      for (q = 0; q + 2 <= n; q += 2) {
        tk_conv_pair_dsp(p, tk_conv_pair_src(p, bin, q), tk_conv_pair_src(p, bin, q + 1),
                         bout + q * p->out_c, bout + (q + 1) * p->out_c);
      }
      if (q < n) tk_conv_pixel(p, bin, q / p->out_w, q % p->out_w, bout + q * p->out_c);
    }
    return TK_OK;
  }
#endif
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
    int8_t *bout = out + b * p->out_h * p->out_w * p->out_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        tk_conv_pixel(p, bin, oy, ox, bout + (oy * p->out_w + ox) * p->out_c);
      }
    }
  }
  return TK_OK;
}

/* n bytes from src to dst (no overlap), a word at a time when both are
 * word-aligned: the ring copies of the in-place conv. */
static void tk_conv_copy(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i = 0;
  if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0) {
    for (; i + 4 <= n; i += 4) {
      uint32_t v;
      memcpy(&v, src + i, 4);
      memcpy(dst + i, &v, 4);
    }
  }
  for (; i < n; ++i) dst[i] = src[i];
}

/* Output pixels in the ring of tk_conv_inplace_s8: pad_h * in_w + pad_w + 1. */
static int32_t tk_conv_ring_pixels(const TkConvParams *p) {
  return p->pad_h * p->in_w + p->pad_w + 1;
}

int32_t tk_conv_inplace_scratch_bytes(const TkConvParams *p) {
  return p == 0 ? 0 : tk_conv_ring_pixels(p) * p->out_c;
}

/* Input pixel q (raster order) is last read by output pixel q + D at the
 * latest, D = pad_h * W + pad_w. Output pixels wait in a ring of D + 1
 * pixels and output pixel j is written at [j * out_c, (j + 1) * out_c) once
 * output pixel j + D is computed: with out_c <= in_c those bytes hold only
 * input pixels <= j, which nobody reads any more. With out_c > in_c (1x1, no
 * padding, D = 0) pixels go in decreasing order: output pixel j's bytes then
 * hold only input pixels >= j, all consumed. */
TkStatus tk_conv_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch) {
  int8_t *const ring = scratch;
  int32_t n, ring_px, d, q;
  if (p == 0 || buf == 0 || scratch == 0) return TK_BAD_ARGUMENT;
  n = p->out_h * p->out_w;
  ring_px = tk_conv_ring_pixels(p);
  d = ring_px - 1;
  if (p->batches != 1 || p->stride_h != 1 || p->stride_w != 1 || p->out_h != p->in_h ||
      p->out_w != p->in_w) {
    return TK_BAD_ARGUMENT;
  }
#if TK_DOT_DSP
  /* Pixel pairs (1x1, stride 1, no padding): both input pixels are widened
   * onto the stack before any output byte is written. Out_c <= in_c, pairs in
   * increasing order: the outputs of pixels q, q + 1 end at (q + 2) * out_c <=
   * (q + 2) * in_c, before any input pixel still to read. Out_c > in_c, pairs
   * (q - 1, q) in decreasing order: their outputs start at (q - 1) * out_c >=
   * (q - 1) * in_c, after every input pixel still to read. A last single pixel
   * goes through the ring. */
  if (tk_conv_pair_fits(p)) {
    if (p->out_c <= p->in_c) {
      for (q = 0; q + 2 <= n; q += 2) {
        tk_conv_pair_dsp(p, buf + q * p->in_c, buf + (q + 1) * p->in_c, buf + q * p->out_c,
                         buf + (q + 1) * p->out_c);
      }
    } else {
      for (q = n - 1; q >= 1; q -= 2) {
        tk_conv_pair_dsp(p, buf + (q - 1) * p->in_c, buf + q * p->in_c,
                         buf + (q - 1) * p->out_c, buf + q * p->out_c);
      }
      q = 0;
    }
    if ((n & 1) != 0) {
      if (p->out_c <= p->in_c) q = n - 1;
      tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, ring);
      tk_conv_copy(buf + q * p->out_c, ring, p->out_c);
    }
    return TK_OK;
  }
#endif
  if (p->out_c <= p->in_c) {
    for (q = 0; q < n + d; ++q) {
      if (q < n) tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, ring + (q % ring_px) * p->out_c);
      if (q >= d) {
        const int32_t j = q - d;
        const int8_t *src = ring + (j % ring_px) * p->out_c;
        tk_conv_copy(buf + j * p->out_c, src, p->out_c);
      }
    }
    return TK_OK;
  }
  if (d != 0 || p->k_h != 1 || p->k_w != 1) return TK_BAD_ARGUMENT;
  /* Output pixel q's bytes [q * out_c, (q + 1) * out_c) meet input pixels
   * >= q only (all consumed but q itself), and input pixel q only while
   * q * (out_c - in_c) < in_c: those few pixels go through the ring, the
   * others straight to buf. */
  for (q = n - 1; q >= 0; --q) {
    if (q * (p->out_c - p->in_c) >= p->in_c) {
      tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, buf + q * p->out_c);
    } else {
      tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, ring);
      tk_conv_copy(buf + q * p->out_c, ring, p->out_c);
    }
  }
  return TK_OK;
}
