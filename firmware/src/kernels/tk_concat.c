/* tinykit runtime: CONCATENATION int8, as TFLM's reference_ops::Concatenation;
 * an input quantized differently from the output goes through a requantize
 * table (computed at generation time). */
#include <stddef.h>
#include <string.h>

#include "tk_kernels.h"

TkStatus tk_concat_s8(const TkConcatParams *p, const int8_t *const *inputs, int8_t *out) {
  int32_t k, i, j;
  if (p == 0 || p->inner == 0 || inputs == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (i = 0; i < p->n_inputs; ++i) {
    if (inputs[i] == 0) return TK_BAD_ARGUMENT;
  }
  for (k = 0; k < p->outer; ++k) {
    for (i = 0; i < p->n_inputs; ++i) {
      const int32_t len = p->inner[i];
      const int8_t *src = inputs[i] + (ptrdiff_t)k * len;
      const int8_t *lut = p->luts == 0 ? 0 : p->luts[i];
      if (lut == 0) {
        memcpy(out, src, (size_t)len);
      } else {
        for (j = 0; j < len; ++j) out[j] = lut[(int32_t)src[j] + 128];
      }
      out += len;
    }
  }
  return TK_OK;
}
