/* tinykit runtime: AVERAGE_POOL_2D and MAX_POOL_2D int8, as TFLM's
 * reference_integer_ops::AveragePool / MaxPool. */
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

TkStatus tk_avg_pool_s8(const TkPoolParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox, c, fy, fx;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
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
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          bout[(oy * p->out_w + ox) * p->channels + c] =
              (int8_t)tk_clamp_i32(acc, p->act_min, p->act_max);
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
