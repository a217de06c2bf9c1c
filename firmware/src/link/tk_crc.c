/* tinykit runtime: CRC-32 with a 16-entry (nibble) table: 64 bytes of flash,
 * two table look-ups per byte. */
#include "tk_crc.h"

static const uint32_t tk_crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t tk_crc32(uint32_t crc, const uint8_t *data, size_t n) {
  size_t i;
  uint32_t c = ~crc;
  for (i = 0; i < n; i++) {
    c ^= data[i];
    c = (c >> 4) ^ tk_crc32_nibble[c & 0x0Fu];
    c = (c >> 4) ^ tk_crc32_nibble[c & 0x0Fu];
  }
  return ~c;
}
