/* tinykit runtime: fixed-point arithmetic of the TFLite int8 quantization spec.
 * Private header of the kernels (not part of the public API). Plain C99. */
#ifndef TK_FIXEDPOINT_H
#define TK_FIXEDPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TK_INT32_MIN ((int32_t)(-2147483647 - 1))
#define TK_INT32_MAX ((int32_t)2147483647)

static inline int32_t tk_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tk_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tk_clamp_i32(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* (a * b * 2) >> 32, rounded to nearest, saturating the one overflow case. */
static inline int32_t tk_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  int64_t ab;
  int32_t nudge;
  if (a == b && a == TK_INT32_MIN) return TK_INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent, rounded to nearest with ties away from zero. */
static inline int32_t tk_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift, multiplier a Q31 value in [0.5, 1), as TFLM's
 * MultiplyByQuantizedMultiplier (double rounding). */
static inline int32_t tk_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  return tk_rounding_divide_by_pot(tk_sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

/* gemmlowp's reciprocal (SOFTMAX, LOG_SOFTMAX) and its helpers. */

static inline int tk_clz_u32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* x * 2^e for e > 0, saturating (gemmlowp SaturatingRoundingMultiplyByPOT). */
static inline int32_t tk_sat_shift_left(int32_t x, int e) {
  const int32_t threshold = (int32_t)(((int32_t)1 << (31 - e)) - 1);
  if (x > threshold) return TK_INT32_MAX;
  if (x < -threshold) return TK_INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in, Q0.31 out. */
static inline int32_t tk_one_over_one_plus_x(int32_t a) {
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

#ifdef __cplusplus
}
#endif

#endif /* TK_FIXEDPOINT_H */
