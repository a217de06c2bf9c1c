/* TEST DOUBLE of a generated model: implements the tinykit model API with a
 * fixed, easy-to-recompute function, so protocol tests can check every output
 * byte in Python. Not a neural network.
 *
 *   input  int8 [1, 49, 10]  scale 0.1  zero point 2
 *   output int8 [1, 12]      scale 0.5  zero point -3
 *   out[j] = clamp(floor(S_j / 8), -128, 127),  S_j = sum of x[i][k] over
 *            rows i with i % 12 == j and all k (raw int8 values)
 *
 * Built with -DTK_DOUBLE_TRACE it logs "invoke N" on stderr for each call.
 * Three "layers" (row sums, bucketing, saturation) report their microseconds. */
#include "tinykit.h"

#ifdef TK_DOUBLE_TRACE /* host tests count invocations on stderr */
#include <stdio.h>
static unsigned long tk_double_invocations = 0;
#endif

#define TK_DOUBLE_ROWS 49
#define TK_DOUBLE_COLS 10
#define TK_DOUBLE_OUT 12

static int8_t tk_double_in[TK_DOUBLE_ROWS * TK_DOUBLE_COLS];
static int8_t tk_double_out[TK_DOUBLE_OUT];

static const TkModelInfo tk_double_info = {
    "test-double",
    "7e57d0b1e5eed001",
    "aot",
    1024u,
    3u,
    {3, {1, TK_DOUBLE_ROWS, TK_DOUBLE_COLS, 0, 0}, TK_DOUBLE_ROWS * TK_DOUBLE_COLS, TK_INT8, 0.1f, 2},
    {2, {1, TK_DOUBLE_OUT, 0, 0, 0}, TK_DOUBLE_OUT, TK_INT8, 0.5f, -3},
};

const TkModelInfo *tk_model_info(void) { return &tk_double_info; }

TkStatus tk_model_init(void) { return TK_OK; }

void *tk_model_input(void) { return tk_double_in; }

const void *tk_model_output(void) { return tk_double_out; }

TkStatus tk_model_invoke(uint32_t *layer_us) {
  int32_t rows[TK_DOUBLE_ROWS];
  int32_t sums[TK_DOUBLE_OUT] = {0};
  uint32_t t0 = tk_hal_micros(), t1, t2;
  int i, k;
#ifdef TK_DOUBLE_TRACE
  fprintf(stderr, "invoke %lu\n", ++tk_double_invocations);
  fflush(stderr);
#endif
  for (i = 0; i < TK_DOUBLE_ROWS; i++) {
    rows[i] = 0;
    for (k = 0; k < TK_DOUBLE_COLS; k++) rows[i] += tk_double_in[i * TK_DOUBLE_COLS + k];
  }
  t1 = tk_hal_micros();
  for (i = 0; i < TK_DOUBLE_ROWS; i++) sums[i % TK_DOUBLE_OUT] += rows[i];
  t2 = tk_hal_micros();
  for (i = 0; i < TK_DOUBLE_OUT; i++) {
    int32_t s = sums[i];
    int32_t q = s >= 0 ? s / 8 : -((-s + 7) / 8); /* floor division */
    tk_double_out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
  if (layer_us != 0) {
    layer_us[0] = t1 - t0;
    layer_us[1] = t2 - t1;
    layer_us[2] = tk_hal_micros() - t2;
  }
  return TK_OK;
}
