/* tinykit runtime: BATCH_MATMUL int8, bit-exact with TFLM's
 * reference_ops::BatchMatMul<int8_t, int32_t> (per-tensor, both zero points,
 * one output multiplier, no activation). Every output is
 *
 *   sum_k (lhs[i][k] - lhs_zp) * (rhs[k][j] - rhs_zp), requantized,
 *
 * an exact int32 sum, so the order of the terms is free. Two paths, no scratch:
 *
 * - both operands contiguous along the depth (lhs [rows][depth], rhs
 *   [cols][depth]: adj_y, or a constant rhs transposed at generation time): raw
 *   int8 dot products 4 columns at a time (tk_dot4_s8: SXTB16/SMLAD on Cortex-M
 *   with DSP), the zero points folded in afterwards through the row sum of lhs
 *   and the column sums of rhs (those computed once per batch for a chunk of up
 *   to TK_BMM_CHUNK columns on the stack);
 * - any other layout (rhs [depth][cols], the attention case): 4 columns a pass,
 *   the lhs value offset once per depth step and shared by the 4 products, the
 *   rhs offset folded in through the row sum of the offset lhs. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

#define TK_BMM_CHUNK 32

/* Path 1: lhs rows and rhs columns both contiguous along the depth. */
static void tk_bmm_dot(const TkBatchMatMulParams *p, const int8_t *lhs, const int8_t *rhs,
                       int8_t *out) {
  const int32_t depth = p->depth, lo = p->lhs_offset, ro = p->rhs_offset;
  const int32_t both = depth * lo * ro;
  int32_t colsum[TK_BMM_CHUNK];
  int32_t c0, i, j, k;
  for (c0 = 0; c0 < p->cols; c0 += TK_BMM_CHUNK) {
    const int32_t c1 = tk_min_i32(p->cols, c0 + TK_BMM_CHUNK);
    for (j = c0; j < c1; ++j) {
      const int8_t *r = rhs + j * depth;
      int32_t s = 0;
      for (k = 0; k < depth; ++k) s += r[k];
      colsum[j - c0] = lo * s + both;
    }
    for (i = 0; i < p->rows; ++i) {
      const int8_t *l = lhs + i * depth;
      int8_t *y = out + i * p->cols;
      int32_t rowsum = 0;
      for (k = 0; k < depth; ++k) rowsum += l[k];
      rowsum *= ro;
      for (j = c0; j + 4 <= c1; j += 4) {
        int32_t acc[4], n;
        for (n = 0; n < 4; ++n) acc[n] = colsum[j - c0 + n] + rowsum;
        tk_dot4_s8(l, rhs + j * depth, depth, depth, acc);
        for (n = 0; n < 4; ++n) {
          y[j + n] = tk_requant_s8(acc[n], p->output_mult, p->output_shift, p->output_offset,
                                   -128, 127);
        }
      }
      for (; j < c1; ++j) {
        const int32_t acc = colsum[j - c0] + rowsum + tk_dot1_s8(l, rhs + j * depth, depth);
        y[j] = tk_requant_s8(acc, p->output_mult, p->output_shift, p->output_offset, -128, 127);
      }
    }
  }
}

/* Path 2: any strides; rhs columns adjacent (col_step 1) in the common case. */
static void tk_bmm_strided(const TkBatchMatMulParams *p, const int8_t *lhs, const int8_t *rhs,
                           int8_t *out) {
  const int32_t depth = p->depth, lo = p->lhs_offset, ro = p->rhs_offset;
  const int32_t lrs = p->lhs_row_step, lds = p->lhs_depth_step;
  const int32_t rcs = p->rhs_col_step, rds = p->rhs_depth_step;
  int32_t i, j, k, n;
  for (i = 0; i < p->rows; ++i) {
    const int8_t *lrow = lhs + i * lrs;
    int8_t *y = out + i * p->cols;
    int32_t lsum = 0;
    for (k = 0; k < depth; ++k) lsum += lrow[k * lds];
    lsum = ro * (lsum + depth * lo);
    for (j = 0; j + 4 <= p->cols; j += 4) {
      const int8_t *l = lrow;
      const int8_t *r = rhs + j * rcs;
      int32_t a0 = lsum, a1 = lsum, a2 = lsum, a3 = lsum;
      if (rcs == 1) {
        for (k = 0; k < depth; ++k) {
          const int32_t lv = *l + lo;
          a0 += lv * r[0];
          a1 += lv * r[1];
          a2 += lv * r[2];
          a3 += lv * r[3];
          l += lds;
          r += rds;
        }
      } else {
        for (k = 0; k < depth; ++k) {
          const int32_t lv = *l + lo;
          a0 += lv * r[0];
          a1 += lv * r[rcs];
          a2 += lv * r[2 * rcs];
          a3 += lv * r[3 * rcs];
          l += lds;
          r += rds;
        }
      }
      y[j] = tk_requant_s8(a0, p->output_mult, p->output_shift, p->output_offset, -128, 127);
      y[j + 1] = tk_requant_s8(a1, p->output_mult, p->output_shift, p->output_offset, -128, 127);
      y[j + 2] = tk_requant_s8(a2, p->output_mult, p->output_shift, p->output_offset, -128, 127);
      y[j + 3] = tk_requant_s8(a3, p->output_mult, p->output_shift, p->output_offset, -128, 127);
    }
    for (; j < p->cols; ++j) {
      const int8_t *l = lrow;
      const int8_t *r = rhs + j * rcs;
      int32_t a = lsum;
      for (n = 0; n < depth; ++n) {
        a += (*l + lo) * *r;
        l += lds;
        r += rds;
      }
      y[j] = tk_requant_s8(a, p->output_mult, p->output_shift, p->output_offset, -128, 127);
    }
  }
}

TkStatus tk_batch_matmul_s8(const TkBatchMatMulParams *p, const int8_t *lhs, const int8_t *rhs,
                            int8_t *out) {
  int32_t b0, b1, b2;
  int dot;
  if (p == 0 || lhs == 0 || rhs == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (p->rows < 1 || p->cols < 1 || p->depth < 1) return TK_BAD_ARGUMENT;
  dot = p->lhs_depth_step == 1 && p->lhs_row_step == p->depth && p->rhs_depth_step == 1 &&
        p->rhs_col_step == p->depth;
  for (b0 = 0; b0 < p->batch[0]; ++b0) {
    for (b1 = 0; b1 < p->batch[1]; ++b1) {
      for (b2 = 0; b2 < p->batch[2]; ++b2) {
        const int8_t *l = lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1] +
                          b2 * p->lhs_batch_stride[2];
        const int8_t *r = rhs + b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1] +
                          b2 * p->rhs_batch_stride[2];
        int8_t *y = out + ((b0 * p->batch[1] + b1) * p->batch[2] + b2) * p->rows * p->cols;
        if (dot) {
          tk_bmm_dot(p, l, r, y);
        } else {
          tk_bmm_strided(p, l, r, y);
        }
      }
    }
  }
  return TK_OK;
}
