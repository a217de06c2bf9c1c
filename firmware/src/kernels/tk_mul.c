/* tinykit runtime: MUL int8 with broadcasting, as TFLM's
 * reference_integer_ops::Mul / BroadcastMul6DSlow: the product of the offset
 * inputs, requantized with one multiplier (s1 * s2 / s_out). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

static inline int8_t tk_mul_out(const TkMulParams *p, int32_t prod) {
  const int32_t r = p->output_offset +
                    tk_multiply_by_quantized_multiplier(prod, p->output_mult, (int)p->output_shift);
  return (int8_t)tk_clamp_i32(r, p->act_min, p->act_max);
}

/* TkBroadcastRowFn */
static void tk_mul_row(const void *params, const int8_t *a, const int8_t *b, int8_t *y,
                       int32_t n, int32_t s1, int32_t s2) {
  const TkMulParams *p = (const TkMulParams *)params;
  const int32_t o1 = p->input1_offset, o2 = p->input2_offset;
  int32_t i;
  if (n <= 0) return;
  if (s2 == 0) {
    const int32_t vb = b[0] + o2;
    for (i = 0; i < n; ++i) y[i] = tk_mul_out(p, (a[i * s1] + o1) * vb);
  } else if (s1 == 0) {
    const int32_t va = a[0] + o1;
    for (i = 0; i < n; ++i) y[i] = tk_mul_out(p, va * (b[i * s2] + o2));
  } else {
    for (i = 0; i < n; ++i) y[i] = tk_mul_out(p, (a[i * s1] + o1) * (b[i * s2] + o2));
  }
}

TkStatus tk_mul_s8(const TkMulParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_mul_row, p, in1, in2, out);
  return TK_OK;
}
