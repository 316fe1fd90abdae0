/* The line discipline, after Linux's drivers/tty/n_tty.c: what a terminal does with the
 * bytes typed at it before a program reads them, and with the bytes a program writes
 * before the other end sees them. */
#include "sentry/fs/line_discipline.h"

#include <signal.h>
#include <string.h>
#include <termios.h>

enum { LDISC_EOL = 1, LDISC_EOF = 2 };

#define TIO_SET(ld, field, flag) (((ld)->tio.field & (flag)) != 0)
#define CC(ld, i) ((ld)->tio.c_cc[i])

static bool is_cntrl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* A special character matches only when it is enabled (not _POSIX_VDISABLE, 0). */
static bool is_char(const struct ldisc *ld, uint8_t c, int idx)
{
	return CC(ld, idx) != 0 && c == CC(ld, idx);
}

void ldisc_default_termios(struct kernel_termios *tio)
{
	static const uint8_t cc[KERNEL_NCCS] = {
		[VINTR] = 3,   [VQUIT] = 28,  [VERASE] = 127,   [VKILL] = 21,    [VEOF] = 4,
		[VTIME] = 0,   [VMIN] = 1,    [VSTART] = 17,    [VSTOP] = 19,    [VSUSP] = 26,
		[VEOL] = 0,    [VREPRINT] = 18, [VDISCARD] = 15, [VWERASE] = 23, [VLNEXT] = 22,
	};
	memset(tio, 0, sizeof(*tio));
	tio->c_iflag = ICRNL | IXON;
	tio->c_oflag = OPOST | ONLCR;
	tio->c_cflag = B38400 | CS8 | CREAD;
	tio->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(tio->c_cc, cc, sizeof(cc));
}

void ldisc_init(struct ldisc *ld, const struct ldisc_ops *ops, void *ctx)
{
	memset(ld, 0, sizeof(*ld));
	ld->ops = ops;
	ld->ctx = ctx;
	ldisc_default_termios(&ld->tio);
}

/* ---- output processing ---- */

/* One byte of output with OPOST processing (Linux's do_output_char). Returns false when
 * the output queue has no room for it. */
static bool output_char(struct ldisc *ld, uint8_t c)
{
	size_t room = ld->ops->out_room(ld->ctx);
	if (!room)
		return false;
	if (!TIO_SET(ld, c_oflag, OPOST)) {
		ld->ops->out_put(ld->ctx, &c, 1);
		return true;
	}
	switch (c) {
	case '\n':
		if (TIO_SET(ld, c_oflag, ONLRET))
			ld->column = 0;
		if (TIO_SET(ld, c_oflag, ONLCR)) {
			if (room < 2)
				return false;
			ld->column = 0;
			ld->ops->out_put(ld->ctx, (const uint8_t *)"\r\n", 2);
			return true;
		}
		break;
	case '\r':
		if (TIO_SET(ld, c_oflag, ONOCR) && ld->column == 0)
			return true;
		if (TIO_SET(ld, c_oflag, OCRNL)) {
			c = '\n';
			if (TIO_SET(ld, c_oflag, ONLRET))
				ld->column = 0;
			break;
		}
		ld->column = 0;
		break;
	case '\t': {
		unsigned spaces = 8 - (ld->column & 7);
		if ((ld->tio.c_oflag & TABDLY) == XTABS) {
			if (room < spaces)
				return false;
			ld->column += spaces;
			ld->ops->out_put(ld->ctx, (const uint8_t *)"        ", spaces);
			return true;
		}
		ld->column += spaces;
		break;
	}
	case '\b':
		if (ld->column > 0)
			ld->column--;
		break;
	default:
		if (!is_cntrl(c)) {
			if (TIO_SET(ld, c_oflag, OLCUC) && c >= 'a' && c <= 'z')
				c = (uint8_t)(c - 'a' + 'A');
			if (!TIO_SET(ld, c_iflag, IUTF8) || (c & 0xc0) != 0x80)
				ld->column++;
		}
		break;
	}
	ld->ops->out_put(ld->ctx, &c, 1);
	return true;
}

size_t ldisc_write(struct ldisc *ld, const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n && output_char(ld, s[i]))
		i++;
	return i;
}

/* ---- echo ---- */

/* Echoes are best effort: when the other end does not read, they are lost (Linux keeps a
 * small echo buffer; with a full output queue it too ends up dropping them). */
static void echo_raw(struct ldisc *ld, uint8_t c)
{
	output_char(ld, c);
}

/* A typed character as echoed: control characters as ^X with ECHOCTL. */
static void echo_char(struct ldisc *ld, uint8_t c)
{
	if (TIO_SET(ld, c_lflag, ECHOCTL) && is_cntrl(c) && c != '\t') {
		if (ld->ops->out_room(ld->ctx) < 2)
			return;
		uint8_t s[2] = {'^', (uint8_t)(c ^ 0100)};
		ld->ops->out_put(ld->ctx, s, 2);
		ld->column += 2;
		return;
	}
	echo_raw(ld, c);
}

static void echo_backspaces(struct ldisc *ld, unsigned n, bool blank)
{
	for (unsigned i = 0; i < n; i++) {
		echo_raw(ld, '\b');
		if (blank) {
			echo_raw(ld, ' ');
			echo_raw(ld, '\b');
		}
	}
}

/* ---- the input buffer ---- */

static size_t idx(const struct ldisc *ld, size_t i)
{
	return (ld->head + i) % LDISC_BUF_SIZE;
}

static void put_input(struct ldisc *ld, uint8_t c, uint8_t mark)
{
	size_t at = idx(ld, ld->len++);
	ld->buf[at] = c;
	ld->mark[at] = mark;
}

static void end_line(struct ldisc *ld)
{
	ld->canon_len = ld->len;
}

/* The width a tab at position `at` of the line being edited took when echoed. */
static unsigned tab_width(const struct ldisc *ld, size_t at)
{
	unsigned col = ld->canon_column;
	for (size_t i = ld->canon_len; i < at; i++) {
		uint8_t c = ld->buf[idx(ld, i)];
		if (c == '\t')
			col = (col | 7) + 1;
		else if (is_cntrl(c))
			col += TIO_SET(ld, c_lflag, ECHOCTL) ? 2 : 0;
		else
			col++;
	}
	return 8 - (col & 7);
}

enum erase_kind { ERASE_CHAR, ERASE_WORD, ERASE_LINE };

/* VERASE, VWERASE and VKILL on the line being edited (Linux's eraser()). */
static void erase(struct ldisc *ld, uint8_t c, enum erase_kind kind)
{
	if (ld->len == ld->canon_len)
		return;
	bool echo = TIO_SET(ld, c_lflag, ECHO);
	if (kind == ERASE_CHAR && echo && !TIO_SET(ld, c_lflag, ECHOE)) {
		ld->len--;
		echo_char(ld, CC(ld, VERASE));
		return;
	}
	if (kind == ERASE_LINE && (!echo || !TIO_SET(ld, c_lflag, ECHOK) ||
				   !TIO_SET(ld, c_lflag, ECHOKE) || !TIO_SET(ld, c_lflag, ECHOE))) {
		ld->len = ld->canon_len;
		if (echo) {
			echo_char(ld, c);
			if (TIO_SET(ld, c_lflag, ECHOK))
				echo_raw(ld, '\n');
		}
		return;
	}
	bool seen_word = false;
	while (ld->len > ld->canon_len) {
		uint8_t last = ld->buf[idx(ld, ld->len - 1)];
		if (kind == ERASE_WORD) {
			bool word = (last >= '0' && last <= '9') || (last >= 'a' && last <= 'z') ||
				    (last >= 'A' && last <= 'Z') || last == '_';
			if (word)
				seen_word = true;
			else if (seen_word)
				break;
		}
		ld->len--;
		if (echo) {
			if (last == '\t')
				echo_backspaces(ld, tab_width(ld, ld->len), false);
			else if (is_cntrl(last))
				echo_backspaces(ld, TIO_SET(ld, c_lflag, ECHOCTL) ? 2 : 0, true);
			else
				echo_backspaces(ld, 1, true);
		}
		if (kind == ERASE_CHAR)
			break;
	}
}

static void reprint(struct ldisc *ld, uint8_t c)
{
	echo_char(ld, c);
	echo_raw(ld, '\n');
	ld->canon_column = ld->column;
	for (size_t i = ld->canon_len; i < ld->len; i++)
		echo_char(ld, ld->buf[idx(ld, i)]);
}

/* Echo of an ordinary character; the first one of a line fixes its start column. */
static void echo_input(struct ldisc *ld, uint8_t c)
{
	if (!TIO_SET(ld, c_lflag, ECHO))
		return;
	if (c == '\n') {
		echo_raw(ld, '\n');
		return;
	}
	if (ld->len == ld->canon_len)
		ld->canon_column = ld->column;
	echo_char(ld, c);
}

static void signal_char(struct ldisc *ld, uint8_t c, int sig)
{
	if (!TIO_SET(ld, c_lflag, NOFLSH)) {
		ldisc_flush_input(ld);
		ld->ops->flush_output(ld->ctx);
	}
	ld->stopped = false;
	ld->ops->signal(ld->ctx, sig);
	if (TIO_SET(ld, c_lflag, ECHO))
		echo_char(ld, c);
}

/* Room for one more character (N_TTY_BUF_SIZE - 1 of them, as Linux): a canonical buffer
 * with no complete line takes one more, then keeps overwriting its last character, so that
 * a newline or an erase can always get in. */
static bool make_room(struct ldisc *ld)
{
	if (ld->len < LDISC_BUF_SIZE - 1)
		return true;
	if (TIO_SET(ld, c_lflag, ICANON) && ld->canon_len == 0) {
		if (ld->len == LDISC_BUF_SIZE)
			ld->len--;
		return true;
	}
	return false;
}

/* One input character. Returns false when there is no room for it. */
static bool receive_char(struct ldisc *ld, uint8_t c)
{
	if (TIO_SET(ld, c_iflag, ISTRIP))
		c &= 0x7f;
	if (TIO_SET(ld, c_iflag, IUCLC) && TIO_SET(ld, c_lflag, IEXTEN) && c >= 'A' && c <= 'Z')
		c = (uint8_t)(c - 'A' + 'a');
	bool canon = TIO_SET(ld, c_lflag, ICANON);
	if (ld->lnext) {
		if (!make_room(ld))
			return false;
		ld->lnext = false;
		echo_input(ld, c);
		put_input(ld, c, 0);
		return true;
	}
	if (TIO_SET(ld, c_iflag, IXON)) {
		if (is_char(ld, c, VSTART)) {
			ld->stopped = false;
			return true;
		}
		if (is_char(ld, c, VSTOP)) {
			ld->stopped = true;
			return true;
		}
		if (ld->stopped && TIO_SET(ld, c_iflag, IXANY))
			ld->stopped = false;
	}
	if (TIO_SET(ld, c_lflag, ISIG)) {
		int sig = is_char(ld, c, VINTR) ? SIGINT : is_char(ld, c, VQUIT) ? SIGQUIT
			  : is_char(ld, c, VSUSP)			       ? SIGTSTP
										       : 0;
		if (sig) {
			signal_char(ld, c, sig);
			return true;
		}
	}
	if (c == '\r') {
		if (TIO_SET(ld, c_iflag, IGNCR))
			return true;
		if (TIO_SET(ld, c_iflag, ICRNL))
			c = '\n';
	} else if (c == '\n' && TIO_SET(ld, c_iflag, INLCR)) {
		c = '\r';
	}
	if (canon) {
		bool iexten = TIO_SET(ld, c_lflag, IEXTEN);
		if (is_char(ld, c, VERASE)) {
			erase(ld, c, ERASE_CHAR);
			return true;
		}
		if (is_char(ld, c, VKILL)) {
			erase(ld, c, ERASE_LINE);
			return true;
		}
		if (iexten && is_char(ld, c, VWERASE)) {
			erase(ld, c, ERASE_WORD);
			return true;
		}
		if (iexten && is_char(ld, c, VLNEXT)) {
			ld->lnext = true;
			if (TIO_SET(ld, c_lflag, ECHO) && TIO_SET(ld, c_lflag, ECHOCTL)) {
				/* "^" shown under the cursor until the next character */
				echo_raw(ld, '^');
				echo_raw(ld, '\b');
			}
			return true;
		}
		if (iexten && TIO_SET(ld, c_lflag, ECHO) && is_char(ld, c, VREPRINT)) {
			reprint(ld, c);
			return true;
		}
		if (!make_room(ld))
			return false;
		if (c == '\n') {
			if (TIO_SET(ld, c_lflag, ECHO) || TIO_SET(ld, c_lflag, ECHONL))
				echo_raw(ld, '\n');
			put_input(ld, c, LDISC_EOL);
			end_line(ld);
			return true;
		}
		if (is_char(ld, c, VEOF)) {
			put_input(ld, c, LDISC_EOL | LDISC_EOF);
			end_line(ld);
			return true;
		}
		if (is_char(ld, c, VEOL) || (iexten && is_char(ld, c, VEOL2))) {
			echo_input(ld, c);
			put_input(ld, c, LDISC_EOL);
			end_line(ld);
			return true;
		}
	} else if (!make_room(ld)) {
		return false;
	}
	echo_input(ld, c);
	put_input(ld, c, 0);
	return true;
}

size_t ldisc_receive(struct ldisc *ld, const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n && receive_char(ld, s[i]))
		i++;
	return i;
}

/* ---- reading ---- */

size_t ldisc_buffered(const struct ldisc *ld)
{
	return ld->len;
}

bool ldisc_readable(const struct ldisc *ld, bool for_poll)
{
	if (TIO_SET(ld, c_lflag, ICANON))
		return ld->canon_len > 0;
	size_t want = for_poll && CC(ld, VTIME) == 0 && CC(ld, VMIN) ? CC(ld, VMIN) : 1;
	return ld->len >= want;
}

size_t ldisc_inq(const struct ldisc *ld)
{
	if (!TIO_SET(ld, c_lflag, ICANON))
		return ld->len;
	size_t n = 0;
	for (size_t i = 0; i < ld->canon_len; i++)
		n += !(ld->mark[idx(ld, i)] & LDISC_EOF);
	return n;
}

static void consume(struct ldisc *ld, size_t n)
{
	ld->head = (ld->head + n) % LDISC_BUF_SIZE;
	ld->len -= n;
	ld->canon_len = ld->canon_len > n ? ld->canon_len - n : 0;
}

size_t ldisc_read(struct ldisc *ld, uint8_t *dst, size_t len)
{
	size_t n = 0;
	if (!TIO_SET(ld, c_lflag, ICANON)) {
		while (n < len && ld->len) {
			dst[n++] = ld->buf[ld->head];
			consume(ld, 1);
		}
		return n;
	}
	while (n < len && ld->canon_len) {
		uint8_t c = ld->buf[ld->head], m = ld->mark[ld->head];
		consume(ld, 1);
		if (m & LDISC_EOF)
			break; /* the EOF character ends the line and is not read */
		dst[n++] = c;
		if (m & LDISC_EOL)
			break;
	}
	return n;
}

void ldisc_set_termios(struct ldisc *ld, const struct kernel_termios *tio)
{
	bool was_canon = TIO_SET(ld, c_lflag, ICANON);
	ld->tio = *tio;
	bool canon = TIO_SET(ld, c_lflag, ICANON);
	if (was_canon != canon) {
		/* As Linux: switching to canonical mode makes what is buffered one line. */
		for (size_t i = 0; i < ld->len; i++)
			ld->mark[idx(ld, i)] = 0;
		if (canon && ld->len)
			ld->mark[idx(ld, ld->len - 1)] = LDISC_EOL;
		ld->canon_len = canon ? ld->len : 0;
		ld->lnext = false;
	}
	if (!TIO_SET(ld, c_iflag, IXON))
		ld->stopped = false;
}

void ldisc_flush_input(struct ldisc *ld)
{
	ld->head = ld->len = ld->canon_len = 0;
	ld->lnext = false;
}
