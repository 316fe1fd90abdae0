/* The initial process stack, laid out byte for byte as Linux does (fs/exec.c copies the
 * strings, fs/binfmt_elf.c create_elf_tables adds the rest), without the random
 * arch_align_stack offset so the result is reproducible.
 *
 * From high to low addresses:
 *   8 zero bytes                     (bprm->p starts at stack_top - sizeof(void *))
 *   execfn string                    (AT_EXECFN)
 *   envp strings, envp[0] lowest
 *   argv strings, argv[0] lowest
 *   padding down to 16 bytes
 *   platform string                  (AT_PLATFORM), if any
 *   16 random bytes                  (AT_RANDOM)
 *   padding so that sp is 16-aligned (sp rounded down below the tables)
 *   auxv pairs ending with AT_NULL
 *   NULL, envp[], NULL, argv[], argc <- sp
 */
#include "sentry/loader/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

/* Guest-address cursor over [base, top): allocations move p down and fail with -E2BIG
 * rather than crossing base. p >= base always holds, so p - base cannot wrap. */
struct cursor {
	uint64_t base, p;
};

static int alloc_down(struct cursor *c, uint64_t len)
{
	if (len > c->p - c->base)
		return -E2BIG;
	c->p -= len;
	return 0;
}

static int align_down(struct cursor *c, uint64_t align)
{
	uint64_t p = c->p & ~(align - 1);

	if (p < c->base)
		return -E2BIG;
	c->p = p;
	return 0;
}

/* Size of a string block; fails with -E2BIG as soon as it cannot fit in room. */
static int strings_len(const char *const *v, int n, uint64_t room, uint64_t *out)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++) {
		uint64_t l;

		if (!v[i])
			return -EINVAL;
		l = strlen(v[i]) + 1;
		if (l > room - total)
			return -E2BIG;
		total += l;
	}
	*out = total;
	return 0;
}

static void put_u64(uint8_t *buf, uint64_t base, uint64_t addr, uint64_t v)
{
	memcpy(buf + (addr - base), &v, sizeof(v));
}

/* Copies a string block and writes a pointer to each string, then a NULL, at ptrs. */
static void put_strings(uint8_t *buf, uint64_t base, uint64_t at, const char *const *v,
			    int n, uint64_t ptrs)
{
	for (int i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		memcpy(buf + (at - base), v[i], l);
		put_u64(buf, base, ptrs + 8 * (uint64_t)i, at);
		at += l;
	}
	put_u64(buf, base, ptrs + 8 * (uint64_t)n, 0);
}

int stack_build(const struct stack_args *a, uint8_t *buf, size_t bufsz, uint64_t *sp_out)
{
	struct cursor c;
	uint64_t execfn_len, env_len, arg_len, plat_len = 0;
	uint64_t execfn_at, env_at, arg_at, plat_at = 0, rand_at, sp, nwords, at;
	int err;

	if (a->argc < 0 || a->envc < 0 || a->naux < 0 || !a->random16 || !a->execfn ||
	    (a->argc && !a->argv) || (a->envc && !a->envp) || (a->naux && !a->aux))
		return -EINVAL;
	if (a->stack_top < bufsz)
		return -E2BIG; /* the buffer would extend below guest address 0 */
	c.base = a->stack_top - bufsz;
	c.p = a->stack_top;

	/* Plan every address before writing anything. */
	err = alloc_down(&c, sizeof(uint64_t));
	if (err)
		return err;
	execfn_len = strlen(a->execfn) + 1;
	err = alloc_down(&c, execfn_len);
	if (err)
		return err;
	execfn_at = c.p;
	err = strings_len(a->envp, a->envc, c.p - c.base, &env_len);
	if (err)
		return err;
	err = alloc_down(&c, env_len);
	if (err)
		return err;
	env_at = c.p;
	err = strings_len(a->argv, a->argc, c.p - c.base, &arg_len);
	if (err)
		return err;
	err = alloc_down(&c, arg_len);
	if (err)
		return err;
	arg_at = c.p;
	err = align_down(&c, 16);
	if (err)
		return err;
	if (a->platform) {
		plat_len = strlen(a->platform) + 1;
		err = alloc_down(&c, plat_len);
		if (err)
			return err;
		plat_at = c.p;
	}
	err = alloc_down(&c, 16);
	if (err)
		return err;
	rand_at = c.p;

	/* argc, argv[] + NULL, envp[] + NULL, then auxv pairs: the caller's, AT_RANDOM,
	 * AT_EXECFN, AT_PLATFORM if any, AT_NULL. Counts are ints, so no u64 overflow. */
	nwords = 1 + ((uint64_t)a->argc + 1) + ((uint64_t)a->envc + 1) +
		 2 * ((uint64_t)a->naux + 2 + (a->platform ? 1 : 0) + 1);
	err = alloc_down(&c, 8 * nwords);
	if (err)
		return err;
	err = align_down(&c, 16);
	if (err)
		return err;
	sp = c.p;

	/* Write. Everything from sp up is defined: zero it first so padding is zero. */
	memset(buf + (sp - c.base), 0, a->stack_top - sp);
	memcpy(buf + (execfn_at - c.base), a->execfn, execfn_len);
	if (a->platform)
		memcpy(buf + (plat_at - c.base), a->platform, plat_len);
	memcpy(buf + (rand_at - c.base), a->random16, 16);

	put_u64(buf, c.base, sp, (uint64_t)a->argc);
	put_strings(buf, c.base, arg_at, a->argv, a->argc, sp + 8);
	put_strings(buf, c.base, env_at, a->envp, a->envc, sp + 8 * (2 + (uint64_t)a->argc));

	at = sp + 8 * (3 + (uint64_t)a->argc + (uint64_t)a->envc);
	for (int i = 0; i < a->naux; i++) {
		put_u64(buf, c.base, at, a->aux[i].type);
		put_u64(buf, c.base, at + 8, a->aux[i].value);
		at += 16;
	}
	put_u64(buf, c.base, at, AT_RANDOM);
	put_u64(buf, c.base, at + 8, rand_at);
	at += 16;
	put_u64(buf, c.base, at, AT_EXECFN);
	put_u64(buf, c.base, at + 8, execfn_at);
	at += 16;
	if (a->platform) {
		put_u64(buf, c.base, at, AT_PLATFORM);
		put_u64(buf, c.base, at + 8, plat_at);
		at += 16;
	}
	put_u64(buf, c.base, at, AT_NULL);
	put_u64(buf, c.base, at + 8, 0);

	*sp_out = sp;
	return 0;
}
