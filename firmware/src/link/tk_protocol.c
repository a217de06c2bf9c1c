/* tinykit runtime: the framed binary inference protocol over the board UART.
 *
 * Frame (all integers little-endian):
 *
 *   offset  size  field
 *   0       2     sync: 0xA5 0x5A
 *   2       1     type (request; a reply is type | 0x80; an error reply is 0xFF)
 *   3       1     seq: chosen by the host, echoed in the reply
 *   4       2     len: payload bytes, 0..TK_PROTO_MAX_PAYLOAD (256)
 *   6       len   payload
 *   6+len   4     CRC-32 (zlib) over bytes 2 .. 6+len-1 (type, seq, len, payload)
 *
 * Requests and replies (payload layouts):
 *   0x01 INFO         ()                -> u8 proto, u16 max_payload, u32 arena_bytes,
 *                                          u32 n_layers, tensor in, tensor out,
 *                                          str name, str hash, str runtime, str board,
 *                                          str firmware
 *                     tensor = u8 type, u8 rank, i32 dims[5], u32 bytes, f32 scale,
 *                              i32 zero_point; str = u8 n + n bytes (n <= 32)
 *   0x02 SET_INPUT    (u32 off, data)   -> u32 off + n (bytes written so far end here)
 *   0x03 INVOKE       ()                -> u8 status, u32 device_us, u32 out_bytes,
 *                                          u8 inline, [output bytes when inline=1]
 *                     (the output rides in the reply when it fits: <= 246 bytes)
 *   0x04 GET_OUTPUT   (u32 off, u16 n)  -> u32 off, data
 *   0x05 LAYER_TIMES  (u16 first)       -> u16 first, u16 n_layers, u32 us[] (<= 63)
 *   0xFF error reply                    -> u8 code (TkProtoError), u8 request type
 *
 * Receiving: bytes outside a frame are skipped; a header with a bad length or a
 * frame with a bad CRC is answered with an error frame and the receiver rescans
 * from the byte after its sync, so a good frame that was swallowed is found
 * again. A partial frame with no byte for TK_PROTO_FRAME_TIMEOUT_US is dropped.
 *
 * Idempotency: the last reply frame is kept. A request with the same seq and the
 * same CRC as the last one (a host retry) gets the kept reply again and is not
 * executed twice: a retried INVOKE never runs a second inference.
 *
 * RAM: rx 266 B + reply 266 B + error 12 B + TK_PROTO_MAX_LAYERS * 4 B (256 B)
 * + a few words. No malloc. */
#include <string.h>

#include "tinykit.h"
#include "tk_crc.h"

#ifndef TK_PROTO_MAX_PAYLOAD
#define TK_PROTO_MAX_PAYLOAD 256u
#endif
#ifndef TK_PROTO_FRAME_TIMEOUT_US
#define TK_PROTO_FRAME_TIMEOUT_US 100000u
#endif
#ifndef TK_PROTO_MAX_LAYERS
#define TK_PROTO_MAX_LAYERS 64u
#endif

#define TK_PROTO_VERSION 1u
#define TK_PROTO_SYNC0 0xA5u
#define TK_PROTO_SYNC1 0x5Au
#define TK_PROTO_HEADER 6u
#define TK_PROTO_CRC 4u
#define TK_PROTO_FRAME_MAX (TK_PROTO_HEADER + TK_PROTO_MAX_PAYLOAD + TK_PROTO_CRC)
#define TK_PROTO_MAX_STR 32u
#define TK_PROTO_INVOKE_HEAD 10u

typedef enum TkProtoType {
  TK_PROTO_INFO = 0x01,
  TK_PROTO_SET_INPUT = 0x02,
  TK_PROTO_INVOKE = 0x03,
  TK_PROTO_GET_OUTPUT = 0x04,
  TK_PROTO_LAYER_TIMES = 0x05,
  TK_PROTO_REPLY = 0x80,
  TK_PROTO_ERROR = 0xFF
} TkProtoType;

typedef enum TkProtoError {
  TK_PERR_BAD_CRC = 1,
  TK_PERR_UNKNOWN_TYPE = 2,
  TK_PERR_BAD_LENGTH = 3,
  TK_PERR_BAD_OFFSET = 4,
  TK_PERR_NOT_READY = 5,
  TK_PERR_INVOKE_FAILED = 6
} TkProtoError;

typedef struct TkProtoState {
  uint8_t rx[TK_PROTO_FRAME_MAX];
  size_t rx_len;
  uint32_t rx_last_us;
  uint8_t reply[TK_PROTO_FRAME_MAX]; /* the last reply frame (retry cache) */
  size_t reply_len;
  int cache_valid;
  uint8_t cache_seq;
  uint32_t cache_crc;
  int model_ready;
  int have_output;
  int have_layers;
  uint32_t layer_us[TK_PROTO_MAX_LAYERS];
} TkProtoState;

static TkProtoState tk_proto;

/* ---- little-endian helpers ------------------------------------------------ */
static void tk_put_u16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v & 0xFFu);
  p[1] = (uint8_t)((v >> 8) & 0xFFu);
}

static void tk_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v & 0xFFu);
  p[1] = (uint8_t)((v >> 8) & 0xFFu);
  p[2] = (uint8_t)((v >> 16) & 0xFFu);
  p[3] = (uint8_t)((v >> 24) & 0xFFu);
}

static uint32_t tk_get_u16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

static uint32_t tk_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ---- frame writing -------------------------------------------------------- */
/* Header + CRC around a payload already placed at frame + TK_PROTO_HEADER. */
static size_t tk_proto_seal(uint8_t *frame, uint8_t type, uint8_t seq, size_t len) {
  uint32_t crc;
  frame[0] = TK_PROTO_SYNC0;
  frame[1] = TK_PROTO_SYNC1;
  frame[2] = type;
  frame[3] = seq;
  tk_put_u16(frame + 4, (uint32_t)len);
  crc = tk_crc32(0u, frame + 2, 4u + len);
  tk_put_u32(frame + TK_PROTO_HEADER + len, crc);
  return TK_PROTO_HEADER + len + TK_PROTO_CRC;
}

/* An error reply outside the retry cache (bad CRC / length of a frame that
 * never became a request). */
static void tk_proto_send_error(uint8_t seq, uint8_t req_type, TkProtoError code) {
  uint8_t frame[TK_PROTO_HEADER + 2u + TK_PROTO_CRC];
  size_t n;
  frame[TK_PROTO_HEADER] = (uint8_t)code;
  frame[TK_PROTO_HEADER + 1u] = req_type;
  n = tk_proto_seal(frame, TK_PROTO_ERROR, seq, 2u);
  tk_hal_write(frame, n);
}

/* ---- request handlers: fill the reply payload, return its length, or a
 * negative TkProtoError. ----------------------------------------------------- */
static size_t tk_put_str(uint8_t *p, const char *s) {
  size_t n = 0;
  if (s != NULL) {
    while (s[n] != '\0' && n < TK_PROTO_MAX_STR) n++;
    memcpy(p + 1, s, n);
  }
  p[0] = (uint8_t)n;
  return n + 1u;
}

static size_t tk_put_tensor(uint8_t *p, const TkTensorInfo *t) {
  uint32_t scale_bits;
  int i;
  p[0] = (uint8_t)t->type;
  p[1] = (uint8_t)t->rank;
  for (i = 0; i < TK_MAX_DIMS; i++) {
    tk_put_u32(p + 2 + 4 * i, (uint32_t)(i < t->rank ? t->dims[i] : 0));
  }
  tk_put_u32(p + 22, t->bytes);
  memcpy(&scale_bits, &t->scale, sizeof scale_bits);
  tk_put_u32(p + 26, scale_bits);
  tk_put_u32(p + 30, (uint32_t)t->zero_point);
  return 34u;
}

static int tk_handle_info(uint8_t *out) {
  const TkModelInfo *m = tk_model_info();
  size_t n = 0;
  out[n++] = (uint8_t)TK_PROTO_VERSION;
  tk_put_u16(out + n, TK_PROTO_MAX_PAYLOAD);
  n += 2u;
  tk_put_u32(out + n, m->arena_bytes);
  n += 4u;
  tk_put_u32(out + n, m->n_layers);
  n += 4u;
  n += tk_put_tensor(out + n, &m->input);
  n += tk_put_tensor(out + n, &m->output);
  n += tk_put_str(out + n, m->name);
  n += tk_put_str(out + n, m->hash);
  n += tk_put_str(out + n, m->runtime);
  n += tk_put_str(out + n, tk_hal_board());
  n += tk_put_str(out + n, TK_VERSION);
  return (int)n;
}

static int tk_handle_set_input(const uint8_t *in, size_t len, uint8_t *out) {
  const TkModelInfo *m = tk_model_info();
  uint32_t off, n;
  if (len < 4u) return -(int)TK_PERR_BAD_LENGTH;
  off = tk_get_u32(in);
  n = (uint32_t)(len - 4u);
  if (off > m->input.bytes || n > m->input.bytes - off) return -(int)TK_PERR_BAD_OFFSET;
  if (!tk_proto.model_ready) return -(int)TK_PERR_NOT_READY;
  memcpy((uint8_t *)tk_model_input() + off, in + 4, n);
  tk_put_u32(out, off + n);
  return 4;
}

static int tk_handle_invoke(size_t len, uint8_t *out) {
  const TkModelInfo *m = tk_model_info();
  uint32_t t0, us;
  uint32_t *layers = NULL;
  TkStatus st;
  if (len != 0u) return -(int)TK_PERR_BAD_LENGTH;
  if (!tk_proto.model_ready) return -(int)TK_PERR_NOT_READY;
  if (m->n_layers > 0u && m->n_layers <= TK_PROTO_MAX_LAYERS) layers = tk_proto.layer_us;
  t0 = tk_hal_micros();
  st = tk_model_invoke(layers);
  us = tk_hal_micros() - t0;
  tk_proto.have_output = (st == TK_OK);
  tk_proto.have_layers = (st == TK_OK && layers != NULL);
  out[0] = (uint8_t)st;
  tk_put_u32(out + 1, us);
  tk_put_u32(out + 5, m->output.bytes);
  out[9] = 0u;
  if (st == TK_OK && m->output.bytes <= TK_PROTO_MAX_PAYLOAD - TK_PROTO_INVOKE_HEAD) {
    out[9] = 1u;
    memcpy(out + TK_PROTO_INVOKE_HEAD, tk_model_output(), m->output.bytes);
    return (int)(TK_PROTO_INVOKE_HEAD + m->output.bytes);
  }
  return (int)TK_PROTO_INVOKE_HEAD;
}

static int tk_handle_get_output(const uint8_t *in, size_t len, uint8_t *out) {
  const TkModelInfo *m = tk_model_info();
  uint32_t off, n;
  if (len != 6u) return -(int)TK_PERR_BAD_LENGTH;
  off = tk_get_u32(in);
  n = tk_get_u16(in + 4);
  if (n > TK_PROTO_MAX_PAYLOAD - 4u || off > m->output.bytes || n > m->output.bytes - off) {
    return -(int)TK_PERR_BAD_OFFSET;
  }
  if (!tk_proto.have_output) return -(int)TK_PERR_NOT_READY;
  tk_put_u32(out, off);
  memcpy(out + 4, (const uint8_t *)tk_model_output() + off, n);
  return (int)(4u + n);
}

static int tk_handle_layer_times(const uint8_t *in, size_t len, uint8_t *out) {
  const TkModelInfo *m = tk_model_info();
  uint32_t first, k, i;
  if (len != 2u) return -(int)TK_PERR_BAD_LENGTH;
  if (!tk_proto.have_layers) return -(int)TK_PERR_NOT_READY;
  first = tk_get_u16(in);
  if (first > m->n_layers) return -(int)TK_PERR_BAD_OFFSET;
  k = m->n_layers - first;
  if (k > (TK_PROTO_MAX_PAYLOAD - 4u) / 4u) k = (TK_PROTO_MAX_PAYLOAD - 4u) / 4u;
  tk_put_u16(out, first);
  tk_put_u16(out + 2, m->n_layers);
  for (i = 0; i < k; i++) tk_put_u32(out + 4 + 4 * i, tk_proto.layer_us[first + i]);
  return (int)(4u + 4u * k);
}

/* ---- dispatch --------------------------------------------------------------- */
static void tk_proto_handle(const uint8_t *frame, size_t len, uint32_t crc) {
  uint8_t type = frame[2];
  uint8_t seq = frame[3];
  const uint8_t *in = frame + TK_PROTO_HEADER;
  uint8_t *out = tk_proto.reply + TK_PROTO_HEADER;
  int n;

  if (tk_proto.cache_valid && seq == tk_proto.cache_seq && crc == tk_proto.cache_crc) {
    tk_hal_write(tk_proto.reply, tk_proto.reply_len); /* a retry: same answer */
    return;
  }
  switch (type) {
    case TK_PROTO_INFO: n = len == 0u ? tk_handle_info(out) : -(int)TK_PERR_BAD_LENGTH; break;
    case TK_PROTO_SET_INPUT: n = tk_handle_set_input(in, len, out); break;
    case TK_PROTO_INVOKE: n = tk_handle_invoke(len, out); break;
    case TK_PROTO_GET_OUTPUT: n = tk_handle_get_output(in, len, out); break;
    case TK_PROTO_LAYER_TIMES: n = tk_handle_layer_times(in, len, out); break;
    default: n = -(int)TK_PERR_UNKNOWN_TYPE; break;
  }
  if (n >= 0) {
    tk_proto.reply_len = tk_proto_seal(tk_proto.reply, (uint8_t)(type | TK_PROTO_REPLY), seq,
                                       (size_t)n);
  } else {
    out[0] = (uint8_t)(-n);
    out[1] = type;
    tk_proto.reply_len = tk_proto_seal(tk_proto.reply, TK_PROTO_ERROR, seq, 2u);
  }
  tk_proto.cache_valid = 1;
  tk_proto.cache_seq = seq;
  tk_proto.cache_crc = crc;
  tk_hal_write(tk_proto.reply, tk_proto.reply_len);
}

/* Drop the first n buffered bytes. */
static void tk_proto_consume(size_t n) {
  if (n >= tk_proto.rx_len) {
    tk_proto.rx_len = 0;
    return;
  }
  memmove(tk_proto.rx, tk_proto.rx + n, tk_proto.rx_len - n);
  tk_proto.rx_len -= n;
}

/* Answer every complete frame in the buffer; skip what cannot start one. */
static void tk_proto_scan(void) {
  for (;;) {
    size_t len, total;
    uint32_t crc;
    uint8_t *rx = tk_proto.rx;
    if (tk_proto.rx_len == 0u) return;
    if (rx[0] != TK_PROTO_SYNC0 || (tk_proto.rx_len >= 2u && rx[1] != TK_PROTO_SYNC1)) {
      tk_proto_consume(1u);
      continue;
    }
    if (tk_proto.rx_len < TK_PROTO_HEADER) return;
    len = tk_get_u16(rx + 4);
    if (len > TK_PROTO_MAX_PAYLOAD) {
      tk_proto_send_error(rx[3], rx[2], TK_PERR_BAD_LENGTH);
      tk_proto_consume(1u);
      continue;
    }
    total = TK_PROTO_HEADER + len + TK_PROTO_CRC;
    if (tk_proto.rx_len < total) return;
    crc = tk_crc32(0u, rx + 2, 4u + len);
    if (crc != tk_get_u32(rx + TK_PROTO_HEADER + len)) {
      tk_proto_send_error(rx[3], rx[2], TK_PERR_BAD_CRC);
      tk_proto_consume(1u);
      continue;
    }
    tk_proto_handle(rx, len, crc);
    tk_proto_consume(total);
  }
}

/* ---- public API ------------------------------------------------------------ */
void tk_protocol_init(void) {
  memset(&tk_proto, 0, sizeof tk_proto);
  tk_proto.model_ready = (tk_model_init() == TK_OK);
  tk_proto.rx_last_us = tk_hal_micros();
}

void tk_protocol_banner(void) {
  const TkModelInfo *m = tk_model_info();
  static const char *const keys[4] = {" model=", " hash=", " runtime=", " board="};
  const char *vals[4];
  int i;
  vals[0] = m->name;
  vals[1] = m->hash;
  vals[2] = m->runtime;
  vals[3] = tk_hal_board();
  tk_hal_write((const uint8_t *)"tinykit " TK_VERSION, sizeof("tinykit " TK_VERSION) - 1u);
  for (i = 0; i < 4; i++) {
    const char *v = vals[i] != NULL ? vals[i] : "?";
    tk_hal_write((const uint8_t *)keys[i], strlen(keys[i]));
    tk_hal_write((const uint8_t *)v, strlen(v));
  }
  if (!tk_proto.model_ready) {
    tk_hal_write((const uint8_t *)" status=not-ready", 17u);
  }
  tk_hal_write((const uint8_t *)"\r\n", 2u);
}

void tk_protocol_poll(void) {
  int c;
  uint32_t now = tk_hal_micros();
  if (tk_proto.rx_len > 0u && (uint32_t)(now - tk_proto.rx_last_us) > TK_PROTO_FRAME_TIMEOUT_US) {
    tk_proto.rx_len = 0; /* a partial frame went quiet: drop it */
  }
  while ((c = tk_hal_read()) >= 0) {
    tk_proto.rx[tk_proto.rx_len++] = (uint8_t)c;
    tk_proto.rx_last_us = tk_hal_micros();
    tk_proto_scan();
  }
}
