/* stack_build: the initial stack image, checked both through its pointers and against
 * the exact offsets Linux's create_elf_tables would produce. */
#include <criterion/criterion.h>

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sentry/loader/elf.h"

#define TOP 0x7ffffffff000ULL
#define BUFSZ 4096

static uint8_t buf[BUFSZ];
static uint64_t base;

static const uint8_t rnd[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const char *const argv2[] = { "a", "bb" };
static const char *const envp1[] = { "X=1" };
static const struct auxv_entry aux2[] = { { AT_PAGESZ, 4096 }, { AT_ENTRY, 0x401000 } };

static struct stack_args example(void)
{
	return (struct stack_args){
		.stack_top = TOP,
		.argv = argv2,
		.argc = 2,
		.envp = envp1,
		.envc = 1,
		.aux = aux2,
		.naux = 2,
		.random16 = rnd,
		.execfn = "/bin/prog",
		.platform = "x86_64",
	};
}

static uint8_t *g2h(uint64_t addr)
{
	cr_assert(addr >= base && addr < TOP, "guest address %#lx outside the buffer",
		  (unsigned long)addr);
	return buf + (addr - base);
}

static uint64_t rd64(uint64_t addr)
{
	uint64_t v;

	cr_assert(addr + 8 <= TOP);
	memcpy(&v, g2h(addr), 8);
	return v;
}

static const char *gstr(uint64_t addr)
{
	const char *s = (const char *)g2h(addr);

	cr_assert(memchr(s, '\0', TOP - addr) != NULL, "string runs off the stack");
	return s;
}

static void setup(void)
{
	base = TOP - BUFSZ;
	memset(buf, 0xaa, sizeof(buf));
}

TestSuite(stack, .init = setup);

Test(stack, pointers_and_strings)
{
	struct stack_args a = example();
	uint64_t sp = 0, p;

	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), 0);
	cr_assert_eq(sp % 16, 0);
	cr_assert(sp >= base && sp < TOP);

	cr_assert_eq(rd64(sp), 2);
	cr_assert_str_eq(gstr(rd64(sp + 8)), "a");
	cr_assert_str_eq(gstr(rd64(sp + 16)), "bb");
	cr_assert_eq(rd64(sp + 24), 0);
	cr_assert_str_eq(gstr(rd64(sp + 32)), "X=1");
	cr_assert_eq(rd64(sp + 40), 0);

	p = sp + 48;
	cr_assert_eq(rd64(p), AT_PAGESZ);
	cr_assert_eq(rd64(p + 8), 4096);
	cr_assert_eq(rd64(p + 16), AT_ENTRY);
	cr_assert_eq(rd64(p + 24), 0x401000);
	cr_assert_eq(rd64(p + 32), AT_RANDOM);
	cr_assert_eq(memcmp(g2h(rd64(p + 40)), rnd, 16), 0);
	cr_assert_eq(rd64(p + 48), AT_EXECFN);
	cr_assert_str_eq(gstr(rd64(p + 56)), "/bin/prog");
	cr_assert_eq(rd64(p + 64), AT_PLATFORM);
	cr_assert_str_eq(gstr(rd64(p + 72)), "x86_64");
	cr_assert_eq(rd64(p + 80), AT_NULL);
	cr_assert_eq(rd64(p + 88), 0);
}

Test(stack, exact_linux_layout)
{
	struct stack_args a = example();
	uint64_t sp = 0;

	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), 0);

	/* From the top: 8 zero bytes, "/bin/prog\0" (10), "X=1\0" (4), "a\0bb\0" (5). */
	cr_assert_eq(rd64(TOP - 8), 0);
	cr_assert_eq(memcmp(g2h(TOP - 18), "/bin/prog", 10), 0);
	cr_assert_eq(memcmp(g2h(TOP - 22), "X=1", 4), 0);
	cr_assert_eq(memcmp(g2h(TOP - 27), "a\0bb", 5), 0);
	/* Rounded down to 16 (TOP - 32), then "x86_64\0" (7) and 16 random bytes. */
	for (uint64_t x = TOP - 32; x < TOP - 27; x++)
		cr_assert_eq(*g2h(x), 0, "padding at TOP-%lu", (unsigned long)(TOP - x));
	cr_assert_eq(memcmp(g2h(TOP - 39), "x86_64", 7), 0);
	cr_assert_eq(memcmp(g2h(TOP - 55), rnd, 16), 0);
	/* 18 words (argc, 2+1 argv, 1+1 envp, 6 auxv pairs) below TOP - 55, rounded down:
	 * TOP - 55 - 144 = TOP - 199 -> TOP - 208. */
	cr_assert_eq(sp, TOP - 208);
	cr_assert_eq(rd64(sp + 8), TOP - 27);
	cr_assert_eq(rd64(sp + 16), TOP - 25);
	cr_assert_eq(rd64(sp + 32), TOP - 22);
	cr_assert_eq(rd64(sp + 48 + 40), TOP - 55);
	cr_assert_eq(rd64(sp + 48 + 56), TOP - 18);
	cr_assert_eq(rd64(sp + 48 + 72), TOP - 39);
	/* The gap between the auxv end and the random bytes is zero; nothing below sp is
	 * touched. */
	for (uint64_t x = sp + 144; x < TOP - 55; x++)
		cr_assert_eq(*g2h(x), 0);
	for (uint64_t x = base; x < sp; x++)
		cr_assert_eq(*g2h(x), 0xaa);
}

Test(stack, empty_argv_envp_no_platform)
{
	struct stack_args a = example();
	uint64_t sp = 0;

	a.argc = 0;
	a.argv = NULL;
	a.envc = 0;
	a.envp = NULL;
	a.naux = 0;
	a.aux = NULL;
	a.platform = NULL;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), 0);
	cr_assert_eq(sp % 16, 0);
	cr_assert_eq(rd64(sp), 0);
	cr_assert_eq(rd64(sp + 8), 0);
	cr_assert_eq(rd64(sp + 16), 0);
	cr_assert_eq(rd64(sp + 24), AT_RANDOM);
	cr_assert_eq(memcmp(g2h(rd64(sp + 32)), rnd, 16), 0);
	cr_assert_eq(rd64(sp + 40), AT_EXECFN);
	cr_assert_str_eq(gstr(rd64(sp + 48)), "/bin/prog");
	cr_assert_eq(rd64(sp + 56), AT_NULL);
	cr_assert_eq(rd64(sp + 64), 0);
	/* TOP-8-10 = TOP-18 -> TOP-32; random at TOP-48; 9 words (argc, 2 NULLs, 3 auxv
	 * pairs) -> TOP-120 -> TOP-128. */
	cr_assert_eq(sp, TOP - 128);
}

Test(stack, many_strings_alignment)
{
	/* Every combination of small string counts/lengths keeps sp aligned and every
	 * pointer on its string. */
	static const char *const pool[] = { "", "1", "22", "333", "4444", "55555", "666666",
					    "7777777", "88888888", "999999999" };

	for (int argc = 0; argc < 6; argc++) {
		for (int envc = 0; envc < 6; envc++) {
			for (int shift = 0; shift < 10; shift++) {
				const char *av[6], *ev[6];
				struct stack_args a = example();
				uint64_t sp = 0;

				for (int i = 0; i < argc; i++)
					av[i] = pool[(i + shift) % 10];
				for (int i = 0; i < envc; i++)
					ev[i] = pool[(i * 3 + shift) % 10];
				a.argv = av;
				a.argc = argc;
				a.envp = ev;
				a.envc = envc;
				a.naux = shift % 3;
				memset(buf, 0xaa, sizeof(buf));
				cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), 0);
				cr_assert_eq(sp % 16, 0);
				cr_assert_eq(rd64(sp), (uint64_t)argc);
				for (int i = 0; i < argc; i++)
					cr_assert_str_eq(gstr(rd64(sp + 8 + 8 * i)), av[i]);
				cr_assert_eq(rd64(sp + 8 + 8 * argc), 0);
				uint64_t e = sp + 16 + 8 * argc;
				for (int i = 0; i < envc; i++)
					cr_assert_str_eq(gstr(rd64(e + 8 * i)), ev[i]);
				cr_assert_eq(rd64(e + 8 * envc), 0);
				/* argv strings are contiguous and lowest, then envp strings. */
				if (argc && envc) {
					uint64_t last = rd64(sp + 8 * argc);
					cr_assert_eq(last + strlen(av[argc - 1]) + 1, rd64(e));
				}
			}
		}
	}
}

Test(stack, e2big_small_buffers_write_nothing)
{
	struct stack_args a = example();
	uint64_t sp = 1234;
	const size_t need = 208;

	for (size_t sz = 0; sz < need; sz++) {
		memset(buf, 0xaa, sizeof(buf));
		cr_assert_eq(stack_build(&a, buf + BUFSZ - sz, sz, &sp), -E2BIG, "size %zu", sz);
		cr_assert_eq(sp, 1234);
		for (size_t i = 0; i < BUFSZ; i++)
			cr_assert_eq(buf[i], 0xaa);
	}
	cr_assert_eq(stack_build(&a, buf + BUFSZ - need, need, &sp), 0);
	cr_assert_eq(sp, TOP - need);
}

Test(stack, e2big_huge_inputs)
{
	static char big[8192];
	const char *av[] = { big };
	struct stack_args a = example();
	uint64_t sp;

	memset(big, 'b', sizeof(big) - 1);
	a.argv = av;
	a.argc = 1;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -E2BIG);
	a = example();
	a.execfn = big;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -E2BIG);
	a = example();
	a.platform = big;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -E2BIG);

	/* Many pointers but tiny strings: the pointer area is what does not fit. */
	static const char *many[1000];
	for (int i = 0; i < 1000; i++)
		many[i] = "";
	a = example();
	a.argv = many;
	a.argc = 1000;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -E2BIG);
	a.argc = 400; /* 400 bytes of strings + 8 * ~410 words = ~3700 bytes */
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), 0);

	/* A buffer that would reach below guest address 0. */
	a = example();
	a.stack_top = 0x100;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -E2BIG);
}

Test(stack, invalid_arguments)
{
	struct stack_args a = example();
	const char *holes[] = { "a", NULL };
	uint64_t sp;

	a.argc = -1;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -EINVAL);
	a = example();
	a.argv = holes;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -EINVAL);
	a = example();
	a.random16 = NULL;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -EINVAL);
	a = example();
	a.execfn = NULL;
	cr_assert_eq(stack_build(&a, buf, BUFSZ, &sp), -EINVAL);
}
