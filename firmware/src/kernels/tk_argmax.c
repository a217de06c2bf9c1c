/* tinykit runtime: ARG_MAX and ARG_MIN of an int8 tensor along one axis, as
 * TFLM's reference ArgMinMax: the input viewed as [outer][axis][inner], the
 * first index of the extreme value (ties keep the lower index), int32 out.
 * Each scan walks one pointer down the axis; the index is recovered from the
 * winning pointer, so the loop body is a load, a compare and a move. */
#include "tk_kernels.h"

#define TK_ARG_BODY(CMP)                                                           \
  do {                                                                             \
    int32_t o, j;                                                                  \
    int32_t n, step;                                                               \
    if (p == 0 || in == 0 || out == 0 || p->axis_size < 1) return TK_BAD_ARGUMENT; \
    n = p->axis_size;                                                              \
    step = p->inner;                                                               \
    for (o = 0; o < p->outer; ++o) {                                               \
      const int8_t *base = in + o * n * step;                                      \
      for (j = 0; j < step; ++j) {                                                 \
        const int8_t *q = base + j, *end = base + j + n * step, *at = q;           \
        int32_t best = *q;                                                         \
        for (q += step; q < end; q += step) {                                      \
          if (*q CMP best) {                                                       \
            best = *q;                                                             \
            at = q;                                                                \
          }                                                                        \
        }                                                                          \
        *out++ = (int32_t)((at - (base + j)) / step);                              \
      }                                                                            \
    }                                                                              \
    return TK_OK;                                                                  \
  } while (0)

TkStatus tk_arg_max_s8(const TkArgParams *p, const int8_t *in, int32_t *out) { TK_ARG_BODY(>); }

TkStatus tk_arg_min_s8(const TkArgParams *p, const int8_t *in, int32_t *out) { TK_ARG_BODY(<); }
