/* tinykit runtime: CONV_2D int8 (per-channel and per-tensor), bit-exact with
 * TFLM's reference_integer_ops::ConvPerChannel.
 *
 * Fast path: an output pixel's window (k_h * k_w * in_c values) is taken as
 * one contiguous vector - straight from the input when it is contiguous there
 * (1x1 kernels, interior windows of full-width kernels), else copied into a
 * stack buffer of TK_CONV_COL_BYTES with the padding filled with the input
 * zero point, which contributes (zp - zp) * w = 0 - so every window uses the
 * folded bias and a pure int8 dot product, 4 output channels per pass over the
 * window. Windows larger than the buffer take the reference path. */
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

/* All out_c outputs of one output pixel into dst (reference path). */
static void tk_conv_pixel_ref(const TkConvParams *p, const int8_t *in, int32_t oy, int32_t ox,
                          int8_t *dst) {
  const int32_t y0 = oy * p->stride_h - p->pad_h;
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int32_t fsize = p->k_h * p->k_w * p->in_c;
  const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     x0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t oc;
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
#if !TK_DOT_DSP
  for (j = 0; j < k; ++j) x16[j] = win[j];
#endif
  for (oc = 0; oc + 4 <= p->out_c; oc += 4) {
    int32_t acc[4];
    for (j = 0; j < 4; ++j) acc[j] = p->bias_folded[oc + j];
#if TK_DOT_DSP
    tk_dot4_s8(win, p->filter + oc * k, k, k, acc);
#else
    tk_dot4_s16s8(x16, p->filter + oc * k, k, k, acc);
#endif
    for (j = 0; j < 4; ++j) {
      dst[oc + j] = tk_requant_s8(acc[j], p->mult[oc + j], p->shift[oc + j], p->output_offset,
                                  p->act_min, p->act_max);
    }
  }
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
  int32_t n, ring_px, d, q, i;
  if (p == 0 || buf == 0 || scratch == 0) return TK_BAD_ARGUMENT;
  n = p->out_h * p->out_w;
  ring_px = tk_conv_ring_pixels(p);
  d = ring_px - 1;
  if (p->batches != 1 || p->stride_h != 1 || p->stride_w != 1 || p->out_h != p->in_h ||
      p->out_w != p->in_w) {
    return TK_BAD_ARGUMENT;
  }
  if (p->out_c <= p->in_c) {
    for (q = 0; q < n + d; ++q) {
      if (q < n) tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, ring + (q % ring_px) * p->out_c);
      if (q >= d) {
        const int32_t j = q - d;
        const int8_t *src = ring + (j % ring_px) * p->out_c;
        for (i = 0; i < p->out_c; ++i) buf[j * p->out_c + i] = src[i];
      }
    }
    return TK_OK;
  }
  if (d != 0 || p->k_h != 1 || p->k_w != 1) return TK_BAD_ARGUMENT;
  for (q = n - 1; q >= 0; --q) {
    tk_conv_pixel(p, buf, q / p->out_w, q % p->out_w, ring);
    for (i = 0; i < p->out_c; ++i) buf[q * p->out_c + i] = ring[i];
  }
  return TK_OK;
}
