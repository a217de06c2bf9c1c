/* tinykit: startup for the QEMU mps2 boards (Cortex-M4 an386, Cortex-M7 an500,
 * Cortex-M33 an505).
 *
 * Vector table, reset handler (copy .data, zero .bss, enable the FPU) and a
 * default handler. Symbols come from the tinykit-qemu linker script. Plain C99. */
#include <stdint.h>

extern uint32_t _sidata; /* .data load address (flash) */
extern uint32_t _sdata;  /* .data start (RAM) */
extern uint32_t _edata;
extern uint32_t _sbss;
extern uint32_t _ebss;
extern uint32_t _estack; /* top of the stack */

int main(void);
void tk_reset_handler(void);
void tk_default_handler(void);
void tk_systick_handler(void); /* in tk_hal_qemu.c */

#define TK_SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void tk_default_handler(void) {
  for (;;) {
  }
}

void tk_reset_handler(void) {
  const uint32_t *src = &_sidata;
  uint32_t *dst = &_sdata;
  while (dst < &_edata) {
    *dst++ = *src++;
  }
  for (dst = &_sbss; dst < &_ebss; dst++) {
    *dst = 0u;
  }
#if defined(__ARM_FP)
  /* Full access to CP10/CP11 before any floating-point instruction. */
  TK_SCB_CPACR |= (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  (void)main();
  for (;;) {
  }
}

typedef void (*TkVector)(void);

/* 16 core exceptions; external IRQs are not used by the tinykit HAL. */
__attribute__((section(".isr_vector"), used)) const TkVector tk_vectors[16] = {
    (TkVector)(uintptr_t)&_estack, /* initial stack pointer */
    tk_reset_handler,              /* reset */
    tk_default_handler,            /* NMI */
    tk_default_handler,            /* HardFault */
    tk_default_handler,            /* MemManage */
    tk_default_handler,            /* BusFault */
    tk_default_handler,            /* UsageFault */
    0,
    0,
    0,
    0,
    tk_default_handler, /* SVCall */
    tk_default_handler, /* DebugMonitor */
    0,
    tk_default_handler, /* PendSV */
    tk_systick_handler, /* SysTick */
};
