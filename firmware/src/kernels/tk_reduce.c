/* tinykit runtime: MEAN, SUM, REDUCE_MAX and REDUCE_MIN of an int8 tensor over any axes, as
 * TFLM's reference QuantizedMeanOrSum (MEAN: the 1/count factor folded into the
 * multiplier at generation time; SUM: count 1 in the multiplier) and its
 * ReduceGeneric max / min. The generator collapses the shape into kept (outer) and
 * reduced (inner) dimension groups, so each output element is one walk over
 * the inner groups. The 4-D mean over H and W keeps its own kernel (tk_mean.c).
 *
 * With the DSP extension, sums read a word (four int8 values) at a time
 * (tk_sum4_strided_s8: SXTAB16 into int16 lanes, exact): four adjacent outputs
 * at once where the innermost kept dimension is contiguous (e.g. a mean over H
 * of [N, H, C]), or four inputs at once where the innermost reduced one is (a
 * mean over C). */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

#if TK_DOT_DSP
/* One word of four int8 lanes added into the int16 lanes of e (bytes 0, 2)
 * and o (bytes 1, 3). */
#define TK_SUM4_WORD(e, o, v)                                  \
  __asm__("sxtab16 %0, %0, %2\n\t"                           \
          "sxtab16 %1, %1, %2, ror #8"                       \
          : "+&r"(e), "+&r"(o)                               \
          : "r"(v))

/* Lanes of at most 256 int8 values cannot overflow (256 * -128 = INT16_MIN). */
#define TK_SUM4_CHUNK 256

void tk_sum4_strided_s8(const int8_t *x, int32_t stride, int32_t n, int32_t sum[4]) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  while (n > 0) {
    const int32_t m = tk_min_i32(n, TK_SUM4_CHUNK);
    int32_t e = 0, o = 0, i = 0;
    for (; i + 2 <= m; i += 2, x += 2 * stride) {
      const uint32_t v = tk_load_u32(x), w = tk_load_u32(x + stride);
      TK_SUM4_WORD(e, o, v);
      TK_SUM4_WORD(e, o, w);
    }
    if (i < m) {
      const uint32_t v = tk_load_u32(x);
      TK_SUM4_WORD(e, o, v);
      x += stride;
    }
    s0 += (int16_t)(uint16_t)e;
    s2 += (int32_t)e >> 16;
    s1 += (int16_t)(uint16_t)o;
    s3 += (int32_t)o >> 16;
    n -= m;
  }
  sum[0] = s0;
  sum[1] = s1;
  sum[2] = s2;
  sum[3] = s3;
}
#undef TK_SUM4_WORD
#endif

#if TK_MAX_DIMS != 5
#error "tk_reduce walks 5 outer and 5 inner dims: TK_MAX_DIMS must be 5"
#endif

/* The raw int8 sum of one output element's inputs. */
static int32_t tk_reduce_sum_one(const TkReduceParams *p, const int8_t *in) {
  const int32_t *d = p->inner, *s = p->inner_stride;
  int32_t acc = 0, i0, i1, i2, i3, i4;
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        for (i3 = 0; i3 < d[3]; ++i3) {
          const int8_t *row = in + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
          const int32_t step = s[4];
          int32_t a0 = 0, a1 = 0;
          i4 = 0;
#if TK_DOT_DSP
          if (step == 1 && d[4] >= 8) { /* contiguous: a word of four at a time */
            int32_t part[4];
            i4 = d[4] & ~3;
            tk_sum4_strided_s8(row, 4, i4 >> 2, part);
            a0 = part[0] + part[1];
            a1 = part[2] + part[3];
          }
#endif
          for (; i4 + 1 < d[4]; i4 += 2) { /* two independent accumulators */
            a0 += row[i4 * step];
            a1 += row[(i4 + 1) * step];
          }
          if (i4 < d[4]) a0 += row[i4 * step];
          acc += a0 + a1;
        }
      }
    }
  }
  return acc;
}

/* The raw extreme (max, or min when is_min) of one output element's inputs. */
static int8_t tk_reduce_ext_one(const TkReduceParams *p, const int8_t *in, int is_min) {
  const int32_t *d = p->inner, *s = p->inner_stride;
  int32_t i0, i1, i2, i3, i4;
  int32_t m = is_min ? 127 : -128;
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        for (i3 = 0; i3 < d[3]; ++i3) {
          const int8_t *row = in + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
          if (is_min) {
            for (i4 = 0; i4 < d[4]; ++i4) {
              const int32_t v = row[i4 * s[4]];
              if (v < m) m = v;
            }
          } else {
            for (i4 = 0; i4 < d[4]; ++i4) {
              const int32_t v = row[i4 * s[4]];
              if (v > m) m = v;
            }
          }
        }
      }
    }
  }
  return (int8_t)m;
}

/* Calls one(p, input of the output element) for every output element, in order. */
#define TK_REDUCE_OUTER(p, in, out, EXPR)                                                     \
  do {                                                                                        \
    const int32_t *d_ = (p)->outer, *s_ = (p)->outer_stride;                                  \
    int32_t j0, j1, j2, j3, j4;                                                               \
    for (j0 = 0; j0 < d_[0]; ++j0)                                                            \
      for (j1 = 0; j1 < d_[1]; ++j1)                                                          \
        for (j2 = 0; j2 < d_[2]; ++j2)                                                        \
          for (j3 = 0; j3 < d_[3]; ++j3)                                                      \
            for (j4 = 0; j4 < d_[4]; ++j4) {                                                  \
              const int8_t *x_ =                                                              \
                  (in) + j0 * s_[0] + j1 * s_[1] + j2 * s_[2] + j3 * s_[3] + j4 * s_[4];      \
              *(out)++ = (EXPR);                                                              \
            }                                                                                 \
  } while (0)

/* tk_mul_q31 (one fused multiply-accumulate) equals TFLM's
 * MultiplyByQuantizedMultiplier for any multiplier >= 0 and shift in [-31, 31]
 * (tk_dot.h), which the generator always emits; anything else takes TFLM's steps. */
static int8_t tk_reduce_requantize(const TkReduceParams *p, int32_t sum) {
  const int32_t acc = sum - p->input_zp * p->count;
  const int32_t r = (p->mult >= 0 && p->shift >= -31 && p->shift <= 31
                         ? tk_mul_q31(acc, p->mult, p->shift)
                         : tk_multiply_by_quantized_multiplier(acc, p->mult, (int)p->shift)) +
                    p->output_zp;
  return (int8_t)tk_clamp_i32(r, -128, 127);
}

#if TK_DOT_DSP
/* sum[k] = the raw sum of the inputs of output element k (k < 4) of four adjacent
 * outputs whose inputs are adjacent bytes (innermost kept dim of stride 1). */
static void tk_reduce_sum4(const TkReduceParams *p, const int8_t *in, int32_t sum[4]) {
  const int32_t *d = p->inner, *s = p->inner_stride;
  int32_t i0, i1, i2, i3, k, part[4];
  sum[0] = sum[1] = sum[2] = sum[3] = 0;
  for (i0 = 0; i0 < d[0]; ++i0) {
    for (i1 = 0; i1 < d[1]; ++i1) {
      for (i2 = 0; i2 < d[2]; ++i2) {
        for (i3 = 0; i3 < d[3]; ++i3) {
          tk_sum4_strided_s8(in + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3], s[4], d[4], part);
          for (k = 0; k < 4; ++k) sum[k] += part[k];
        }
      }
    }
  }
}

/* tk_reduce_sum_s8 four outputs at a time (outer_stride[4] == 1). */
static void tk_reduce_sum_by4(const TkReduceParams *p, const int8_t *in, int8_t *out) {
  const int32_t *d = p->outer, *s = p->outer_stride;
  int32_t j0, j1, j2, j3, j4, k, sum[4];
  for (j0 = 0; j0 < d[0]; ++j0) {
    for (j1 = 0; j1 < d[1]; ++j1) {
      for (j2 = 0; j2 < d[2]; ++j2) {
        for (j3 = 0; j3 < d[3]; ++j3) {
          const int8_t *x = in + j0 * s[0] + j1 * s[1] + j2 * s[2] + j3 * s[3];
          for (j4 = 0; j4 + 4 <= d[4]; j4 += 4) {
            tk_reduce_sum4(p, x + j4, sum);
            for (k = 0; k < 4; ++k) *out++ = tk_reduce_requantize(p, sum[k]);
          }
          for (; j4 < d[4]; ++j4) *out++ = tk_reduce_requantize(p, tk_reduce_sum_one(p, x + j4));
        }
      }
    }
  }
}
#endif

TkStatus tk_reduce_sum_s8(const TkReduceParams *p, const int8_t *in, int8_t *out) {
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
#if TK_DOT_DSP
  if (p->outer_stride[4] == 1 && p->outer[4] >= 4) {
    tk_reduce_sum_by4(p, in, out);
    return TK_OK;
  }
#endif
  TK_REDUCE_OUTER(p, in, out, tk_reduce_requantize(p, tk_reduce_sum_one(p, x_)));
  return TK_OK;
}

TkStatus tk_reduce_max_s8(const TkReduceParams *p, const int8_t *in, int8_t *out) {
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  TK_REDUCE_OUTER(p, in, out, tk_reduce_ext_one(p, x_, 0));
  return TK_OK;
}

TkStatus tk_reduce_min_s8(const TkReduceParams *p, const int8_t *in, int8_t *out) {
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  TK_REDUCE_OUTER(p, in, out, tk_reduce_ext_one(p, x_, 1));
  return TK_OK;
}
