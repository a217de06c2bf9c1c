/* tinykit runtime: the 256-entry table lookup behind every unary int8 -> int8
 * op (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, int8 QUANTIZE); the
 * tables are computed at generation time, bit-exact with TFLM's kernels. */
#include "tk_kernels.h"

TkStatus tk_lut_s8(const TkLutParams *p, const int8_t *in, int8_t *out) {
  const int8_t *lut;
  int32_t i, n;
  if (p == 0 || p->lut == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  lut = p->lut;
  n = p->size;
  for (i = 0; i < n; ++i) out[i] = lut[(int32_t)in[i] + 128];
  return TK_OK;
}
