/* tinykit runtime: int8 reference kernels of the TFLite quantization spec,
 * bit-identical to TFLM's reference kernels. Internal header (generated
 * model.c includes it). Kernels are pure: a params struct (all multipliers,
 * shifts, folded zero-point terms and LUTs computed at generation time),
 * shapes, and data pointers. Plain C99, no malloc. Layout: NHWC. */
#ifndef TK_KERNELS_H
#define TK_KERNELS_H

#include <stdint.h>

#include "tinykit.h"
#include "tk_elementwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Return the status of a kernel call from the enclosing function unless TK_OK. */
#define TK_TRY(call)                 \
  do {                               \
    const TkStatus tk_try_ = (call); \
    if (tk_try_ != TK_OK) return tk_try_; \
  } while (0)

/* CONV_2D and DEPTHWISE_CONV_2D. filter is [out_c][k_h][k_w][in_c] for
 * CONV_2D and [k_h][k_w][out_c] for DEPTHWISE_CONV_2D. bias holds the raw
 * int32 bias (0 when the model has none); bias_folded holds bias +
 * input_offset * sum(filter of that channel), used where the window lies
 * fully inside the input. */
typedef struct TkConvParams {
  int32_t batches;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t dil_h, dil_w;
  int32_t pad_h, pad_w; /* top and left padding */
  int32_t depth_multiplier; /* depthwise only */
  int32_t input_offset; /* -input zero point */
  int32_t output_offset; /* output zero point */
  int32_t act_min, act_max;
  const int8_t *filter;
  const int32_t *bias;
  const int32_t *bias_folded;
  const int32_t *mult; /* per output channel */
  const int32_t *shift; /* per output channel */
} TkConvParams;

TkStatus tk_conv_s8(const TkConvParams *p, const int8_t *in, int8_t *out);
/* In place: output over input (stride 1, output H,W == input H,W, batch 1,
 * and out_c <= in_c, or a 1x1 kernel without padding). ring holds
 * ring_pixels * out_c bytes; ring_pixels = pad_h * in_w + pad_w + 1
 * (tk_conv_inplace_ring_pixels). */
TkStatus tk_conv_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *ring);
int32_t tk_conv_inplace_ring_pixels(const TkConvParams *p);

TkStatus tk_depthwise_s8(const TkConvParams *p, const int8_t *in, int8_t *out);
/* In place: depth multiplier 1, output shape == input shape, batch 1.
 * scratch holds max(out_h * out_w, (pad_h + 1) * in_w * in_c) bytes: one
 * channel plane at a time (Cortex-M with DSP) or a ring of the pad_h + 1
 * input rows the output has covered but later rows still read (elsewhere). */
TkStatus tk_depthwise_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch);

/* FULLY_CONNECTED: filter [out_depth][in_depth]; bias_folded = bias +
 * input_offset * sum(filter row). */
typedef struct TkFullyConnectedParams {
  int32_t batches, in_depth, out_depth;
  int32_t output_offset;
  int32_t act_min, act_max;
  const int8_t *filter;
  const int32_t *bias_folded;
  const int32_t *mult; /* per output channel */
  const int32_t *shift;
} TkFullyConnectedParams;

TkStatus tk_fully_connected_s8(const TkFullyConnectedParams *p, const int8_t *in, int8_t *out);

/* AVERAGE_POOL_2D, MAX_POOL_2D (input and output share quantization). */
typedef struct TkPoolParams {
  int32_t batches;
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t pad_h, pad_w;
  int32_t act_min, act_max;
} TkPoolParams;

TkStatus tk_avg_pool_s8(const TkPoolParams *p, const int8_t *in, int8_t *out);
TkStatus tk_max_pool_s8(const TkPoolParams *p, const int8_t *in, int8_t *out);

/* MEAN over H and W of an NHWC tensor. mult/shift already include the
 * 1/count factor (as TFLM's QuantizedMeanOrSum). */
typedef struct TkMeanParams {
  int32_t batches, h, w, channels;
  int32_t input_zp, output_zp;
  int32_t mult, shift;
} TkMeanParams;

TkStatus tk_mean_hw_s8(const TkMeanParams *p, const int8_t *in, int8_t *out);

/* ADD with up to 4-D broadcasting: stride1/stride2 are element strides of
 * each input over the output dims (0 on a broadcast dim). */
typedef struct TkAddParams {
  int32_t dims[4];
  int32_t stride1[4];
  int32_t stride2[4];
  int32_t broadcast; /* 0: both inputs have the output's shape */
  int32_t input1_offset, input2_offset;
  int32_t left_shift;
  int32_t input1_mult, input1_shift;
  int32_t input2_mult, input2_shift;
  int32_t output_mult, output_shift;
  int32_t output_offset;
  int32_t act_min, act_max;
} TkAddParams;

TkStatus tk_add_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* SOFTMAX int8 -> int8 (TFLM's gemmlowp fixed-point algorithm). exp_lut[d]
 * is exp() of the rescaled input difference -d as Q0.31 (0 below diff_min). */
typedef struct TkSoftmaxParams {
  int32_t outer, depth;
  const int32_t *exp_lut; /* 256 entries */
} TkSoftmaxParams;

TkStatus tk_softmax_s8(const TkSoftmaxParams *p, const int8_t *in, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TK_KERNELS_H */
