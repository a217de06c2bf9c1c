/* tinykit runtime: the one public header.
 *
 * A generated model (model.c/model.h from `tinykit build` or `tinykit verify`)
 * implements the model API below on top of the kernels in firmware/src/kernels/
 * (internal header tk_kernels.h); a board implements the HAL; the serial
 * protocols in firmware/src/link/ (tk_protocol.c, tk_eembc.c) use both. Plain
 * C99, no malloc: the generated model owns one static arena. */
#ifndef TINYKIT_H
#define TINYKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TK_VERSION "0.1.0"
#define TK_MAX_DIMS 5

typedef enum TkStatus {
  TK_OK = 0,
  TK_ERROR = 1,
  TK_BAD_ARGUMENT = 2,
  TK_UNSUPPORTED = 3
} TkStatus;

typedef enum TkType {
  TK_INT8 = 0,
  TK_FLOAT32 = 1,
  TK_INT32 = 2,
  TK_INT16 = 3,
  TK_UINT8 = 4
} TkType;

typedef struct TkTensorInfo {
  int32_t rank;
  int32_t dims[TK_MAX_DIMS];
  uint32_t bytes;     /* total size in bytes */
  TkType type;
  float scale;        /* 0 when not quantized */
  int32_t zero_point;
} TkTensorInfo;

typedef struct TkModelInfo {
  const char *name;     /* model name */
  const char *hash;     /* 16 hex chars: first 64 bits of SHA-256 of the .tflite */
  const char *runtime;  /* "aot" or "tflm" */
  uint32_t arena_bytes; /* RAM for activations (+ scratch) */
  uint32_t n_layers;    /* ops, for per-layer timings */
  TkTensorInfo input;
  TkTensorInfo output;
} TkModelInfo;

/* ---- model API (implemented by generated code) ---------------------------- */
const TkModelInfo *tk_model_info(void);
/* Prepare the model (idempotent); TK_OK when ready. */
TkStatus tk_model_init(void);
/* Where to write the input (input.bytes) and read the output (output.bytes).
 * Both live in the arena, which an inference reuses (as TFLM's does): write the
 * input before EVERY tk_model_invoke; read the output before the next one. */
void *tk_model_input(void);
const void *tk_model_output(void);
/* Run one inference. layer_us: NULL, or n_layers entries that receive the
 * microseconds each layer took (tk_hal_micros). */
TkStatus tk_model_invoke(uint32_t *layer_us);

/* ---- board HAL (implemented per board) ------------------------------------- */
void tk_hal_init(void);
/* Write n bytes to the serial port (blocking). */
void tk_hal_write(const uint8_t *data, size_t n);
/* One byte from the serial port, or -1 when none is waiting (non-blocking). */
int tk_hal_read(void);
/* Monotonic microseconds since boot (wraps at 2^32). */
uint32_t tk_hal_micros(void);
/* Board id string, e.g. "qemu-m4". */
const char *tk_hal_board(void);

/* ---- serial protocol (src/link/tk_protocol.c: framed binary; src/link/tk_eembc.c:
 * MLPerf Tiny text protocol). Device main: tk_hal_init(); tk_model_init();
 * tk_protocol_init(); tk_protocol_banner(); for (;;) tk_protocol_poll();
 * (or the tk_eembc_* trio). ------------------------------------------------ */
/* Reset the receiver and the retry cache; calls tk_model_init(). */
void tk_protocol_init(void);
/* One text line: "tinykit <version> model=<name> hash=<hash> runtime=<rt> board=<id>". */
void tk_protocol_banner(void);
/* Non-blocking: consume waiting bytes, answer every complete request. */
void tk_protocol_poll(void);
void tk_eembc_init(void);
/* The buffer "db" commands fill (at least the model's input bytes), copied into
 * the model input before every inference. Without one, db bytes go straight to
 * the model input, which an inference may overwrite: then only the first
 * inference after a load sees the loaded data. */
void tk_eembc_set_buffer(uint8_t *buffer, uint32_t bytes);
/* MLPerf Tiny task (what the reference firmware of kws01/ic01/vww01/ad01 does
 * with the runner's db bytes and prints as results). */
typedef enum TkEembcInput {
  TK_EEMBC_IN_INT8 = 0,   /* db bytes are the int8 input */
  TK_EEMBC_IN_UINT8 = 1,  /* db bytes are uint8: input = byte - 128 */
  TK_EEMBC_IN_FLOAT32 = 2 /* db bytes are float32 LE, quantized on the device */
} TkEembcInput;
typedef enum TkEembcOutput {
  TK_EEMBC_OUT_VALUES = 0, /* every output element dequantized */
  TK_EEMBC_OUT_MSE = 1     /* one score: mean of (dequantized output - float input)^2 */
} TkEembcOutput;
typedef struct TkEembcTask {
  const char *model;    /* m-model-[...]: the runner's key ("kws01", ...); NULL: the model name */
  TkEembcInput input;
  TkEembcOutput output;
  uint8_t *db;          /* the db buffer: input elements x (4 for FLOAT32, else 1) bytes */
  uint32_t db_bytes;
  int8_t *quantized;    /* FLOAT32 only: input.bytes, the input quantized once per infer */
} TkEembcTask;
/* Use a task (copied; call before tk_eembc_banner). It replaces tk_eembc_set_buffer. */
void tk_eembc_set_task(const TkEembcTask *task);
/* "m-timestamp-mode-performance", "m-init-done", "m-ready" lines. */
void tk_eembc_banner(void);
/* Non-blocking: consume waiting bytes, run each command ending in '%'. */
void tk_eembc_poll(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYKIT_H */
