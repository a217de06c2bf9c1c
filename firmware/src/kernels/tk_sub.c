/* tinykit runtime: SUB and SQUARED_DIFFERENCE int8 with broadcasting, as
 * TFLM's reference Sub / BroadcastQuantSubSlow and its SquaredDifference:
 * both inputs rescaled to a common scale (left_shift, input multipliers),
 * subtracted (and squared), requantized. Both take TkAddParams and walk the
 * one broadcast helper (tk_broadcast.c). SUB with the multipliers the
 * generator emits (tk_sub_fused_ok) runs each rescale as one fused 64-bit
 * multiply-accumulate on locals (tk_mul_q31, as ADD's same-shape path), same
 * shape or broadcast. */
#include "tk_dot.h"
#include "tk_fixedpoint.h"
#include "tk_kernels.h"

/* (x + offset) << left_shift, times a multiplier below one (shift <= 0). */
static inline int32_t tk_sub_scale(int32_t x, int32_t offset, int32_t left_shift, int32_t mult,
                                   int32_t shift) {
  return tk_rounding_divide_by_pot(tk_sat_rounding_doubling_high_mul((x + offset) * (1 << left_shift),
                                                                     mult), (int)-shift);
}

/* The params copied into locals once per row: a store through the int8_t output
 * may alias *p as far as C knows, so reading p-> per element reloads them all. */
typedef struct TkSubLocal {
  int32_t off1, off2, ls, m1, sh1, m2, sh2, mo, sho, oo, lo, hi;
} TkSubLocal;

static inline TkSubLocal tk_sub_local(const TkAddParams *p) {
  TkSubLocal l;
  l.off1 = p->input1_offset;
  l.off2 = p->input2_offset;
  l.ls = p->left_shift;
  l.m1 = p->input1_mult;
  l.sh1 = p->input1_shift;
  l.m2 = p->input2_mult;
  l.sh2 = p->input2_shift;
  l.mo = p->output_mult;
  l.sho = p->output_shift;
  l.oo = p->output_offset;
  l.lo = p->act_min;
  l.hi = p->act_max;
  return l;
}

static inline int8_t tk_sub_out(const TkSubLocal *l, int32_t raw) {
  const int32_t r = tk_multiply_by_quantized_multiplier(raw, l->mo, (int)l->sho) + l->oo;
  return (int8_t)tk_clamp_i32(r, l->lo, l->hi);
}

#define TK_SUB_IN1(l, x) tk_sub_scale((x), (l).off1, (l).ls, (l).m1, (l).sh1)
#define TK_SUB_IN2(l, x) tk_sub_scale((x), (l).off2, (l).ls, (l).m2, (l).sh2)

/* TkBroadcastRowFn: a broadcast operand (stride 0) is rescaled once per row. */
static void tk_sub_row(const void *params, const int8_t *a, const int8_t *b, int8_t *y, int32_t n,
                       int32_t s1, int32_t s2) {
  const TkSubLocal l = tk_sub_local((const TkAddParams *)params);
  int32_t i;
  if (n <= 0) return;
  if (s2 == 0) {
    const int32_t rb = TK_SUB_IN2(l, b[0]);
    for (i = 0; i < n; ++i) y[i] = tk_sub_out(&l, TK_SUB_IN1(l, a[i * s1]) - rb);
  } else if (s1 == 0) {
    const int32_t ra = TK_SUB_IN1(l, a[0]);
    for (i = 0; i < n; ++i) y[i] = tk_sub_out(&l, ra - TK_SUB_IN2(l, b[i * s2]));
  } else {
    for (i = 0; i < n; ++i) y[i] = tk_sub_out(&l, TK_SUB_IN1(l, a[i]) - TK_SUB_IN2(l, b[i]));
  }
}

/* TkBroadcastRowFn: the squared difference of the rescaled inputs. */
static void tk_squared_difference_row(const void *params, const int8_t *a, const int8_t *b,
                                      int8_t *y, int32_t n, int32_t s1, int32_t s2) {
  const TkSubLocal l = tk_sub_local((const TkAddParams *)params);
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t d = TK_SUB_IN1(l, a[i * s1]) - TK_SUB_IN2(l, b[i * s2]);
    y[i] = tk_sub_out(&l, d * d);
  }
}

/* Whether tk_mul_q31 computes every rescale of this SUB exactly as TFLM's
 * MultiplyByQuantizedMultiplierSmallerThanOneExp: multipliers >= 0, shifts in
 * [-31, 0], and (x + offset) << left_shift within int32 (|x + offset| <= 255,
 * left_shift <= 22). TFLite's SUB Prepare always gives these (left_shift 20). */
static int tk_sub_fused_ok(const TkAddParams *p) {
  return p->left_shift >= 0 && p->left_shift <= 22 && p->input1_mult >= 0 &&
         p->input2_mult >= 0 && p->output_mult >= 0 && p->input1_shift <= 0 &&
         p->input1_shift >= -31 && p->input2_shift <= 0 && p->input2_shift >= -31 &&
         p->output_shift <= 0 && p->output_shift >= -31;
}

#define TK_SUB_F1(l, x) tk_mul_q31((int32_t)((uint32_t)((x) + (l).off1) << (l).ls), (l).m1, (l).sh1)
#define TK_SUB_F2(l, x) tk_mul_q31((int32_t)((uint32_t)((x) + (l).off2) << (l).ls), (l).m2, (l).sh2)
#define TK_SUB_FOUT(l, raw) \
  ((int8_t)tk_clamp_i32(tk_mul_q31((raw), (l).mo, (l).sho) + (l).oo, (l).lo, (l).hi))

/* TkBroadcastRowFn of tk_sub_fused_ok layers: tk_sub_row with the fused
 * rescales (about 55 instructions an element on Cortex-M4 instead of 105). The
 * row's strides are 0 or 1, both 0 only for a row of one element (tk_broadcast_s8). */
static void tk_sub_row_fused(const void *params, const int8_t *a, const int8_t *b, int8_t *y,
                             int32_t n, int32_t s1, int32_t s2) {
  const TkSubLocal l = tk_sub_local((const TkAddParams *)params);
  int32_t i;
  if (n <= 0) return;
  if (s2 == 0) {
    const int32_t rb = TK_SUB_F2(l, b[0]);
    for (i = 0; i < n; ++i) y[i] = TK_SUB_FOUT(l, TK_SUB_F1(l, a[i]) - rb);
  } else if (s1 == 0) {
    const int32_t ra = TK_SUB_F1(l, a[0]);
    for (i = 0; i < n; ++i) y[i] = TK_SUB_FOUT(l, ra - TK_SUB_F2(l, b[i]));
  } else {
    for (i = 0; i < n; ++i) y[i] = TK_SUB_FOUT(l, TK_SUB_F1(l, a[i]) - TK_SUB_F2(l, b[i]));
  }
}

TkStatus tk_sub_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast,
                  tk_sub_fused_ok(p) ? tk_sub_row_fused : tk_sub_row, p, in1, in2, out);
  return TK_OK;
}

TkStatus tk_squared_difference_s8(const TkAddParams *p, const int8_t *in1, const int8_t *in2,
                                  int8_t *out) {
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  tk_broadcast_s8(p->dims, p->stride1, p->stride2, p->broadcast, tk_squared_difference_row, p,
                  in1, in2, out);
  return TK_OK;
}
