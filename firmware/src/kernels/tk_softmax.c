/* tinykit runtime: SOFTMAX int8 -> int8, TFLM's reference_ops::Softmax
 * (gemmlowp fixed point). exp() of every possible input difference is a LUT
 * computed at generation time; the reciprocal of the sum runs here. */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

static int tk_clz_u32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* x * 2^e for e > 0, saturating (gemmlowp SaturatingRoundingMultiplyByPOT). */
static int32_t tk_sat_shift_left(int32_t x, int e) {
  const int32_t threshold = (int32_t)(((int32_t)1 << (31 - e)) - 1);
  if (x > threshold) return TK_INT32_MAX;
  if (x < -threshold) return TK_INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in, Q0.31 out. */
static int32_t tk_one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + (int64_t)TK_INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t c48_17 = 1515870810;      /* Q2.29 48/17 */
  const int32_t neg32_17 = -1010580540;   /* Q2.29 -32/17 */
  const int32_t one_q2 = (int32_t)1 << 29;
  int32_t x = c48_17 + tk_sat_rounding_doubling_high_mul(half_denominator, neg32_17);
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t hdx = tk_sat_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus = one_q2 - hdx;
    x = x + tk_sat_shift_left(tk_sat_rounding_doubling_high_mul(x, one_minus), 2);
  }
  return tk_sat_shift_left(x, 1);
}

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
