/* The auxiliary vector the loader builds: page size, ids, secure flag, the random bytes,
 * AT_EXECFN, AT_PHDR/AT_ENTRY, and the vDSO if any. Addresses are printed as relations. */
#include "conf.h"
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	(void)argc;
	printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
	BOOL("AT_UID == getuid", getauxval(AT_UID) == getuid());
	BOOL("AT_EUID == geteuid", getauxval(AT_EUID) == geteuid());
	BOOL("AT_GID == getgid", getauxval(AT_GID) == getgid());
	BOOL("AT_EGID == getegid", getauxval(AT_EGID) == getegid());
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
	unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++)
		nonzero += rnd[i] != 0;
	BOOL("AT_RANDOM points at 16 bytes, mostly nonzero", rnd != NULL && nonzero >= 8);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	BOOL("AT_EXECFN equals argv[0]", execfn && strcmp(execfn, argv[0]) == 0);
	BOOL("AT_HWCAP nonzero", getauxval(AT_HWCAP) != 0);
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	printf("AT_PLATFORM=%s\n", plat ? plat : "(none)");

	ElfW(Phdr) *phdr = (ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	printf("AT_PHENT matches Elf64_Phdr: %s\n", getauxval(AT_PHENT) == sizeof(ElfW(Phdr)) ? "yes" : "no");
	int has_load = 0, has_interp = 0;
	for (unsigned long i = 0; phdr && i < phnum; i++) {
		has_load |= phdr[i].p_type == PT_LOAD;
		has_interp |= phdr[i].p_type == PT_INTERP;
	}
	BOOL("AT_PHDR table has PT_LOAD", has_load);
	printf("PT_INTERP present: %s AT_BASE set: %s\n", has_interp ? "yes" : "no",
	       getauxval(AT_BASE) != 0 ? "yes" : "no");
	BOOL("AT_ENTRY nonzero", getauxval(AT_ENTRY) != 0);
	/* The vDSO is optional in a sandbox; only its consistency is checked. */
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	BOOL("AT_SYSINFO_EHDR absent or an ELF header",
	     vdso == 0 || memcmp((void *)vdso, ELFMAG, SELFMAG) == 0);
	/* The stack layout: auxv follows the environment's NULL. */
	char **e = environ;
	while (*e)
		e++;
	ElfW(auxv_t) *av = (ElfW(auxv_t) *)(e + 1);
	int found_pagesz = 0;
	for (; av->a_type != AT_NULL; av++)
		found_pagesz |= av->a_type == AT_PAGESZ;
	BOOL("auxv sits after envp on the stack", found_pagesz);
	return 0;
}
