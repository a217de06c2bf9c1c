/* tinykit runtime: the MLPerf Tiny (EEMBC energy runner) "performance mode"
 * text protocol, so the official runner (mlcommons/tiny benchmark/runner) can
 * drive a tinykit firmware as it drives the reference firmwares.
 *
 * Our reading of the runner and of the reference firmwares' api/ code, 115200
 * 8N1: the host sends ASCII commands ending in '%'; the DUT answers with lines
 * "m-..." and ends every command with "m-ready"; errors are "e-[...]" lines
 * (still followed by "m-ready"). The runner ignores e- lines, so an error must
 * never leave a result behind that looks valid.
 *
 *   boot           -> m-timestamp-mode-performance, m-lap-us-<t>, m-init-done, m-ready
 *   name%          -> m-name-dut-[tinykit-<board>]
 *   profile%       -> m-profile-[tinykit <version>], m-model-[<task key or model name>]
 *   help%          -> the command list (plain lines)
 *   timestamp%     -> m-lap-us-<micros>
 *   db load N%     -> m-[Expecting N bytes]             (N <= the db buffer)
 *   db <hex>%      -> (nothing) ... m-load-done once N bytes have arrived; hex
 *                     beyond the N announced bytes is dropped (the runner sends
 *                     31 bytes per command, so the last one may be short)
 *   db print%      -> m-buffer-xx-xx-..., 8 bytes per line, the N announced bytes
 *   infer [N [W]]% -> m-warmup-start-W, m-warmup-done, m-infer-start-N,
 *                     m-lap-us-<t0>, m-lap-us-<t1>, m-infer-done, m-results-[...]
 *                     (N defaults to 1, W to 10). Unless exactly one input's
 *                     bytes were loaded since the last "db load":
 *                     e-[Input db has <got> elemented, expected <want>], no run.
 *   results%       -> m-results-[...] of the last inference
 *
 * The task (tk_eembc_set_task) says what the db bytes are, as in the reference
 * firmware of each task: int8 input (kws01), uint8 pixels the device shifts by
 * -128 (ic01, vww01), or float32 the device quantizes (ad01). m-results lists
 * the output dequantized (scale * (q - zero_point), or the raw value when the
 * scale is 0) with 3 decimals, or for ad01 one value: the mean squared error
 * between the float input and the dequantized output.
 *
 * RAM: a 128-byte command buffer + a few words; the db buffer (and for ad01 the
 * quantized input) belong to the caller. No malloc, no printf. */
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
  uint32_t load_expected; /* N of the last "db load N" */
  uint32_t load_count;    /* bytes received since */
  int have_output;
  float score; /* TK_EEMBC_OUT_MSE: the last inference's */
} TkEembcState;

static TkEembcState tk_ee;

/* Where "db" bytes are kept, and what they are (not reset by tk_eembc_init).
 * The model's input buffer is not enough: the arena reuses it during an
 * inference (as TFLM's does), so every run of "infer N W" starts from a copy
 * of the db buffer. */
static TkEembcTask tk_ee_task;

void tk_eembc_set_buffer(uint8_t *buffer, uint32_t bytes) {
  tk_ee_task.db = buffer;
  tk_ee_task.db_bytes = bytes;
}

void tk_eembc_set_task(const TkEembcTask *task) { tk_ee_task = *task; }

/* Bytes per input element in the db buffer. */
static uint32_t tk_ee_db_elem(void) { return tk_ee_task.input == TK_EEMBC_IN_FLOAT32 ? 4u : 1u; }

/* db bytes of one complete input. */
static uint32_t tk_ee_db_want(void) { return tk_model_info()->input.bytes * tk_ee_db_elem(); }

/* The db buffer and its size: the caller's, or the model input itself. */
static uint8_t *tk_ee_db(uint32_t *capacity) {
  if (tk_ee_task.db != NULL) {
    *capacity = tk_ee_task.db_bytes;
    return tk_ee_task.db;
  }
  *capacity = tk_model_info()->input.bytes;
  return (uint8_t *)tk_model_input();
}

/* Float element i of the db buffer (little-endian float32, any alignment). */
static float tk_ee_db_float(uint32_t i) {
  float x;
  memcpy(&x, tk_ee_task.db + 4u * i, sizeof x);
  return x;
}

/* round(x / scale) + zero_point, clamped to int8; round half away from zero, as
 * the reference firmware's QuantizeFloatToInt8 (roundf) does, without libm. */
static int8_t tk_ee_quantize(float x, float scale, int32_t zero_point) {
  float v = x / scale;
  int32_t q;
  float frac;
  if (!(v == v)) v = 0.0f; /* NaN */
  if (v > 1.0e6f) v = 1.0e6f;
  if (v < -1.0e6f) v = -1.0e6f;
  q = (int32_t)v; /* toward zero */
  frac = v - (float)q;
  if (frac >= 0.5f) q++;
  if (frac <= -0.5f) q--;
  q += zero_point;
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return (int8_t)q;
}

/* Before the timed loop: FLOAT32 inputs are quantized once (as the reference's
 * th_load_tensor does before the warmup). */
static void tk_ee_prepare(void) {
  const TkTensorInfo *in = &tk_model_info()->input;
  uint32_t i;
  if (tk_ee_task.input != TK_EEMBC_IN_FLOAT32 || tk_ee_task.quantized == NULL) return;
  for (i = 0; i < in->bytes; i++) {
    tk_ee_task.quantized[i] = tk_ee_quantize(tk_ee_db_float(i), in->scale, in->zero_point);
  }
}

static TkStatus tk_ee_invoke(void) {
  uint32_t n = tk_model_info()->input.bytes, i;
  uint8_t *dst = (uint8_t *)tk_model_input();
  if (tk_ee_task.db != NULL) {
    switch (tk_ee_task.input) {
      case TK_EEMBC_IN_UINT8: /* byte - 128 as int8 is the byte with its top bit flipped */
        for (i = 0; i < n; i++) dst[i] = (uint8_t)(tk_ee_task.db[i] ^ 0x80u);
        break;
      case TK_EEMBC_IN_FLOAT32:
        if (tk_ee_task.quantized == NULL) return TK_BAD_ARGUMENT;
        memcpy(dst, tk_ee_task.quantized, n);
        break;
      default:
        memcpy(dst, tk_ee_task.db, n < tk_ee_task.db_bytes ? n : tk_ee_task.db_bytes);
        break;
    }
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

/* The ad01 score: mean over the input of (dequantized output - float input)^2. */
static float tk_ee_mse(void) {
  const TkTensorInfo *t = &tk_model_info()->output;
  const void *data = tk_model_output();
  uint32_t n = tk_model_info()->input.bytes, i;
  float sum = 0.0f;
  if (n == 0u || tk_ee_task.db == NULL) return 0.0f;
  for (i = 0; i < n; i++) {
    float diff = tk_ee_output_value(t, data, i) - tk_ee_db_float(i);
    sum += diff * diff;
  }
  return sum / (float)n;
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
  if (tk_ee_task.output == TK_EEMBC_OUT_MSE) {
    tk_ee_put_fixed3(tk_ee.score);
  } else {
    for (i = 0; i < n; i++) {
      if (i > 0u) tk_ee_puts(",");
      tk_ee_put_fixed3(tk_ee_output_value(t, data, i));
    }
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
static void tk_ee_db_print(void) {
  static const char digits[] = "0123456789abcdef";
  uint32_t capacity, i;
  const uint8_t *db = tk_ee_db(&capacity);
  uint32_t n = tk_ee.load_expected < capacity ? tk_ee.load_expected : capacity;
  for (i = 0; i < n; i++) {
    uint8_t hex[2];
    if (i % 8u == 0u) tk_ee_puts("m-buffer-");
    hex[0] = (uint8_t)digits[db[i] >> 4];
    hex[1] = (uint8_t)digits[db[i] & 15u];
    tk_hal_write(hex, 2u);
    tk_ee_puts((i + 1u) % 8u == 0u || i + 1u == n ? "\r\n" : "-");
  }
}

static void tk_ee_cmd_db(char *rest) {
  uint32_t capacity;
  uint8_t *db = tk_ee_db(&capacity);
  char *w = tk_ee_word(&rest);
  size_t len, k;
  if (w == NULL) {
    tk_ee_error("db needs: load N | <hex bytes> | print");
    return;
  }
  if (strcmp(w, "load") == 0) {
    uint32_t n;
    if (tk_ee_parse_u32(tk_ee_word(&rest), &n) != 0 || n == 0u || n > capacity) {
      tk_ee_puts("e-[db load N: N must be 1..");
      tk_ee_put_u32(capacity);
      tk_ee_puts(" (the db buffer)]\r\n");
      return;
    }
    tk_ee.load_expected = n;
    tk_ee.load_count = 0;
    tk_ee_puts("m-[Expecting ");
    tk_ee_put_u32(n);
    tk_ee_puts(" bytes]\r\n");
    return;
  }
  if (strcmp(w, "print") == 0) {
    tk_ee_db_print();
    return;
  }
  if (tk_ee.load_expected == 0u) {
    tk_ee_error("db: send db load N% first");
    return;
  }
  len = strlen(w);
  if (len % 2u != 0u) {
    tk_ee_error("db: odd number of hex digits");
    return;
  }
  for (k = 0; k < len; k++) {
    if (tk_ee_hex(w[k]) < 0) {
      tk_ee_error("db: bad hex digit");
      return;
    }
  }
  if (tk_ee.load_count >= tk_ee.load_expected) {
    tk_ee_error("db: all bytes of db load N already arrived");
    return;
  }
  for (k = 0; k < len && tk_ee.load_count < tk_ee.load_expected; k += 2u) {
    db[tk_ee.load_count++] = (uint8_t)((tk_ee_hex(w[k]) << 4) | tk_ee_hex(w[k + 1u]));
  }
  /* hex past the N announced bytes is dropped, as the reference firmware does */
  if (tk_ee.load_count == tk_ee.load_expected) tk_ee_puts("m-load-done\r\n");
}

static void tk_ee_infer(char *rest) {
  uint32_t n = 1u, warmup = TK_EEMBC_DEFAULT_WARMUP, t0, t1, i;
  uint32_t want = tk_ee_db_want(), elem = tk_ee_db_elem();
  char *w = tk_ee_word(&rest);
  TkStatus st = TK_OK;
  if (w != NULL && (tk_ee_parse_u32(w, &n) != 0 || n == 0u)) {
    tk_ee_error("Inference iterations must be >0");
    return;
  }
  w = tk_ee_word(&rest);
  if (w != NULL && tk_ee_parse_u32(w, &warmup) != 0) {
    tk_ee_error("Inference warmup must be >=0");
    return;
  }
  if (!tk_ee.model_ready) {
    tk_ee_error("model not ready");
    return;
  }
  if (tk_ee.load_count != want) { /* never run on stale or missing bytes */
    tk_ee_puts("e-[Input db has ");
    tk_ee_put_u32(tk_ee.load_count / elem);
    tk_ee_puts(" elemented, expected ");
    tk_ee_put_u32(want / elem);
    tk_ee_puts("]\r\n");
    return;
  }
  tk_ee.have_output = 0;
  tk_ee_prepare();
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
  if (st != TK_OK) {
    tk_ee_error("inference failed");
    return;
  }
  if (tk_ee_task.output == TK_EEMBC_OUT_MSE) tk_ee.score = tk_ee_mse();
  tk_ee.have_output = 1;
  tk_ee_results();
}

static void tk_ee_help(void) {
  tk_ee_puts("tinykit " TK_VERSION " (MLPerf Tiny runner protocol)\r\n\r\n"
             "help          : Print this information\r\n"
             "name          : Print the name of the device\r\n"
             "profile       : Print the firmware and the model (task) key\r\n"
             "timestamp     : Print a timestamp (m-lap-us-)\r\n"
             "db SUBCMD     : Manipulate the input byte buffer\r\n"
             "  load N      : Expect N bytes, reset the load counter\r\n"
             "  HH[HH]*     : Load 8-bit hex byte(s) until N bytes\r\n"
             "  print       : Print the N bytes as hex, 8 per line\r\n"
             "infer [N [W]] : Run N (1) inferences after W (10) warmup runs\r\n"
             "results       : Print the results of the last inference\r\n");
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
    tk_ee_puts(tk_ee_task.model != NULL ? tk_ee_task.model : tk_model_info()->name);
    tk_ee_puts("]\r\n");
  } else if (strcmp(w, "help") == 0) {
    tk_ee_help();
  } else if (strcmp(w, "timestamp") == 0) {
    tk_ee_line_u32("m-lap-us-", tk_hal_micros());
  } else if (strcmp(w, "db") == 0) {
    tk_ee_cmd_db(rest);
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
