/* tinykit runtime: LOG_SOFTMAX int8 -> int8, TFLM's reference
 * LogSoftmaxQuantized (gemmlowp fixed point): Q5.26 scaled differences, exp()
 * summed in Q12.19, log() of the sum back to Q5.26, output scale 16/256 with
 * zero point 127. The scaled differences and their exp() are tables computed at
 * generation time; the log of each row's sum runs here. */
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

static int32_t tk_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t tk_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static int32_t tk_sat_add(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a + b;
  return s > TK_INT32_MAX ? TK_INT32_MAX : (s < TK_INT32_MIN ? TK_INT32_MIN : (int32_t)s);
}

static int32_t tk_sat_sub(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a - b;
  return s > TK_INT32_MAX ? TK_INT32_MAX : (s < TK_INT32_MIN ? TK_INT32_MIN : (int32_t)s);
}

/* TFLite's SaturatingRoundingMultiplyByPOTParam for an exponent >= 0. */
static int32_t tk_sat_pot(int32_t x, int e) { return e == 0 ? x : tk_sat_shift_left(x, e); }

static int32_t tk_mul(int32_t a, int32_t b) { return tk_sat_rounding_doubling_high_mul(a, b); }

/* TFLite's log_x_for_x_greater_than_or_equal_to_1<5>(FixedPoint<int32, 12>):
 * log of a Q12.19 value >= 1, in Q5.26 (accumulated in Q6.25). */
static int32_t tk_log_q12_to_q5(int32_t z_a) {
  enum { kIn = 12, kAccum = 6 };
  const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  const int32_t alpha_n = 117049297, alpha_d = 127690142;
  const int32_t alpha_i = 1057819769, alpha_f = 638450708;
  const int32_t shifted_quarter = (int32_t)1 << (31 - 2 - kAccum); /* 1/4 in Q6.25 */
  const int z_a_headroom_plus_1 = tk_clz_u32((uint32_t)z_a);
  const int32_t r_a_tmp = tk_sat_pot(z_a, z_a_headroom_plus_1 - 1);
  const int32_t r_a = tk_sat_pot(tk_mul(r_a_tmp, sqrt_half), 1);
  const int32_t z_a_pow_2_adj =
      tk_sat_add(tk_sat_pot(kIn - z_a_headroom_plus_1, 31 - kAccum), shifted_quarter);
  const int32_t z_b = tk_mul(z_a, sqrt_half);
  const int z_b_headroom = tk_clz_u32((uint32_t)z_b) - 1;
  const int32_t r_b = tk_sat_pot(z_a, z_b_headroom);
  const int32_t z_b_pow_2_adj =
      tk_sat_sub(tk_sat_pot(kIn - z_b_headroom, 31 - kAccum), shifted_quarter);
  const int32_t r = r_a < r_b ? r_a : r_b;
  const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
  const int64_t half_sum = (int64_t)r + sqrt_sqrt_half;
  const int32_t p = (int32_t)((half_sum + (half_sum >= 0 ? 1 : -1)) / 2);
  const int32_t q0 = tk_wrap_sub(r, sqrt_sqrt_half);
  const int32_t q = tk_wrap_add(q0, q0);
  const int32_t common_sq = tk_mul(q, q);
  const int32_t num = tk_wrap_add(tk_mul(q, r), tk_mul(tk_mul(q, common_sq), alpha_n));
  const int32_t denom_minus_one =
      tk_wrap_add(tk_mul(p, tk_wrap_add(tk_wrap_add(alpha_i, q), tk_mul(alpha_d, common_sq))),
                  tk_mul(alpha_f, q));
  const int32_t recip_denom = tk_one_over_one_plus_x(denom_minus_one);
  const int32_t num_scaled = tk_rounding_divide_by_pot(num, kAccum);
  const int32_t sum = tk_wrap_add(tk_mul(z_pow_2_adj, log_2), tk_mul(num_scaled, recip_denom));
  return tk_sat_shift_left(sum, 1); /* Rescale Q6.25 -> Q5.26 */
}

TkStatus tk_log_softmax_s8(const TkLogSoftmaxParams *p, const int8_t *in, int8_t *out) {
  int32_t i, c, depth;
  const int32_t *exp_lut, *diff_q5;
  if (p == 0 || in == 0 || out == 0 || p->exp_lut == 0 || p->diff_q5 == 0) return TK_BAD_ARGUMENT;
  depth = p->depth;
  exp_lut = p->exp_lut;
  diff_q5 = p->diff_q5;
  for (i = 0; i < p->outer; ++i, in += depth, out += depth) {
    int32_t max_in = -128, sum = 0, log_sum, adjusted_diff_min;
    for (c = 0; c < depth; ++c) max_in = tk_max_i32(max_in, in[c]);
    /* below diff_min the table holds 0: TFLM skips those terms */
    for (c = 0; c < depth; ++c) sum = tk_wrap_add(sum, exp_lut[max_in - in[c]]);
    log_sum = tk_log_q12_to_q5(sum);
    adjusted_diff_min = tk_max_i32(
        p->diff_min - 1, tk_multiply_by_quantized_multiplier(tk_wrap_add(log_sum, TK_INT32_MIN),
                                                             p->reverse_mult, p->reverse_shift));
    for (c = 0; c < depth; ++c) {
      const int32_t d = max_in - in[c];
      int32_t v = -128;
      if (-d > adjusted_diff_min) {
        v = tk_rounding_divide_by_pot(tk_wrap_sub(diff_q5[d], log_sum), 31 - 5 - 4) + 127;
        v = tk_clamp_i32(v, -128, 127);
      }
      out[c] = (int8_t)v;
    }
  }
  return TK_OK;
}
