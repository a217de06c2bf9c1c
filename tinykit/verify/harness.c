/* tinykit verify: host harness around a generated model.
 *
 * usage: harness IN.bin OUT.bin [DUMP.bin]
 * IN.bin holds N inputs of TK_MODEL_INPUT_BYTES each; OUT.bin receives the N
 * outputs. stdout gets "us_per_inference <median>": the median time of
 * tk_model_invoke (no I/O) over the inputs, after one untimed warm-up run on
 * the first input (a mean swings with load; the median does not). With DUMP.bin (built with -DTK_DUMP_TENSORS), every op's output for
 * the first input is written as records: int32 tensor index, uint32 bytes,
 * data. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static FILE *tk_dump_file = NULL;

uint32_t tk_hal_micros(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

static double tk_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void tk_dump_tensor(int32_t tensor_index, const void *data, uint32_t bytes);
void tk_dump_tensor(int32_t tensor_index, const void *data, uint32_t bytes) {
  if (tk_dump_file == NULL) return;
  fwrite(&tensor_index, sizeof tensor_index, 1, tk_dump_file);
  fwrite(&bytes, sizeof bytes, 1, tk_dump_file);
  fwrite(data, 1, bytes, tk_dump_file);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of n values (sorts them); 0 when n is 0. */
static double median(double *v, long n) {
  if (n == 0) return 0.0;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
  static unsigned char in[TK_MODEL_INPUT_BYTES];
  FILE *fin, *fout;
  double *times = NULL;
  long n = 0, cap = 0;
  int warm = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: %s IN.bin OUT.bin [DUMP.bin]\n", argv[0]);
    return 2;
  }
  fin = fopen(argv[1], "rb");
  fout = fopen(argv[2], "wb");
  if (fin == NULL || fout == NULL) {
    fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  if (argc > 3) tk_dump_file = fopen(argv[3], "wb");
  if (tk_model_init() != TK_OK) return 3;
  while (fread(in, 1, sizeof in, fin) == sizeof in) {
    double t0;
    TkStatus s;
    memcpy(tk_model_input(), in, sizeof in);
    if (!warm && tk_dump_file == NULL) { /* warm caches and branch predictors, untimed */
      if (tk_model_invoke(NULL) != TK_OK) return 3;
      memcpy(tk_model_input(), in, sizeof in);
    }
    warm = 1;
    t0 = tk_now_us();
    s = tk_model_invoke(NULL);
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      times = realloc(times, (size_t)cap * sizeof *times);
      if (times == NULL) return 2;
    }
    times[n] = tk_now_us() - t0;
    if (s != TK_OK) {
      fprintf(stderr, "tk_model_invoke failed with status %d\n", (int)s);
      return 3;
    }
    fwrite(tk_model_output(), 1, TK_MODEL_OUTPUT_BYTES, fout);
    ++n;
    if (tk_dump_file != NULL) {
      fclose(tk_dump_file);
      tk_dump_file = NULL;
    }
  }
  fclose(fin);
  fclose(fout);
  printf("us_per_inference %.3f\n", median(times, n));
  free(times);
  return 0;
}
