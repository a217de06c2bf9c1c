/* tinykit runtime: int32 index arithmetic, as TFLM's reference kernels for
 * LESS (comparisons.cc), ADD on int32 (add.cc, no quantization) and SELECT /
 * SELECT_V2 (select.cc): the ops a Keras Embedding on an int32 input lowers
 * to before its GATHER (idx < 0 ? idx + n : idx). Shapes padded to
 * TK_MAX_DIMS; a broadcast operand has stride 0 on the dims it repeats over.
 * Bool tensors are one byte, 0 or 1, as TFLite's. */
#include "tk_kernels.h"

/* The 5-D walk over the output: element offsets of up to three operands. */
/* The walk over the output's rows (dims 0..3; the innermost dim is a row): each
 * operand's element offset at the start of the row. */
typedef struct TkIndexWalk {
  int32_t at[TK_MAX_DIMS - 1];
  int32_t off[3];
} TkIndexWalk;

static void tk_index_next_row(TkIndexWalk *w, const TkIndexParams *p) {
  int d;
  for (d = TK_MAX_DIMS - 2; d >= 0; --d) {
    w->off[0] += p->stride1[d];
    w->off[1] += p->stride2[d];
    w->off[2] += p->stride3[d];
    if (++w->at[d] < p->dims[d]) return;
    w->off[0] -= p->stride1[d] * p->dims[d];
    w->off[1] -= p->stride2[d] * p->dims[d];
    w->off[2] -= p->stride3[d] * p->dims[d];
    w->at[d] = 0;
  }
}

static int32_t tk_index_rows(const TkIndexParams *p, TkIndexWalk *w) {
  int32_t n = 1;
  int d;
  for (d = 0; d < TK_MAX_DIMS - 1; ++d) {
    n *= p->dims[d];
    w->at[d] = 0;
  }
  w->off[0] = w->off[1] = w->off[2] = 0;
  return n;
}

static int32_t tk_index_count(const TkIndexParams *p) {
  int32_t n = 1;
  int d;
  for (d = 0; d < TK_MAX_DIMS; ++d) n *= p->dims[d];
  return n;
}

/* One row of a binary op: each operand walks its row (stride 1) or repeats one
 * value (stride 0: a scalar or a broadcast dim), hoisted out of the loop. */
#define TK_INDEX_ROW(OUT, A, SA, B, SB, N, EXPR)                    \
  do {                                                              \
    int32_t k_;                                                     \
    if ((SA) && (SB)) { /* four at a time: the loop overhead once per four */ \
      for (k_ = 0; k_ + 4 <= (N); k_ += 4) {                        \
        { const int32_t a = (A)[k_], b = (B)[k_]; (OUT)[k_] = (EXPR); } \
        { const int32_t a = (A)[k_ + 1], b = (B)[k_ + 1]; (OUT)[k_ + 1] = (EXPR); } \
        { const int32_t a = (A)[k_ + 2], b = (B)[k_ + 2]; (OUT)[k_ + 2] = (EXPR); } \
        { const int32_t a = (A)[k_ + 3], b = (B)[k_ + 3]; (OUT)[k_ + 3] = (EXPR); } \
      }                                                             \
      for (; k_ < (N); ++k_) { const int32_t a = (A)[k_], b = (B)[k_]; (OUT)[k_] = (EXPR); } \
    } else if (SA) {                                                \
      const int32_t b = *(B);                                       \
      for (k_ = 0; k_ < (N); ++k_) { const int32_t a = (A)[k_]; (OUT)[k_] = (EXPR); } \
    } else if (SB) {                                                \
      const int32_t a = *(A);                                       \
      for (k_ = 0; k_ < (N); ++k_) { const int32_t b = (B)[k_]; (OUT)[k_] = (EXPR); } \
    } else {                                                        \
      const int32_t a = *(A), b = *(B);                             \
      for (k_ = 0; k_ < (N); ++k_) (OUT)[k_] = (EXPR);              \
    }                                                               \
  } while (0)

/* int32 sums wrap (two's complement), where C++ int overflow in TFLM is undefined. */
static int32_t tk_index_add(int32_t a, int32_t b) {
  const uint32_t s = (uint32_t)a + (uint32_t)b;
  return s <= 0x7fffffffu ? (int32_t)s : -(int32_t)(~s) - 1;
}

TkStatus tk_less_s32(const TkIndexParams *p, const int32_t *in1, const int32_t *in2,
                     uint8_t *out) {
  int32_t r, rows, n = p ? p->dims[TK_MAX_DIMS - 1] : 0;
  TkIndexWalk w;
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (!p->broadcast) {
    n = tk_index_count(p);
    TK_INDEX_ROW(out, in1, 1, in2, 1, n, (uint8_t)(a < b));
    return TK_OK;
  }
  rows = tk_index_rows(p, &w);
  for (r = 0; r < rows; ++r, out += n, tk_index_next_row(&w, p)) {
    TK_INDEX_ROW(out, in1 + w.off[0], p->stride1[TK_MAX_DIMS - 1], in2 + w.off[1],
                 p->stride2[TK_MAX_DIMS - 1], n, (uint8_t)(a < b));
  }
  return TK_OK;
}

TkStatus tk_add_s32(const TkIndexParams *p, const int32_t *in1, const int32_t *in2,
                    int32_t *out) {
  int32_t r, rows, n = p ? p->dims[TK_MAX_DIMS - 1] : 0;
  TkIndexWalk w;
  if (p == 0 || in1 == 0 || in2 == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (!p->broadcast) {
    n = tk_index_count(p);
    TK_INDEX_ROW(out, in1, 1, in2, 1, n, tk_index_add(a, b));
    return TK_OK;
  }
  rows = tk_index_rows(p, &w);
  for (r = 0; r < rows; ++r, out += n, tk_index_next_row(&w, p)) {
    TK_INDEX_ROW(out, in1 + w.off[0], p->stride1[TK_MAX_DIMS - 1], in2 + w.off[1],
                 p->stride2[TK_MAX_DIMS - 1], n, tk_index_add(a, b));
  }
  return TK_OK;
}

TkStatus tk_select_s32(const TkIndexParams *p, const uint8_t *cond, const int32_t *x,
                       const int32_t *y, int32_t *out) {
  int32_t r, rows, k, n, sc, sx, sy;
  TkIndexWalk w;
  if (p == 0 || cond == 0 || x == 0 || y == 0 || out == 0) return TK_BAD_ARGUMENT;
  if (!p->broadcast) {
    n = tk_index_count(p);
    for (k = 0; k + 4 <= n; k += 4) { /* four at a time: the loop overhead once per four */
      out[k] = cond[k] ? x[k] : y[k];
      out[k + 1] = cond[k + 1] ? x[k + 1] : y[k + 1];
      out[k + 2] = cond[k + 2] ? x[k + 2] : y[k + 2];
      out[k + 3] = cond[k + 3] ? x[k + 3] : y[k + 3];
    }
    for (; k < n; ++k) out[k] = cond[k] ? x[k] : y[k];
    return TK_OK;
  }
  n = p->dims[TK_MAX_DIMS - 1];
  sc = p->stride1[TK_MAX_DIMS - 1];
  sx = p->stride2[TK_MAX_DIMS - 1];
  sy = p->stride3[TK_MAX_DIMS - 1];
  rows = tk_index_rows(p, &w);
  for (r = 0; r < rows; ++r, out += n, tk_index_next_row(&w, p)) {
    const uint8_t *c = cond + w.off[0];
    const int32_t *a = x + w.off[1], *b = y + w.off[2];
    if (sc == 0) { /* one condition for the row: a copy of one side */
      const int32_t *src = *c ? a : b;
      const int32_t s = *c ? sx : sy;
      if (s) {
        for (k = 0; k < n; ++k) out[k] = src[k];
      } else {
        for (k = 0; k < n; ++k) out[k] = *src;
      }
    } else {
      for (k = 0; k < n; ++k) out[k] = c[k] ? a[k * sx] : b[k * sy];
    }
  }
  return TK_OK;
}
