/* The platforms' fixed addresses in the sentry's own address space (fixed_range.c). */
#ifndef WARD_PLATFORM_FIXED_RANGE_H
#define WARD_PLATFORM_FIXED_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reserves the whole range (inaccessible) so that nothing else of the sentry's lands
 * there. 0, -EEXIST if something already has part of it, or -errno. */
int platform_range_reserve(void);

/* As platform_range_reserve, and if the range is taken, starts this program again
 * (/proc/self/exe, argv, the same environment and descriptors) with a fresh, randomized
 * layout, a few times at most. Returns only with the range reserved (0) or an error. */
int platform_range_claim(char **argv);

/* Maps 'len' bytes of code at 'addr' (inside the range), read-only and executable. */
int platform_code_install(uint64_t addr, const void *code, size_t len);

#endif
