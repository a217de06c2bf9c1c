/* TFLM's three kernels for a float island, restated for the benchmark (three loops
 * over float tensors, as the interpreter runs three ops):
 *  - reference_ops::Dequantize: (float)(double scale * (q - zero_point));
 *  - the float NEG (-x) or SQUARE (x * x) of TFLM's elementwise kernels;
 *  - reference_ops::AffineQuantize: round(x / (float)scale) + zero_point, halves away
 *    from zero (TfLiteRound), clamped to int8. The rounding is restated without libm. */
#include "tflm_ref_float_island.h"

static int32_t round_away(float v) {
  int32_t t = (int32_t)v; /* toward zero; exact for the benchmark's range */
  float frac = v - (float)t;
  if (frac >= 0.5f) return t + 1;
  if (frac <= -0.5f) return t - 1;
  return t;
}

void ref_float_island(const RefIsland *p, int32_t n, const int8_t *x, float *deq, float *mid,
                      int8_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    deq[i] = (float)(p->in_scale * (double)((int32_t)x[i] - p->in_zero_point));
  }
  for (i = 0; i < n; ++i) {
    mid[i] = p->square ? deq[i] * deq[i] : -deq[i];
  }
  for (i = 0; i < n; ++i) {
    int32_t q = round_away(mid[i] / p->out_scale) + p->out_zero_point;
    out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
}
