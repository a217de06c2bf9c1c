/* tinykit runtime: the one broadcast walk of the binary int8 kernels (ADD,
 * MUL), in output order as TFLM's BroadcastAdd6DSlow / BroadcastMul6DSlow.
 * The kernel supplies a row function for the innermost dimension, so the
 * indirect call happens once per row, never per element. */
#include "tk_kernels.h"

#if TK_MAX_DIMS != 5
#error "tk_broadcast_s8 walks 4 outer dims + 1 row: TK_MAX_DIMS must be 5"
#endif

void tk_broadcast_s8(const int32_t *dims, const int32_t *stride1, const int32_t *stride2,
                     int32_t broadcast, TkBroadcastRowFn row, const void *params,
                     const int8_t *in1, const int8_t *in2, int8_t *out) {
  int32_t d[TK_MAX_DIMS], a[TK_MAX_DIMS], b[TK_MAX_DIMS];
  int32_t i0, i1, i2, i3, j, k;
  if (!broadcast) {
    int32_t n = 1;
    for (j = 0; j < TK_MAX_DIMS; ++j) n *= dims[j];
    row(params, in1, in2, out, n, 1, 1);
    return;
  }
  /* Size-1 dims dropped (their strides never matter), so the row is the
   * innermost dim of size > 1: stride 1 where an input has it, else 0. */
  k = TK_MAX_DIMS;
  for (j = TK_MAX_DIMS - 1; j >= 0; --j) {
    if (dims[j] == 1) continue;
    --k;
    d[k] = dims[j];
    a[k] = stride1[j];
    b[k] = stride2[j];
  }
  for (j = 0; j < k; ++j) {
    d[j] = 1;
    a[j] = b[j] = 0;
  }
  /* Longer rows: outer dims join the row while both inputs run on across
   * them with the row's stride (contiguous, or broadcast on both), e.g. a
   * scalar operand or a broadcast over the outer dims only. */
  for (j = TK_MAX_DIMS - 2; j >= 0 && d[j] != 1; --j) {
    if (a[j] != a[4] * d[4] || b[j] != b[4] * d[4]) break;
    d[4] *= d[j];
    d[j] = 1;
  }
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        const int32_t oa = i0 * a[0] + i1 * a[1] + i2 * a[2];
        const int32_t ob = i0 * b[0] + i1 * b[1] + i2 * b[2];
        for (i3 = 0; i3 < d[3]; ++i3) {
          row(params, in1 + oa + i3 * a[3], in2 + ob + i3 * b[3], out, d[4], a[4], b[4]);
          out += d[4];
        }
      }
    }
  }
}
