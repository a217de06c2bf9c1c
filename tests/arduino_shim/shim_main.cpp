/* Arduino shim runtime for host tests: stdin/stdout serial, host clock,
 * and the Arduino main loop. Exits when stdin is closed and drained. */
#include "Arduino.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

ShimSerial Serial;
static int shim_eof = 0;

void ShimSerial::begin(unsigned long baud) { (void)baud; }

size_t ShimSerial::write(const uint8_t *data, size_t n) { return fwrite(data, 1, n, stdout); }

void ShimSerial::flush() { fflush(stdout); }

int ShimSerial::available() {
  struct pollfd p = {0, POLLIN, 0};
  if (shim_eof) return 0;
  return poll(&p, 1, 0) > 0 ? 1 : 0;
}

int ShimSerial::read() {
  unsigned char c;
  ssize_t n = ::read(0, &c, 1);
  if (n <= 0) {
    shim_eof = 1;
    return -1;
  }
  return c;
}

unsigned long micros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long)(ts.tv_sec * 1000000UL + ts.tv_nsec / 1000UL);
}

unsigned long millis() { return micros() / 1000UL; }

void delay(unsigned long ms) { usleep((useconds_t)(ms * 1000UL)); }

int main() {
  setup();
  for (;;) {
    loop();
    if (shim_eof) {
      fflush(stdout);
      return 0;
    }
    struct pollfd p = {0, POLLIN, 1};
    poll(&p, 1, 1);
    if (p.revents & POLLHUP) {
      while (Serial.available()) loop();
      shim_eof = 1;
    }
  }
}
