/* tinykit verify: host harness around a generated model.
 *
 * usage: harness IN.bin OUT.bin [DUMP.bin]
 * IN.bin holds N inputs of TK_MODEL_INPUT_BYTES each; OUT.bin receives the N
 * outputs. stdout gets "us_per_inference <mean>" (tk_model_invoke only, no
 * I/O). With DUMP.bin (built with -DTK_DUMP_TENSORS), every op's output for
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

int main(int argc, char **argv) {
  static unsigned char in[TK_MODEL_INPUT_BYTES];
  FILE *fin, *fout;
  double total_us = 0.0;
  long n = 0;
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
    t0 = tk_now_us();
    s = tk_model_invoke(NULL);
    total_us += tk_now_us() - t0;
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
  printf("us_per_inference %.3f\n", n ? total_us / (double)n : 0.0);
  return 0;
}
