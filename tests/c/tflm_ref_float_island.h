/* See tflm_ref_float_island.c: what TFLM runs for a float island (DEQUANTIZE, a
 * float NEG or SQUARE, QUANTIZE), restated for the benchmark. */
#ifndef TFLM_REF_FLOAT_ISLAND_H
#define TFLM_REF_FLOAT_ISLAND_H

#include <stdint.h>

typedef struct {
  double in_scale;  /* DequantizationParams.scale is a double */
  int32_t in_zero_point;
  float out_scale;
  int32_t out_zero_point;
  int32_t square;  /* 0: NEG, 1: SQUARE */
} RefIsland;

void ref_float_island(const RefIsland *p, int32_t n, const int8_t *x, float *deq, float *mid,
                      int8_t *out);

#endif
