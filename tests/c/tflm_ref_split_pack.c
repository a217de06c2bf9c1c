/* TFLM's reference Split / SplitV (SplitImpl), Unpack (UnpackImpl) and Pack
 * (PackImpl) loops, and TFLite's reference Tile (TileOneDimension: TFLM has no
 * TILE), restated in C99 with the same loop structure and the same per-element
 * copies, for bench_issue10_ops.py. Not tinykit code: the yardstick. */
#include "tflm_ref_split_pack.h"

#include <string.h>

void ref_split(int32_t outer, int32_t inner, int32_t n_out, const int32_t *out_axis,
               const int8_t *x, int8_t *const *outs) {
  /* SplitImpl: for each outer index, each output takes its planes in turn */
  int32_t k, i, j;
  for (k = 0; k < outer; ++k) {
    for (i = 0; i < n_out; ++i) {
      const int32_t copy_size = out_axis[i] * inner;
      int8_t *out = outs[i] + k * copy_size;
      for (j = 0; j < copy_size; ++j) out[j] = x[j];
      x += copy_size;
    }
  }
}

void ref_unpack(int32_t outer, int32_t inner, int32_t n_out, const int8_t *x, int8_t *const *outs) {
  /* UnpackImpl: output i, outer index k reads the plane at (k * n_out + i) * inner */
  int32_t i, k, j;
  for (i = 0; i < n_out; ++i) {
    int8_t *out = outs[i];
    for (k = 0; k < outer; ++k) {
      const int8_t *in = x + (k * n_out + i) * inner;
      int8_t *dst = out + k * inner;
      for (j = 0; j < inner; ++j) dst[j] = in[j];
    }
  }
}

void ref_pack(int32_t outer, int32_t copy, int32_t n_in, const int8_t *const *ins, int8_t *out) {
  /* PackImpl */
  int32_t i, k, j;
  for (i = 0; i < n_in; ++i) {
    for (k = 0; k < outer; ++k) {
      const int8_t *in = ins[i] + copy * k;
      int8_t *dst = out + k * n_in * copy + i * copy;
      for (j = 0; j < copy; ++j) dst[j] = in[j];
    }
  }
}

static void copy_times(const int8_t *in, int32_t size, int32_t times, int8_t *out) {
  /* CopyMultipleTimes: std::copy, each copy from the previous one */
  int32_t i;
  for (i = 0; i < times; ++i) {
    memcpy(out, in, (size_t)size);
    in = out;
    out += size;
  }
}

static void tile_dim(const int32_t *dims, int32_t rank, const int32_t *mult, const int8_t *x,
                     int8_t *out, int32_t d, int32_t *in_size, int32_t *out_size) {
  /* TileOneDimension */
  int32_t i, total_in = 0, total_out = 0;
  if (d == rank - 1) {
    copy_times(x, dims[d], mult[d], out);
    *in_size = dims[d];
    *out_size = dims[d] * mult[d];
    return;
  }
  for (i = 0; i < dims[d]; ++i) {
    int32_t a, b;
    tile_dim(dims, rank, mult, x, out, d + 1, &a, &b);
    x += a;
    out += b;
    total_in += a;
    total_out += b;
  }
  copy_times(out - total_out, total_out, mult[d] - 1, out);
  *in_size = total_in;
  *out_size = total_out * mult[d];
}

void ref_tile(const int32_t *dims, int32_t rank, const int32_t *mult, const int8_t *x, int8_t *out) {
  int32_t a, b;
  tile_dim(dims, rank, mult, x, out, 0, &a, &b);
}
