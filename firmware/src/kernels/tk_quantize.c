/* tinykit runtime: QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32, as
 * TFLM's AffineQuantize / Dequantize (float32 arithmetic, no libm). */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* roundf for |x| < 2^23: halves away from zero, without libm. */
static float tk_round_half_away(float x) {
  const float a = x < 0.0f ? -x : x;
  float t = (float)(int32_t)a;
  if (a - t >= 0.5f) t += 1.0f;
  return x < 0.0f ? -t : t;
}

/* Front to back: out[i] (byte i) is written after in[i] (bytes 4i..4i+3) was read. */
TkStatus tk_quantize_f32_s8(const TkQuantizeParams *p, const float *in, int8_t *out) {
  int32_t i;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (i = 0; i < p->size; ++i) {
    const float r = in[i] / p->scale; /* float division, as TFLM's AffineQuantize */
    int32_t q;
    if (r >= 1024.0f) {
      q = 127;
    } else if (r <= -1024.0f) {
      q = -128;
    } else if (r == r) {
      q = tk_clamp_i32((int32_t)tk_round_half_away(r) + p->zero_point, -128, 127);
    } else {
      q = tk_clamp_i32(p->zero_point, -128, 127); /* NaN */
    }
    out[i] = (int8_t)q;
  }
  return TK_OK;
}

/* Back to front: out[i] (bytes 4i..4i+3) covers only inputs >= i, all read already. */
TkStatus tk_dequantize_s8_f32(const TkQuantizeParams *p, const int8_t *in, float *out) {
  int32_t i;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (i = p->size - 1; i >= 0; --i) {
    /* float * (small int) rounds once, exactly as TFLM's double product cast to float */
    out[i] = p->scale * (float)((int32_t)in[i] - p->zero_point);
  }
  return TK_OK;
}
