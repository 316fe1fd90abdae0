/* Where the stub page sits in every stub process, and so the top of guest memory.
 *
 * Chosen 16 GiB + 16 MiB below the top of the x86-64 user address space: Linux never puts
 * the (randomised) main stack lower than 16 GiB below the top, and the mmap base is there
 * only when its random offset is a few MiB in a TiB (or randomization is off), which
 * the sentry detects at start-up and escapes by starting again (platform/fixed_range.c);
 * so every stub has the page at the same place. Guests get [GUEST_MMAP_MIN, STUB_BASE). */
#ifndef WARD_PLATFORM_STUB_LAYOUT_H
#define WARD_PLATFORM_STUB_LAYOUT_H

#define STUB_BASE 0x7ffbff000000ULL
#define STUB_SIZE 0x1000ULL
/* The page after the code: the batch of address-space operations the sentry asks the
 * control thread to run (struct stub_batch), read-only in the stub. */
#define STUB_BATCH (STUB_BASE + STUB_SIZE)
#define STUB_BATCH_SIZE 0x1000ULL
#define GUEST_TASK_SIZE STUB_BASE
#define GUEST_MMAP_MIN 0x10000ULL

int stub_page_install(void);

#endif
