/* tinykit runtime: PRELU int8 with a broadcast alpha, as TFLM's reference
 * BroadcastPrelu4DSlow: a non-negative offset input is rescaled by
 * s_in / s_out, a negative one times its offset alpha by s_in * s_alpha / s_out. */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* TkBroadcastRowFn: in1 is the input, in2 alpha. */
static void tk_prelu_row(const void *params, const int8_t *a, const int8_t *alpha, int8_t *y,
                         int32_t n, int32_t s1, int32_t s2) {
  const TkPreluParams *p = (const TkPreluParams *)params;
  /* locals: a store through y may alias *p as far as C knows */
  const int32_t in_off = p->input_offset, a_off = p->alpha_offset, out_off = p->output_offset;
  const int32_t m_pos = p->mult_pos, sh_pos = p->shift_pos, m_neg = p->mult_neg, sh_neg = p->shift_neg;
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t x = a[i * s1] + in_off;
    int32_t r;
    if (x >= 0) {
      r = tk_multiply_by_quantized_multiplier(x, m_pos, (int)sh_pos);
    } else {
      r = tk_multiply_by_quantized_multiplier(x * (alpha[i * s2] + a_off), m_neg, (int)sh_neg);
    }
    y[i] = (int8_t)tk_clamp_i32(r + out_off, -128, 127);
  }
}

TkStatus tk_prelu_s8(const TkPreluParams *p, const int8_t *in, const int8_t *alpha, int8_t *out) {
  if (p == 0 || in == 0 || alpha == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_prelu_row, p, in, alpha, out);
  return TK_OK;
}
