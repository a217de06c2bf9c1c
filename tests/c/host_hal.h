/* Test harness: the tinykit board HAL on a Linux host, the "UART" being a TCP
 * socket on 127.0.0.1 (the test connects with pyserial "socket://"). */
#ifndef TK_HOST_HAL_H
#define TK_HOST_HAL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Before tk_hal_init: TCP port to listen on (0 = any free one) and board id. */
void tk_host_hal_configure(int port, const char *board);

#ifdef __cplusplus
}
#endif

#endif /* TK_HOST_HAL_H */
