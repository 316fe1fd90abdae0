/* Where the seccomp platform keeps its pages in every guest address space
 * (platform/seccomp/layout.h): the tests aim at them. Under the ptrace platform nothing is
 * mapped there and every attempt simply faults. */
#ifndef WARD_ESCAPE_SECCOMP_STUB_H
#define WARD_ESCAPE_SECCOMP_STUB_H

#define SC_STUB_CODE 0x7ffbff000000UL  /* the control thread's code page */
#define SC_CODE 0x7ffbff002000UL       /* the handler's code page */
#define SC_MSG_BASE 0x7ffbff100000UL   /* per-thread message areas */
#define SC_MSG_SIZE 0x8000UL
#define SC_MSG_SLOTS_TRIED 16

#endif
