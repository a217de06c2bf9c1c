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

#ifdef __cplusplus
}
#endif

#endif /* TK_FIXEDPOINT_H */
