/* The terminal line discipline (Linux's n_tty): input processing, canonical line editing,
 * echo, signal characters and output processing, between a terminal's two ends. It holds
 * no kernel state of its own; the terminal (pty.c) gives it an output queue and a way to
 * signal the foreground process group. */
#ifndef WARD_LINE_DISCIPLINE_H
#define WARD_LINE_DISCIPLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux's N_TTY_BUF_SIZE: input not yet read, including the line being edited. */
#define LDISC_BUF_SIZE 4096

/* The kernel's struct termios (asm/termbits.h), as TCGETS/TCSETS move it. */
#define KERNEL_NCCS 19
struct kernel_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[KERNEL_NCCS];
};

struct ldisc_ops {
	/* Bytes the output queue (what the other end reads) can take now. */
	size_t (*out_room)(void *ctx);
	void (*out_put)(void *ctx, const uint8_t *s, size_t n);
	/* ISIG: a signal character was typed. */
	void (*signal)(void *ctx, int sig);
	/* ... and without NOFLSH: drop output the other end has not taken in yet. */
	void (*flush_output)(void *ctx);
};

struct ldisc {
	struct kernel_termios tio;
	const struct ldisc_ops *ops;
	void *ctx;
	uint8_t buf[LDISC_BUF_SIZE];
	uint8_t mark[LDISC_BUF_SIZE]; /* per byte: LDISC_EOL / LDISC_EOF */
	size_t head, len;
	size_t canon_len;      /* canonical mode: bytes in complete lines, at the front */
	unsigned column;       /* output column, for tabs and erasing */
	unsigned canon_column; /* the column the line being edited started at */
	bool lnext;            /* the next character is literal (VLNEXT) */
	bool stopped;          /* output stopped by VSTOP (IXON) */
};

void ldisc_init(struct ldisc *ld, const struct ldisc_ops *ops, void *ctx);
/* Linux's default termios for a new terminal. */
void ldisc_default_termios(struct kernel_termios *tio);
/* Takes input typed at the terminal (written to a pty master). Returns how many bytes it
 * took: fewer than n when the input buffer is full (the rest waits, as in Linux's flip
 * buffer). */
size_t ldisc_receive(struct ldisc *ld, const uint8_t *s, size_t n);
/* Whether a read would return now. for_poll: poll's rule (VMIN bytes when VTIME is 0). */
bool ldisc_readable(const struct ldisc *ld, bool for_poll);
/* Bytes available to read now (raw mode) or in complete lines (canonical): FIONREAD. */
size_t ldisc_inq(const struct ldisc *ld);
/* Bytes in the input buffer (non-canonical reads wait for VMIN of them). */
size_t ldisc_buffered(const struct ldisc *ld);
/* Takes input for a read: one line at most in canonical mode. */
size_t ldisc_read(struct ldisc *ld, uint8_t *dst, size_t len);
/* Output processing (OPOST) of what the terminal's program writes, into the output queue.
 * Returns how many bytes of s it consumed (fewer when the queue fills). */
size_t ldisc_write(struct ldisc *ld, const uint8_t *s, size_t n);
void ldisc_set_termios(struct ldisc *ld, const struct kernel_termios *tio);
void ldisc_flush_input(struct ldisc *ld);

#endif
