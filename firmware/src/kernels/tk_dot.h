/* tinykit runtime: int8 dot products and requantization shared by the conv,
 * depthwise and fully-connected kernels. Private header of the kernels. Plain
 * C99; on Cortex-M cores with the DSP extension (__ARM_FEATURE_DSP) the dot
 * products use SXTB16 + SMLAD (two 8x8-bit MACs per instruction), elsewhere
 * plain loops written so that gcc -O2 vectorizes them (fixed 16-element
 * blocks, scalar accumulators).
 *
 * TK_DOT_DSP (1 or 0) selects the DSP paths of every kernel; compile with
 * -DTK_NO_DSP to force the portable paths on a core with DSP (results are
 * bit-identical either way). */
#ifndef TK_DOT_H
#define TK_DOT_H

#include <stdint.h>
#include <string.h>

#include "tk_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(TK_NO_DSP) && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__GNUC__)
#define TK_DOT_DSP 1
#else
#define TK_DOT_DSP 0
#endif

#if TK_DOT_DSP
static inline uint32_t tk_load_u32(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v); /* one LDR: unaligned access is allowed on ARMv7E-M */
  return v;
}
/* bytes 0 and 2 sign-extended to two int16 lanes */
static inline int32_t tk_sxtb16(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
  return r;
}
/* bytes 1 and 3 sign-extended to two int16 lanes */
static inline int32_t tk_sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
/* acc + a.lo * b.lo + a.hi * b.hi (int16 lanes) */
static inline int32_t tk_smlad(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
#endif

/* acc[j] += sum_{i < n} x[i] * w[j * w_stride + i] for j = 0..3. */
static inline void tk_dot4_s8(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n,
                              int32_t acc[4]) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i = 0;
#if TK_DOT_DSP
  for (; i + 4 <= n; i += 4) {
    const uint32_t xv = tk_load_u32(x + i);
    const int32_t xe = tk_sxtb16(xv);
    const int32_t xo = tk_sxtb16_ror8(xv);
    uint32_t v = tk_load_u32(w0 + i);
    a0 = tk_smlad(tk_sxtb16(v), xe, a0);
    a0 = tk_smlad(tk_sxtb16_ror8(v), xo, a0);
    v = tk_load_u32(w1 + i);
    a1 = tk_smlad(tk_sxtb16(v), xe, a1);
    a1 = tk_smlad(tk_sxtb16_ror8(v), xo, a1);
    v = tk_load_u32(w2 + i);
    a2 = tk_smlad(tk_sxtb16(v), xe, a2);
    a2 = tk_smlad(tk_sxtb16_ror8(v), xo, a2);
    v = tk_load_u32(w3 + i);
    a3 = tk_smlad(tk_sxtb16(v), xe, a3);
    a3 = tk_smlad(tk_sxtb16_ror8(v), xo, a3);
  }
#else
  for (; i + 16 <= n; i += 16) {
    int32_t j;
    for (j = 0; j < 16; ++j) {
      const int32_t xv = x[i + j];
      a0 += xv * w0[i + j];
      a1 += xv * w1[i + j];
      a2 += xv * w2[i + j];
      a3 += xv * w3[i + j];
    }
  }
#endif
  for (; i < n; ++i) {
    const int32_t xv = x[i];
    a0 += xv * w0[i];
    a1 += xv * w1[i];
    a2 += xv * w2[i];
    a3 += xv * w3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

#if !TK_DOT_DSP
/* acc[j] += sum_{i < n} x[i] * w[j * w_stride + i] for j = 0..3, x already
 * widened to int16 (once per window, shared by all output channels): an
 * int16 x int16 product summed into int32 is the pattern gcc -O2 turns into
 * PMADDWD (SSE2) / SDOT-like widening multiply-adds. Blocks of 64, then 16,
 * each a loop with a fixed trip count that the vectorizer takes whole. */
static inline void tk_dot4_s16s8(const int16_t *x, const int8_t *w, int32_t w_stride, int32_t n,
                                 int32_t acc[4]) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i = 0, j;
  for (; i + 64 <= n; i += 64) {
    for (j = 0; j < 64; ++j) {
      const int16_t xv = x[i + j];
      a0 += xv * (int16_t)w0[i + j];
      a1 += xv * (int16_t)w1[i + j];
      a2 += xv * (int16_t)w2[i + j];
      a3 += xv * (int16_t)w3[i + j];
    }
  }
  for (; i + 16 <= n; i += 16) {
    for (j = 0; j < 16; ++j) {
      const int16_t xv = x[i + j];
      a0 += xv * (int16_t)w0[i + j];
      a1 += xv * (int16_t)w1[i + j];
      a2 += xv * (int16_t)w2[i + j];
      a3 += xv * (int16_t)w3[i + j];
    }
  }
  for (; i < n; ++i) {
    const int32_t xv = x[i];
    a0 += xv * w0[i];
    a1 += xv * w1[i];
    a2 += xv * w2[i];
    a3 += xv * w3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* sum_{i < n} x[i] * w[i], x widened to int16 */
static inline int32_t tk_dot1_s16s8(const int16_t *x, const int8_t *w, int32_t n) {
  int32_t a = 0;
  int32_t i = 0, j;
  for (; i + 16 <= n; i += 16) {
    for (j = 0; j < 16; ++j) a += x[i + j] * (int16_t)w[i + j];
  }
  for (; i < n; ++i) a += (int32_t)x[i] * (int32_t)w[i];
  return a;
}
#endif

/* sum_{i < n} x[i] * w[i] */
static inline int32_t tk_dot1_s8(const int8_t *x, const int8_t *w, int32_t n) {
  int32_t a = 0;
  int32_t i = 0;
#if TK_DOT_DSP
  for (; i + 4 <= n; i += 4) {
    const uint32_t xv = tk_load_u32(x + i);
    const uint32_t v = tk_load_u32(w + i);
    a = tk_smlad(tk_sxtb16(v), tk_sxtb16(xv), a);
    a = tk_smlad(tk_sxtb16_ror8(v), tk_sxtb16_ror8(xv), a);
  }
#else
  for (; i + 16 <= n; i += 16) {
    int32_t j;
    for (j = 0; j < 16; ++j) a += (int32_t)x[i + j] * (int32_t)w[i + j];
  }
#endif
  for (; i < n; ++i) a += (int32_t)x[i] * (int32_t)w[i];
  return a;
}

/* tk_multiply_by_quantized_multiplier(acc, mult, shift) + offset, clamped to
 * [lo, hi]: the same double rounding, with the high multiply as one
 * multiply-accumulate and an arithmetic shift: floor((a*b + 2^30) / 2^31)
 * equals gemmlowp's (a*b + nudge) / 2^31 truncated (nudge 2^30 or 1 - 2^30 by
 * sign) for every a, b except a == b == INT32_MIN, where gemmlowp saturates;
 * mult is a Q31 multiplier in [2^30, 2^31) or 0, never INT32_MIN. */
static inline int8_t tk_requant_s8(int32_t acc, int32_t mult, int32_t shift, int32_t offset,
                                   int32_t lo, int32_t hi) {
  const int left = shift > 0 ? (int)shift : 0;
  const int right = shift > 0 ? 0 : (int)-shift;
  const int32_t x = (int32_t)((uint32_t)acc << left);
  const int32_t high = (int32_t)(((int64_t)x * (int64_t)mult + ((int64_t)1 << 30)) >> 31);
  return (int8_t)tk_clamp_i32(tk_rounding_divide_by_pot(high, right) + offset, lo, hi);
}

#ifdef __cplusplus
}
#endif

#endif /* TK_DOT_H */
