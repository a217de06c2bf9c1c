/* tinykit runtime: TRANSPOSE_CONV int8 (per-channel), bit-exact with TFLM's
 * reference_integer_ops::TransposeConv, in gather form (one output pixel at a
 * time, no int32 scratch; TFLM needs 4 bytes per output element).
 *
 * Output row oy meets the filter rows of its phase py = (oy + pad_h) % stride_h,
 * taps_h[py] of them, and they read the consecutive input rows ending at
 * (oy + pad_h) / stride_h; the same across. The generator lays each phase's
 * taps out in the order of that window (see tinykit/ops/transpose_conv.py),
 * so an output pixel is a dot product of a taps_h x taps_w x in_c input window
 * with a contiguous filter row per output channel. Window positions outside
 * the input hold the input zero point, cancelled by the folded per-phase bias.
 * The window is taken straight from the input when it is one in-range row,
 * else copied into a stack buffer of TK_TCONV_COL_BYTES; larger windows take
 * a plain loop. Dot products: 4 output channels per pass, with the SXTB16 /
 * SMLAD loop of tk_dot.h on Cortex-M with DSP. */
#include <string.h>

#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* Stack bytes of the window copy of one output pixel. */
#define TK_TCONV_COL_BYTES 1024

#if TK_DOT_DSP
/* Output channels oc..oc+3 from the window win (k bytes) and the phase's
 * filter rows w (stride k), bias bf: the asm loop, the k % 4 tail, the
 * requantization. */
static TK_NOINLINE void tk_tconv_group4_dsp(const TkTransposeConvParams *p, const int8_t *win,
                                            const int8_t *w, const int32_t *bf, int32_t k,
                                            int32_t oc, int8_t *dst) {
  const int32_t n4 = k & ~3;
  int32_t a0 = bf[oc], a1 = bf[oc + 1], a2 = bf[oc + 2], a3 = bf[oc + 3];
  int32_t i;
  w += oc * k;
  if (n4 > 0) {
    const int8_t *x = win;
    const int8_t *const xend = win + n4;
    const int8_t *w0 = w;
    const int8_t *w2 = w + 2 * k;
    const int32_t off = k - 4;
    TK_DOT4_ASM(a0, a1, a2, a3, x, xend, w0, w2, off);
  }
  for (i = n4; i < k; ++i) {
    const int32_t xv = win[i];
    a0 += xv * w[i];
    a1 += xv * w[k + i];
    a2 += xv * w[2 * k + i];
    a3 += xv * w[3 * k + i];
  }
  dst[oc] = tk_requant_s8(a0, p->mult[oc], p->shift[oc], p->output_offset, p->act_min, p->act_max);
  dst[oc + 1] = tk_requant_s8(a1, p->mult[oc + 1], p->shift[oc + 1], p->output_offset, p->act_min,
                              p->act_max);
  dst[oc + 2] = tk_requant_s8(a2, p->mult[oc + 2], p->shift[oc + 2], p->output_offset, p->act_min,
                              p->act_max);
  dst[oc + 3] = tk_requant_s8(a3, p->mult[oc + 3], p->shift[oc + 3], p->output_offset, p->act_min,
                              p->act_max);
}
#endif

/* All out_c outputs from the window win (k bytes, k > 0). */
static void tk_tconv_dots(const TkTransposeConvParams *p, const int8_t *win, const int8_t *w,
                          const int32_t *bf, int32_t k, int8_t *dst) {
  int32_t oc = 0;
#if TK_DOT_DSP
  for (; oc + 4 <= p->out_c; oc += 4) tk_tconv_group4_dsp(p, win, w, bf, k, oc, dst);
#else
  for (; oc + 4 <= p->out_c; oc += 4) {
    int32_t acc[4], j;
    for (j = 0; j < 4; ++j) acc[j] = bf[oc + j];
    tk_dot4_s8(win, w + oc * k, k, k, acc);
    for (j = 0; j < 4; ++j) {
      dst[oc + j] = tk_requant_s8(acc[j], p->mult[oc + j], p->shift[oc + j], p->output_offset,
                                  p->act_min, p->act_max);
    }
  }
#endif
  for (; oc < p->out_c; ++oc) {
    const int32_t acc = bf[oc] + tk_dot1_s8(win, w + oc * k, k);
    dst[oc] = tk_requant_s8(acc, p->mult[oc], p->shift[oc], p->output_offset, p->act_min,
                            p->act_max);
  }
}

/* The window of rows iy0.. (nty) and columns ix0.. (ntx) as contiguous bytes in
 * col (input zero point outside the input). */
static void tk_tconv_window(const TkTransposeConvParams *p, const int8_t *in, int32_t iy0,
                            int32_t nty, int32_t ix0, int32_t ntx, int8_t *col) {
  const int32_t c = p->in_c, row = ntx * c;
  const int8_t zp = (int8_t)p->input_zp;
  const int32_t i0 = tk_min_i32(ntx, tk_max_i32(0, -ix0));
  const int32_t i1 = tk_max_i32(i0, tk_min_i32(ntx, p->in_w - ix0));
  int32_t j;
  for (j = 0; j < nty; ++j, col += row) {
    const int32_t iy = iy0 + j;
    if (iy < 0 || iy >= p->in_h) {
      memset(col, zp, (size_t)row);
      continue;
    }
    memset(col, zp, (size_t)(i0 * c));
    memcpy(col + i0 * c, in + (iy * p->in_w + ix0 + i0) * c, (size_t)((i1 - i0) * c));
    memset(col + i1 * c, zp, (size_t)((ntx - i1) * c));
  }
}

/* The plain loop for windows larger than the buffer. */
static void tk_tconv_pixel_loop(const TkTransposeConvParams *p, const int8_t *in, int32_t iy0,
                                int32_t nty, int32_t ix0, int32_t ntx, const int8_t *w,
                                const int32_t *bf, int8_t *dst) {
  const int32_t c = p->in_c, k = nty * ntx * c;
  int32_t oc, j, i, ic;
  for (oc = 0; oc < p->out_c; ++oc) {
    const int8_t *f = w + oc * k;
    int32_t acc = bf[oc];
    for (j = 0; j < nty; ++j) {
      const int32_t iy = iy0 + j;
      for (i = 0; i < ntx; ++i, f += c) {
        const int32_t ix = ix0 + i;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
          for (ic = 0; ic < c; ++ic) acc += p->input_zp * f[ic];
        } else {
          const int8_t *x = in + (iy * p->in_w + ix) * c;
          for (ic = 0; ic < c; ++ic) acc += (int32_t)x[ic] * f[ic];
        }
      }
    }
    dst[oc] = tk_requant_s8(acc, p->mult[oc], p->shift[oc], p->output_offset, p->act_min,
                            p->act_max);
  }
}

TkStatus tk_transpose_conv_s8(const TkTransposeConvParams *p, const int8_t *in, int8_t *out) {
  int8_t col[TK_TCONV_COL_BYTES];
  int32_t b, oy, ox, oc;
  if (p == 0 || in == 0 || out == 0 || p->stride_h < 1 || p->stride_w < 1) return TK_BAD_ARGUMENT;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
    int8_t *dst = out + b * p->out_h * p->out_w * p->out_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t ry = oy + p->pad_h;
      const int32_t py = ry % p->stride_h;
      const int32_t nty = p->taps_h[py];
      const int32_t iy0 = ry / p->stride_h - nty + 1;
      const int rows_in = iy0 >= 0 && iy0 + nty <= p->in_h;
      for (ox = 0; ox < p->out_w; ++ox, dst += p->out_c) {
        const int32_t rx = ox + p->pad_w;
        const int32_t px = rx % p->stride_w;
        const int32_t ntx = p->taps_w[px];
        const int32_t ix0 = rx / p->stride_w - ntx + 1;
        const int32_t phase = py * p->stride_w + px;
        const int8_t *w = p->filter + p->filter_offset[phase];
        const int32_t *bf = p->bias_folded + phase * p->out_c;
        const int32_t k = nty * ntx * p->in_c;
        if (k == 0) { /* no tap reaches this pixel: the bias alone */
          for (oc = 0; oc < p->out_c; ++oc) {
            dst[oc] = tk_requant_s8(bf[oc], p->mult[oc], p->shift[oc], p->output_offset,
                                    p->act_min, p->act_max);
          }
        } else if (nty == 1 && rows_in && ix0 >= 0 && ix0 + ntx <= p->in_w) {
          tk_tconv_dots(p, bin + (iy0 * p->in_w + ix0) * p->in_c, w, bf, k, dst);
        } else if (k <= TK_TCONV_COL_BYTES) {
          tk_tconv_window(p, bin, iy0, nty, ix0, ntx, col);
          tk_tconv_dots(p, col, w, bf, k, dst);
        } else {
          tk_tconv_pixel_loop(p, bin, iy0, nty, ix0, ntx, w, bf, dst);
        }
      }
    }
  }
  return TK_OK;
}
