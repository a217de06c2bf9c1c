/* tinykit runtime: ADD int8 with broadcasting, as TFLM's
 * reference_integer_ops::Add / BroadcastAdd4DSlow. */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

static int8_t tk_add_one(const TkAddParams *p, int32_t a, int32_t b) {
  const int32_t sa = (a + p->input1_offset) * (1 << p->left_shift);
  const int32_t sb = (b + p->input2_offset) * (1 << p->left_shift);
  const int32_t ra = tk_multiply_by_quantized_multiplier(sa, p->input1_mult, (int)p->input1_shift);
  const int32_t rb = tk_multiply_by_quantized_multiplier(sb, p->input2_mult, (int)p->input2_shift);
  int32_t r = tk_multiply_by_quantized_multiplier(ra + rb, p->output_mult, (int)p->output_shift);
  r += p->output_offset;
  return (int8_t)tk_clamp_i32(r, p->act_min, p->act_max);
}

TkStatus tk_add_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  int32_t i0, i1, i2, i3;
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (!p->broadcast) {
    const int32_t n = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3];
    for (i0 = 0; i0 < n; ++i0) out[i0] = tk_add_one(p, in1[i0], in2[i0]);
    return TK_OK;
  }
  for (i0 = 0; i0 < p->dims[0]; ++i0) {
    for (i1 = 0; i1 < p->dims[1]; ++i1) {
      for (i2 = 0; i2 < p->dims[2]; ++i2) {
        for (i3 = 0; i3 < p->dims[3]; ++i3) {
          const int32_t a = i0 * p->stride1[0] + i1 * p->stride1[1] + i2 * p->stride1[2] +
                            i3 * p->stride1[3];
          const int32_t b = i0 * p->stride2[0] + i1 * p->stride2[1] + i2 * p->stride2[2] +
                            i3 * p->stride2[3];
          *out++ = tk_add_one(p, in1[a], in2[b]);
        }
      }
    }
  }
  return TK_OK;
}
