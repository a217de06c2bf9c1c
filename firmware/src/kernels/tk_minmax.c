/* tinykit runtime: MAXIMUM and MINIMUM int8 with broadcasting, as TFLM's
 * reference MaximumMinimumBroadcastSlow: the raw int8 values are compared
 * (inputs and output share one quantization, checked at generation time). */
#include "tk_kernels.h"

/* TkBroadcastRowFn */
static void tk_maximum_row(const void *params, const int8_t *a, const int8_t *b, int8_t *y,
                           int32_t n, int32_t s1, int32_t s2) {
  int32_t i;
  (void)params;
  for (i = 0; i < n; ++i) {
    const int8_t x = a[i * s1], z = b[i * s2];
    y[i] = x > z ? x : z;
  }
}

/* TkBroadcastRowFn */
static void tk_minimum_row(const void *params, const int8_t *a, const int8_t *b, int8_t *y,
                           int32_t n, int32_t s1, int32_t s2) {
  int32_t i;
  (void)params;
  for (i = 0; i < n; ++i) {
    const int8_t x = a[i * s1], z = b[i * s2];
    y[i] = x < z ? x : z;
  }
}

TkStatus tk_maximum_s8(const TkMinMaxParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_maximum_row, p, in1, in2, out);
  return TK_OK;
}

TkStatus tk_minimum_s8(const TkMinMaxParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_minimum_row, p, in1, in2, out);
  return TK_OK;
}
