/* TFLM's reference kernels for the Embedding ops, restated in C for the benchmark
 * (instruction counts on QEMU, never shipped): comparisons.cc's
 * Broadcast4DSlowLess and add.cc's int32 broadcast (per-element Offset() and
 * SubscriptToIndex() index arithmetic over 4 dims, activation clamp), select.cc's
 * BroadcastSelect5DSlow (5 dims), gather.cc's loop (each index checked, one
 * memcpy per index). */
#include "tflm_ref_embedding.h"

#include <string.h>

static int32_t ref_sub4(const RefDesc5 *d, int32_t i0, int32_t i1, int32_t i2, int32_t i3) {
  return i0 * d->strides[1] + i1 * d->strides[2] + i2 * d->strides[3] + i3 * d->strides[4];
}

static int32_t ref_offset4(const int32_t *dims, int32_t i0, int32_t i1, int32_t i2, int32_t i3) {
  return ((i0 * dims[2] + i1) * dims[3] + i2) * dims[4] + i3;
}

void ref_less_4d(const int32_t *out_dims, const RefDesc5 *d1, const RefDesc5 *d2,
                 const int32_t *x, const int32_t *y, uint8_t *out) {
  int32_t b, h, w, c;
  for (b = 0; b < out_dims[1]; ++b) {
    for (h = 0; h < out_dims[2]; ++h) {
      for (w = 0; w < out_dims[3]; ++w) {
        for (c = 0; c < out_dims[4]; ++c) {
          out[ref_offset4(out_dims, b, h, w, c)] =
              (uint8_t)(x[ref_sub4(d1, b, h, w, c)] < y[ref_sub4(d2, b, h, w, c)]);
        }
      }
    }
  }
}

void ref_add_s32_4d(const int32_t *out_dims, const RefDesc5 *d1, const RefDesc5 *d2,
                    const int32_t *x, const int32_t *y, int32_t *out) {
  const int32_t lo = (-2147483647 - 1), hi = 2147483647;
  int32_t b, h, w, c;
  for (b = 0; b < out_dims[1]; ++b) {
    for (h = 0; h < out_dims[2]; ++h) {
      for (w = 0; w < out_dims[3]; ++w) {
        for (c = 0; c < out_dims[4]; ++c) {
          int32_t v = (int32_t)((uint32_t)x[ref_sub4(d1, b, h, w, c)] +
                                (uint32_t)y[ref_sub4(d2, b, h, w, c)]);
          v = v < lo ? lo : v > hi ? hi : v; /* ActivationFunctionWithMinMax */
          out[ref_offset4(out_dims, b, h, w, c)] = v;
        }
      }
    }
  }
}

static int32_t ref_sub5(const RefDesc5 *d, const int32_t *i) {
  return i[0] * d->strides[0] + i[1] * d->strides[1] + i[2] * d->strides[2] +
         i[3] * d->strides[3] + i[4] * d->strides[4];
}

void ref_select_5d(const int32_t *out_dims, const RefDesc5 *dc, const RefDesc5 *dx,
                   const RefDesc5 *dy, const uint8_t *c, const int32_t *x, const int32_t *y,
                   int32_t *out) {
  int32_t i[5], k = 0;
  for (i[0] = 0; i[0] < out_dims[0]; ++i[0]) {
    for (i[1] = 0; i[1] < out_dims[1]; ++i[1]) {
      for (i[2] = 0; i[2] < out_dims[2]; ++i[2]) {
        for (i[3] = 0; i[3] < out_dims[3]; ++i[3]) {
          for (i[4] = 0; i[4] < out_dims[4]; ++i[4]) {
            out[k++] = c[ref_sub5(dc, i)] ? x[ref_sub5(dx, i)] : y[ref_sub5(dy, i)];
          }
        }
      }
    }
  }
}

int ref_gather_checked(int32_t outer, int32_t axis_size, int32_t inner, const int32_t *idx,
                       int32_t n_idx, const int8_t *x, int8_t *out) {
  int32_t o, k;
  for (o = 0; o < outer; ++o) {
    for (k = 0; k < n_idx; ++k) {
      if (idx[k] < 0 || idx[k] >= axis_size) return 1; /* kTfLiteError */
      memcpy(out + (o * n_idx + k) * inner, x + (o * axis_size + idx[k]) * inner, (size_t)inner);
    }
  }
  return 0;
}

/* The same-shape paths: reference_ops::Less / Add / Select, one flat loop. */
void ref_less_flat(int32_t n, const int32_t *x, const int32_t *y, uint8_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = (uint8_t)(x[i] < y[i]);
}

void ref_add_s32_flat(int32_t n, const int32_t *x, const int32_t *y, int32_t *out) {
  const int32_t lo = (-2147483647 - 1), hi = 2147483647;
  int32_t i;
  for (i = 0; i < n; ++i) {
    int32_t v = (int32_t)((uint32_t)x[i] + (uint32_t)y[i]);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

void ref_select_flat(int32_t n, const uint8_t *c, const int32_t *x, const int32_t *y,
                     int32_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = c[i] ? x[i] : y[i];
}
