/* tinykit runtime: ADD int8 with broadcasting, as TFLM's
 * reference_integer_ops::Add / BroadcastAdd6DSlow: both inputs rescaled to a
 * common scale (left_shift, input multipliers), summed, requantized. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* input x rescaled to the common scale */
static inline int32_t tk_add_in1(const TkAddParams *p, int32_t x) {
  return tk_multiply_by_quantized_multiplier((x + p->input1_offset) * (1 << p->left_shift),
                                             p->input1_mult, (int)p->input1_shift);
}

static inline int32_t tk_add_in2(const TkAddParams *p, int32_t x) {
  return tk_multiply_by_quantized_multiplier((x + p->input2_offset) * (1 << p->left_shift),
                                             p->input2_mult, (int)p->input2_shift);
}

static inline int8_t tk_add_out(const TkAddParams *p, int32_t sum) {
  const int32_t r = tk_multiply_by_quantized_multiplier(sum, p->output_mult, (int)p->output_shift) +
                    p->output_offset;
  return (int8_t)tk_clamp_i32(r, p->act_min, p->act_max);
}

/* TkBroadcastRowFn: a broadcast operand (stride 0) is rescaled once per row. */
static void tk_add_row(const void *params, const int8_t *a, const int8_t *b, int8_t *y,
                       int32_t n, int32_t s1, int32_t s2) {
  const TkAddParams *p = (const TkAddParams *)params;
  int32_t i;
  if (n <= 0) return;
  if (s2 == 0) {
    const int32_t rb = tk_add_in2(p, b[0]);
    for (i = 0; i < n; ++i) y[i] = tk_add_out(p, tk_add_in1(p, a[i * s1]) + rb);
  } else if (s1 == 0) {
    const int32_t ra = tk_add_in1(p, a[0]);
    for (i = 0; i < n; ++i) y[i] = tk_add_out(p, ra + tk_add_in2(p, b[i * s2]));
  } else {
    for (i = 0; i < n; ++i) y[i] = tk_add_out(p, tk_add_in1(p, a[i * s1]) + tk_add_in2(p, b[i * s2]));
  }
}

/* Without broadcast: the same arithmetic with the parameters in locals and
 * each rescale one fused multiply-accumulate (tk_mul_q31, exact for the
 * normalized multipliers the generator emits; (x + offset) << left_shift is
 * at most 255 * 2^20 in magnitude, never INT32_MIN): about 45 instructions
 * an element on Cortex-M4 instead of 132. */
static void tk_add_flat(const TkAddParams *p, const int8_t *a, const int8_t *b, int8_t *y,
                        int32_t n) {
  const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
  const int32_t m1 = p->input1_mult, sh1 = p->input1_shift;
  const int32_t m2 = p->input2_mult, sh2 = p->input2_shift;
  const int32_t mo = p->output_mult, sho = p->output_shift, zo = p->output_offset;
  const int32_t lo = p->act_min, hi = p->act_max;
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t r1 = tk_mul_q31((int32_t)((uint32_t)(a[i] + off1) << ls), m1, sh1);
    const int32_t r2 = tk_mul_q31((int32_t)((uint32_t)(b[i] + off2) << ls), m2, sh2);
    y[i] = (int8_t)tk_clamp_i32(tk_mul_q31(r1 + r2, mo, sho) + zo, lo, hi);
  }
}

TkStatus tk_add_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (!p->broadcast && p->left_shift >= 0 && p->left_shift <= 22) {
    int32_t n = 1, j;
    for (j = 0; j < TK_MAX_DIMS; ++j) n *= p->dims[j];
    tk_add_flat(p, in1, in2, out, n);
    return TK_OK;
  }
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_add_row, p, in1, in2, out);
  return TK_OK;
}
