/* A minimal Arduino API shim: lets host g++ compile (and run) the sources of
 * a real-board project (ESP32-S3, STM32, Nicla) in tests. It is NOT a board:
 * `Serial` reads stdin and writes stdout, micros() is the host clock. */
#ifndef TK_ARDUINO_SHIM_H
#define TK_ARDUINO_SHIM_H

#include <stddef.h>
#include <stdint.h>

class ShimSerial {
 public:
  void begin(unsigned long baud);
  explicit operator bool() const { return true; }
  size_t write(const uint8_t *data, size_t n);
  size_t write(uint8_t byte) { return write(&byte, 1); }
  int available();
  int read();
  void flush();
};

extern ShimSerial Serial;

unsigned long millis();
unsigned long micros();
void delay(unsigned long ms);

void setup();
void loop();

#endif
