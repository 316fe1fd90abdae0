/* Futexes. A futex is keyed by the memory-file offset of its word, so the same key is
 * found whether the word is private to one process or shared between several. */
#ifndef WARD_KERNEL_FUTEX_H
#define WARD_KERNEL_FUTEX_H

#include "sentry/kernel/kernel.h"

long sys_futex(struct task *t, const uint64_t a[6]);
/* Wakes up to n waiters on the futex word at addr in mm. Returns how many. */
int futex_wake_addr(struct mm *mm, uint64_t addr, int n);
/* Removes t from any futex wait (it is dying). */
void futex_cancel_wait(struct task *t);
/* Marks the robust futexes t still holds as owner-died and wakes their waiters. */
void futex_robust_exit(struct task *t);

#endif
