/* tinykit runtime: element-wise, table-lookup, concatenation, pad and
 * (de)quantize int8 kernels. See tk_elementwise.h. Plain C99. */
#include "tk_elementwise.h"

#include <stddef.h>
#include <string.h>

#include "tk_fixedpoint.h"

void tk_lut_s8(const int8_t *x, int8_t *y, int32_t n, const int8_t *lut) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    y[i] = lut[(int32_t)x[i] + 128];
  }
}

static int8_t tk_mul_one(const TkMulParams *p, int8_t a, int8_t b) {
  const int32_t prod = (p->in1_offset + a) * (p->in2_offset + b);
  const int32_t r = p->out_offset + tk_multiply_by_quantized_multiplier(prod, p->multiplier, (int)p->shift);
  return (int8_t)tk_clamp_i32(r, p->act_min, p->act_max);
}

void tk_mul_s8(const TkMulParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  int32_t i0, i1, i2, i3, i4;
  int8_t *o = out;
  if (!p->broadcast) {
    int32_t n = 1, i, d;
    for (d = 0; d < TK_EW_DIMS; ++d) n *= p->dims[d];
    for (i = 0; i < n; ++i) out[i] = tk_mul_one(p, in1[i], in2[i]);
    return;
  }
  for (i0 = 0; i0 < p->dims[0]; ++i0) {
    for (i1 = 0; i1 < p->dims[1]; ++i1) {
      for (i2 = 0; i2 < p->dims[2]; ++i2) {
        for (i3 = 0; i3 < p->dims[3]; ++i3) {
          const int32_t a = i0 * p->in1_strides[0] + i1 * p->in1_strides[1] +
                            i2 * p->in1_strides[2] + i3 * p->in1_strides[3];
          const int32_t b = i0 * p->in2_strides[0] + i1 * p->in2_strides[1] +
                            i2 * p->in2_strides[2] + i3 * p->in2_strides[3];
          for (i4 = 0; i4 < p->dims[4]; ++i4) {
            *o++ = tk_mul_one(p, in1[a + i4 * p->in1_strides[4]], in2[b + i4 * p->in2_strides[4]]);
          }
        }
      }
    }
  }
}

void tk_concat_s8(int32_t n_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                  const int8_t *const *luts, int32_t outer, int8_t *out) {
  int32_t k, i, j;
  for (k = 0; k < outer; ++k) {
    for (i = 0; i < n_inputs; ++i) {
      const int32_t len = inner_sizes[i];
      const int8_t *src = inputs[i] + (ptrdiff_t)k * len;
      if (luts[i] == NULL) {
        memcpy(out, src, (size_t)len);
      } else {
        for (j = 0; j < len; ++j) out[j] = luts[i][(int32_t)src[j] + 128];
      }
      out += len;
    }
  }
}

void tk_pad_s8(const TkPadParams *p, const int8_t *in, int8_t *out) {
  int32_t od[TK_EW_DIMS];
  int32_t i0, i1, i2, i3, d;
  const int8_t v = (int8_t)p->value;
  for (d = 0; d < TK_EW_DIMS; ++d) od[d] = p->before[d] + p->in_dims[d] + p->after[d];
  for (i0 = 0; i0 < od[0]; ++i0) {
    const int32_t j0 = i0 - p->before[0];
    const int in0 = j0 >= 0 && j0 < p->in_dims[0];
    for (i1 = 0; i1 < od[1]; ++i1) {
      const int32_t j1 = i1 - p->before[1];
      const int in1 = in0 && j1 >= 0 && j1 < p->in_dims[1];
      for (i2 = 0; i2 < od[2]; ++i2) {
        const int32_t j2 = i2 - p->before[2];
        const int in2 = in1 && j2 >= 0 && j2 < p->in_dims[2];
        for (i3 = 0; i3 < od[3]; ++i3) {
          const int32_t j3 = i3 - p->before[3];
          if (in2 && j3 >= 0 && j3 < p->in_dims[3]) {
            const int32_t row = ((j0 * p->in_dims[1] + j1) * p->in_dims[2] + j2) * p->in_dims[3] + j3;
            memset(out, v, (size_t)p->before[4]);
            out += p->before[4];
            memcpy(out, in + (ptrdiff_t)row * p->in_dims[4], (size_t)p->in_dims[4]);
            out += p->in_dims[4];
            memset(out, v, (size_t)p->after[4]);
            out += p->after[4];
          } else {
            memset(out, v, (size_t)od[4]);
            out += od[4];
          }
        }
      }
    }
  }
}

/* roundf for |x| < 2^23: halves away from zero, without libm. */
static float tk_round_half_away(float x) {
  const float a = x < 0.0f ? -x : x;
  float t = (float)(int32_t)a;
  if (a - t >= 0.5f) t += 1.0f;
  return x < 0.0f ? -t : t;
}

void tk_quantize_f32_s8(const float *x, int8_t *y, int32_t n, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const float r = x[i] / scale; /* float division, as TFLM's AffineQuantize */
    int32_t q;
    if (r >= 1024.0f) {
      q = 127;
    } else if (r <= -1024.0f) {
      q = -128;
    } else if (r == r) {
      q = tk_clamp_i32((int32_t)tk_round_half_away(r) + zero_point, -128, 127);
    } else {
      q = tk_clamp_i32(zero_point, -128, 127); /* NaN */
    }
    y[i] = (int8_t)q;
  }
}

void tk_dequantize_s8_f32(const int8_t *x, float *y, int32_t n, float scale, int32_t zero_point) {
  int32_t i;
  for (i = n - 1; i >= 0; --i) {
    /* float * (small int) rounds once, exactly as TFLM's double product cast to float */
    y[i] = scale * (float)((int32_t)x[i] - zero_point);
  }
}
