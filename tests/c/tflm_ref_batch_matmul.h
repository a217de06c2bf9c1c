/* See tflm_ref_batch_matmul.c: TFLM's reference BATCH_MATMUL, restated for the benchmark. */
#ifndef TFLM_REF_BATCH_MATMUL_H
#define TFLM_REF_BATCH_MATMUL_H

#include <stdint.h>

/* a: the reference's "lhs", TFLM's rhs with rows and columns swapped [.., cols,
 * depth]; b: its "rhs", the model's lhs [.., rows, depth]; both extended to 5
 * dims. transpose_rhs: the rhs is an activation without adj_y, transposed
 * (rhs_batches matrices of depth x cols) into rhs_t on every invoke. */
typedef struct RefBatchMatMul {
  int32_t a_dims[5], b_dims[5];
  int32_t a_offset, b_offset, out_offset, mult, shift;
  int32_t transpose_rhs, rhs_batches, depth, cols;
} RefBatchMatMul;

void ref_batch_matmul(const RefBatchMatMul *p, const int8_t *lhs, const int8_t *rhs,
                      int8_t *rhs_t, int8_t *out);

#endif
