/* tinykit runtime: FULLY_CONNECTED int8, bit-exact with TFLM's
 * reference_integer_ops::FullyConnected (per-tensor or per-channel). The input
 * offset is folded into the bias at generation time, so each output is a pure
 * int8 dot product; 4 outputs per pass over the input, with the weights in the
 * channel-pair layout of tk_dot.h where the generator packed them. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

#if TK_DOT_DSP
#define tk_fc_requant tk_requant_s8
#else
/* Out of line on the portable path: inlined, the requantization makes -Os
 * spill the registers of the inlined dot-product loop (+11 % instructions on
 * the autoencoder under -DTK_NO_DSP). */
static TK_NOINLINE int8_t tk_fc_requant(int32_t acc, int32_t mult, int32_t shift, int32_t offset,
                                        int32_t lo, int32_t hi) {
  return tk_requant_s8(acc, mult, shift, offset, lo, hi);
}
#endif

/* The packed path (channel pairs, tk_dot.h): four rows a pass, then a pair,
 * then an odd last (plain) row; where the clamp is the whole int8 range, one
 * SSAT. */
static void tk_fc_packed(const TkFullyConnectedParams *p, const int8_t *in, int8_t *out) {
  const int32_t n = p->in_depth;
  const int full = p->act_min == -128 && p->act_max == 127;
  int32_t b, o, j;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = in + b * n;
    int8_t *y = out + b * p->out_depth;
    for (o = 0; o + 2 <= p->out_depth; o += 2) {
      int32_t acc[4];
      const int32_t m = o + 4 <= p->out_depth ? 4 : 2;
      for (j = 0; j < m; ++j) acc[j] = p->bias_folded[o + j];
      if (m == 4) {
        tk_dot4p_s8(x, p->filter + o * n, n, acc);
      } else {
        tk_dot2p_s8(x, p->filter + o * n, n, &acc[0], &acc[1]);
      }
      for (j = 0; j < m; ++j) {
        y[o + j] = tk_requant_act_s8(acc[j], p->mult[o + j], p->shift[o + j], p->output_offset,
                                     p->act_min, p->act_max, full);
      }
      o += m - 2;
    }
    if (o < p->out_depth) {
      const int32_t acc = p->bias_folded[o] + tk_dot1_s8(x, p->filter + o * n, n);
      y[o] = tk_requant_act_s8(acc, p->mult[o], p->shift[o], p->output_offset, p->act_min,
                               p->act_max, full);
    }
  }
}

TkStatus tk_fully_connected_s8(const TkFullyConnectedParams *p, const int8_t *in, int8_t *out) {
  const int32_t n = p == 0 ? 0 : p->in_depth;
  int32_t b, o, j;
  if (p == 0 || in == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (p->packed) {
    tk_fc_packed(p, in, out);
    return TK_OK;
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = in + b * n;
    int8_t *y = out + b * p->out_depth;
    for (o = 0; o + 4 <= p->out_depth; o += 4) {
      int32_t acc[4];
      for (j = 0; j < 4; ++j) acc[j] = p->bias_folded[o + j];
      tk_dot4_s8(x, p->filter + o * n, n, n, acc);
      for (j = 0; j < 4; ++j) {
        y[o + j] = tk_fc_requant(acc[j], p->mult[o + j], p->shift[o + j], p->output_offset,
                                 p->act_min, p->act_max);
      }
    }
    for (; o < p->out_depth; ++o) {
      const int32_t acc = p->bias_folded[o] + tk_dot1_s8(x, p->filter + o * n, n);
      y[o] = tk_fc_requant(acc, p->mult[o], p->shift[o], p->output_offset, p->act_min,
                           p->act_max);
    }
  }
  return TK_OK;
}
