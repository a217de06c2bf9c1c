/* tinykit runtime: the strided int8 copy behind TRANSPOSE, SLICE,
 * STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK and TILE (TFLM's reference Transpose,
 * Slice, StridedSlice, Split, Unpack; TFLite's Tile): the output is written in
 * order, each element read from the input at strides computed at generation
 * time (permuted for TRANSPOSE, scaled by the step for STRIDED_SLICE, negative
 * for a reversed axis, 0 on TILE's repeat dims; the caller passes the input
 * pointer at the first element read). Its mirror, the strided store behind
 * PACK, reads the input in order and writes at strides. */
#include <string.h>

#include "tk_kernels.h"

/* Contiguous runs at least this long go through memcpy (SPLIT, UNPACK, TILE rows);
 * shorter ones (a few channels) are cheaper as a byte loop than as a call. */
#define TK_COPY_MEMCPY_MIN 8

#if TK_MAX_DIMS != 5
#error "tk_strided_copy_s8 walks 5 dims: TK_MAX_DIMS must be 5"
#endif

TkStatus tk_strided_copy_s8(const TkStridedCopyParams *p, const int8_t *in, int8_t *out) {
  const int32_t *d, *s;
  int32_t i0, i1, i2, i3, i4;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  d = p->dims;
  s = p->in_stride;
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        for (i3 = 0; i3 < d[3]; ++i3) {
          const int8_t *row = in + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
          const int32_t step = s[4];
          if (step == 1 && d[4] >= TK_COPY_MEMCPY_MIN) { /* contiguous run: word copies */
            memcpy(out, row, (size_t)d[4]);
            out += d[4];
          } else if (step == 1) {
            for (i4 = 0; i4 < d[4]; ++i4) *out++ = row[i4];
          } else {
            for (i4 = 0; i4 < d[4]; ++i4) *out++ = row[i4 * step];
          }
        }
      }
    }
  }
  return TK_OK;
}

TkStatus tk_strided_store_s8(const TkStridedStoreParams *p, const int8_t *in, int8_t *out) {
  const int32_t *d, *s;
  int32_t i0, i1, i2, i3, i4;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  d = p->dims;
  s = p->out_stride;
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        for (i3 = 0; i3 < d[3]; ++i3) {
          int8_t *row = out + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
          const int32_t step = s[4];
          if (step == 1 && d[4] >= TK_COPY_MEMCPY_MIN) {
            memcpy(row, in, (size_t)d[4]);
            in += d[4];
          } else {
            for (i4 = 0; i4 < d[4]; ++i4) row[i4 * step] = *in++;
          }
        }
      }
    }
  }
  return TK_OK;
}
