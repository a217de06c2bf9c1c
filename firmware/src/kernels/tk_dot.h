/* tinykit runtime: int8 dot products and requantization shared by the conv,
 * depthwise and fully-connected kernels. Private header of the kernels. Plain
 * C99; on Cortex-M cores with the DSP extension (__ARM_FEATURE_DSP, GCC) the
 * dot products use SXTB16 + SMLAD (two 8x8-bit MACs per instruction) in GCC
 * inline assembly, elsewhere
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

#if defined(__GNUC__)
#define TK_ALWAYS_INLINE __attribute__((always_inline))
#define TK_NOINLINE __attribute__((noinline))
#else
#define TK_ALWAYS_INLINE
#define TK_NOINLINE
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
/* a + b in each of the two int16 lanes (wrapping) */
static inline int32_t tk_sadd16(int32_t a, int32_t b) {
  int32_t r;
  __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* acc + a.lo * b.lo (int16 lanes) */
static inline int32_t tk_smlabb(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* acc + a.hi * b.hi (int16 lanes) */
static inline int32_t tk_smlatt(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* acc + a.lo * b.lo + a.hi * b.hi (int16 lanes) */
static inline int32_t tk_smlad(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
#endif

#if TK_DOT_DSP
/* The DSP dot-product loop: a0..a3 += sum over the bytes [x, xend) of x times
 * the same bytes of four weight rows, rows 0 and 2 at w0 and w2, rows 1 and 3
 * at w0 + off + 4 and w2 + off + 4 (off = row stride - 4: read after the
 * pointer has moved on by 4). xend - x is a positive multiple of 4; x, w0 and
 * w2 end advanced. One asm block, so that the compiler neither spills the
 * weight pointers nor reorders: 4 inputs x 4 rows = 16 MACs in 23
 * instructions, two such steps per loop iteration (an odd step enters in the
 * middle); 13 registers. */
#define TK_DOT4_ASM_STEP(a0, a1, a2, a3)          \
  "ldr %[t0], [%[x]], #4\n\t"                     \
  "sxtb16 %[t1], %[t0], ror #8\n\t"               \
  "sxtb16 %[t0], %[t0]\n\t"                       \
  "ldr %[t2], [%[w0]], #4\n\t"                    \
  "sxtb16 %[t3], %[t2]\n\t"                       \
  "sxtb16 %[t2], %[t2], ror #8\n\t"               \
  "smlad %[" a0 "], %[t3], %[t0], %[" a0 "]\n\t" \
  "smlad %[" a0 "], %[t2], %[t1], %[" a0 "]\n\t" \
  "ldr %[t2], [%[w0], %[off]]\n\t"                \
  "sxtb16 %[t3], %[t2]\n\t"                       \
  "sxtb16 %[t2], %[t2], ror #8\n\t"               \
  "smlad %[" a1 "], %[t3], %[t0], %[" a1 "]\n\t" \
  "smlad %[" a1 "], %[t2], %[t1], %[" a1 "]\n\t" \
  "ldr %[t2], [%[w2]], #4\n\t"                    \
  "sxtb16 %[t3], %[t2]\n\t"                       \
  "sxtb16 %[t2], %[t2], ror #8\n\t"               \
  "smlad %[" a2 "], %[t3], %[t0], %[" a2 "]\n\t" \
  "smlad %[" a2 "], %[t2], %[t1], %[" a2 "]\n\t" \
  "ldr %[t2], [%[w2], %[off]]\n\t"                \
  "sxtb16 %[t3], %[t2]\n\t"                       \
  "sxtb16 %[t2], %[t2], ror #8\n\t"               \
  "smlad %[" a3 "], %[t3], %[t0], %[" a3 "]\n\t" \
  "smlad %[" a3 "], %[t2], %[t1], %[" a3 "]\n\t"
#define TK_DOT4_ASM(A0, A1, A2, A3, X, XEND, W0, W2, OFF)                                   \
  do {                                                                                    \
    uint32_t t0_, t1_, t2_, t3_;                                                          \
    __asm__("sub %[t0], %[xend], %[x]\n\t"                                                \
            "tst %[t0], #4\n\t"                                                           \
            "bne 2f\n"                                                                    \
            "1:\n\t" TK_DOT4_ASM_STEP("a0", "a1", "a2", "a3")                            \
            "2:\n\t" TK_DOT4_ASM_STEP("a0", "a1", "a2", "a3")                            \
            "cmp %[x], %[xend]\n\t"                                                       \
            "bne 1b"                                                                      \
            : [a0] "+r"(A0), [a1] "+r"(A1), [a2] "+r"(A2), [a3] "+r"(A3), [x] "+r"(X),    \
              [w0] "+r"(W0), [w2] "+r"(W2), [t0] "=&r"(t0_), [t1] "=&r"(t1_),            \
              [t2] "=&r"(t2_), [t3] "=&r"(t3_)                                            \
            : [off] "r"(OFF), [xend] "r"(XEND)                                            \
            : "cc", "memory");                                                            \
  } while (0)
#endif

/* acc[j] += sum_{i < n} x[i] * w[j * w_stride + i] for j = 0..3. Out of line
 * with the DSP extension: the asm loop needs 13 registers, which -Os cannot
 * find inside a caller. */
#if TK_DOT_DSP
static __attribute__((noinline, unused)) void tk_dot4_s8(
#else
static inline void tk_dot4_s8(
#endif
                              const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n,
                              int32_t acc[4]) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i = 0;
#if TK_DOT_DSP
  if (n >= 4) {
    const int8_t *xp = x;
    const int8_t *const xend = x + (n & ~3);
    const int8_t *wp0 = w0;
    const int8_t *wp2 = w2;
    const int32_t off = w_stride - 4;
    TK_DOT4_ASM(a0, a1, a2, a3, xp, xend, wp0, wp2, off);
    i = n & ~3;
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

/* The channel-pair weight layout (packed = 1 in TkConvParams and
 * TkFullyConnectedParams; written at generation time by tinykit/ops/conv.py
 * pack_pairs). A weight matrix w[rows][k], k a multiple of 4: rows 2j and
 * 2j + 1 share the 2k bytes where they were, as k int16 values v[i] =
 * 256 * w[2j + 1][i] + w[2j][i] (little-endian: low byte w[2j][i], high byte
 * w[2j + 1][i] - [w[2j][i] < 0]), in each block of 4 inputs in the order
 * i + 0, i + 2, i + 1, i + 3; an odd last row stays as it was. On the DSP
 * path a weight word is then both an int16 lane pair (SMLAD with it sums
 * x * v) and, after one SXTB16, the even row's lane pair: per word 2 inputs x
 * 2 rows in one load, one SXTB16 and two SMLADs, where the plain layout needs
 * two SXTB16 for the same MACs. The odd row's sum is (sum x * v - sum x * w
 * even) / 256, exact mod 2^32 while it stays within 24 bits: 256 inputs
 * (|x * w| <= 2^14) at a time. Generated only where no v falls below -32768. */
#define TK_PACK_CHUNK 256

/* w[r][i] of a packed matrix of `rows` rows of k weights */
static inline int32_t tk_packed_w(const int8_t *w, int32_t rows, int32_t k, int32_t r, int32_t i) {
  const int8_t *q;
  int32_t lo;
  if ((rows & 1) != 0 && r == rows - 1) return w[r * k + i];
  q = w + (r & ~1) * k + 2 * ((i & ~3) | ((i & 1) << 1) | ((i & 2) >> 1));
  lo = q[0];
  return (r & 1) == 0 ? lo : (int32_t)q[1] + (lo < 0);
}

/* *e += sum x[i] * w[2j][i], *o += sum x[i] * w[2j + 1][i] over i < k (a
 * multiple of 4) for the packed row pair at wp (2k bytes) */
#if TK_DOT_DSP
static inline void tk_dot2p_s8(const int8_t *x, const int8_t *wp, int32_t k, int32_t *e,
                               int32_t *o) {
  int32_t pe = *e, po = *o, i = 0;
  while (i < k) {
    const int32_t end = k - i < TK_PACK_CHUNK ? k : i + TK_PACK_CHUNK;
    int32_t q = pe;
    for (; i < end; i += 4) {
      const uint32_t xv = tk_load_u32(x + i);
      const int32_t xe = tk_sxtb16(xv), xo = tk_sxtb16_ror8(xv);
      const int32_t w0 = (int32_t)tk_load_u32(wp + 2 * i);
      const int32_t w1 = (int32_t)tk_load_u32(wp + 2 * i + 4);
      q = tk_smlad(w1, xo, tk_smlad(w0, xe, q));
      pe = tk_smlad(tk_sxtb16((uint32_t)w1), xo, tk_smlad(tk_sxtb16((uint32_t)w0), xe, pe));
    }
    po += (int32_t)((uint32_t)q - (uint32_t)pe) >> 8;
  }
  *e = pe;
  *o = po;
}
#else
/* Input i of a packed row pair is at position tk_packed_pos(i): bits 0 and 1
 * of i swapped. */
#define tk_packed_pos(i) (((i) & ~3) | (((i) & 1) << 1) | (((i) & 2) >> 1))

/* The 16 packed values at q (int16 v = 256 * w_odd + w_even) against xp, 16
 * inputs in packed order: sum x * w_even into *pe, sum x * w_odd into *po
 * (sum x * v - sum x * w_even = 256 * sum x * w_odd exactly: 16 terms of at
 * most 2^22). A fixed trip count, which gcc -O2 vectorizes (PMADDWD). */
static inline void tk_dot2p_block16(const int16_t *xp, const int8_t *q, int32_t *pe,
                                    int32_t *po) {
  int16_t v[16];
  int32_t j, sv = 0, se = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (j = 0; j < 16; ++j) v[j] = (int16_t)(q[2 * j + 1] * 256 + (uint8_t)q[2 * j]);
#else
  memcpy(v, q, sizeof v); /* the layout's little-endian int16 values */
#endif
  for (j = 0; j < 16; ++j) {
    sv += xp[j] * v[j];
    se += xp[j] * (((v[j] & 0xFF) ^ 0x80) - 0x80); /* the low byte, signed */
  }
  *pe += se;
  *po += (sv - se) / 256;
}

/* tk_dot2p_s8 over inputs already widened to int16 in packed order
 * (tk_widen_packed), k a multiple of 4 */
static inline void tk_dot2p_s16(const int16_t *xp, const int8_t *wp, int32_t k, int32_t *e,
                                int32_t *o) {
  int32_t i = 0;
  for (; i + 16 <= k; i += 16) tk_dot2p_block16(xp + i, wp + 2 * i, e, o);
  for (; i < k; ++i) {
    const int32_t lo = wp[2 * i], hi = wp[2 * i + 1];
    *e += xp[i] * lo;
    *o += xp[i] * (hi + (lo < 0));
  }
}

/* xp[i] = x[tk_packed_pos(i)] for i < k (a multiple of 4) */
static inline void tk_widen_packed(const int8_t *x, int16_t *xp, int32_t k) {
  int32_t i;
  for (i = 0; i < k; i += 4) {
    xp[i] = x[i];
    xp[i + 1] = x[i + 2];
    xp[i + 2] = x[i + 1];
    xp[i + 3] = x[i + 3];
  }
}

static inline void tk_dot2p_s8(const int8_t *x, const int8_t *wp, int32_t k, int32_t *e,
                               int32_t *o) {
  int16_t xp[16];
  int32_t i = 0;
  for (; i + 16 <= k; i += 16) {
    tk_widen_packed(x + i, xp, 16);
    tk_dot2p_block16(xp, wp + 2 * i, e, o);
  }
  if (i < k) {
    tk_widen_packed(x + i, xp, k - i);
    tk_dot2p_s16(xp, wp + 2 * i, k - i, e, o);
  }
}
#endif

#if TK_DOT_DSP
/* One step of the packed loop: 4 inputs x the two row pairs at w0 and w1
 * (4 rows, 16 MACs) in 17 instructions: per pair one LDRD of two weight
 * words, SMLAD with each raw word (sum x * v) and with it after SXTB16 (sum x
 * * w even). 12 registers. */
#define TK_DOT4P_ASM_STEP                          \
  "ldr %[t0], [%[x]], #4\n\t"                      \
  "sxtb16 %[xo], %[t0], ror #8\n\t"                \
  "sxtb16 %[xe], %[t0]\n\t"                        \
  "ldrd %[t0], %[t1], [%[w0]], #8\n\t"             \
  "smlad %[q0], %[t0], %[xe], %[q0]\n\t"           \
  "sxtb16 %[t0], %[t0]\n\t"                        \
  "smlad %[p0], %[t0], %[xe], %[p0]\n\t"           \
  "smlad %[q0], %[t1], %[xo], %[q0]\n\t"           \
  "sxtb16 %[t1], %[t1]\n\t"                        \
  "smlad %[p0], %[t1], %[xo], %[p0]\n\t"           \
  "ldrd %[t0], %[t1], [%[w1]], #8\n\t"             \
  "smlad %[q1], %[t0], %[xe], %[q1]\n\t"           \
  "sxtb16 %[t0], %[t0]\n\t"                        \
  "smlad %[p1], %[t0], %[xe], %[p1]\n\t"           \
  "smlad %[q1], %[t1], %[xo], %[q1]\n\t"           \
  "sxtb16 %[t1], %[t1]\n\t"                        \
  "smlad %[p1], %[t1], %[xo], %[p1]\n\t"

/* acc[0..3] += the dot products of x[0..k) (k a multiple of 4) with the 4
 * packed rows at w (two row pairs, 2k bytes each, word-aligned: LDRD), 256
 * inputs per asm loop (two steps per iteration, an odd step enters in the
 * middle). Out of line: the loop needs 12 registers. */
static __attribute__((noinline, unused)) void tk_dot4p_s8(const int8_t *x, const int8_t *w,
                                                           int32_t k, int32_t acc[4]) {
  const int8_t *xp = x;
  const int8_t *w0 = w;
  const int8_t *w1 = w + 2 * k;
  int32_t p0 = acc[0], o0 = acc[1], p1 = acc[2], o1 = acc[3];
  int32_t left = k;
  while (left > 0) {
    const int32_t n = left < TK_PACK_CHUNK ? left : TK_PACK_CHUNK;
    const int8_t *const xend = xp + n;
    int32_t q0 = p0, q1 = p1;
    uint32_t t0, t1, xe, xo;
    __asm__("tst %[n], #4\n\t"
            "bne 2f\n"
            "1:\n\t" TK_DOT4P_ASM_STEP
            "2:\n\t" TK_DOT4P_ASM_STEP
            "cmp %[x], %[xend]\n\t"
            "bne 1b"
            : [p0] "+r"(p0), [q0] "+r"(q0), [p1] "+r"(p1), [q1] "+r"(q1), [x] "+r"(xp),
              [w0] "+r"(w0), [w1] "+r"(w1), [t0] "=&r"(t0), [t1] "=&r"(t1), [xe] "=&r"(xe),
              [xo] "=&r"(xo)
            : [xend] "r"(xend), [n] "r"(n)
            : "cc", "memory");
    o0 += (int32_t)((uint32_t)q0 - (uint32_t)p0) >> 8;
    o1 += (int32_t)((uint32_t)q1 - (uint32_t)p1) >> 8;
    left -= n;
  }
  acc[0] = p0;
  acc[1] = o0;
  acc[2] = p1;
  acc[3] = o1;
}
#else
static inline void tk_dot4p_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t acc[4]) {
  tk_dot2p_s8(x, w, k, &acc[0], &acc[1]);
  tk_dot2p_s8(x, w + 2 * k, k, &acc[2], &acc[3]);
}
#endif

/* tk_multiply_by_quantized_multiplier(acc, mult, shift) for a Q31 multiplier
 * mult >= 0 (TFLite's are in [2^30, 2^31) or 0) and -31 <= shift <= 31, with
 * the rounding right shift fused into the one 64-bit multiply-accumulate.
 *
 * The high multiply: floor((a*b + 2^30) / 2^31) equals gemmlowp's
 * (a*b + nudge) / 2^31 truncated (nudge 2^30 or 1 - 2^30 by sign) for every
 * a, b except a == b == INT32_MIN, where gemmlowp saturates.
 *
 * A right shift r >= 1: RoundingDivideByPOT(h, r) == floor((h + 2^(r-1) -
 * [h < 0]) / 2^r), and floor((floor(z) + k) / 2^r) == floor((z + k) / 2^r) for
 * an integer k, so the result is floor((a*b + 2^30 + k * 2^31) / 2^(31 + r))
 * with k = 2^(r-1) - [h < 0]: the high word of one SMLAL shifted right by
 * r - 1. h < 0 exactly when z = a*b + 2^30 < 0, which with b >= 0 implies
 * a < 0; k uses [a < 0] instead: where a < 0 but h == 0 (0 <= z < 2^31), both
 * values of k give 0. */
static inline TK_ALWAYS_INLINE int32_t tk_mul_q31(int32_t acc, int32_t mult, int32_t shift) {
  if (shift < 0) {
    const int right = (int)(-shift - 1);
    const uint32_t k = ((uint32_t)1 << right) - ((uint32_t)acc >> 31);
    const int64_t z = (int64_t)acc * (int64_t)mult + (int64_t)(((uint64_t)k << 31) | (1u << 30));
    return (int32_t)(z >> 32) >> right;
  } else {
    const int32_t x = (int32_t)((uint32_t)acc << shift);
    return (int32_t)(((int64_t)x * (int64_t)mult + ((int64_t)1 << 30)) >> 31);
  }
}

/* tk_mul_q31(acc, mult, shift) + offset, clamped to [lo, hi]: the
 * requantization of every conv, depthwise and fully-connected output. */
static inline TK_ALWAYS_INLINE int8_t tk_requant_s8(int32_t acc, int32_t mult, int32_t shift,
                                                    int32_t offset, int32_t lo, int32_t hi) {
  return (int8_t)tk_clamp_i32(tk_mul_q31(acc, mult, shift) + offset, lo, hi);
}

/* v clamped to the int8 range: one SSAT with the DSP extension */
static inline TK_ALWAYS_INLINE int32_t tk_ssat8(int32_t v) {
#if TK_DOT_DSP
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
  return r;
#else
  return tk_clamp_i32(v, -128, 127);
#endif
}

/* tk_requant_s8 where full (a constant after inlining) says that [lo, hi] is
 * the whole int8 range (no activation, or a ReLU whose output zero point is
 * -128): the clamp is then one SSAT. */
static inline TK_ALWAYS_INLINE int8_t tk_requant_act_s8(int32_t acc, int32_t mult, int32_t shift,
                                                        int32_t offset, int32_t lo, int32_t hi,
                                                        int full) {
  const int32_t v = tk_mul_q31(acc, mult, shift) + offset;
  return (int8_t)(full ? tk_ssat8(v) : tk_clamp_i32(v, lo, hi));
}

#ifdef __cplusplus
}
#endif

#endif /* TK_DOT_H */
