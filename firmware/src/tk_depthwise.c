/* tinykit runtime: DEPTHWISE_CONV_2D int8 (any depth multiplier), as TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel. */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* One output value: output channel oc = ic * depth_multiplier + m. */
static int8_t tk_depthwise_value(const TkConvParams *p, const int8_t *in, int32_t oy,
                                 int32_t ox, int32_t ic, int32_t oc) {
  const int32_t y0 = oy * p->stride_h - p->pad_h;
  const int32_t x0 = ox * p->stride_w - p->pad_w;
  const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     x0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t acc, ky, kx;
  if (inside) {
    acc = p->bias_folded[oc];
    for (ky = 0; ky < p->k_h; ++ky) {
      const int8_t *x = in + ((y0 + ky * p->dil_h) * p->in_w + x0) * p->in_c + ic;
      const int8_t *w = p->filter + ky * p->k_w * p->out_c + oc;
      for (kx = 0; kx < p->k_w; ++kx) {
        acc += (int32_t)w[kx * p->out_c] * (int32_t)x[kx * p->dil_w * p->in_c];
      }
    }
  } else {
    acc = p->bias[oc];
    for (ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = y0 + ky * p->dil_h;
      if (iy < 0 || iy >= p->in_h) continue;
      for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dil_w;
        if (ix < 0 || ix >= p->in_w) continue;
        acc += (int32_t)p->filter[(ky * p->k_w + kx) * p->out_c + oc] *
               ((int32_t)in[(iy * p->in_w + ix) * p->in_c + ic] + p->input_offset);
      }
    }
  }
  acc = tk_multiply_by_quantized_multiplier(acc, p->mult[oc], (int)p->shift[oc]);
  acc += p->output_offset;
  return (int8_t)tk_clamp_i32(acc, p->act_min, p->act_max);
}

TkStatus tk_depthwise_s8(const TkConvParams *p, const int8_t *in, int8_t *out) {
  int32_t b, oy, ox, ic, m;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *bin = in + b * p->in_h * p->in_w * p->in_c;
    int8_t *bout = out + b * p->out_h * p->out_w * p->out_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        int8_t *dst = bout + (oy * p->out_w + ox) * p->out_c;
        for (ic = 0; ic < p->in_c; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            const int32_t oc = ic * p->depth_multiplier + m;
            dst[oc] = tk_depthwise_value(p, bin, oy, ox, ic, oc);
          }
        }
      }
    }
  }
  return TK_OK;
}

/* Input channel c is read only by output channel c: compute the whole plane
 * of channel c into scratch, then write it back over channel c. */
TkStatus tk_depthwise_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch) {
  const int32_t n = p->out_h * p->out_w;
  int32_t c, oy, ox, i;
  if (p == 0 || buf == 0 || scratch == 0) return TK_BAD_ARGUMENT;
  if (p->batches != 1 || p->depth_multiplier != 1 || p->out_h != p->in_h ||
      p->out_w != p->in_w || p->out_c != p->in_c) {
    return TK_BAD_ARGUMENT;
  }
  for (c = 0; c < p->out_c; ++c) {
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        scratch[oy * p->out_w + ox] = tk_depthwise_value(p, buf, oy, ox, c, c);
      }
    }
    for (i = 0; i < n; ++i) buf[i * p->out_c + c] = scratch[i];
  }
  return TK_OK;
}
