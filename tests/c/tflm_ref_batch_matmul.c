/* TFLM's int8 BATCH_MATMUL (BatchMatMulEval + reference_ops::BatchMatMul<int8_t,
 * int32_t>), restated in C with the reference's loop structure, for
 * tests/bench_batch_matmul.py only (never linked into tinykit): the rhs of
 * the model transposed into a buffer unless adj_y (TFLM caches that for a
 * constant rhs: the bench then passes it already transposed), the three batch
 * loops with TFLM's extents, and per output one depth loop adding both offsets
 * to every operand, then MultiplyByQuantizedMultiplier. The transposition is a
 * plain loop nest (TFLM runs its generic Transpose), so these counts are a
 * lower bound of TFLM's own. */
#include <stdint.h>

#include "tk_fixedpoint.h"
#include "tflm_ref_batch_matmul.h"

static int32_t extent(const int32_t *dims, int x) {
  int32_t prod = 1, i;
  if (dims[x] == 1) return 0;
  for (i = x + 1; i < 5; ++i) prod *= dims[i];
  return prod;
}

static int32_t bdim(int32_t a, int32_t b) { return a == b ? a : (a == 1 ? b : a); }

void ref_batch_matmul(const RefBatchMatMul *p, const int8_t *lhs, const int8_t *rhs,
                      int8_t *rhs_t, int8_t *out) {
  const int8_t *a_data = rhs, *b_data = lhs;
  const int32_t *ad = p->a_dims, *bd = p->b_dims;
  int32_t b0, b1, b2, i, j, k, m;
  if (p->transpose_rhs) { /* TransposeRowsColumns: [depth][cols] -> [cols][depth] */
    for (m = 0; m < p->rhs_batches; ++m) {
      const int8_t *src = rhs + m * p->depth * p->cols;
      int8_t *dst = rhs_t + m * p->depth * p->cols;
      for (k = 0; k < p->depth; ++k)
        for (j = 0; j < p->cols; ++j) dst[j * p->depth + k] = src[k * p->cols + j];
    }
    a_data = rhs_t;
  }
  {
    const int32_t bd0 = bdim(ad[0], bd[0]), bd1 = bdim(ad[1], bd[1]), bd2 = bdim(ad[2], bd[2]);
    const int32_t a0 = extent(ad, 0), a1 = extent(ad, 1), a2 = extent(ad, 2);
    const int32_t c0 = extent(bd, 0), c1 = extent(bd, 1), c2 = extent(bd, 2);
    const int32_t a_rows = ad[3], b_cols = bd[4], depth = ad[4];
    for (b0 = 0; b0 < bd0; ++b0) {
      const int8_t *ap0 = a_data + b0 * a0;
      const int8_t *bp0 = b_data + b0 * c0;
      for (b1 = 0; b1 < bd1; ++b1) {
        const int8_t *ap1 = ap0 + b1 * a1;
        const int8_t *bp1 = bp0 + b1 * c1;
        for (b2 = 0; b2 < bd2; ++b2) {
          const int8_t *ap2 = ap1 + b2 * a2;
          const int8_t *bp2 = bp1 + b2 * c2;
          int8_t *op = out + ((b0 * bd1 * bd2) + b1 * bd2 + b2) * a_rows * b_cols;
          for (j = 0; j < b_cols; ++j) {
            for (i = 0; i < a_rows; ++i) {
              int32_t total = 0, r;
              for (k = 0; k < depth; ++k) {
                const int32_t av = ap2[depth * i + k];
                const int32_t bv = bp2[depth * j + k];
                total += (av + p->a_offset) * (bv + p->b_offset);
              }
              r = tk_multiply_by_quantized_multiplier(total, p->mult, (int)p->shift) +
                  p->out_offset;
              op[a_rows * j + i] = (int8_t)tk_clamp_i32(r, -128, 127);
            }
          }
        }
      }
    }
  }
}
