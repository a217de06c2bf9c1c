/* TFLM's reference int8 RESIZE_NEAREST_NEIGHBOR (ResizeNearestNeighbor with
 * GetNearestNeighbor per output row and per output pixel), RESIZE_BILINEAR
 * (ResizeBilinearInteger: ComputeInterpolationValuesInteger per pixel, int64
 * products, Offset() per read) and LOG_SOFTMAX (LogSoftmaxQuantized: exp() and
 * MultiplyByQuantizedMultiplier per element, log() per row), restated in C with
 * the reference's loop structure for tests/bench_issue10_ops.py only (never
 * linked into tinykit). std::floor / TfLiteRound of the non-negative nearest
 * coordinates are inlined as casts (TFLM calls libm), so these counts are a
 * lower bound of TFLM's own. */
#include <stdint.h>
#include <string.h>

#include "tflm_ref_resize.h"
#include "tk_fixedpoint.h"

static int32_t nearest(int32_t v, int32_t in_size, int32_t out_size, int align, int half) {
  const float scale = (align && out_size > 1) ? (float)(in_size - 1) / (float)(out_size - 1)
                                              : (float)in_size / (float)out_size;
  const float offset = half ? 0.5f : 0.0f;
  const float x = ((float)v + offset) * scale; /* >= 0 */
  int32_t r = align ? (int32_t)(x + 0.5f) : (int32_t)x;
  if (r > in_size - 1) r = in_size - 1;
  if (half && r < 0) r = 0;
  return r;
}

void ref_resize_nearest(const RefResize *p, const int8_t *in, int8_t *out) {
  const int32_t col = p->depth, row = p->in_w * col, batch = p->in_h * row;
  int32_t b, y, x;
  for (b = 0; b < p->batches; ++b, in += batch) {
    for (y = 0; y < p->out_h; ++y) {
      const int8_t *yp = in + nearest(y, p->in_h, p->out_h, p->align_corners, p->half_pixel_centers) * row;
      for (x = 0; x < p->out_w; ++x) {
        const int8_t *xp = yp + nearest(x, p->in_w, p->out_w, p->align_corners, p->half_pixel_centers) * col;
        memcpy(out, xp, (size_t)p->depth);
        out += p->depth;
      }
    }
  }
}

static void interp(int32_t v, int32_t scale_10, int half, int32_t in_size, int32_t *scaled,
                   int32_t *lo, int32_t *hi) {
  *scaled = half ? v * scale_10 + scale_10 / 2 - (1 << 9) : v * scale_10;
  *lo = *scaled / (1 << 10) > 0 ? *scaled / (1 << 10) : 0;
  *hi = (*scaled + (1 << 10) - 1) / (1 << 10) < in_size - 1 ? (*scaled + (1 << 10) - 1) / (1 << 10)
                                                             : in_size - 1;
}

#define OFF(b, y, x, c) ((((b) * p->in_h + (y)) * p->in_w + (x)) * p->depth + (c))

void ref_resize_bilinear(const RefResize *p, const int8_t *in, int8_t *out) {
  int32_t hs = ((1 << 10) * p->in_h + p->out_h / 2) / p->out_h;
  int32_t ws = ((1 << 10) * p->in_w + p->out_w / 2) / p->out_w;
  int32_t b, y, x, c;
  if (p->align_corners && p->out_h > 1) hs = ((1 << 10) * (p->in_h - 1) + (p->out_h - 1) / 2) / (p->out_h - 1);
  if (p->align_corners && p->out_w > 1) ws = ((1 << 10) * (p->in_w - 1) + (p->out_w - 1) / 2) / (p->out_w - 1);
  for (b = 0; b < p->batches; ++b) {
    for (y = 0; y < p->out_h; ++y) {
      int32_t iy, y0, y1;
      interp(y, hs, p->half_pixel_centers, p->in_h, &iy, &y0, &y1);
      for (x = 0; x < p->out_w; ++x) {
        int32_t ix, x0, x1;
        interp(x, ws, p->half_pixel_centers, p->in_w, &ix, &x0, &x1);
        for (c = 0; c < p->depth; ++c) {
          const int64_t ll = (int64_t)in[OFF(b, y0, x0, c)] * ((1 << 10) - (iy - (1 << 10) * y0)) *
                             ((1 << 10) - (ix - (1 << 10) * x0));
          const int64_t lu = (int64_t)in[OFF(b, y1, x0, c)] * (iy - (1 << 10) * y0) *
                             ((1 << 10) - (ix - (1 << 10) * x0));
          const int64_t rl = (int64_t)in[OFF(b, y0, x1, c)] * ((1 << 10) - (iy - (1 << 10) * y0)) *
                             (ix - (1 << 10) * x0);
          const int64_t ru = (int64_t)in[OFF(b, y1, x1, c)] * (iy - (1 << 10) * y0) *
                             (ix - (1 << 10) * x0);
          const int64_t s = ll + lu + rl + ru;
          const int64_t round = s > 0 ? (1 << 19) : -(1 << 19);
          out[((b * p->out_h + y) * p->out_w + x) * p->depth + c] = (int8_t)((s + round) / (1 << 20));
        }
      }
    }
  }
}

/* gemmlowp exp_on_negative_values for FixedPoint<int32, 5>, Q0.31 out. */
static int32_t exp_q5(int32_t a) {
  static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int32_t quarter = (int32_t)1 << 24, mask = quarter - 1;
  const int32_t a_mod = (a & mask) - quarter;
  const int32_t rem = (int32_t)((uint32_t)a_mod - (uint32_t)a);
  const int32_t x = tk_sat_shift_left(a_mod, 5) + ((int32_t)1 << 28);
  const int32_t c = 1895147668, third = 715827883;
  const int32_t x2 = tk_sat_rounding_doubling_high_mul(x, x);
  const int32_t x3 = tk_sat_rounding_doubling_high_mul(x2, x);
  const int32_t x4 = tk_sat_rounding_doubling_high_mul(x2, x2);
  const int32_t poly = tk_rounding_divide_by_pot(
      tk_sat_rounding_doubling_high_mul(tk_rounding_divide_by_pot(x4, 2) + x3, third) + x2, 1);
  int32_t r = c + tk_sat_rounding_doubling_high_mul(c, x + poly);
  int k;
  for (k = 0; k < 7; ++k) {
    if (rem & ((int32_t)1 << (26 - 2 + k))) r = tk_sat_rounding_doubling_high_mul(r, barrel[k]);
  }
  return a == 0 ? TK_INT32_MAX : r;
}

static int32_t sat_add(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a + b;
  return s > TK_INT32_MAX ? TK_INT32_MAX : (s < TK_INT32_MIN ? TK_INT32_MIN : (int32_t)s);
}

static int32_t pot(int32_t x, int e) { return e == 0 ? x : tk_sat_shift_left(x, e); }

#define MUL tk_sat_rounding_doubling_high_mul

/* log_x_for_x_greater_than_or_equal_to_1_impl<5, 12>. */
static int32_t log_q12(int32_t z_a) {
  const int32_t log_2 = 1488522236, ssh = 1805811301, sh = 1518500250;
  const int32_t an = 117049297, ad = 127690142, ai = 1057819769, af = 638450708;
  const int32_t quarter = (int32_t)1 << 23;
  const int ha = tk_clz_u32((uint32_t)z_a);
  const int32_t r_a = pot(MUL(pot(z_a, ha - 1), sh), 1);
  const int32_t za_adj = sat_add(pot(12 - ha, 25), quarter);
  const int hb = tk_clz_u32((uint32_t)MUL(z_a, sh)) - 1;
  const int32_t r_b = pot(z_a, hb);
  const int32_t zb_adj = sat_add(pot(12 - hb, 25), -quarter);
  const int32_t r = r_a < r_b ? r_a : r_b, adj = za_adj > zb_adj ? za_adj : zb_adj;
  const int64_t hs = (int64_t)r + ssh;
  const int32_t pp = (int32_t)((hs + (hs >= 0 ? 1 : -1)) / 2);
  const int32_t q = 2 * (r - ssh);
  const int32_t sq = MUL(q, q);
  const int32_t num = MUL(q, r) + MUL(MUL(q, sq), an);
  const int32_t den = MUL(pp, ai + q + MUL(ad, sq)) + MUL(af, q);
  const int32_t rec = tk_one_over_one_plus_x(den);
  return tk_sat_shift_left(MUL(adj, log_2) + MUL(tk_rounding_divide_by_pot(num, 6), rec), 1);
}

void ref_log_softmax(const RefLogSoftmax *p, const int8_t *in, int8_t *out) {
  int32_t i, c;
  for (i = 0; i < p->outer; ++i) {
    int8_t max_in = -128;
    int32_t sum = 0, log_sum, adjusted;
    for (c = 0; c < p->depth; ++c) max_in = in[i * p->depth + c] > max_in ? in[i * p->depth + c] : max_in;
    for (c = 0; c < p->depth; ++c) {
      const int32_t d = (int32_t)in[i * p->depth + c] - max_in;
      if (d >= p->diff_min) {
        const int32_t q5 = tk_multiply_by_quantized_multiplier(d, p->input_mult, p->input_shift);
        sum = sum + tk_rounding_divide_by_pot(exp_q5(q5), 12);
      }
    }
    log_sum = log_q12(sum);
    adjusted = tk_multiply_by_quantized_multiplier((int32_t)((uint32_t)log_sum + 0x80000000u),
                                                   p->reverse_mult, -p->reverse_right_shift);
    if (p->diff_min - 1 > adjusted) adjusted = p->diff_min - 1;
    for (c = 0; c < p->depth; ++c) {
      const int32_t d = (int32_t)in[i * p->depth + c] - max_in;
      int32_t v = -128;
      if (d > adjusted) {
        const int32_t q5 = tk_multiply_by_quantized_multiplier(d, p->input_mult, p->input_shift);
        v = tk_clamp_i32(tk_rounding_divide_by_pot(q5 - log_sum, 22) + 127, -128, 127);
      }
      out[i * p->depth + c] = (int8_t)v;
    }
  }
}
