/* tinykit runtime: PAD / PADV2 int8 with a constant value, up to TK_MAX_DIMS
 * dims: whole rows of the innermost dimension are memset / memcpy'd. */
#include <stddef.h>
#include <string.h>

#include "tk_kernels.h"

#if TK_MAX_DIMS != 5
#error "tk_pad_s8 walks 4 outer dims + 1 row: TK_MAX_DIMS must be 5"
#endif

TkStatus tk_pad_s8(const TkPadParams *p, const int8_t *in, int8_t *out) {
  int32_t od[TK_MAX_DIMS];
  int32_t i0, i1, i2, i3, d;
  int8_t v;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  v = (int8_t)p->value;
  for (d = 0; d < TK_MAX_DIMS; ++d) od[d] = p->before[d] + p->in_dims[d] + p->after[d];
  for (i0 = 0; i0 < od[0]; ++i0) {
    const int32_t j0 = i0 - p->before[0];
    const int in0 = j0 >= 0 && j0 < p->in_dims[0];
    for (i1 = 0; i1 < od[1]; ++i1) {
      const int32_t j1 = i1 - p->before[1];
      const int in1 = in0 && j1 >= 0 && j1 < p->in_dims[1];
      for (i2 = 0; i2 < od[2]; ++i2) {
        const int32_t j2 = i2 - p->before[2];
        const int in2 = in1 && j2 >= 0 && j2 < p->in_dims[2];
        for (i3 = 0; i3 < od[3]; ++i3) {
          const int32_t j3 = i3 - p->before[3];
          if (in2 && j3 >= 0 && j3 < p->in_dims[3]) {
            const int32_t row = ((j0 * p->in_dims[1] + j1) * p->in_dims[2] + j2) * p->in_dims[3] + j3;
            memset(out, v, (size_t)p->before[4]);
            out += p->before[4];
            memcpy(out, in + (ptrdiff_t)row * p->in_dims[4], (size_t)p->in_dims[4]);
            out += p->in_dims[4];
            memset(out, v, (size_t)p->after[4]);
            out += p->after[4];
          } else {
            memset(out, v, (size_t)od[4]);
            out += od[4];
          }
        }
      }
    }
  }
  return TK_OK;
}
