/* tinykit runtime: MEAN over H and W of an NHWC int8 tensor, as TFLM's
 * reference_ops::QuantizedMeanOrSum (the 1/count factor is folded into the
 * multiplier at generation time). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

TkStatus tk_mean_hw_s8(const TkMeanParams *p, const int8_t *in, int8_t *out) {
  int32_t n, b, c, i;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  n = p->h * p->w;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * n * p->channels;
    for (c = 0; c < p->channels; ++c) {
      int32_t acc = 0;
      for (i = 0; i < n; ++i) acc += bin[i * p->channels + c];
      acc -= p->input_zp * n;
      acc = tk_multiply_by_quantized_multiplier(acc, p->mult, (int)p->shift) + p->output_zp;
      out[b * p->channels + c] = (int8_t)tk_clamp_i32(acc, -128, 127);
    }
  }
  return TK_OK;
}
