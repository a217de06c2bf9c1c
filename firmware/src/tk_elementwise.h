/* tinykit runtime: element-wise, table-lookup, concatenation, pad and
 * (de)quantize int8 reference kernels, bit-exact with TFLM's reference kernels.
 * Internal header. Plain C99, no malloc: the caller owns every buffer.
 *
 * Everything TFLM computes in Prepare (multipliers, shifts, 256-entry tables
 * for unary int8 ops) is computed at generation time by
 * tinykit/codegen/ops_elementwise.py and passed in as constants. */
#ifndef TK_ELEMENTWISE_H
#define TK_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes are padded to this rank with leading 1s. */
#define TK_EW_DIMS 5

/* y[i] = lut[x[i] + 128]: every unary int8 -> int8 op (LOGISTIC, TANH, RELU,
 * RELU6, LEAKY_RELU, HARD_SWISH, int8 requantize). y may equal x. */
void tk_lut_s8(const int8_t *x, int8_t *y, int32_t n, const int8_t *lut);

typedef struct TkMulParams {
  int32_t in1_offset;  /* -input1 zero point */
  int32_t in2_offset;  /* -input2 zero point */
  int32_t out_offset;  /* output zero point */
  int32_t multiplier;  /* Q31 of s1 * s2 / s_out */
  int32_t shift;
  int32_t act_min;
  int32_t act_max;
  int32_t broadcast;   /* 0: same shapes, flat loop over dims[] product */
  int32_t dims[TK_EW_DIMS];        /* output shape */
  int32_t in1_strides[TK_EW_DIMS]; /* element strides, 0 on broadcast dims */
  int32_t in2_strides[TK_EW_DIMS];
} TkMulParams;

/* Element-wise int8 MUL with optional broadcasting. out may equal in1 when
 * in1 has the output's shape. */
void tk_mul_s8(const TkMulParams *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* Concatenation: every input is viewed as [outer][inner_sizes[i]] (inner =
 * product of the dims from the axis on); luts[i] rescales input i to the
 * output's quantization, or is NULL for a plain copy. out must not alias. */
void tk_concat_s8(int32_t n_inputs, const int8_t *const *inputs, const int32_t *inner_sizes,
                  const int8_t *const *luts, int32_t outer, int8_t *out);

typedef struct TkPadParams {
  int32_t in_dims[TK_EW_DIMS];
  int32_t before[TK_EW_DIMS];
  int32_t after[TK_EW_DIMS];
  int32_t value;  /* the quantized padding value */
} TkPadParams;

/* Constant padding (PAD, PADV2). out must not alias in. */
void tk_pad_s8(const TkPadParams *p, const int8_t *in, int8_t *out);

/* QUANTIZE float32 -> int8: roundf(x / scale) + zero_point in float32, as
 * TFLM's AffineQuantize. y may start at x (it is written front to back). */
void tk_quantize_f32_s8(const float *x, int8_t *y, int32_t n, float scale, int32_t zero_point);

/* DEQUANTIZE int8 -> float32: scale * (x - zero_point). y may start at x (it
 * is written back to front). */
void tk_dequantize_s8_f32(const int8_t *x, float *y, int32_t n, float scale, int32_t zero_point);

#ifdef __cplusplus
}
#endif

#endif /* TK_ELEMENTWISE_H */
