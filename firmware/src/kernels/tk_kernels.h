/* tinykit runtime: the int8 kernels of the TFLite quantization spec,
 * bit-identical to TFLM's reference kernels. Internal header: generated
 * model.c includes it; boards and applications use tinykit.h only. Plain C99,
 * no malloc, NHWC layout. One C file per op family in this folder;
 * tk_dot.h and tk_fixedpoint.h are private helpers of these files.
 *
 * One convention for every kernel:
 *
 *   TkStatus tk_<op>_<type>(const Tk<Op>Params *p, <inputs...>, <output>[, <scratch>]);
 *
 * params first, then the input pointers, then the output pointer, then the
 * scratch pointer (in-place kernels: the one buffer that is input and output,
 * then the scratch). The params struct holds everything TFLM computes in
 * Prepare - multipliers, shifts, folded zero-point terms, lookup tables,
 * shapes - computed at generation time and stored as a static const. Every
 * kernel returns TK_OK or an error status (TK_BAD_ARGUMENT for a NULL pointer
 * or a configuration it does not implement, checked before anything is
 * written) and never allocates: the caller owns every buffer. An output may
 * alias an input only where its kernel says so. Scratch sizes are stated once,
 * by the tk_*_scratch_bytes() functions below. */
#ifndef TK_KERNELS_H
#define TK_KERNELS_H

#include <stdint.h>

#include "tinykit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Return the status of a kernel call from the enclosing function unless TK_OK. */
#define TK_TRY(call)                 \
  do {                               \
    const TkStatus tk_try_ = (call); \
    if (tk_try_ != TK_OK) return tk_try_; \
  } while (0)

/* ---- CONV_2D, DEPTHWISE_CONV_2D (tk_conv.c, tk_depthwise.c) --------------- */

/* filter is [out_c][k_h][k_w][in_c] for CONV_2D and [k_h][k_w][out_c] for
 * DEPTHWISE_CONV_2D. bias holds the raw int32 bias (0 when the model has
 * none); bias_folded holds bias + input_offset * sum(filter of that channel),
 * used where the window lies fully inside the input. */
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
  /* CONV_2D only: 1 when filter is in the channel-pair layout of tk_dot.h,
   * rows of k_h * k_w * in_c rounded up to 4 with zero weights, filter
   * 4-byte aligned (LDRD); 0 for [out_c][k_h][k_w][in_c] */
  int32_t packed;
} TkConvParams;

TkStatus tk_conv_s8(const TkConvParams *p, const int8_t *in, int8_t *out);
/* In place: the output over the input in buf (stride 1, output H,W == input
 * H,W, batch 1, and out_c <= in_c, or a 1x1 kernel without padding).
 * scratch holds tk_conv_inplace_scratch_bytes(p) bytes. */
TkStatus tk_conv_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch);
/* Scratch of tk_conv_inplace_s8: a ring of pad_h * in_w + pad_w + 1 output
 * pixels, (pad_h * in_w + pad_w + 1) * out_c bytes. */
int32_t tk_conv_inplace_scratch_bytes(const TkConvParams *p);

TkStatus tk_depthwise_s8(const TkConvParams *p, const int8_t *in, int8_t *out);
/* In place: depth multiplier 1, output shape == input shape, batch 1.
 * scratch holds tk_depthwise_inplace_scratch_bytes(p) bytes. */
TkStatus tk_depthwise_inplace_s8(const TkConvParams *p, int8_t *buf, int8_t *scratch);
/* Scratch of tk_depthwise_inplace_s8: max(out_h * out_w, (pad_h + 1) * in_w *
 * in_c) bytes: one channel plane at a time (the DSP path, Cortex-M with the
 * DSP extension, kernels other than 3x3 over channels in fours) or a ring of
 * the pad_h + 1 input rows the output has covered but later rows still read
 * (the 3x3 DSP path and the portable path, also under -DTK_NO_DSP). The same
 * on every target, so one arena fits every build. */
int32_t tk_depthwise_inplace_scratch_bytes(const TkConvParams *p);

/* ---- FULLY_CONNECTED (tk_fully_connected.c) ------------------------------- */

/* filter [out_depth][in_depth] (packed = 0) or in the channel-pair layout of
 * tk_dot.h (packed = 1: in_depth a multiple of 4, filter 4-byte aligned);
 * bias_folded = bias + input_offset * sum(filter row). */
typedef struct TkFullyConnectedParams {
  int32_t batches, in_depth, out_depth;
  int32_t output_offset;
  int32_t act_min, act_max;
  const int8_t *filter;
  const int32_t *bias_folded;
  const int32_t *mult; /* per output channel */
  const int32_t *shift;
  int32_t packed;
} TkFullyConnectedParams;

TkStatus tk_fully_connected_s8(const TkFullyConnectedParams *p, const int8_t *in, int8_t *out);

/* ---- AVERAGE_POOL_2D, MAX_POOL_2D (tk_pool.c) ----------------------------- */

/* Input and output share quantization. */
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

/* ---- MEAN over H and W (tk_mean.c) ---------------------------------------- */

/* mult/shift already include the 1/count factor (as TFLM's QuantizedMeanOrSum). */
typedef struct TkMeanParams {
  int32_t batches, h, w, channels;
  int32_t input_zp, output_zp;
  int32_t mult, shift;
} TkMeanParams;

TkStatus tk_mean_hw_s8(const TkMeanParams *p, const int8_t *in, int8_t *out);

/* ---- ADD, MUL with broadcasting (tk_add.c, tk_mul.c, tk_broadcast.c) ------ */

/* Shared by ADD and MUL: dims is the output shape padded with leading 1s to
 * TK_MAX_DIMS; stride1/stride2 are the element strides of each input over
 * those dims (0 on a dim the input broadcasts); broadcast = 0 when both
 * inputs have the output's shape (one flat loop). out may equal in1 when in1
 * has the output's shape. */
typedef struct TkAddParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t stride1[TK_MAX_DIMS];
  int32_t stride2[TK_MAX_DIMS];
  int32_t broadcast;
  int32_t input1_offset, input2_offset; /* -input zero points */
  int32_t left_shift;
  int32_t input1_mult, input1_shift;
  int32_t input2_mult, input2_shift;
  int32_t output_mult, output_shift;
  int32_t output_offset; /* output zero point */
  int32_t act_min, act_max;
} TkAddParams;

TkStatus tk_add_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* output_mult/output_shift: s1 * s2 / s_out. */
typedef struct TkMulParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t stride1[TK_MAX_DIMS];
  int32_t stride2[TK_MAX_DIMS];
  int32_t broadcast;
  int32_t input1_offset, input2_offset; /* -input zero points */
  int32_t output_offset; /* output zero point */
  int32_t output_mult, output_shift;
  int32_t act_min, act_max;
} TkMulParams;

TkStatus tk_mul_s8(const TkMulParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* The one broadcast walk of the binary kernels (tk_broadcast.c): row(params,
 * a, b, y, n, s1, s2) computes y[i] = f(a[i * s1], b[i * s2]) for i < n, the
 * innermost dimension; s1, s2 are 0 (broadcast) or 1. Without broadcast the
 * whole tensor is one row with s1 = s2 = 1; otherwise the outer
 * TK_MAX_DIMS - 1 dims are walked in output order and row is called once per
 * innermost row (no per-element indirect call). */
typedef void (*TkBroadcastRowFn)(const void *params, const int8_t *in1, const int8_t *in2,
                                 int8_t *out, int32_t n, int32_t s1, int32_t s2);
void tk_broadcast_s8(const int32_t *dims, const int32_t *stride1, const int32_t *stride2,
                     int32_t broadcast, TkBroadcastRowFn row, const void *params,
                     const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- SOFTMAX (tk_softmax.c) ------------------------------------------------- */

/* int8 -> int8, TFLM's gemmlowp fixed-point algorithm. exp_lut[d] is exp() of
 * the rescaled input difference -d as Q0.31 (0 below diff_min). */
typedef struct TkSoftmaxParams {
  int32_t outer, depth;
  const int32_t *exp_lut; /* 256 entries */
} TkSoftmaxParams;

TkStatus tk_softmax_s8(const TkSoftmaxParams *p, const int8_t *in, int8_t *out);

/* ---- table lookup (tk_lut.c) ---------------------------------------------- */

/* out[i] = lut[in[i] + 128] for i < size: every unary int8 -> int8 op
 * (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, int8 QUANTIZE). out
 * may equal in. */
typedef struct TkLutParams {
  int32_t size;
  const int8_t *lut; /* 256 entries */
} TkLutParams;

TkStatus tk_lut_s8(const TkLutParams *p, const int8_t *in, int8_t *out);

/* ---- CONCATENATION (tk_concat.c) ------------------------------------------ */

/* Input i is viewed as [outer][inner[i]] (inner = product of its dims from the
 * axis on); luts[i] rescales input i to the output's quantization, or is NULL
 * for a plain copy (luts itself may be NULL: all plain copies). out must not
 * alias an input. */
typedef struct TkConcatParams {
  int32_t n_inputs;
  int32_t outer;
  const int32_t *inner;
  const int8_t *const *luts;
} TkConcatParams;

TkStatus tk_concat_s8(const TkConcatParams *p, const int8_t *const *inputs, int8_t *out);

/* ---- PAD, PADV2 (tk_pad.c) ------------------------------------------------ */

/* Constant padding; shapes padded with leading 1s (0 padding) to TK_MAX_DIMS.
 * out must not alias in. */
typedef struct TkPadParams {
  int32_t in_dims[TK_MAX_DIMS];
  int32_t before[TK_MAX_DIMS];
  int32_t after[TK_MAX_DIMS];
  int32_t value; /* the quantized padding value */
} TkPadParams;

TkStatus tk_pad_s8(const TkPadParams *p, const int8_t *in, int8_t *out);

/* ---- QUANTIZE float32 -> int8, DEQUANTIZE int8 -> float32 (tk_quantize.c) -- */

typedef struct TkQuantizeParams {
  int32_t size; /* elements */
  float scale;
  int32_t zero_point;
} TkQuantizeParams;

/* roundf(in / scale) + zero_point in float32, as TFLM's AffineQuantize. out
 * may start at in (written front to back). */
TkStatus tk_quantize_f32_s8(const TkQuantizeParams *p, const float *in, int8_t *out);
/* scale * (in - zero_point). out may start at in (written back to front). */
TkStatus tk_dequantize_s8_f32(const TkQuantizeParams *p, const int8_t *in, float *out);

/* ======== issue 10: SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU, MEAN /
 * SUM / REDUCE_MAX / REDUCE_MIN over any axes, ARG_MAX / ARG_MIN, TRANSPOSE /
 * SLICE / STRIDED_SLICE, GATHER (ABS is a table: tk_lut_s8) - kept in this section,
 * apart from the kernels above ======== */

/* ---- SUB, SQUARED_DIFFERENCE with broadcasting (tk_sub.c) ----------------- */

/* Both take TkAddParams (TFLM's arithmetic params): SUB with left_shift 20 and
 * its fused activation range, SQUARED_DIFFERENCE with left_shift 7, an output
 * multiplier s_common^2 / (2^14 s_out) and the int8 range. out may equal in1
 * when in1 has the output's shape. */
TkStatus tk_sub_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);
TkStatus tk_squared_difference_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2,
                                  int8_t *out);

/* ---- MAXIMUM, MINIMUM with broadcasting (tk_minmax.c) ---------------------- */

/* Raw int8 comparison: inputs and output share one quantization. Broadcast
 * fields as TkAddParams. out may equal in1 when in1 has the output's shape. */
typedef struct TkMinMaxParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t stride1[TK_MAX_DIMS];
  int32_t stride2[TK_MAX_DIMS];
  int32_t broadcast;
} TkMinMaxParams;

TkStatus tk_maximum_s8(const TkMinMaxParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);
TkStatus tk_minimum_s8(const TkMinMaxParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- PRELU (tk_prelu.c) ------------------------------------------------------ */

/* stride2 walks alpha broadcast over the input's shape (dims). mult_pos/shift_pos:
 * s_in / s_out; mult_neg/shift_neg: s_in * s_alpha / s_out. out may equal in. */
typedef struct TkPreluParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t stride1[TK_MAX_DIMS];
  int32_t stride2[TK_MAX_DIMS];
  int32_t broadcast;
  int32_t input_offset, alpha_offset; /* -zero points */
  int32_t output_offset; /* output zero point */
  int32_t mult_pos, shift_pos;
  int32_t mult_neg, shift_neg;
} TkPreluParams;

TkStatus tk_prelu_s8(const TkPreluParams *p, const int8_t *in, const int8_t *alpha, int8_t *out);

/* ---- MEAN, SUM, REDUCE_MAX, REDUCE_MIN over any axes (tk_reduce.c) ---------- */

/* The input shape collapsed into groups of kept (outer) and reduced (inner)
 * dimensions, each padded with leading 1s (stride 0) to TK_MAX_DIMS; strides
 * are input elements. Output elements come in outer order (keep_dims or not).
 * count: the reduced elements per output. mult/shift: s_in / s_out, with the
 * 1/count factor folded in for MEAN (as TFLM's QuantizedMeanOrSum). out must
 * not alias in. */
typedef struct TkReduceParams {
  int32_t outer[TK_MAX_DIMS];
  int32_t outer_stride[TK_MAX_DIMS];
  int32_t inner[TK_MAX_DIMS];
  int32_t inner_stride[TK_MAX_DIMS];
  int32_t count;
  int32_t input_zp, output_zp;
  int32_t mult, shift;
} TkReduceParams;

/* MEAN and SUM: requantized sum(in - input_zp). */
TkStatus tk_reduce_sum_s8(const TkReduceParams *p, const int8_t *in, int8_t *out);
/* Cortex-M with DSP only (tk_reduce.c, also used by tk_mean.c): sum[k] = the sum of
 * x[i * stride + k] over i < n, for k < 4 (one word load per i). */
void tk_sum4_strided_s8(const int8_t *x, int32_t stride, int32_t n, int32_t sum[4]);
/* REDUCE_MAX, REDUCE_MIN: the raw extreme (input and output share one quantization). */
TkStatus tk_reduce_max_s8(const TkReduceParams *p, const int8_t *in, int8_t *out);
TkStatus tk_reduce_min_s8(const TkReduceParams *p, const int8_t *in, int8_t *out);

/* ---- ARG_MAX, ARG_MIN (tk_argmax.c) ---------------------------------------- */

/* The input viewed as [outer][axis_size][inner]; out[outer][inner] is the index
 * of the first maximum (minimum) along the axis, as int32. */
typedef struct TkArgParams {
  int32_t outer, axis_size, inner;
} TkArgParams;

TkStatus tk_arg_max_s8(const TkArgParams *p, const int8_t *in, int32_t *out);
TkStatus tk_arg_min_s8(const TkArgParams *p, const int8_t *in, int32_t *out);

/* ---- TRANSPOSE, SLICE, STRIDED_SLICE (tk_strided_copy.c) ------------------- */

/* dims: the output shape padded with leading 1s to TK_MAX_DIMS; in_stride[k]:
 * the input element step of output dim k (permuted input strides for
 * TRANSPOSE, stride * step for STRIDED_SLICE, may be negative). in points at
 * the first element read. Input and output share one quantization. out must
 * not alias in. */
typedef struct TkStridedCopyParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t in_stride[TK_MAX_DIMS];
} TkStridedCopyParams;

TkStatus tk_strided_copy_s8(const TkStridedCopyParams *p, const int8_t *in, int8_t *out);

/* ---- GATHER (tk_gather.c) ---------------------------------------------------- */

/* The input viewed as [outer][axis_size][inner]; out[o][k] = in[o][idx[k]] for
 * k < n_idx (indices checked in range at generation time). Input and output
 * share one quantization. out must not alias in. */
typedef struct TkGatherParams {
  int32_t outer, axis_size, inner, n_idx;
  const int32_t *idx;
} TkGatherParams;

TkStatus tk_gather_s8(const TkGatherParams *p, const int8_t *in, int8_t *out);

/* ======== issue 10 item 3: BATCH_MATMUL (attention) - kept in this section ======== */

/* ---- BATCH_MATMUL (tk_batch_matmul.c) ------------------------------------------ */

/* out[b][i][j] = requant(sum_k (lhs[b][i][k] - lhs_zp) * (rhs[b][k][j] - rhs_zp)):
 * batch is the output's batch shape padded with leading 1s to 3 dims;
 * lhs/rhs_batch_stride are element strides per batch dim (0 where that operand
 * broadcasts). lhs element (i, k) is at i * lhs_row_step + k * lhs_depth_step
 * (adj_x swaps them), rhs element (k, j) at j * rhs_col_step + k *
 * rhs_depth_step. Output [rows][cols] per batch, int8 range (no activation).
 * out must not alias an input. */
typedef struct TkBatchMatMulParams {
  int32_t batch[3];
  int32_t lhs_batch_stride[3];
  int32_t rhs_batch_stride[3];
  int32_t rows, cols, depth;
  int32_t lhs_row_step, lhs_depth_step;
  int32_t rhs_col_step, rhs_depth_step;
  int32_t lhs_offset, rhs_offset; /* -zero points */
  int32_t output_offset; /* output zero point */
  int32_t output_mult, output_shift; /* s_lhs * s_rhs / s_out */
} TkBatchMatMulParams;

TkStatus tk_batch_matmul_s8(const TkBatchMatMulParams *p, const int8_t *lhs, const int8_t *rhs,
                            int8_t *out);

/* ======== issue 10: TRANSPOSE_CONV (tk_transpose_conv.c) ======== */

/* Gather form, no scratch. Phase (py, px), py < stride_h, px < stride_w, has
 * taps_h[py] x taps_w[px] filter taps: its filter block starts at
 * filter + filter_offset[py * stride_w + px], laid out [out_c][taps_h][taps_w]
 * [in_c] in window order (window row j = filter row py + (taps_h - 1 - j) *
 * stride_h, likewise across), and its folded bias is bias_folded[(py *
 * stride_w + px) * out_c + oc] = bias - input_zp * sum(its taps of channel oc).
 * pad_h, pad_w: TFLM's leading padding. out must not alias in. */
typedef struct TkTransposeConvParams {
  int32_t batches;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t stride_h, stride_w;
  int32_t pad_h, pad_w;
  int32_t input_zp; /* input zero point: the window outside the input */
  int32_t output_offset; /* output zero point */
  int32_t act_min, act_max;
  const int32_t *taps_h; /* [stride_h] */
  const int32_t *taps_w; /* [stride_w] */
  const int8_t *filter;
  const int32_t *filter_offset; /* [stride_h * stride_w] */
  const int32_t *bias_folded; /* [stride_h * stride_w][out_c] */
  const int32_t *mult; /* per output channel */
  const int32_t *shift;
} TkTransposeConvParams;

TkStatus tk_transpose_conv_s8(const TkTransposeConvParams *p, const int8_t *in, int8_t *out);

/* ======== issue 10 (resize, log softmax): RESIZE_NEAREST_NEIGHBOR,
 * RESIZE_BILINEAR, LOG_SOFTMAX ======== */

/* ---- RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR (tk_resize.c) ---------------- */

/* NHWC int8, input and output share one quantization; out must not alias in.
 * Nearest: rows[out_h] and cols[out_w] are the input row and column each output
 * row and column copies. Bilinear: rows[3 * out_h] and cols[3 * out_w] hold
 * (lower index, upper index, weight of the upper in 1/1024) per output index,
 * as TFLM's ComputeInterpolationValuesInteger. */
typedef struct TkResizeParams {
  int32_t batches, in_h, in_w, depth, out_h, out_w;
  const int32_t *rows;
  const int32_t *cols;
} TkResizeParams;

TkStatus tk_resize_nearest_s8(const TkResizeParams *p, const int8_t *in, int8_t *out);
TkStatus tk_resize_bilinear_s8(const TkResizeParams *p, const int8_t *in, int8_t *out);

/* ---- LOG_SOFTMAX (tk_log_softmax.c) ----------------------------------------- */

/* TFLM's int8 LogSoftmax over the last dimension (output scale 16/256, zero
 * point 127). Indexed by max - x (0..255): exp_lut holds exp() of the scaled
 * difference rescaled to Q12.19 (0 below diff_min), diff_q5 the scaled
 * difference in Q5.26. reverse_mult/reverse_shift: TFLM's reverse scaling
 * divisor (MultiplyByQuantizedMultiplier form). out may equal in. */
typedef struct TkLogSoftmaxParams {
  int32_t outer, depth;
  int32_t diff_min;
  int32_t reverse_mult, reverse_shift;
  const int32_t *exp_lut;
  const int32_t *diff_q5;
} TkLogSoftmaxParams;

TkStatus tk_log_softmax_s8(const TkLogSoftmaxParams *p, const int8_t *in, int8_t *out);

/* ======== issue 10 item 3: SPLIT, SPLIT_V, UNPACK, TILE run through
 * tk_strided_copy_s8 (one call per output), PACK through tk_strided_store_s8
 * (one call per input), EXPAND_DIMS is a no-copy alias ======== */

/* ---- PACK (tk_strided_copy.c) ------------------------------------------------ */

/* The mirror of tk_strided_copy_s8: the input read in order, element k of the
 * walk written at out + sum(index[d] * out_stride[d]); dims padded with leading
 * 1s to TK_MAX_DIMS. out points at the first element written (PACK: input i at
 * out + i * inner, out_stride {n * inner, 1}). Input and output share one
 * quantization. out must not alias in. */
typedef struct TkStridedStoreParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t out_stride[TK_MAX_DIMS];
} TkStridedStoreParams;

TkStatus tk_strided_store_s8(const TkStridedStoreParams *p, const int8_t *in, int8_t *out);

/* ======== issue 10: Embedding on an int32 input - int32 LESS, ADD, SELECT /
 * SELECT_V2 (tk_index_math.c), GATHER by computed indices (tk_gather.c) -
 * kept in this section ======== */

/* Shapes padded with leading 1s to TK_MAX_DIMS; stride<k>: operand k's element
 * strides over the output dims (0 where it is broadcast); broadcast 0 when
 * every operand has the output's shape (a flat loop). Bool tensors: one byte. */
typedef struct TkIndexParams {
  int32_t dims[TK_MAX_DIMS];
  int32_t stride1[TK_MAX_DIMS];
  int32_t stride2[TK_MAX_DIMS];
  int32_t stride3[TK_MAX_DIMS];
  int32_t broadcast;
} TkIndexParams;

/* out = in1 < in2 (0 or 1). */
TkStatus tk_less_s32(const TkIndexParams *p, const int32_t *in1, const int32_t *in2,
                     uint8_t *out);
/* out = in1 + in2 (wrapping), no quantization, no activation. */
TkStatus tk_add_s32(const TkIndexParams *p, const int32_t *in1, const int32_t *in2,
                    int32_t *out);
/* out = cond ? x : y (stride1: cond, stride2: x, stride3: y). */
TkStatus tk_select_s32(const TkIndexParams *p, const uint8_t *cond, const int32_t *x,
                       const int32_t *y, int32_t *out);
/* tk_gather_s8 with the indices in idx (p->idx unused), checked as they are
 * used: an index outside [0, axis_size) returns TK_BAD_ARGUMENT (as TFLM). */
TkStatus tk_gather_idx_s8(const TkGatherParams *p, const int8_t *in, const int32_t *idx,
                          int8_t *out);

/* --- UNIDIRECTIONAL_SEQUENCE_LSTM (tk_lstm.c) ------------------------------------ */

/* Gate index of the per-gate arrays of TkLstmParams. */
enum { TK_LSTM_INPUT = 0, TK_LSTM_FORGET = 1, TK_LSTM_CELL = 2, TK_LSTM_OUTPUT = 3 };

/* TFLM's integer (8x8->16) LSTM, batch 1: weights [n_cell][n_input] and
 * [n_cell][n_cell]; b_in/b_rec: bias with the input / hidden zero point folded
 * in; (m_*, s_*): multipliers computed at generation time (TFLM's Prepare);
 * table: TFLite's 256-entry uint16 sigmoid table. */
typedef struct TkLstmParams {
  int32_t steps, n_input, n_cell;
  int32_t hidden_zp;
  int32_t cell_clip; /* quantized; 0: no clipping */
  int32_t cell_tanh_mult, cell_tanh_shift;
  const int8_t *w_in[4];
  const int8_t *w_rec[4];
  const int32_t *b_in[4];
  const int32_t *b_rec[4];
  int32_t m_in[4], s_in[4], m_rec[4], s_rec[4];
  int32_t m_forget, s_forget, m_input, s_input, m_hidden, s_hidden;
  const uint16_t *table;
} TkLstmParams;

/* input [steps][n_input] -> output [steps][n_cell]; hidden (int8) and cell
 * (int16) hold the state (n_cell each), reset at the start of every call. */
TkStatus tk_lstm_s8(const TkLstmParams *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                    int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TK_KERNELS_H */
