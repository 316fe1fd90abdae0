/* ELF64 x86-64 executable parsing, '#!' line parsing and the initial stack image.
 *
 * Pure functions over caller-supplied data, unit-tested with hostile inputs: every
 * malformed input yields -ENOEXEC (or -E2BIG / -ENAMETOOLONG where noted), never a crash. */
#ifndef WARD_LOADER_ELF_H
#define WARD_LOADER_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_LOAD_SEGMENTS 16
#define ELF_INTERP_MAX 4096

struct elf_segment {
	uint64_t vaddr;  /* p_vaddr (not page aligned) */
	uint64_t memsz;  /* p_memsz, >= filesz */
	uint64_t filesz; /* p_filesz */
	uint64_t offset; /* p_offset; offset % 4096 == vaddr % 4096 is enforced */
	int prot;        /* PROT_READ/WRITE/EXEC from p_flags */
};

struct elf_image {
	int is_dyn;       /* ET_DYN (PIE or shared object): needs a load bias */
	uint64_t entry;   /* e_entry, unbiased */
	uint64_t phdr_vaddr; /* where the program headers are in memory (unbiased): PT_PHDR's
			      * vaddr, else from the first PT_LOAD whose file range holds the
			      * whole table; 0 if none */
	uint16_t phnum, phentsize;
	struct elf_segment seg[ELF_MAX_LOAD_SEGMENTS]; /* PT_LOAD in file order (ascending vaddr) */
	int nseg;         /* >= 1 */
	uint64_t lo, hi;  /* page-aligned span of all PT_LOAD: lo = first vaddr rounded down,
			   * hi = max(vaddr + memsz) rounded up */
	int exec_stack;   /* PT_GNU_STACK with PF_X */
	char interp[ELF_INTERP_MAX]; /* PT_INTERP path, NUL-terminated, or "" */
};

/* Reads len bytes at off into buf; returns bytes read (short at EOF) or -errno. */
typedef long (*elf_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Parses and validates an x86-64 ELF64 ET_EXEC/ET_DYN executable. Checks: magic, class,
 * data (LE), version, machine EM_X86_64, type, phentsize == sizeof(Elf64_Phdr), phnum in
 * 1..128, phdr table inside the file, at least one PT_LOAD, PT_LOAD sorted by vaddr and
 * non-overlapping, filesz <= memsz, offset+filesz inside the file (file_size), no
 * overflow in any sum, addresses below 1<<47, at most one PT_INTERP which must be
 * NUL-terminated, non-empty and < ELF_INTERP_MAX. Returns 0 or -ENOEXEC (-EIO etc. from
 * read are passed through). */
int elf_parse(elf_read_fn read, void *ctx, uint64_t file_size, struct elf_image *out);

/* Parses a '#!' line as Linux does (binfmt_script): the first line of buf (at most the
 * first 256 bytes count), leading blanks skipped, interpreter = first word, optional
 * argument = the rest with surrounding blanks trimmed (one argument, may contain spaces).
 * Returns 0 with interp (and arg, "" when none) filled, -ENOEXEC if buf does not start
 * with "#!" or names no interpreter, -ENAMETOOLONG if a part does not fit its buffer. */
int shebang_parse(const char *buf, size_t len, char *interp, size_t interp_sz,
		  char *arg, size_t arg_sz);

struct auxv_entry {
	uint64_t type, value;
};

struct stack_args {
	uint64_t stack_top;        /* guest address one past the highest stack byte, 16-aligned */
	const char *const *argv;  /* argc strings */
	int argc;
	const char *const *envp;  /* envc strings */
	int envc;
	const struct auxv_entry *aux; /* caller's entries, without AT_RANDOM/AT_EXECFN/
				       * AT_PLATFORM/AT_NULL, which the builder adds */
	int naux;
	const uint8_t *random16;  /* 16 bytes for AT_RANDOM */
	const char *execfn;       /* string for AT_EXECFN */
	const char *platform;     /* string for AT_PLATFORM ("x86_64") */
};

/* Builds the initial process stack exactly as Linux's create_elf_tables lays it out
 * (from the top: execfn string, argv/envp strings, platform string, 16 random bytes,
 * padding, then at sp: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL; sp 16-byte
 * aligned). buf stands for guest memory [stack_top - bufsz, stack_top). On success returns
 * 0 and sets *sp_out (the guest rsp to start with). Returns -E2BIG if it does not fit
 * (nothing is written then), -EINVAL for a negative count or a NULL string/array
 * (platform may be NULL: no string and no AT_PLATFORM, as Linux without a platform). */
int stack_build(const struct stack_args *a, uint8_t *buf, size_t bufsz, uint64_t *sp_out);

#endif
