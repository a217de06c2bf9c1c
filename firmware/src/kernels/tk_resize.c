/* tinykit runtime: RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of int8 NHWC
 * tensors, as TFLM's reference ResizeNearestNeighbor and ResizeBilinearInteger.
 * The input rows and columns each output row and column reads (and the
 * bilinear weights, in 1/1024) are tables computed at generation time. */
#include <string.h>

#include "tk_kernels.h"

/* Both resizes' fields, read once into a local (an int8 store through out could
 * alias *p, so the compiler would reload them), and the input's row and batch
 * strides in bytes. */
typedef struct {
  int32_t batches, depth, out_w, out_h, in_row, in_batch;
  const int32_t *rows, *cols;
} TkResizeDims;

/* 0 for a NULL argument or table, else 1 with *d filled in. */
static int tk_resize_dims(const TkResizeParams *p, const int8_t *in, const int8_t *out,
                          TkResizeDims *d) {
  if (p == 0 || p->rows == 0 || p->cols == 0 || in == 0 || out == 0) return 0;
  d->batches = p->batches;
  d->depth = p->depth;
  d->out_w = p->out_w;
  d->out_h = p->out_h;
  d->rows = p->rows;
  d->cols = p->cols;
  d->in_row = p->in_w * p->depth;
  d->in_batch = p->in_h * d->in_row;
  return 1;
}

TkStatus tk_resize_nearest_s8(const TkResizeParams *p, const int8_t *in, int8_t *out) {
  int32_t b, y, x, out_row;
  TkResizeDims g;
  if (!tk_resize_dims(p, in, out, &g)) return TK_BAD_ARGUMENT;
  out_row = g.out_w * g.depth;
  for (b = 0; b < g.batches; ++b, in += g.in_batch) {
    for (y = 0; y < g.out_h; ++y, out += out_row) {
      const int8_t *src = in + g.rows[y] * g.in_row;
      int8_t *dst = out;
      if (y > 0 && g.rows[y] == g.rows[y - 1]) { /* the same input row: copy the row just written */
        memcpy(out, out - out_row, (size_t)out_row);
        continue;
      }
      if (g.depth == 1) {
        for (x = 0; x < g.out_w; ++x) dst[x] = src[g.cols[x]];
      } else {
        for (x = 0; x < g.out_w; ++x, dst += g.depth) {
          memcpy(dst, src + g.cols[x] * g.depth, (size_t)g.depth);
        }
      }
    }
  }
  return TK_OK;
}

/* sum / 2^20 rounded half away from zero (TFLM's double-rounding path). */
static int8_t tk_bilinear_round(int32_t sum) {
  const int32_t half = (int32_t)1 << 19;
  return (int8_t)(sum > 0 ? (sum + half) / ((int32_t)1 << 20) : (sum - half) / ((int32_t)1 << 20));
}

TkStatus tk_resize_bilinear_s8(const TkResizeParams *p, const int8_t *in, int8_t *out) {
  int32_t b, y, x, c;
  TkResizeDims g;
  if (!tk_resize_dims(p, in, out, &g)) return TK_BAD_ARGUMENT;
  for (b = 0; b < g.batches; ++b, in += g.in_batch) {
    for (y = 0; y < g.out_h; ++y) {
      const int8_t *top = in + g.rows[3 * y] * g.in_row;
      const int8_t *bottom = in + g.rows[3 * y + 1] * g.in_row;
      const int32_t wy = g.rows[3 * y + 2];
      const int32_t wy0 = 1024 - wy;
      for (x = 0; x < g.out_w; ++x) {
        const int8_t *a = top + g.cols[3 * x] * g.depth, *bb = top + g.cols[3 * x + 1] * g.depth;
        const int8_t *cc = bottom + g.cols[3 * x] * g.depth, *d = bottom + g.cols[3 * x + 1] * g.depth;
        const int32_t wx = g.cols[3 * x + 2];
        const int32_t wx0 = 1024 - wx;
        /* the exact integer sum of TFLM's four products, regrouped: it stays
         * within int32 (|weights| bounded at generation time) */
        for (c = 0; c < g.depth; ++c) {
          const int32_t upper = a[c] * wx0 + bb[c] * wx;
          const int32_t lower = cc[c] * wx0 + d[c] * wx;
          *out++ = tk_bilinear_round(upper * wy0 + lower * wy);
        }
      }
    }
  }
  return TK_OK;
}
