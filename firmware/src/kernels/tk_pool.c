/* tinykit runtime: AVERAGE_POOL_2D and MAX_POOL_2D int8, as TFLM's
 * reference_integer_ops::AveragePool / MaxPool. On Cortex-M with DSP, an
 * average pool over channels in fours sums four channels at a time (one word
 * per tap, SXTB16 + SADD16 into two int16x2 sums: at most 256 taps of int8
 * cannot overflow int16). */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

typedef struct TkWindow {
  int32_t y0, x0, fy0, fy1, fx0, fx1;
} TkWindow;

static TkWindow tk_pool_window(const TkPoolParams *p, int32_t oy, int32_t ox) {
  TkWindow w;
  w.y0 = oy * p->stride_h - p->pad_h;
  w.x0 = ox * p->stride_w - p->pad_w;
  w.fy0 = tk_max_i32(0, -w.y0);
  w.fy1 = tk_min_i32(p->k_h, p->in_h - w.y0);
  w.fx0 = tk_max_i32(0, -w.x0);
  w.fx1 = tk_min_i32(p->k_w, p->in_w - w.x0);
  return w;
}

/* TFLM's rounded average: (sum +- count / 2) / count, clamped. */
static inline int8_t tk_pool_avg(int32_t acc, int32_t count, int32_t lo, int32_t hi) {
  acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  return (int8_t)tk_clamp_i32(acc, lo, hi);
}

#if TK_DOT_DSP
/* All channels (a multiple of 4) of one output pixel with window w and count
 * taps (<= 256) into dst. */
static void tk_avg_pool_px_dsp(const TkPoolParams *p, const int8_t *bin, const TkWindow *w,
                               int32_t count, int8_t *dst) {
  const int32_t C = p->channels, lo = p->act_min, hi = p->act_max;
  const int32_t row = p->in_w * C, nx = w->fx1 - w->fx0;
  const int8_t *const base = bin + ((w->y0 + w->fy0) * p->in_w + w->x0 + w->fx0) * C;
  int32_t c, fy, fx;
  for (c = 0; c < C; c += 4) {
    int32_t se = 0, so = 0; /* lanes: channels (c, c + 2) and (c + 1, c + 3) */
    const int8_t *r = base + c;
    for (fy = w->fy0; fy < w->fy1; ++fy, r += row) {
      const int8_t *x = r;
      for (fx = 0; fx < nx; ++fx, x += C) {
        const uint32_t v = tk_load_u32(x);
        se = tk_sadd16(se, tk_sxtb16(v));
        so = tk_sadd16(so, tk_sxtb16_ror8(v));
      }
    }
    dst[c] = tk_pool_avg((int16_t)se, count, lo, hi);
    dst[c + 1] = tk_pool_avg((int16_t)so, count, lo, hi);
    dst[c + 2] = tk_pool_avg(se >> 16, count, lo, hi);
    dst[c + 3] = tk_pool_avg(so >> 16, count, lo, hi);
  }
}
#endif

TkStatus tk_avg_pool_s8(const TkPoolParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox, c, fy, fx;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
#if TK_DOT_DSP
  if ((p->channels & 3) == 0 && p->k_h * p->k_w <= 256) {
    for (b = 0; b < p->batches; ++b) {
      const int8_t *bin = in + b * p->in_h * p->in_w * p->channels;
      int8_t *dst = out + b * p->out_h * p->out_w * p->channels;
      for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, dst += p->channels) {
          const TkWindow w = tk_pool_window(p, oy, ox);
          const int32_t count = (w.fy1 - w.fy0) * (w.fx1 - w.fx0);
          if (count <= 0) return TK_ERROR;
          tk_avg_pool_px_dsp(p, bin, &w, count, dst);
        }
      }
    }
    return TK_OK;
  }
#endif
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->channels;
    int8_t *bout = out + b * p->out_h * p->out_w * p->channels;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        const TkWindow w = tk_pool_window(p, oy, ox);
        const int32_t count = (w.fy1 - w.fy0) * (w.fx1 - w.fx0);
        if (count <= 0) return TK_ERROR;
        for (c = 0; c < p->channels; ++c) {
          int32_t acc = 0;
          for (fy = w.fy0; fy < w.fy1; ++fy) {
            for (fx = w.fx0; fx < w.fx1; ++fx) {
              acc += bin[((w.y0 + fy) * p->in_w + w.x0 + fx) * p->channels + c];
            }
          }
          bout[(oy * p->out_w + ox) * p->channels + c] =
              tk_pool_avg(acc, count, p->act_min, p->act_max);
        }
      }
    }
  }
  return TK_OK;
}

TkStatus tk_max_pool_s8(const TkPoolParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox, c, fy, fx;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->channels;
    int8_t *bout = out + b * p->out_h * p->out_w * p->channels;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        const TkWindow w = tk_pool_window(p, oy, ox);
        for (c = 0; c < p->channels; ++c) {
          int32_t m = -128;
          for (fy = w.fy0; fy < w.fy1; ++fy) {
            for (fx = w.fx0; fx < w.fx1; ++fx) {
              m = tk_max_i32(m, bin[((w.y0 + fy) * p->in_w + w.x0 + fx) * p->channels + c]);
            }
          }
          bout[(oy * p->out_w + ox) * p->channels + c] =
              (int8_t)tk_clamp_i32(m, p->act_min, p->act_max);
        }
      }
    }
  }
  return TK_OK;
}
