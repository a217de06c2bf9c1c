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
