/* tinykit runtime: FULLY_CONNECTED int8, as TFLM's
 * reference_integer_ops::FullyConnected (per-tensor or per-channel). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

TkStatus tk_fully_connected_s8(const TkFullyConnectedParams *p, const int8_t *in, int8_t *out) {
  int32_t b, o, i;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = in + b * p->in_depth;
    for (o = 0; o < p->out_depth; ++o) {
      const int8_t *w = p->filter + o * p->in_depth;
      int32_t acc = p->bias_folded[o];
      for (i = 0; i < p->in_depth; ++i) acc += (int32_t)w[i] * (int32_t)x[i];
      acc = tk_multiply_by_quantized_multiplier(acc, p->mult[o], (int)p->shift[o]);
      acc += p->output_offset;
      out[b * p->out_depth + o] = (int8_t)tk_clamp_i32(acc, p->act_min, p->act_max);
    }
  }
  return TK_OK;
}
