/* See tflm_ref_issue10.c: TFLM's reference loops, restated for the benchmark. */
#ifndef TFLM_REF_ISSUE10_H
#define TFLM_REF_ISSUE10_H

#include <stdint.h>

typedef struct RefBroadcast {
  int32_t dims[5];
  int32_t s1[5], s2[5];
  int32_t broadcast;
} RefBroadcast;

typedef struct RefArith {
  int32_t in1_offset, in2_offset, left_shift;
  int32_t in1_mult, in1_shift, in2_mult, in2_shift;
  int32_t out_mult, out_shift, out_offset, act_min, act_max;
} RefArith;

typedef struct RefPrelu {
  int32_t in_offset, alpha_offset, out_offset, mult1, shift1, mult2, shift2;
} RefPrelu;

typedef struct RefAbs {
  int32_t in_zp, out_zp, rescale, mult, shift;
} RefAbs;

typedef struct RefReduce {
  int32_t rank, dims[5], n_axes, axes[2];
  int32_t n_out, count, is_max, in_zp, out_zp, mult, shift;
} RefReduce;

void ref_sub(const RefArith *p, const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out);
void ref_squared_difference(const RefArith *p, const RefBroadcast *d, const int8_t *x,
                            const int8_t *y, int8_t *out);
void ref_maximum(const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out);
void ref_minimum(const RefBroadcast *d, const int8_t *x, const int8_t *y, int8_t *out);
void ref_prelu(const RefPrelu *p, const RefBroadcast *d, const int8_t *x, const int8_t *alpha,
               int8_t *out);
void ref_abs(const RefAbs *p, int32_t n, const int8_t *x, int8_t *out);
void ref_reduce(const RefReduce *p, const int8_t *x, int8_t *out, int32_t *temp);
void ref_arg_max(int32_t outer, int32_t axis_size, int32_t inner, const int8_t *x, int32_t *out);
void ref_transpose(const int32_t *in_dims, const int32_t *perm, int32_t rank, const int8_t *x,
                   int8_t *out);
void ref_gather(int32_t outer, int32_t axis_size, int32_t inner, const int32_t *idx, int32_t n_idx,
                const int8_t *x, int8_t *out);

#endif
