/* Unit tests for the line discipline (sentry/fs/line_discipline.c) on its own: a fake
 * output queue of limited room, signals recorded. What Linux does is pinned by the
 * conformance tests (pty_basic, pty_session); these cover the edges those cannot reach
 * deterministically: a full output queue, the buffer limits, flushing on signals. */
#include <criterion/criterion.h>

#include <signal.h>
#include <string.h>
#include <termios.h>

#include "sentry/fs/line_discipline.h"

static struct {
	char out[16384];
	size_t len, room;
	int sigs[8], nsigs;
	int flushes;
} fake;

static size_t out_room(void *ctx)
{
	(void)ctx;
	return fake.room - fake.len;
}

static void out_put(void *ctx, const uint8_t *s, size_t n)
{
	(void)ctx;
	cr_assert_leq(fake.len + n, fake.room, "the discipline wrote past the room it was given");
	memcpy(fake.out + fake.len, s, n);
	fake.len += n;
}

static void on_signal(void *ctx, int sig)
{
	(void)ctx;
	fake.sigs[fake.nsigs++] = sig;
}

static void flush_output(void *ctx)
{
	(void)ctx;
	fake.flushes++;
}

static const struct ldisc_ops ops = {out_room, out_put, on_signal, flush_output};
static struct ldisc ld;

static void setup(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.room = sizeof(fake.out);
	ldisc_init(&ld, &ops, NULL);
}

static size_t feed(const char *s)
{
	return ldisc_receive(&ld, (const uint8_t *)s, strlen(s));
}

static void set_lflag(tcflag_t on, tcflag_t off)
{
	struct kernel_termios t = ld.tio;
	t.c_lflag = (t.c_lflag | on) & ~off;
	ldisc_set_termios(&ld, &t);
}

TestSuite(line_discipline, .init = setup);

Test(line_discipline, canonical_line_ends_at_newline)
{
	uint8_t buf[64];
	feed("ab");
	cr_assert_not(ldisc_readable(&ld, false));
	cr_assert_eq(ldisc_inq(&ld), 0);
	feed("c\nde\n");
	cr_assert(ldisc_readable(&ld, false));
	cr_assert_eq(ldisc_inq(&ld), 7);
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), 4);
	cr_assert_arr_eq(buf, "abc\n", 4);
	cr_assert_eq(ldisc_read(&ld, buf, 1), 1);
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), 2, "the rest of the line, no more");
	cr_assert_not(ldisc_readable(&ld, false));
}

Test(line_discipline, eof_is_a_line_end_not_data)
{
	uint8_t buf[8];
	feed("x\x04\x04");
	cr_assert_eq(ldisc_inq(&ld), 1);
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), 1);
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), 0, "EOF at the start of a line reads 0");
	cr_assert_not(ldisc_readable(&ld, false));
}

Test(line_discipline, full_canonical_line_keeps_taking_input)
{
	static char big[6000];
	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(feed(big), sizeof(big) - 1, "a line with no end never blocks the writer");
	cr_assert_eq(feed("\n"), 1);
	static uint8_t buf[8192];
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), LDISC_BUF_SIZE);
	cr_assert_eq(buf[LDISC_BUF_SIZE - 1], '\n');
}

Test(line_discipline, complete_lines_fill_the_buffer)
{
	static char lines[LDISC_BUF_SIZE + 100];
	for (size_t i = 0; i < sizeof(lines) - 1; i++)
		lines[i] = i % 8 == 7 ? '\n' : 'l';
	lines[sizeof(lines) - 1] = 0;
	set_lflag(0, ECHO);
	cr_assert_eq(feed(lines), LDISC_BUF_SIZE - 1, "N_TTY_BUF_SIZE - 1 bytes, then the writer waits");
}

Test(line_discipline, raw_mode_stops_when_full)
{
	set_lflag(0, ICANON | ECHO);
	static char big[5000];
	memset(big, 'r', sizeof(big) - 1);
	cr_assert_eq(feed(big), LDISC_BUF_SIZE - 1);
	cr_assert_eq(ldisc_buffered(&ld), LDISC_BUF_SIZE - 1);
}

Test(line_discipline, switching_to_canonical_makes_a_line)
{
	uint8_t buf[16];
	set_lflag(0, ICANON);
	feed("raw");
	set_lflag(ICANON, 0);
	cr_assert(ldisc_readable(&ld, false));
	cr_assert_eq(ldisc_read(&ld, buf, sizeof(buf)), 3);
}

Test(line_discipline, signal_characters_flush_unless_noflsh)
{
	feed("typed\x03");
	cr_assert_eq(fake.nsigs, 1);
	cr_assert_eq(fake.sigs[0], SIGINT);
	cr_assert_eq(ldisc_buffered(&ld), 0);
	cr_assert_eq(fake.flushes, 1);
	set_lflag(NOFLSH, 0);
	feed("kept\x1c\x1a");
	cr_assert_eq(fake.nsigs, 3);
	cr_assert_eq(fake.sigs[1], SIGQUIT);
	cr_assert_eq(fake.sigs[2], SIGTSTP);
	cr_assert_eq(ldisc_buffered(&ld), 4);
	cr_assert_eq(fake.flushes, 1);
}

Test(line_discipline, ixon_stop_and_start_are_consumed)
{
	feed("\x13");
	cr_assert(ld.stopped);
	feed("\x11");
	cr_assert_not(ld.stopped);
	cr_assert_eq(ldisc_buffered(&ld), 0);
}

Test(line_discipline, output_stops_when_the_queue_is_full)
{
	fake.room = 5;
	cr_assert_eq(ldisc_write(&ld, (const uint8_t *)"abcd\n", 5), 4, "\\n needs room for \\r\\n");
	fake.room = 6;
	cr_assert_eq(ldisc_write(&ld, (const uint8_t *)"\n", 1), 1);
	cr_assert_arr_eq(fake.out, "abcd\r\n", 6);
}

Test(line_discipline, echo_is_dropped_when_the_queue_is_full)
{
	fake.room = 2;
	cr_assert_eq(feed("xyz\n"), 4, "input is taken even when its echo is not");
	cr_assert_arr_eq(fake.out, "xy", 2);
}

Test(line_discipline, erase_of_a_tab_backs_up_its_width)
{
	feed("ab\t\x7f");
	cr_assert_eq(fake.len, 3 + 6);
	cr_assert_arr_eq(fake.out + 3, "\b\b\b\b\b\b", 6);
}
