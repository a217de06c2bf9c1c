/* TFLM's reference int8 kernels for the issue-10 ops, restated in C with the
 * reference's loop structure, for tests/bench_issue10_ops.py only (never linked
 * into tinykit): the NdArrayDesc broadcast walks (5-D for SUB, MAXIMUM,
 * MINIMUM; 4-D for PRELU and a broadcasting SQUARED_DIFFERENCE) with an output
 * Offset and a SubscriptToIndex per element; the flat element loops where TFLM
 * uses them; ReduceImpl's odometer over every input element for MEAN, SUM and
 * REDUCE_MAX. The element functions are inlined here (TFLM calls some through
 * pointers), so these counts are a lower bound of TFLM's own. */
#include <stdint.h>
#include <string.h>

#include "tk_fixedpoint.h"
#include "tflm_ref_issue10.h"

static inline int32_t sub_scale(int32_t x, int32_t off, int32_t ls, int32_t m, int32_t s) {
  return tk_rounding_divide_by_pot(tk_sat_rounding_doubling_high_mul((x + off) * (1 << ls), m), -s);
}

static inline int8_t sub_one(const RefArith *p, int8_t a, int8_t b, int squared) {
  const int32_t d = sub_scale(a, p->in1_offset, p->left_shift, p->in1_mult, p->in1_shift) -
                    sub_scale(b, p->in2_offset, p->left_shift, p->in2_mult, p->in2_shift);
  const int32_t r = tk_multiply_by_quantized_multiplier(squared ? d * d : d, p->out_mult,
                                                        (int)p->out_shift) + p->out_offset;
  return (int8_t)tk_clamp_i32(r, p->act_min, p->act_max);
}

#define REF_WALK5(D, BODY)                                                            \
  do {                                                                                \
    int32_t i0, i1, i2, i3, i4;                                                       \
    for (i0 = 0; i0 < (D)->dims[0]; ++i0)                                             \
      for (i1 = 0; i1 < (D)->dims[1]; ++i1)                                           \
        for (i2 = 0; i2 < (D)->dims[2]; ++i2)                                         \
          for (i3 = 0; i3 < (D)->dims[3]; ++i3)                                       \
            for (i4 = 0; i4 < (D)->dims[4]; ++i4) {                                   \
              const int32_t o = (((i0 * (D)->dims[1] + i1) * (D)->dims[2] + i2) *     \
                                 (D)->dims[3] + i3) * (D)->dims[4] + i4;              \
              const int32_t a = i0 * (D)->s1[0] + i1 * (D)->s1[1] + i2 * (D)->s1[2] + \
                                i3 * (D)->s1[3] + i4 * (D)->s1[4];                    \
              const int32_t b = i0 * (D)->s2[0] + i1 * (D)->s2[1] + i2 * (D)->s2[2] + \
                                i3 * (D)->s2[3] + i4 * (D)->s2[4];                    \
              BODY;                                                                   \
            }                                                                         \
  } while (0)

static int32_t flat_size(const RefBroadcast *d) {
  return d->dims[0] * d->dims[1] * d->dims[2] * d->dims[3] * d->dims[4];
}

void ref_sub(const RefArith *p, const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out) {
  if (!d->broadcast) { /* SubElementwise */
    int32_t i, n = flat_size(d);
    for (i = 0; i < n; ++i) out[i] = sub_one(p, x[i], y[i], 0);
    return;
  }
  REF_WALK5(d, out[o] = sub_one(p, x[a], y[b], 0)); /* BroadcastQuantSubSlow */
}

void ref_squared_difference(const RefArith *p, const RefBroadcast *d, const int8_t *x,
                            const int8_t *y, int8_t *out) {
  if (!d->broadcast) { /* ElementWise */
    int32_t i, n = flat_size(d);
    for (i = 0; i < n; ++i) out[i] = sub_one(p, x[i], y[i], 1);
    return;
  }
  REF_WALK5(d, out[o] = sub_one(p, x[a], y[b], 1)); /* BroadcastBinaryFunction4DSlow */
}

void ref_maximum(const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out) {
  REF_WALK5(d, out[o] = x[a] > y[b] ? x[a] : y[b]); /* MaximumMinimumBroadcastSlow */
}

void ref_minimum(const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out) {
  REF_WALK5(d, out[o] = x[a] < y[b] ? x[a] : y[b]);
}

void ref_prelu(const RefPrelu *p, const RefBroadcast *d, const int8_t *x, const int8_t *alpha,
               int8_t *out) {
  /* BroadcastPrelu4DSlow (the leading dim of the 5-D walk is 1) */
  REF_WALK5(d, {
    const int32_t v = p->in_offset + x[a];
    int32_t r;
    if (v >= 0) {
      r = tk_multiply_by_quantized_multiplier(v, p->mult1, (int)p->shift1);
    } else {
      r = tk_multiply_by_quantized_multiplier(v * (p->alpha_offset + alpha[b]), p->mult2,
                                              (int)p->shift2);
    }
    out[o] = (int8_t)tk_clamp_i32(r + p->out_offset, -128, 127);
  });
}

void ref_abs(const RefAbs *p, int32_t n, const int8_t *x, int8_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) { /* AbsEvalQuantized */
    const int32_t v = x[i] - p->in_zp;
    const int32_t a = v < 0 ? -v : v;
    const int32_t r = p->rescale ? tk_multiply_by_quantized_multiplier(a, p->mult, (int)p->shift) : a;
    out[i] = (int8_t)tk_clamp_i32(r + p->out_zp, -128, 127);
  }
}

/* ReducedOutputOffset: the flat offset of index over dims, skipping the axes. */
static int32_t reduced_offset(const RefReduce *p, const int32_t *index, int skip) {
  int32_t off = 0, d, k;
  for (d = 0; d < p->rank; ++d) {
    int reduced = 0;
    if (skip) {
      for (k = 0; k < p->n_axes; ++k) {
        if (p->axes[k] == d) reduced = 1;
      }
    }
    if (!reduced) off = off * p->dims[d] + index[d];
  }
  return off;
}

static int next_index(const RefReduce *p, int32_t *index) {
  int32_t d;
  for (d = p->rank - 1; d >= 0; --d) {
    if (++index[d] < p->dims[d]) return 1;
    index[d] = 0;
  }
  return 0;
}

void ref_reduce(const RefReduce *p, const int8_t *x, int8_t *out, int32_t *temp) {
  int32_t index[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t i;
  for (i = 0; i < p->n_out; ++i) temp[i] = p->is_max ? -128 : 0;
  do {
    const int8_t v = x[reduced_offset(p, index, 0)];
    int32_t *t = &temp[reduced_offset(p, index, 1)];
    if (p->is_max) {
      if (v > *t) *t = v;
    } else {
      *t += v;
    }
  } while (next_index(p, index));
  for (i = 0; i < p->n_out; ++i) {
    if (p->is_max) {
      out[i] = (int8_t)temp[i];
    } else {
      const int32_t r = tk_multiply_by_quantized_multiplier(temp[i] - p->in_zp * p->count, p->mult,
                                                            (int)p->shift) + p->out_zp;
      out[i] = (int8_t)tk_clamp_i32(r, -128, 127);
    }
  }
}

void ref_arg_max(int32_t outer, int32_t axis_size, int32_t inner, const int8_t *x, int32_t *out) {
  int32_t o, j, i;
  for (o = 0; o < outer; ++o) { /* ArgMinMax */
    for (j = 0; j < inner; ++j) {
      int8_t best = x[o * axis_size * inner + j];
      int32_t at = 0;
      for (i = 1; i < axis_size; ++i) {
        const int8_t v = x[(o * axis_size + i) * inner + j];
        if (v > best) {
          best = v;
          at = i;
        }
      }
      out[o * inner + j] = at;
    }
  }
}

void ref_transpose(const int32_t *in_dims, const int32_t *perm, int32_t rank, const int8_t *x,
                   int8_t *out) {
  /* the output walked in order, the input index rebuilt from the output index */
  int32_t in_stride[5], out_dims[5], idx[5] = {0, 0, 0, 0, 0}, d, n = 1, k;
  for (d = rank - 1, k = 1; d >= 0; --d) {
    in_stride[d] = k;
    k *= in_dims[d];
  }
  for (d = 0; d < rank; ++d) {
    out_dims[d] = in_dims[perm[d]];
    n *= out_dims[d];
  }
  for (k = 0; k < n; ++k) {
    int32_t off = 0;
    for (d = 0; d < rank; ++d) off += idx[d] * in_stride[perm[d]];
    out[k] = x[off];
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
}

void ref_gather(int32_t outer, int32_t axis_size, int32_t inner, const int32_t *idx, int32_t n_idx,
                const int8_t *x, int8_t *out) {
  int32_t o, k;
  for (o = 0; o < outer; ++o) { /* Gather: one memcpy per coordinate */
    for (k = 0; k < n_idx; ++k) {
      memcpy(out + (o * n_idx + k) * inner, x + (o * axis_size + idx[k]) * inner, (size_t)inner);
    }
  }
}
