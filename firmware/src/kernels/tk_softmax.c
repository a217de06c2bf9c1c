/* tinykit runtime: SOFTMAX int8 -> int8, TFLM's reference_ops::Softmax
 * (gemmlowp fixed point). exp() of every possible input difference is a LUT
 * computed at generation time; the reciprocal of the sum runs here
 * (tk_one_over_one_plus_x, tk_fixedpoint.h). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

TkStatus tk_softmax_s8(const TkSoftmaxParams *p, const int8_t *in, int8_t *out) {
  int32_t i, c;
  if (p == 0 || in == 0 || out == 0 || p->exp_lut == 0) return TK_BAD_ARGUMENT;
  for (i = 0; i < p->outer; ++i) {
    const int8_t *x = in + i * p->depth;
    int8_t *y = out + i * p->depth;
    int32_t max_in = -128;
    int32_t sum = 0;
    int headroom, bits_over_unit;
    int32_t shifted_scale;
    for (c = 0; c < p->depth; ++c) max_in = tk_max_i32(max_in, x[c]);
    for (c = 0; c < p->depth; ++c) {
      sum += tk_rounding_divide_by_pot(p->exp_lut[max_in - x[c]], 12);
    }
    headroom = tk_clz_u32((uint32_t)sum);
    bits_over_unit = 12 - headroom;
    shifted_scale = tk_one_over_one_plus_x(
        (int32_t)(((uint32_t)sum << headroom) - ((uint32_t)1 << 31)));
    for (c = 0; c < p->depth; ++c) {
      /* below diff_min the LUT holds 0, which yields -128 as in TFLM */
      const int32_t e = p->exp_lut[max_in - x[c]];
      const int32_t v = tk_rounding_divide_by_pot(tk_sat_rounding_doubling_high_mul(shifted_scale, e),
                                    bits_over_unit + 31 - 8);
      y[c] = (int8_t)tk_clamp_i32(v - 128, -128, 127);
    }
  }
  return TK_OK;
}
