/* tinykit runtime: ADD int8 with broadcasting, as TFLM's
 * reference_integer_ops::Add / BroadcastAdd6DSlow: both inputs rescaled to a
 * common scale (left_shift, input multipliers), summed, requantized. */
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

TkStatus tk_add_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_add_row, p, in1, in2, out);
  return TK_OK;
}
