/* tinykit board HAL for Arduino cores (ESP32-S3, STM32, Nicla Vision):
 * serial over `Serial`, microseconds from `micros()`. */
#include <Arduino.h>

#include "tinykit.h"

#ifndef TK_BOARD_ID
#define TK_BOARD_ID "arduino"
#endif
#ifndef TK_SERIAL_BAUD
#define TK_SERIAL_BAUD 115200
#endif

extern "C" {

void tk_hal_init(void) {
  Serial.begin(TK_SERIAL_BAUD);
  /* USB CDC ports: wait up to 2 s for the host to open the port. */
  unsigned long start = millis();
  while (!Serial && (millis() - start) < 2000UL) {
    delay(10);
  }
}

void tk_hal_write(const uint8_t *data, size_t n) {
  Serial.write(data, n);
  Serial.flush();
}

int tk_hal_read(void) {
  if (Serial.available() > 0) {
    return Serial.read();
  }
  return -1;
}

uint32_t tk_hal_micros(void) { return (uint32_t)micros(); }

const char *tk_hal_board(void) { return TK_BOARD_ID; }

} /* extern "C" */
