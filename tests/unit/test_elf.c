/* elf_parse and shebang_parse: real binaries from the host, hand-built hostile headers,
 * and a deterministic mutation loop (also meant to run under ASan/UBSan). */
#include <criterion/criterion.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/loader/elf.h"

/* ---- read callbacks ---- */

struct mem {
	const uint8_t *p;
	size_t n;
};

static long mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct mem *m = ctx;

	if (off >= m->n)
		return 0;
	if (len > m->n - off)
		len = m->n - off;
	memcpy(buf, m->p + off, len);
	return (long)len;
}

static long fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t r = pread(*(int *)ctx, buf, len, (off_t)off);

	return r < 0 ? -errno : r;
}

static long eio_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx, (void)buf, (void)len, (void)off;
	return -EIO;
}

static long overlong_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx, (void)buf, (void)off;
	return (long)len + 1;
}

static struct elf_image img; /* too big to want several on the stack */

/* ---- real binaries, cross-checked against an independent read of the phdrs ---- */

static int parse_path(const char *path, struct elf_image *out, Elf64_Ehdr *eh,
		      Elf64_Phdr *ph, int *nph)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	cr_assert(fd >= 0, "open %s", path);
	cr_assert(fstat(fd, &st) == 0);
	r = elf_parse(fd_read, &fd, (uint64_t)st.st_size, out);
	cr_assert(pread(fd, eh, sizeof(*eh), 0) == sizeof(*eh));
	cr_assert(eh->e_phnum <= 64);
	cr_assert(pread(fd, ph, eh->e_phnum * sizeof(*ph), (off_t)eh->e_phoff) ==
		  (ssize_t)(eh->e_phnum * sizeof(*ph)));
	*nph = eh->e_phnum;
	close(fd);
	return r;
}

static void check_against_phdrs(const struct elf_image *im, const Elf64_Ehdr *eh,
				const Elf64_Phdr *ph, int nph)
{
	int k = 0;

	cr_assert_eq(im->entry, eh->e_entry);
	cr_assert_eq(im->phnum, eh->e_phnum);
	cr_assert_eq(im->phentsize, sizeof(Elf64_Phdr));
	for (int i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		cr_assert_lt(k, im->nseg);
		cr_assert_eq(im->seg[k].vaddr, ph[i].p_vaddr);
		cr_assert_eq(im->seg[k].memsz, ph[i].p_memsz);
		cr_assert_eq(im->seg[k].filesz, ph[i].p_filesz);
		cr_assert_eq(im->seg[k].offset, ph[i].p_offset);
		cr_assert_eq(!!(im->seg[k].prot & PROT_READ), !!(ph[i].p_flags & PF_R));
		cr_assert_eq(!!(im->seg[k].prot & PROT_WRITE), !!(ph[i].p_flags & PF_W));
		cr_assert_eq(!!(im->seg[k].prot & PROT_EXEC), !!(ph[i].p_flags & PF_X));
		k++;
	}
	cr_assert_eq(k, im->nseg);
	cr_assert_eq(im->lo, im->seg[0].vaddr & ~0xfffULL);
	cr_assert_eq(im->hi, (im->seg[k - 1].vaddr + im->seg[k - 1].memsz + 0xfff) & ~0xfffULL);
	cr_assert_eq(im->exec_stack, 0);
}

Test(elf_real, bin_true_is_dynamic_pie)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	int nph;

	cr_assert_eq(parse_path("/bin/true", &img, &eh, ph, &nph), 0);
	cr_assert_eq(img.is_dyn, 1);
	cr_assert_str_eq(img.interp, "/lib64/ld-linux-x86-64.so.2");
	check_against_phdrs(&img, &eh, ph, nph);
	cr_assert_eq(img.lo, 0);
	for (int i = 0; i < nph; i++)
		if (ph[i].p_type == PT_PHDR)
			cr_assert_eq(img.phdr_vaddr, ph[i].p_vaddr);
	cr_assert_neq(img.phdr_vaddr, 0);
}

Test(elf_real, busybox_is_static)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	int nph;

	cr_assert_eq(parse_path("/bin/busybox", &img, &eh, ph, &nph), 0);
	cr_assert_str_eq(img.interp, "");
	check_against_phdrs(&img, &eh, ph, nph);
	if (!img.is_dyn)
		cr_assert_geq(img.lo, 0x10000);
	/* No PT_PHDR in a static binary: found through the PT_LOAD covering e_phoff. */
	bool has_pt_phdr = false;
	for (int i = 0; i < nph; i++)
		has_pt_phdr |= ph[i].p_type == PT_PHDR;
	if (!has_pt_phdr) {
		cr_assert_eq(img.seg[0].offset, 0);
		cr_assert_eq(img.phdr_vaddr, img.seg[0].vaddr + eh.e_phoff);
	}
}

Test(elf_real, ld_so_is_dyn_without_interp)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	int nph;

	cr_assert_eq(parse_path("/lib64/ld-linux-x86-64.so.2", &img, &eh, ph, &nph), 0);
	cr_assert_eq(img.is_dyn, 1);
	cr_assert_str_eq(img.interp, "");
	check_against_phdrs(&img, &eh, ph, nph);
	cr_assert_eq(img.lo, 0);
}

Test(elf_real, script_is_not_elf)
{
	static const char sh[] = "#!/bin/sh\necho hello, this is longer than an ELF header..."
				 "................................................\n";
	struct mem m = { (const uint8_t *)sh, sizeof(sh) };

	cr_assert_eq(elf_parse(mem_read, &m, sizeof(sh), &img), -ENOEXEC);
}

/* ---- a small valid image built in memory ---- */

#define FAKE_SIZE 0x3000
#define FAKE_INTERP "/lib/ld.so"

/* ph[0] PT_PHDR, ph[1] PT_INTERP, ph[2] PT_LOAD R-X, ph[3] PT_LOAD RW-, ph[4] PT_GNU_STACK */
enum { P_PHDR, P_INTERP, P_TEXT, P_DATA, P_STACK, P_N };

struct fake {
	_Alignas(8) uint8_t b[FAKE_SIZE];
	uint64_t size;
};

static Elf64_Ehdr *EH(struct fake *f)
{
	return (Elf64_Ehdr *)f->b;
}

static Elf64_Phdr *PH(struct fake *f, int i)
{
	return (Elf64_Phdr *)(f->b + EH(f)->e_phoff) + i;
}

static void fake_init(struct fake *f)
{
	Elf64_Ehdr *eh = EH(f);
	Elf64_Phdr *ph;

	memset(f, 0, sizeof(*f));
	f->size = FAKE_SIZE;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x1100;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = P_N;

	ph = PH(f, 0);
	ph[P_PHDR] = (Elf64_Phdr){ .p_type = PT_PHDR, .p_flags = PF_R, .p_offset = 64,
				   .p_vaddr = 64, .p_filesz = P_N * sizeof(Elf64_Phdr),
				   .p_memsz = P_N * sizeof(Elf64_Phdr), .p_align = 8 };
	ph[P_INTERP] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = 0x200,
				     .p_vaddr = 0x200, .p_filesz = sizeof(FAKE_INTERP),
				     .p_memsz = sizeof(FAKE_INTERP), .p_align = 1 };
	memcpy(f->b + 0x200, FAKE_INTERP, sizeof(FAKE_INTERP));
	ph[P_TEXT] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
				   .p_vaddr = 0, .p_filesz = 0x1800, .p_memsz = 0x1800,
				   .p_align = 0x1000 };
	ph[P_DATA] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x2010,
				   .p_vaddr = 0x3010, .p_filesz = 0xff0, .p_memsz = 0x5000,
				   .p_align = 0x1000 };
	ph[P_STACK] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };
}

static int fake_parse(struct fake *f)
{
	struct mem m = { f->b, f->size < FAKE_SIZE ? f->size : FAKE_SIZE };

	return elf_parse(mem_read, &m, f->size, &img);
}

static struct fake F;

#define EXPECT_NOEXEC(mutation)                                   \
	do {                                                      \
		fake_init(&F);                                    \
		mutation;                                         \
		cr_assert_eq(fake_parse(&F), -ENOEXEC, "%s", #mutation); \
	} while (0)

Test(elf_fake, valid)
{
	fake_init(&F);
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.is_dyn, 1);
	cr_assert_eq(img.entry, 0x1100);
	cr_assert_eq(img.phdr_vaddr, 64);
	cr_assert_eq(img.phnum, P_N);
	cr_assert_eq(img.phentsize, 56);
	cr_assert_eq(img.nseg, 2);
	cr_assert_eq(img.seg[0].prot, PROT_READ | PROT_EXEC);
	cr_assert_eq(img.seg[1].prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(img.seg[1].vaddr, 0x3010);
	cr_assert_eq(img.seg[1].offset, 0x2010);
	cr_assert_eq(img.seg[1].filesz, 0xff0);
	cr_assert_eq(img.seg[1].memsz, 0x5000);
	cr_assert_eq(img.lo, 0);
	cr_assert_eq(img.hi, 0x9000); /* 0x3010 + 0x5000 rounded up */
	cr_assert_eq(img.exec_stack, 0);
	cr_assert_str_eq(img.interp, FAKE_INTERP);
}

Test(elf_fake, exec_type_and_min_addr)
{
	fake_init(&F);
	EH(&F)->e_type = ET_EXEC;
	cr_assert_eq(fake_parse(&F), -ENOEXEC); /* vaddr 0 is below mmap_min_addr */
	for (int i = 0; i < P_N; i++)
		PH(&F, i)->p_vaddr += 0x400000;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.is_dyn, 0);
	cr_assert_eq(img.lo, 0x400000);
	cr_assert_eq(img.phdr_vaddr, 0x400040);
	for (int i = 0; i < P_N; i++)
		PH(&F, i)->p_vaddr += 0x10000 - 0x400000 - 0x1000;
	cr_assert_eq(fake_parse(&F), -ENOEXEC); /* text starts at 0xf000 */
	for (int i = 0; i < P_N; i++)
		PH(&F, i)->p_vaddr += 0x1000;
	cr_assert_eq(fake_parse(&F), 0); /* exactly 0x10000 */
}

Test(elf_fake, phdr_vaddr_without_pt_phdr)
{
	fake_init(&F);
	PH(&F, P_PHDR)->p_type = PT_NULL;
	PH(&F, P_TEXT)->p_vaddr = 0x7000;
	PH(&F, P_TEXT)->p_offset = 0;
	PH(&F, P_DATA)->p_vaddr = 0x9010;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.phdr_vaddr, 0x7040);

	/* The table must be wholly inside a segment's file range. */
	PH(&F, P_TEXT)->p_filesz = 64 + 2 * sizeof(Elf64_Phdr);
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.phdr_vaddr, 0);
}

Test(elf_fake, exec_stack)
{
	fake_init(&F);
	PH(&F, P_STACK)->p_flags |= PF_X;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.exec_stack, 1);
}

Test(elf_fake, no_interp_and_bss_only_segment)
{
	fake_init(&F);
	PH(&F, P_INTERP)->p_type = PT_NOTE;
	/* filesz 0: the offset is not read, only its page offset must agree. */
	PH(&F, P_DATA)->p_filesz = 0;
	PH(&F, P_DATA)->p_offset = 0x100000010;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_str_eq(img.interp, "");
}

Test(elf_fake, truncated_header)
{
	fake_init(&F);
	F.size = 63;
	cr_assert_eq(fake_parse(&F), -ENOEXEC);
	F.size = 0;
	cr_assert_eq(fake_parse(&F), -ENOEXEC);

	/* The file claims to be big, but the reads come up short. */
	struct mem m = { F.b, 40 };
	cr_assert_eq(elf_parse(mem_read, &m, FAKE_SIZE, &img), -ENOEXEC);
	m.n = 100; /* header fine, phdr table short */
	cr_assert_eq(elf_parse(mem_read, &m, FAKE_SIZE, &img), -ENOEXEC);
}

Test(elf_fake, read_errors_pass_through)
{
	cr_assert_eq(elf_parse(eio_read, NULL, FAKE_SIZE, &img), -EIO);
	cr_assert_eq(elf_parse(overlong_read, NULL, FAKE_SIZE, &img), -EIO);
}

Test(elf_fake, bad_ident)
{
	EXPECT_NOEXEC(EH(&F)->e_ident[0] = 0x7e);
	EXPECT_NOEXEC(memcpy(EH(&F)->e_ident, "MZ\x90\x00", 4));
	EXPECT_NOEXEC(EH(&F)->e_ident[EI_CLASS] = ELFCLASS32);
	EXPECT_NOEXEC(EH(&F)->e_ident[EI_CLASS] = ELFCLASSNONE);
	EXPECT_NOEXEC(EH(&F)->e_ident[EI_DATA] = ELFDATA2MSB);
	EXPECT_NOEXEC(EH(&F)->e_ident[EI_VERSION] = 0);
}

Test(elf_fake, bad_machine_and_type)
{
	EXPECT_NOEXEC(EH(&F)->e_machine = EM_386);
	EXPECT_NOEXEC(EH(&F)->e_machine = EM_AARCH64);
	EXPECT_NOEXEC(EH(&F)->e_type = ET_REL);
	EXPECT_NOEXEC(EH(&F)->e_type = ET_CORE);
	EXPECT_NOEXEC(EH(&F)->e_type = ET_NONE);
	EXPECT_NOEXEC(EH(&F)->e_entry = 1ULL << 47);
	EXPECT_NOEXEC(EH(&F)->e_entry = UINT64_MAX);
}

Test(elf_fake, bad_phnum_phentsize)
{
	EXPECT_NOEXEC(EH(&F)->e_phnum = 0);
	EXPECT_NOEXEC(EH(&F)->e_phnum = 129);
	EXPECT_NOEXEC(EH(&F)->e_phnum = 0xffff);
	EXPECT_NOEXEC(EH(&F)->e_phentsize = 0);
	EXPECT_NOEXEC(EH(&F)->e_phentsize = 32);
	EXPECT_NOEXEC(EH(&F)->e_phentsize = 64);
	EXPECT_NOEXEC(EH(&F)->e_phentsize = 0xffff);
}

Test(elf_fake, bad_phoff)
{
	EXPECT_NOEXEC(EH(&F)->e_phoff = FAKE_SIZE);
	EXPECT_NOEXEC(EH(&F)->e_phoff = FAKE_SIZE - 100); /* straddles EOF */
	EXPECT_NOEXEC(EH(&F)->e_phoff = UINT64_MAX - 10);  /* phoff + size overflows */
	EXPECT_NOEXEC(EH(&F)->e_phoff = UINT64_MAX);
}

Test(elf_fake, no_load)
{
	EXPECT_NOEXEC({
		PH(&F, P_TEXT)->p_type = PT_NOTE;
		PH(&F, P_DATA)->p_type = PT_NOTE;
	});
}

Test(elf_fake, overlapping_or_unsorted_load)
{
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_vaddr = 0x1010); /* inside text */
	EXPECT_NOEXEC({                                   /* unsorted */
		Elf64_Phdr t = *PH(&F, P_TEXT);
		*PH(&F, P_TEXT) = *PH(&F, P_DATA);
		*PH(&F, P_DATA) = t;
	});
	EXPECT_NOEXEC(*PH(&F, P_DATA) = *PH(&F, P_TEXT)); /* duplicate */

	/* Touching is fine, one byte of overlap is not. */
	fake_init(&F);
	PH(&F, P_DATA)->p_vaddr = 0x1810;
	PH(&F, P_DATA)->p_offset = 0x2810;
	PH(&F, P_DATA)->p_filesz = 0x10;
	PH(&F, P_TEXT)->p_memsz = 0x1810;
	cr_assert_eq(fake_parse(&F), 0);
	PH(&F, P_TEXT)->p_memsz = 0x1811;
	cr_assert_eq(fake_parse(&F), -ENOEXEC);
}

Test(elf_fake, too_many_loads)
{
	fake_init(&F);
	Elf64_Phdr *ph = PH(&F, 0);
	int n = ELF_MAX_LOAD_SEGMENTS + 1;

	EH(&F)->e_phnum = (uint16_t)n;
	for (int i = 0; i < n; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_offset = 0,
				      .p_vaddr = 0x1000 * (uint64_t)i, .p_filesz = 0x100,
				      .p_memsz = 0x100, .p_align = 0x1000 };
	cr_assert_eq(fake_parse(&F), -ENOEXEC);
	EH(&F)->e_phnum = ELF_MAX_LOAD_SEGMENTS;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.nseg, ELF_MAX_LOAD_SEGMENTS);
}

Test(elf_fake, sizes_and_overflow)
{
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_filesz = 0x5001); /* filesz > memsz */
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_filesz = 0xff1);  /* offset+filesz past EOF by one */
	EXPECT_NOEXEC({ /* offset + filesz wraps */
		PH(&F, P_DATA)->p_offset = 0xfffffffffffff010ULL;
		PH(&F, P_DATA)->p_filesz = 0x1000;
	});
	EXPECT_NOEXEC({ /* vaddr + memsz wraps */
		PH(&F, P_DATA)->p_vaddr = 0xfffffffffffff010ULL;
		PH(&F, P_DATA)->p_memsz = 0x2000;
	});
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_memsz = UINT64_MAX);
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_memsz = (1ULL << 47) - 0x3010 + 1); /* past 1<<47 */
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_vaddr = (1ULL << 47) + 0x10);

	fake_init(&F); /* ending exactly at 1<<47 is allowed */
	PH(&F, P_DATA)->p_memsz = (1ULL << 47) - 0x3010;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(img.hi, 1ULL << 47);
	PH(&F, P_DATA)->p_filesz = 0xff0; /* and the file range ending exactly at EOF */
	cr_assert_eq(fake_parse(&F), 0);
}

Test(elf_fake, offset_vaddr_page_mismatch)
{
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_vaddr = 0x3018);
	EXPECT_NOEXEC(PH(&F, P_DATA)->p_offset = 0x2000);
	EXPECT_NOEXEC(PH(&F, P_TEXT)->p_offset = 0x8);
}

Test(elf_fake, bad_interp)
{
	EXPECT_NOEXEC(F.b[0x200 + sizeof(FAKE_INTERP) - 1] = 'x'); /* no NUL */
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_filesz = ELF_INTERP_MAX + 1);
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_filesz = UINT64_MAX);
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_filesz = 0);
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_filesz = 1);
	EXPECT_NOEXEC(F.b[0x200] = '\0'); /* empty string */
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_offset = FAKE_SIZE - 4); /* past EOF */
	EXPECT_NOEXEC(PH(&F, P_INTERP)->p_offset = UINT64_MAX - 4);
	EXPECT_NOEXEC(*PH(&F, P_PHDR) = *PH(&F, P_INTERP)); /* two PT_INTERP */

	/* The longest allowed: ELF_INTERP_MAX bytes including the NUL. */
	fake_init(&F);
	memset(F.b + 0x200, 'a', ELF_INTERP_MAX - 1);
	F.b[0x200 + ELF_INTERP_MAX - 1] = '\0';
	PH(&F, P_INTERP)->p_filesz = ELF_INTERP_MAX;
	cr_assert_eq(fake_parse(&F), 0);
	cr_assert_eq(strlen(img.interp), ELF_INTERP_MAX - 1);
}

/* ---- random mutations: 0 or -ENOEXEC, never a crash, and a valid result is sane ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void check_sane(const struct elf_image *im, uint64_t size)
{
	cr_assert(im->nseg >= 1 && im->nseg <= ELF_MAX_LOAD_SEGMENTS);
	for (int i = 0; i < im->nseg; i++) {
		const struct elf_segment *s = &im->seg[i];

		cr_assert_leq(s->filesz, s->memsz);
		cr_assert_lt(s->vaddr, 1ULL << 47);
		cr_assert_leq(s->memsz, (1ULL << 47) - s->vaddr);
		cr_assert_eq(s->offset % 4096, s->vaddr % 4096);
		if (s->filesz)
			cr_assert(s->offset <= size && s->filesz <= size - s->offset);
		if (i)
			cr_assert_geq(s->vaddr, im->seg[i - 1].vaddr + im->seg[i - 1].memsz);
	}
	cr_assert_leq(im->lo, im->seg[0].vaddr);
	cr_assert_leq(im->hi, 1ULL << 47);
	cr_assert(im->is_dyn || im->lo >= 0x10000);
	cr_assert(memchr(im->interp, '\0', sizeof(im->interp)) != NULL);
}

Test(elf_fuzz, random_mutations)
{
	static const uint64_t special[] = { 0,
					    1,
					    0xfff,
					    0x1000,
					    0x10000,
					    FAKE_SIZE,
					    FAKE_SIZE - 1,
					    1ULL << 47,
					    (1ULL << 47) - 1,
					    0x7fffffffffffffffULL,
					    0x8000000000000000ULL,
					    UINT64_MAX,
					    UINT64_MAX - 0xfff };
	/* Only the header, the phdr table and the interp string are worth mutating. */
	const size_t hot = 0x240;
	int ok = 0;

	rng_state = 0x5eed1234abcdULL;
	for (int iter = 0; iter < 20000; iter++) {
		int nmut = 1 + (int)(rng() % 6);

		fake_init(&F);
		for (int k = 0; k < nmut; k++) {
			uint64_t r = rng();
			size_t at = (size_t)(rng() % hot);

			switch (r % 5) {
			case 0: /* one random byte */
				F.b[at] = (uint8_t)(r >> 8);
				break;
			case 1: /* flip a bit */
				F.b[at] ^= (uint8_t)(1u << ((r >> 8) % 8));
				break;
			case 2: /* an 8-byte field gets an interesting value */
				at &= ~(size_t)7;
				memcpy(F.b + at, &special[(r >> 8) % (sizeof(special) / 8)], 8);
				break;
			case 3: /* a 2-byte field gets a small or huge value */
				at &= ~(size_t)1;
				{
					uint16_t v = (r >> 8) & 1 ? (uint16_t)(r >> 16)
								  : (uint16_t)((r >> 16) % 20);
					memcpy(F.b + at, &v, 2);
				}
				break;
			default: /* the file got shorter (or claims to be longer) */
				F.size = (r >> 8) & 1 ? (r >> 16) % FAKE_SIZE : r >> 16;
				break;
			}
		}
		int ret = fake_parse(&F);

		cr_assert(ret == 0 || ret == -ENOEXEC, "iter %d: %d", iter, ret);
		if (ret == 0) {
			check_sane(&img, F.size);
			ok++;
		}
	}
	/* Sanity of the harness itself: some mutations must keep the file valid. */
	cr_assert_gt(ok, 100);
}

/* ---- shebang ---- */

static char si[512], sa[512];

static int sb(const char *s, size_t len)
{
	memset(si, 'Z', sizeof(si));
	memset(sa, 'Z', sizeof(sa));
	return shebang_parse(s, len, si, sizeof(si), sa, sizeof(sa));
}

#define SB(lit) sb(lit, sizeof(lit) - 1)

Test(shebang, simple)
{
	cr_assert_eq(SB("#!/bin/sh\n"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "");
	cr_assert_eq(SB("#!/bin/sh\necho hi\n"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "");
}

Test(shebang, argument_keeps_inner_spaces)
{
	cr_assert_eq(SB("#! /usr/bin/env  python3 -u \n"), 0);
	cr_assert_str_eq(si, "/usr/bin/env");
	cr_assert_str_eq(sa, "python3 -u");
}

Test(shebang, tabs)
{
	cr_assert_eq(SB("#!\t/bin/bash\t-e\t \t\nexit\n"), 0);
	cr_assert_str_eq(si, "/bin/bash");
	cr_assert_str_eq(sa, "-e");
	cr_assert_eq(SB("#!/bin/sh\t\t\n"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "");
}

Test(shebang, not_a_script)
{
	cr_assert_eq(SB("#!\n"), -ENOEXEC);
	cr_assert_eq(SB("#! \t \n/bin/sh\n"), -ENOEXEC);
	cr_assert_eq(SB("#!"), -ENOEXEC);
	cr_assert_eq(SB("#"), -ENOEXEC);
	cr_assert_eq(SB(""), -ENOEXEC);
	cr_assert_eq(SB("echo hi\n"), -ENOEXEC);
	cr_assert_eq(SB(" #!/bin/sh\n"), -ENOEXEC);
	cr_assert_eq(SB("\x7f" "ELF"), -ENOEXEC);
	cr_assert_eq(sb("#!/bin/sh\n", 1), -ENOEXEC); /* only "#" was read */
}

Test(shebang, no_newline)
{
	cr_assert_eq(SB("#!/bin/sh"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "");
	cr_assert_eq(SB("#!/bin/sh -e"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "-e");
}

Test(shebang, linux_quirks)
{
	/* CR is not a blank: a DOS script names "/bin/sh\r". */
	cr_assert_eq(SB("#!/bin/sh\r\n"), 0);
	cr_assert_str_eq(si, "/bin/sh\r");
	/* A NUL ends the line. */
	cr_assert_eq(SB("#!/bin/sh\0 -x\n"), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_str_eq(sa, "");
	cr_assert_eq(SB("#!/bin/sh -x\0y\n"), 0);
	cr_assert_str_eq(sa, "-x");
}

Test(shebang, long_lines)
{
	char b[400];

	/* Newline beyond 256 bytes, name ends early: the line is cut at byte 255. */
	memset(b, 'x', sizeof(b));
	memcpy(b, "#!/bin/sh ", 10);
	b[300] = '\n';
	cr_assert_eq(sb(b, sizeof(b)), 0);
	cr_assert_str_eq(si, "/bin/sh");
	cr_assert_eq(strlen(sa), 255 - 10);
	cr_assert_eq(strspn(sa, "x"), 255 - 10);

	/* The name runs past the buffer: it might be truncated, refuse. */
	memset(b, 'a', sizeof(b));
	memcpy(b, "#!/", 3);
	b[300] = ' ';
	cr_assert_eq(sb(b, sizeof(b)), -ENOEXEC);
	memcpy(b, "#! \t ", 5);
	cr_assert_eq(sb(b, sizeof(b)), -ENOEXEC);

	/* The name ends with a blank in the very last byte: accepted, name is 2..254. */
	memset(b, 'a', sizeof(b));
	memcpy(b, "#!/", 3);
	b[255] = ' ';
	cr_assert_eq(sb(b, sizeof(b)), 0);
	cr_assert_eq(strlen(si), 253);
	cr_assert_str_eq(sa, "");

	/* Only blanks up to the end of the buffer. */
	memset(b, ' ', sizeof(b));
	memcpy(b, "#!", 2);
	cr_assert_eq(sb(b, sizeof(b)), -ENOEXEC);

	/* Newline within the buffer: everything before it counts. */
	memset(b, 'y', sizeof(b));
	memcpy(b, "#!/bin/sh ", 10);
	b[250] = '\n';
	cr_assert_eq(sb(b, sizeof(b)), 0);
	cr_assert_eq(strlen(sa), 240);
}

Test(shebang, buffers_too_small)
{
	char i8[8], a4[4];

	cr_assert_eq(shebang_parse("#!/bin/sh -abc\n", 15, i8, sizeof(i8), a4, sizeof(a4)),
		     -ENAMETOOLONG);
	cr_assert_eq(shebang_parse("#!/bin/sh -ab\n", 14, i8, sizeof(i8), a4, sizeof(a4)), 0);
	cr_assert_str_eq(i8, "/bin/sh");
	cr_assert_str_eq(a4, "-ab");
	cr_assert_eq(shebang_parse("#!/bin/bash\n", 12, i8, sizeof(i8), a4, sizeof(a4)),
		     -ENAMETOOLONG);
}
