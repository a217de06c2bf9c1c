/* tinykit runtime: CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) as in
 * zlib's crc32() and Python's zlib.crc32(). Internal header. Plain C99. */
#ifndef TK_CRC_H
#define TK_CRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Continue a CRC-32 over n more bytes. Start with crc = 0; the result equals
 * zlib.crc32(data, crc), so chunks can be chained. */
uint32_t tk_crc32(uint32_t crc, const uint8_t *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TK_CRC_H */
