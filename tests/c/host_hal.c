/* Test harness: tinykit board HAL over a TCP socket (see host_hal.h).
 *
 * tk_hal_init listens on 127.0.0.1:<port>, prints the port as one line on
 * stdout, then blocks until the host connects (like QEMU's
 * "-serial tcp::PORT,server,wait"), so the boot banner reaches the host.
 * When the host disconnects, the next tk_hal_read waits for a new connection
 * (the "device" keeps its state, as a board does when the tty is closed).
 * tk_hal_read sleeps up to 1 ms in poll() when nothing is waiting, so the
 * firmware's busy loop does not burn a CPU. */
#define _POSIX_C_SOURCE 200809L

#include "host_hal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tinykit.h"

static int tk_host_port = 0;
static const char *tk_host_board = "host-test";
static int tk_listen_fd = -1;
static int tk_conn_fd = -1;
static uint8_t tk_rx_buf[512];
static size_t tk_rx_head = 0;
static size_t tk_rx_len = 0;

void tk_host_hal_configure(int port, const char *board) {
  tk_host_port = port;
  if (board != NULL) tk_host_board = board;
}

static void tk_host_die(const char *what) {
  fprintf(stderr, "host_hal: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void tk_host_accept(void) {
  int one = 1;
  do {
    tk_conn_fd = accept(tk_listen_fd, NULL, NULL);
  } while (tk_conn_fd < 0 && errno == EINTR);
  if (tk_conn_fd < 0) tk_host_die("accept");
  setsockopt(tk_conn_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  tk_rx_head = tk_rx_len = 0;
}

void tk_hal_init(void) {
  struct sockaddr_in addr;
  socklen_t alen = sizeof addr;
  int one = 1;
  tk_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (tk_listen_fd < 0) tk_host_die("socket");
  setsockopt(tk_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((uint16_t)tk_host_port);
  if (bind(tk_listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) tk_host_die("bind");
  if (listen(tk_listen_fd, 1) != 0) tk_host_die("listen");
  if (getsockname(tk_listen_fd, (struct sockaddr *)&addr, &alen) != 0) tk_host_die("getsockname");
  printf("%d\n", (int)ntohs(addr.sin_port));
  fflush(stdout);
  tk_host_accept();
}

void tk_hal_write(const uint8_t *data, size_t n) {
  while (n > 0u && tk_conn_fd >= 0) {
    ssize_t k = send(tk_conn_fd, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return; /* host gone: bytes are lost, as on a UART with nobody listening */
    }
    data += k;
    n -= (size_t)k;
  }
}

int tk_hal_read(void) {
  if (tk_rx_head < tk_rx_len) return tk_rx_buf[tk_rx_head++];
  for (;;) {
    ssize_t k = recv(tk_conn_fd, tk_rx_buf, sizeof tk_rx_buf, MSG_DONTWAIT);
    if (k > 0) {
      tk_rx_head = 1;
      tk_rx_len = (size_t)k;
      return tk_rx_buf[0];
    }
    if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close(tk_conn_fd); /* host disconnected: wait for the next one */
      tk_host_accept();
      return -1;
    }
    if (errno == EINTR) continue;
    {
      struct pollfd p;
      p.fd = tk_conn_fd;
      p.events = POLLIN;
      p.revents = 0;
      (void)poll(&p, 1, 1);
    }
    return -1;
  }
}

uint32_t tk_hal_micros(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

const char *tk_hal_board(void) { return tk_host_board; }
