/* See tflm_ref_resize.c: TFLM's reference loops, restated for the benchmark. */
#ifndef TFLM_REF_RESIZE_H
#define TFLM_REF_RESIZE_H

#include <stdint.h>

typedef struct RefResize {
  int32_t batches, in_h, in_w, depth, out_h, out_w;
  int32_t align_corners, half_pixel_centers;
} RefResize;

typedef struct RefLogSoftmax {
  int32_t outer, depth;
  int32_t input_mult, input_shift, reverse_mult, reverse_right_shift, diff_min;
} RefLogSoftmax;

void ref_resize_nearest(const RefResize *p, const int8_t *in, int8_t *out);
void ref_resize_bilinear(const RefResize *p, const int8_t *in, int8_t *out);
void ref_log_softmax(const RefLogSoftmax *p, const int8_t *in, int8_t *out);

#endif
