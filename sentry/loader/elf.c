/* ELF64 x86-64 executable parsing and '#!' line parsing (see elf.h).
 *
 * Everything read from the file is untrusted: every sum is checked for overflow before
 * it is used, and every read goes through the caller's callback into local buffers. */
#include "sentry/loader/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#define ELF_PAGE 4096ULL
#define ELF_ADDR_LIMIT (1ULL << 47)   /* user half of the x86-64 address space */
#define ELF_EXEC_MIN_VADDR 0x10000ULL /* vm.mmap_min_addr on Debian */
#define ELF_MAX_PHNUM 128

/* Reads exactly len bytes at off. A short read means the file lies about its size or was
 * truncated under us: not an executable. */
static int read_exact(elf_read_fn read, void *ctx, void *buf, size_t len, uint64_t off)
{
	long r = read(ctx, buf, len, off);

	if (r < 0)
		return (int)r;
	if ((size_t)r > len)
		return -EIO; /* broken callback, do not trust buf */
	if ((size_t)r != len)
		return -ENOEXEC;
	return 0;
}

/* True when [off, off + len) lies inside a file of size fsz, without overflow. */
static bool range_in_file(uint64_t off, uint64_t len, uint64_t fsz)
{
	return off <= fsz && len <= fsz - off;
}

static int pflags_to_prot(uint32_t f)
{
	int prot = 0;

	if (f & PF_R)
		prot |= PROT_READ;
	if (f & PF_W)
		prot |= PROT_WRITE;
	if (f & PF_X)
		prot |= PROT_EXEC;
	return prot;
}

static int check_ehdr(const Elf64_Ehdr *eh, uint64_t file_size)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return -ENOEXEC;
	if (eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	if (eh->e_phnum < 1 || eh->e_phnum > ELF_MAX_PHNUM)
		return -ENOEXEC;
	/* phnum <= 128 so the product cannot overflow. */
	if (!range_in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), file_size))
		return -ENOEXEC;
	if (eh->e_entry >= ELF_ADDR_LIMIT)
		return -ENOEXEC;
	return 0;
}

/* Validates one PT_LOAD and appends it to out->seg; prev_end is the end of the previous
 * PT_LOAD (segments must ascend without overlapping). */
static int add_load(const Elf64_Phdr *ph, uint64_t file_size, struct elf_image *out,
		    uint64_t *prev_end)
{
	struct elf_segment *s;

	if (out->nseg >= ELF_MAX_LOAD_SEGMENTS)
		return -ENOEXEC;
	if (ph->p_filesz > ph->p_memsz)
		return -ENOEXEC;
	if (ph->p_vaddr >= ELF_ADDR_LIMIT || ph->p_memsz > ELF_ADDR_LIMIT - ph->p_vaddr)
		return -ENOEXEC;
	/* A segment that reads nothing from the file may point anywhere. */
	if (ph->p_filesz && !range_in_file(ph->p_offset, ph->p_filesz, file_size))
		return -ENOEXEC;
	/* mmap needs a page-aligned file offset for the page-aligned address. */
	if ((ph->p_offset & (ELF_PAGE - 1)) != (ph->p_vaddr & (ELF_PAGE - 1)))
		return -ENOEXEC;
	if (out->nseg > 0 && ph->p_vaddr < *prev_end)
		return -ENOEXEC;

	s = &out->seg[out->nseg++];
	s->vaddr = ph->p_vaddr;
	s->memsz = ph->p_memsz;
	s->filesz = ph->p_filesz;
	s->offset = ph->p_offset;
	s->prot = pflags_to_prot(ph->p_flags);
	*prev_end = ph->p_vaddr + ph->p_memsz;
	return 0;
}

static int read_interp(const Elf64_Phdr *ph, elf_read_fn read, void *ctx, uint64_t file_size,
		       struct elf_image *out)
{
	int err;

	/* Room for at least one character and the NUL, and it must fit interp[]. */
	if (ph->p_filesz < 2 || ph->p_filesz > ELF_INTERP_MAX)
		return -ENOEXEC;
	if (!range_in_file(ph->p_offset, ph->p_filesz, file_size))
		return -ENOEXEC;
	err = read_exact(read, ctx, out->interp, ph->p_filesz, ph->p_offset);
	if (err) {
		out->interp[0] = '\0';
		return err;
	}
	if (out->interp[ph->p_filesz - 1] != '\0' || out->interp[0] == '\0') {
		out->interp[0] = '\0';
		return -ENOEXEC;
	}
	return 0;
}

int elf_parse(elf_read_fn read, void *ctx, uint64_t file_size, struct elf_image *out)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELF_MAX_PHNUM];
	const Elf64_Phdr *interp_ph = NULL;
	uint64_t prev_end = 0, tab_len;
	bool have_phdr = false;
	int err;

	memset(out, 0, sizeof(*out));
	if (file_size < sizeof(eh))
		return -ENOEXEC;
	err = read_exact(read, ctx, &eh, sizeof(eh), 0);
	if (err)
		return err;
	err = check_ehdr(&eh, file_size);
	if (err)
		return err;

	tab_len = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	err = read_exact(read, ctx, ph, tab_len, eh.e_phoff);
	if (err)
		return err;

	for (int i = 0; i < eh.e_phnum; i++) {
		switch (ph[i].p_type) {
		case PT_LOAD:
			err = add_load(&ph[i], file_size, out, &prev_end);
			if (err)
				return err;
			break;
		case PT_INTERP:
			if (interp_ph)
				return -ENOEXEC; /* ambiguous: Linux would take the first */
			interp_ph = &ph[i];
			break;
		case PT_PHDR:
			if (!have_phdr) {
				if (ph[i].p_vaddr >= ELF_ADDR_LIMIT)
					return -ENOEXEC;
				out->phdr_vaddr = ph[i].p_vaddr;
				have_phdr = true;
			}
			break;
		case PT_GNU_STACK:
			out->exec_stack = !!(ph[i].p_flags & PF_X);
			break;
		default:
			break;
		}
	}
	if (out->nseg == 0)
		return -ENOEXEC;

	out->is_dyn = eh.e_type == ET_DYN;
	out->entry = eh.e_entry;
	out->phnum = eh.e_phnum;
	out->phentsize = eh.e_phentsize;
	out->lo = out->seg[0].vaddr & ~(ELF_PAGE - 1);
	/* Ascending and non-overlapping, so the last segment ends highest; its end is
	 * <= 1<<47, so rounding up cannot overflow. */
	out->hi = (prev_end + ELF_PAGE - 1) & ~(ELF_PAGE - 1);
	if (!out->is_dyn && out->lo < ELF_EXEC_MIN_VADDR)
		return -ENOEXEC;

	if (!have_phdr) {
		/* No PT_PHDR: find the table in the loaded image, as Linux does for AT_PHDR. */
		for (int i = 0; i < out->nseg; i++) {
			const struct elf_segment *s = &out->seg[i];

			if (eh.e_phoff >= s->offset && eh.e_phoff - s->offset <= s->filesz &&
			    tab_len <= s->filesz - (eh.e_phoff - s->offset)) {
				out->phdr_vaddr = s->vaddr + (eh.e_phoff - s->offset);
				break;
			}
		}
	}

	if (interp_ph) {
		err = read_interp(interp_ph, read, ctx, file_size, out);
		if (err)
			return err;
	}
	return 0;
}

/* Linux's BINPRM_BUF_SIZE: only this much of the file is ever looked at. */
#define SHEBANG_BUF 256

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static int copy_part(const char *src, size_t n, char *dst, size_t dst_sz)
{
	if (n >= dst_sz)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int shebang_parse(const char *buf, size_t len, char *interp, size_t interp_sz, char *arg,
		  size_t arg_sz)
{
	char b[SHEBANG_BUF] = { 0 }; /* zero padded like bprm->buf for short files */
	size_t end, name, name_end, a;
	bool found_nl = false;
	int err;

	if (len > SHEBANG_BUF)
		len = SHEBANG_BUF;
	if (len)
		memcpy(b, buf, len);
	if (b[0] != '#' || b[1] != '!')
		return -ENOEXEC;

	/* The line ends at the first newline; Linux's search also stops at a NUL. */
	for (end = 0; end < SHEBANG_BUF && b[end] != '\0'; end++) {
		if (b[end] == '\n') {
			found_nl = true;
			break;
		}
	}
	if (!found_nl) {
		/* No newline: the line may be truncated. Accept it only if the interpreter
		 * name visibly ends (blank or NUL) inside the buffer; the last byte of the
		 * buffer is never part of the line. */
		size_t i = 2;

		while (i < SHEBANG_BUF && blank(b[i]))
			i++;
		if (i == SHEBANG_BUF)
			return -ENOEXEC;
		while (i < SHEBANG_BUF && !blank(b[i]) && b[i] != '\0')
			i++;
		if (i == SHEBANG_BUF)
			return -ENOEXEC;
		if (end > SHEBANG_BUF - 1)
			end = SHEBANG_BUF - 1;
	}

	while (end > 2 && blank(b[end - 1]))
		end--;
	for (name = 2; name < end && blank(b[name]); name++)
		;
	if (name == end)
		return -ENOEXEC;
	for (name_end = name; name_end < end && !blank(b[name_end]); name_end++)
		;
	for (a = name_end; a < end && blank(b[a]); a++)
		;

	err = copy_part(b + name, name_end - name, interp, interp_sz);
	if (err)
		return err;
	return copy_part(b + a, end - a, arg, arg_sz);
}
