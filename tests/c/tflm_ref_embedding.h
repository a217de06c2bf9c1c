/* See tflm_ref_embedding.c: TFLM's reference loops for the Embedding ops, restated
 * for the benchmark (tests/bench_embedding.py). */
#ifndef TFLM_REF_EMBEDDING_H
#define TFLM_REF_EMBEDDING_H

#include <stdint.h>

/* NdArrayDesc as TFLM builds it: extents and strides (0 on a broadcast dim). */
typedef struct RefDesc5 {
  int32_t extents[5];
  int32_t strides[5];
} RefDesc5;

void ref_less_4d(const int32_t *out_dims, const RefDesc5 *d1, const RefDesc5 *d2,
                 const int32_t *x, const int32_t *y, uint8_t *out);
void ref_add_s32_4d(const int32_t *out_dims, const RefDesc5 *d1, const RefDesc5 *d2,
                    const int32_t *x, const int32_t *y, int32_t *out);
void ref_select_5d(const int32_t *out_dims, const RefDesc5 *dc, const RefDesc5 *dx,
                   const RefDesc5 *dy, const uint8_t *c, const int32_t *x, const int32_t *y,
                   int32_t *out);
void ref_less_flat(int32_t n, const int32_t *x, const int32_t *y, uint8_t *out);
void ref_add_s32_flat(int32_t n, const int32_t *x, const int32_t *y, int32_t *out);
void ref_select_flat(int32_t n, const uint8_t *c, const int32_t *x, const int32_t *y,
                     int32_t *out);
int ref_gather_checked(int32_t outer, int32_t axis_size, int32_t inner, const int32_t *idx,
                       int32_t n_idx, const int8_t *x, int8_t *out);

#endif
