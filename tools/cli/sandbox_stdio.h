#ifndef WARD_TOOLS_SANDBOX_STDIO_H
#define WARD_TOOLS_SANDBOX_STDIO_H

/* Replaces fds 0-2, where they are pipes or terminals, with non-blocking open file
 * descriptions of the same pipe or terminal (the originals' flags stay as they were). */
void sandbox_stdio_reopen_nonblocking(void);

#endif
