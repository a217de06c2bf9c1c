/* tinykit runtime: the MLPerf Tiny (EEMBC energy runner) "performance mode"
 * text protocol, so the official runner can drive a tinykit firmware.
 *
 * Our reading of the published protocol (EEMBC ee_lib/th_lib as used by
 * mlcommons/tiny, 115200 8N1): the host sends ASCII commands ending in '%';
 * the DUT answers with lines "m-..." and ends every command with "m-ready";
 * errors are "e-[...]" lines (still followed by "m-ready").
 *
 *   boot           -> m-timestamp-mode-performance, m-init-done, m-ready
 *   name%          -> m-name-dut-[tinykit-<board>]
 *   profile%       -> m-profile-[tinykit <version>], m-model-[<model name>]
 *   timestamp%     -> m-lap-us-<micros>
 *   db load N%     -> m-[Expecting N bytes]            (N <= model input bytes)
 *   db <hex>%      -> (nothing)  ... m-load-done once N bytes have arrived
 *   infer N [W]%   -> m-warmup-start-W, m-warmup-done, m-infer-start-N,
 *                     m-lap-us-<t0>, m-lap-us-<t1>, m-infer-done, m-results-[...]
 *                     (W defaults to 10; the input loaded so far is used)
 *   results%       -> m-results-[...] of the last inference
 *
 * m-results lists the output dequantized (scale * (q - zero_point), or the raw
 * value when the scale is 0) with 3 decimals, comma separated.
 *
 * RAM: a 128-byte command buffer + a few words. No malloc, no printf. */
#include <string.h>

#include "tinykit.h"

#ifndef TK_EEMBC_CMD_MAX
#define TK_EEMBC_CMD_MAX 128u
#endif
#define TK_EEMBC_DEFAULT_WARMUP 10u

typedef struct TkEembcState {
  char cmd[TK_EEMBC_CMD_MAX];
  size_t cmd_len;
  int overflow;
  int model_ready;
  uint32_t load_expected;
  uint32_t load_count;
  int have_output;
} TkEembcState;

static TkEembcState tk_ee;

/* Where "db" bytes are kept. The model's input buffer is not enough: the
 * arena reuses it during an inference (as TFLM's does), so every run of
 * "infer N W" starts from a copy of this buffer. */
static uint8_t *tk_ee_store;
static uint32_t tk_ee_store_bytes;

void tk_eembc_set_buffer(uint8_t *buffer, uint32_t bytes) {
  tk_ee_store = buffer;
  tk_ee_store_bytes = bytes;
}

static TkStatus tk_ee_invoke(void) {
  if (tk_ee_store != NULL) {
    uint32_t n = tk_model_info()->input.bytes;
    memcpy(tk_model_input(), tk_ee_store, n < tk_ee_store_bytes ? n : tk_ee_store_bytes);
  }
  return tk_model_invoke(NULL);
}

/* ---- output ----------------------------------------------------------------- */
static void tk_ee_puts(const char *s) { tk_hal_write((const uint8_t *)s, strlen(s)); }

static void tk_ee_put_u32(uint32_t v) {
  char buf[11];
  size_t i = sizeof buf;
  do {
    buf[--i] = (char)('0' + (v % 10u));
    v /= 10u;
  } while (v != 0u);
  tk_hal_write((const uint8_t *)buf + i, sizeof buf - i);
}

static void tk_ee_line_u32(const char *prefix, uint32_t v) {
  tk_ee_puts(prefix);
  tk_ee_put_u32(v);
  tk_ee_puts("\r\n");
}

static void tk_ee_error(const char *what) {
  tk_ee_puts("e-[");
  tk_ee_puts(what);
  tk_ee_puts("]\r\n");
}

/* A real value with 3 decimals, rounded half away from zero. */
static void tk_ee_put_fixed3(float x) {
  float scaled = x * 1000.0f;
  uint32_t milli;
  uint8_t frac[3];
  if (scaled < 0.0f) {
    tk_ee_puts("-");
    scaled = -scaled;
  }
  if (scaled > 4.0e9f) scaled = 4.0e9f;
  milli = (uint32_t)(scaled + 0.5f);
  tk_ee_put_u32(milli / 1000u);
  tk_ee_puts(".");
  frac[0] = (uint8_t)('0' + (milli / 100u) % 10u);
  frac[1] = (uint8_t)('0' + (milli / 10u) % 10u);
  frac[2] = (uint8_t)('0' + milli % 10u);
  tk_hal_write(frac, 3u);
}

/* Output element i as a real number. */
static float tk_ee_output_value(const TkTensorInfo *t, const void *data, uint32_t i) {
  float q;
  switch (t->type) {
    case TK_INT8: q = (float)((const int8_t *)data)[i]; break;
    case TK_UINT8: q = (float)((const uint8_t *)data)[i]; break;
    case TK_INT16: q = (float)((const int16_t *)data)[i]; break;
    case TK_INT32: q = (float)((const int32_t *)data)[i]; break;
    default: return ((const float *)data)[i];
  }
  if (t->scale == 0.0f) return q;
  return t->scale * (q - (float)t->zero_point);
}

static uint32_t tk_ee_type_size(TkType type) {
  switch (type) {
    case TK_INT8:
    case TK_UINT8: return 1u;
    case TK_INT16: return 2u;
    default: return 4u;
  }
}

static void tk_ee_results(void) {
  const TkTensorInfo *t = &tk_model_info()->output;
  const void *data = tk_model_output();
  uint32_t n = t->bytes / tk_ee_type_size(t->type);
  uint32_t i;
  if (!tk_ee.have_output) {
    tk_ee_error("no inference yet: send infer N%");
    return;
  }
  tk_ee_puts("m-results-[");
  for (i = 0; i < n; i++) {
    if (i > 0u) tk_ee_puts(",");
    tk_ee_put_fixed3(tk_ee_output_value(t, data, i));
  }
  tk_ee_puts("]\r\n");
}

/* ---- parsing ---------------------------------------------------------------- */
/* Next space-separated word of *s (NUL-terminated in place), or NULL. */
static char *tk_ee_word(char **s) {
  char *start = *s;
  while (*start == ' ') start++;
  if (*start == '\0') return NULL;
  *s = start;
  while (**s != '\0' && **s != ' ') (*s)++;
  if (**s == ' ') *(*s)++ = '\0';
  return start;
}

/* Decimal uint32 (<= 10^9); 0 on success. */
static int tk_ee_parse_u32(const char *s, uint32_t *out) {
  uint32_t v = 0;
  if (s == NULL || *s == '\0') return -1;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9' || v > 100000000u) return -1;
    v = v * 10u + (uint32_t)(*s - '0');
  }
  *out = v;
  return 0;
}

static int tk_ee_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* ---- commands --------------------------------------------------------------- */
static void tk_ee_db(char *rest) {
  const TkModelInfo *m = tk_model_info();
  char *w = tk_ee_word(&rest);
  uint8_t *input = tk_ee_store != NULL ? tk_ee_store : (uint8_t *)tk_model_input();
  uint32_t capacity = tk_ee_store != NULL ? tk_ee_store_bytes : m->input.bytes;
  if (w == NULL) {
    tk_ee_error("db needs: load N | <hex bytes>");
    return;
  }
  if (strcmp(w, "load") == 0) {
    uint32_t n;
    if (tk_ee_parse_u32(tk_ee_word(&rest), &n) != 0 || n == 0u || n > m->input.bytes || n > capacity) {
      tk_ee_error("db load N: N must be 1..input bytes");
      return;
    }
    tk_ee.load_expected = n;
    tk_ee.load_count = 0;
    tk_ee_puts("m-[Expecting ");
    tk_ee_put_u32(n);
    tk_ee_puts(" bytes]\r\n");
    return;
  }
  if (tk_ee.load_expected == 0u) {
    tk_ee_error("db: send db load N% first");
    return;
  }
  for (; w[0] != '\0'; w += 2) {
    int hi = tk_ee_hex(w[0]);
    int lo = w[1] != '\0' ? tk_ee_hex(w[1]) : -1;
    if (hi < 0 || lo < 0) {
      tk_ee_error("db: bad hex byte");
      return;
    }
    if (tk_ee.load_count >= tk_ee.load_expected) {
      tk_ee_error("db: more bytes than db load N announced");
      return;
    }
    input[tk_ee.load_count++] = (uint8_t)((hi << 4) | lo);
  }
  if (tk_ee.load_count == tk_ee.load_expected) tk_ee_puts("m-load-done\r\n");
}

static void tk_ee_infer(char *rest) {
  uint32_t n, warmup = TK_EEMBC_DEFAULT_WARMUP, t0, t1, i;
  char *w = tk_ee_word(&rest);
  TkStatus st = TK_OK;
  if (tk_ee_parse_u32(w, &n) != 0 || n == 0u) {
    tk_ee_error("infer N [W]: N must be >= 1");
    return;
  }
  w = tk_ee_word(&rest);
  if (w != NULL && tk_ee_parse_u32(w, &warmup) != 0) {
    tk_ee_error("infer N [W]: W must be a number");
    return;
  }
  if (!tk_ee.model_ready) {
    tk_ee_error("model not ready");
    return;
  }
  tk_ee_line_u32("m-warmup-start-", warmup);
  for (i = 0; i < warmup && st == TK_OK; i++) st = tk_ee_invoke();
  tk_ee_puts("m-warmup-done\r\n");
  tk_ee_line_u32("m-infer-start-", n);
  t0 = tk_hal_micros();
  for (i = 0; i < n && st == TK_OK; i++) st = tk_ee_invoke();
  t1 = tk_hal_micros();
  tk_ee_line_u32("m-lap-us-", t0);
  tk_ee_line_u32("m-lap-us-", t1);
  tk_ee_puts("m-infer-done\r\n");
  tk_ee.have_output = (st == TK_OK);
  if (st != TK_OK) {
    tk_ee_error("inference failed");
    return;
  }
  tk_ee_results();
}

static void tk_ee_command(char *line) {
  char *rest = line;
  char *w = tk_ee_word(&rest);
  if (tk_ee.overflow) {
    tk_ee_error("command too long");
  } else if (w == NULL) {
    /* an empty command: just m-ready */
  } else if (strcmp(w, "name") == 0) {
    tk_ee_puts("m-name-dut-[tinykit-");
    tk_ee_puts(tk_hal_board());
    tk_ee_puts("]\r\n");
  } else if (strcmp(w, "profile") == 0) {
    tk_ee_puts("m-profile-[tinykit " TK_VERSION "]\r\nm-model-[");
    tk_ee_puts(tk_model_info()->name);
    tk_ee_puts("]\r\n");
  } else if (strcmp(w, "timestamp") == 0) {
    tk_ee_line_u32("m-lap-us-", tk_hal_micros());
  } else if (strcmp(w, "db") == 0) {
    tk_ee_db(rest);
  } else if (strcmp(w, "infer") == 0) {
    tk_ee_infer(rest);
  } else if (strcmp(w, "results") == 0) {
    tk_ee_results();
  } else {
    tk_ee_puts("e-[Unknown command: ");
    tk_ee_puts(w);
    tk_ee_puts("]\r\n");
  }
  tk_ee_puts("m-ready\r\n");
}

/* ---- public API ------------------------------------------------------------- */
void tk_eembc_init(void) {
  memset(&tk_ee, 0, sizeof tk_ee);
  tk_ee.model_ready = (tk_model_init() == TK_OK);
}

void tk_eembc_banner(void) {
  tk_ee_puts("m-timestamp-mode-performance\r\n");
  tk_ee_line_u32("m-lap-us-", tk_hal_micros());
  tk_ee_puts(tk_ee.model_ready ? "m-init-done\r\n" : "e-[model init failed]\r\n");
  tk_ee_puts("m-ready\r\n");
}

void tk_eembc_poll(void) {
  int c;
  while ((c = tk_hal_read()) >= 0) {
    if (c == '%') {
      tk_ee.cmd[tk_ee.cmd_len] = '\0';
      tk_ee_command(tk_ee.cmd);
      tk_ee.cmd_len = 0;
      tk_ee.overflow = 0;
    } else if (c == '\r' || c == '\n') {
      /* line endings between commands are ignored */
    } else if (tk_ee.cmd_len + 1u < TK_EEMBC_CMD_MAX) {
      tk_ee.cmd[tk_ee.cmd_len++] = (char)c;
    } else {
      tk_ee.overflow = 1;
    }
  }
}
