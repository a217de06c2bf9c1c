/* tinykit: board HAL for the QEMU mps2 boards.
 *
 * Serial: CMSDK APB UART0, which QEMU connects to its first -serial backend
 * (tinykit uses a loopback TCP socket): at 0x40004000 on mps2-an386/an500; on
 * mps2-an505 (Cortex-M33, Armv8-M Mainline) the core runs in the Secure state
 * and reaches UART0 through its Secure alias 0x50200000.
 * Time: SysTick on the core clock (25 MHz on mps2, 20 MHz on mps2-an505) with
 * a wrap counter;
 * run QEMU with -icount for deterministic timing. The DWT cycle counter reads
 * 0 under QEMU, so it is not used. Plain C99, no malloc. */
#include "tinykit.h"

#if defined(__ARM_ARCH_8M_MAIN__)
#define TK_QEMU_CLOCK_HZ 20000000u
#define TK_UART_BASE 0x50200000u
#else
#define TK_QEMU_CLOCK_HZ 25000000u
#define TK_UART_BASE 0x40004000u
#endif

#ifndef TK_CORE_CLOCK_HZ
#define TK_CORE_CLOCK_HZ TK_QEMU_CLOCK_HZ
#endif
#define TK_UART_DATA (*(volatile uint32_t *)(TK_UART_BASE + 0x00u))
#define TK_UART_STATE (*(volatile uint32_t *)(TK_UART_BASE + 0x04u))
#define TK_UART_CTRL (*(volatile uint32_t *)(TK_UART_BASE + 0x08u))
#define TK_UART_BAUDDIV (*(volatile uint32_t *)(TK_UART_BASE + 0x10u))
#define TK_UART_TX_FULL 0x1u
#define TK_UART_RX_FULL 0x2u
#define TK_UART_TX_EN 0x1u
#define TK_UART_RX_EN 0x2u

#define TK_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define TK_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define TK_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define TK_SYST_ENABLE 0x1u
#define TK_SYST_TICKINT 0x2u
#define TK_SYST_CLKSOURCE 0x4u
#define TK_SYST_RELOAD 0x00FFFFFFu

#define TK_CPUID (*(volatile const uint32_t *)0xE000ED00u)
#define TK_CPUID_PART(id) (((id) >> 4) & 0xFFFu)
#define TK_PART_CORTEX_M7 0xC27u
#define TK_PART_CORTEX_M33 0xD21u

void tk_systick_handler(void);

static volatile uint32_t tk_systick_wraps;

void tk_systick_handler(void) { tk_systick_wraps++; }

void tk_hal_init(void) {
  TK_UART_BAUDDIV = TK_CORE_CLOCK_HZ / 115200u;
  TK_UART_CTRL = TK_UART_TX_EN | TK_UART_RX_EN;

  tk_systick_wraps = 0u;
  TK_SYST_RVR = TK_SYST_RELOAD;
  TK_SYST_CVR = 0u;
  TK_SYST_CSR = TK_SYST_ENABLE | TK_SYST_TICKINT | TK_SYST_CLKSOURCE;
}

void tk_hal_write(const uint8_t *data, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    while (TK_UART_STATE & TK_UART_TX_FULL) {
    }
    TK_UART_DATA = data[i];
  }
}

int tk_hal_read(void) {
  if (TK_UART_STATE & TK_UART_RX_FULL) {
    return (int)(TK_UART_DATA & 0xFFu);
  }
  return -1;
}

uint32_t tk_hal_micros(void) {
  uint32_t wraps;
  uint32_t value;
  uint64_t cycles;
  do {
    wraps = tk_systick_wraps;
    value = TK_SYST_CVR;
  } while (wraps != tk_systick_wraps);
  cycles = ((uint64_t)wraps * (TK_SYST_RELOAD + 1u)) + (TK_SYST_RELOAD - value);
  return (uint32_t)(cycles / (TK_CORE_CLOCK_HZ / 1000000u));
}

const char *tk_hal_board(void) {
#ifdef TK_BOARD_ID
  return TK_BOARD_ID;
#else
  switch (TK_CPUID_PART(TK_CPUID)) {
    case TK_PART_CORTEX_M7: return "qemu-m7";
    case TK_PART_CORTEX_M33: return "qemu-m33";
    default: return "qemu-m4";
  }
#endif
}
