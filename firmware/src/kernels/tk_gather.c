/* tinykit runtime: GATHER of int8 slices by constant indices, as TFLM's
 * reference Gather (batch_dims 0): the input viewed as [outer][axis][inner],
 * out[o][k] = in[o][idx[k]], one block copy of inner bytes per index. */
#include <string.h>

#include "tk_kernels.h"

TkStatus tk_gather_s8(const TkGatherParams *p, const int8_t *in, int8_t *out) {
  int32_t o, k, outer, n_idx, inner, block;
  const int32_t *idx;
  if (p == 0 || p->idx == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  /* locals: the copies may alias *p as far as C knows */
  outer = p->outer;
  n_idx = p->n_idx;
  inner = p->inner;
  block = p->axis_size * inner;
  idx = p->idx;
  for (o = 0; o < outer; ++o, in += block) {
    for (k = 0; k < n_idx; ++k, out += inner) memcpy(out, in + idx[k] * inner, (size_t)inner);
  }
  return TK_OK;
}

/* GATHER by indices computed at run time (an Embedding's token ids), as TFLM's
 * Gather loop: each index checked as it is used; one out of [0, axis_size) fails
 * the op with TK_BAD_ARGUMENT (TFLM returns kTfLiteError), the rows before it
 * written. Rows of a multiple of 4 bytes up to 32 move as words (the table is
 * a 4-aligned const array, the arena 16-aligned). */
TkStatus tk_gather_idx_s8(const TkGatherParams *p, const int8_t *in, const int32_t *idx,
                          int8_t *out) {
  int32_t o, k, j, outer, n_idx, inner, block, axis_size;
  if (p == 0 || idx == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  outer = p->outer;
  n_idx = p->n_idx;
  inner = p->inner;
  axis_size = p->axis_size;
  block = axis_size * inner;
  if ((inner & 3) == 0 && inner <= 32 && (((uintptr_t)in | (uintptr_t)out) & 3u) == 0) {
    const int32_t words = inner >> 2;
    for (o = 0; o < outer; ++o, in += block) {
      for (k = 0; k < n_idx; ++k, out += inner) {
        const int32_t i = idx[k];
        const uint32_t *src;
        uint32_t *dst = (uint32_t *)(void *)out;
        if (i < 0 || i >= axis_size) return TK_BAD_ARGUMENT;
        src = (const uint32_t *)(const void *)(in + i * inner);
        for (j = 0; j < words; ++j) dst[j] = src[j];
      }
    }
    return TK_OK;
  }
  for (o = 0; o < outer; ++o, in += block) {
    for (k = 0; k < n_idx; ++k, out += inner) {
      const int32_t i = idx[k];
      if (i < 0 || i >= axis_size) return TK_BAD_ARGUMENT;
      memcpy(out, in + i * inner, (size_t)inner);
    }
  }
  return TK_OK;
}
