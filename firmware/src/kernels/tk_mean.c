/* tinykit runtime: MEAN over H and W of an NHWC int8 tensor, as TFLM's
 * reference_ops::QuantizedMeanOrSum (the 1/count factor is folded into the
 * multiplier at generation time).
 *
 * With the DSP extension four channels are summed at a time
 * (tk_sum4_strided_s8, tk_reduce.c: one word load per pixel, SXTAB16 into
 * int16 lanes); the sums are exact, so the result is the same. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* The requantized mean of channel sum sum over n pixels: tk_mul_q31 (one fused
 * multiply-accumulate, equal to TFLM's MultiplyByQuantizedMultiplier for a
 * multiplier >= 0 and a shift in [-31, 31], which the generator emits) or TFLM's steps. */
static inline int8_t tk_mean_out(const TkMeanParams *p, int32_t sum, int32_t n) {
  const int32_t acc = sum - p->input_zp * n;
  const int32_t r = (p->mult >= 0 && p->shift >= -31 && p->shift <= 31
                         ? tk_mul_q31(acc, p->mult, p->shift)
                         : tk_multiply_by_quantized_multiplier(acc, p->mult, (int)p->shift)) +
                    p->output_zp;
  return (int8_t)tk_clamp_i32(r, -128, 127);
}

TkStatus tk_mean_hw_s8(const TkMeanParams *p, const int8_t *in, int8_t *out) {
  int32_t n, b, c, i;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  n = p->h * p->w;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * n * p->channels;
    int8_t *bout = out + b * p->channels;
    c = 0;
#if TK_DOT_DSP
    for (; c + 4 <= p->channels; c += 4) {
      int32_t sum[4];
      tk_sum4_strided_s8(bin + c, p->channels, n, sum);
      for (i = 0; i < 4; ++i) bout[c + i] = tk_mean_out(p, sum[i], n);
    }
#endif
    for (; c < p->channels; ++c) {
      int32_t acc = 0;
      for (i = 0; i < n; ++i) acc += bin[i * p->channels + c];
      bout[c] = tk_mean_out(p, acc, n);
    }
  }
  return TK_OK;
}
