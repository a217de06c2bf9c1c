/* tinykit runtime: MEAN, SUM, REDUCE_MAX and REDUCE_MIN of an int8 tensor over any axes, as
 * TFLM's reference QuantizedMeanOrSum (MEAN: the 1/count factor folded into the
 * multiplier at generation time; SUM: count 1 in the multiplier) and its
 * ReduceGeneric max / min. The generator collapses the shape into kept (outer) and
 * reduced (inner) dimension groups, so each output element is one walk over
 * the inner groups. The 4-D mean over H and W keeps its own kernel (tk_mean.c). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

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

static int8_t tk_reduce_requantize(const TkReduceParams *p, int32_t sum) {
  const int32_t r = tk_multiply_by_quantized_multiplier(sum - p->input_zp * p->count, p->mult,
                                                        (int)p->shift) + p->output_zp;
  return (int8_t)tk_clamp_i32(r, -128, 127);
}

TkStatus tk_reduce_sum_s8(const TkReduceParams *p, const int8_t *in, int8_t *out) {
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
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
