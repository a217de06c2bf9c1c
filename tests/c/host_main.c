/* Test harness firmware main for the host: the same loop a board runs.
 *
 *   host_device [--eembc [--eembc-task kws01|ic01]] [--port N] [--board ID]
 *
 * Prints the TCP port it listens on, waits for the host, prints the banner,
 * then serves the tinykit protocol (or the MLPerf Tiny text protocol). */
#include <stdlib.h>
#include <string.h>

#include "host_hal.h"
#include "tinykit.h"

/* --eembc-task: the db buffer of an MLPerf Tiny task (int8 or uint8 input bytes). */
static uint8_t host_db[4096];

int main(int argc, char **argv) {
  int eembc = 0, port = 0, i;
  const char *board = NULL, *task = NULL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--eembc") == 0) {
      eembc = 1;
    } else if (strcmp(argv[i], "--eembc-task") == 0 && i + 1 < argc) {
      task = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--board") == 0 && i + 1 < argc) {
      board = argv[++i];
    } else {
      return 2;
    }
  }
  tk_host_hal_configure(port, board);
  tk_hal_init();
  tk_model_init();
  if (eembc) {
    if (task != NULL) {
      TkEembcTask t;
      memset(&t, 0, sizeof t);
      t.model = task;
      t.input = strcmp(task, "ic01") == 0 ? TK_EEMBC_IN_UINT8 : TK_EEMBC_IN_INT8;
      t.output = TK_EEMBC_OUT_VALUES;
      t.db = host_db;
      t.db_bytes = tk_model_info()->input.bytes;
      tk_eembc_set_task(&t);
    }
    tk_eembc_init();
    tk_eembc_banner();
    for (;;) tk_eembc_poll();
  }
  tk_protocol_init();
  tk_protocol_banner();
  for (;;) tk_protocol_poll();
}
