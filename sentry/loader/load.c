/* execve: '#!' scripts, ELF executables and their interpreter, mapped into a fresh
 * address space (a new stub), with the initial stack Linux would build. */
#include "sentry/fs/fs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/elf.h"
#include "platform/ptrace/stub_layout.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define ELF_ET_DYN_BASE 0x555555554000ULL
#define STACK_SIZE (8ULL << 20)
#define MAX_ARG_STRLEN (32 * 4096)
#define MAX_SHEBANG_DEPTH 4

static long file_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct file *f = ctx;
	size_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		long n = f->ops->read(f, NULL, (char *)buf + done, len - done, &pos);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (long)done;
}

static int open_exec(struct task *t, const char *path, struct file **out, struct dentry **dout)
{
	struct dentry *d;
	int err = vfs_walk(t->fs, NULL, path, WALK_FOLLOW, &d);
	if (err < 0)
		return err;
	struct kstat st;
	err = inode_getattr(d->inode, &st);
	if (err == 0 && !S_ISREG(st.mode))
		err = S_ISDIR(st.mode) ? -EACCES : -EACCES;
	if (err == 0 && !(st.mode & 0111))
		err = -EACCES;
	if (err == 0)
		err = vfs_open_dentry(d, O_RDONLY, out);
	if (err < 0) {
		dentry_put(d);
		return err;
	}
	*dout = d;
	return 0;
}

static int map_elf(struct mm *mm, struct file *f, const struct elf_image *img, uint64_t bias,
		   uint64_t *brk_end)
{
	uint64_t addr;
	for (int i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint64_t start = PAGE_DOWN(s->vaddr + bias);
		uint64_t file_end = s->vaddr + bias + s->filesz;
		uint64_t mem_end = s->vaddr + bias + s->memsz;
		int prot = s->prot;
		int err;
		if (s->filesz) {
			/* Writable only while the loader zeroes a bss tail: a read-only segment
			 * stays the page cache's pages (a writable private mapping is a copy,
			 * read whole at once). */
			bool padzero = mem_end > file_end && PAGE_UP(file_end) > file_end;
			err = mm_map(mm, start, PAGE_UP(file_end) - start, padzero ? prot | PROT_WRITE : prot,
				     MAP_PRIVATE | MAP_FIXED, f, PAGE_DOWN(s->offset), NULL, &addr);
			if (err < 0)
				return err;
			/* The rest of the last file page belongs to the bss: zero it (padzero). */
			if (padzero) {
				uint8_t *p = user_ptr(mm, file_end, PAGE_UP(file_end) - file_end, PROT_WRITE);
				if (p)
					memset(p, 0, PAGE_UP(file_end) - file_end);
			}
			if (padzero && !(prot & PROT_WRITE)) {
				err = mm_protect(mm, start, PAGE_UP(file_end) - start, prot);
				if (err < 0)
					return err;
			}
		}
		uint64_t bss_start = s->filesz ? PAGE_UP(file_end) : PAGE_DOWN(s->vaddr + bias);
		if (PAGE_UP(mem_end) > bss_start) {
			err = mm_map(mm, bss_start, PAGE_UP(mem_end) - bss_start, prot,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, NULL, &addr);
			if (err < 0)
				return err;
		}
		if (mem_end > *brk_end)
			*brk_end = mem_end;
	}
	return 0;
}

struct exec_image {
	struct file *file, *interp_file;
	struct dentry *dentry;
	struct elf_image elf, interp;
};

/* Resolves '#!' chains and reads the ELF headers of the program and its interpreter. */
static int prepare(struct task *t, const char *path, char ***argvp, int *argcp, struct exec_image *x)
{
	char interp[256], arg[256], head[256];
	for (int depth = 0;; depth++) {
		int err = open_exec(t, path, &x->file, &x->dentry);
		if (err < 0)
			return err;
		long n = file_pread(x->file, head, sizeof(head), 0);
		if (n < 0)
			return (int)n;
		if (n >= 2 && head[0] == '#' && head[1] == '!') {
			if (depth >= MAX_SHEBANG_DEPTH)
				return -ELOOP;
			err = shebang_parse(head, (size_t)n, interp, sizeof(interp), arg, sizeof(arg));
			if (err < 0)
				return err;
			/* argv becomes: interp [arg] path argv[1..] */
			int argc = *argcp, extra = arg[0] ? 2 : 1;
			char **nv = calloc((size_t)(argc + extra + 2), sizeof(char *));
			if (!nv)
				return -ENOMEM;
			int j = 0;
			nv[j++] = strdup(interp);
			if (arg[0])
				nv[j++] = strdup(arg);
			nv[j++] = strdup(path);
			for (int i = 1; i < argc; i++)
				nv[j++] = (*argvp)[i];
			if (argc > 0)
				free((*argvp)[0]);
			free(*argvp);
			*argvp = nv;
			*argcp = j;
			path = nv[0];
			file_put(x->file);
			dentry_put(x->dentry);
			x->file = NULL;
			continue;
		}
		struct kstat st;
		inode_getattr(x->file->inode, &st);
		err = elf_parse(file_pread, x->file, st.size, &x->elf);
		if (err < 0)
			return err;
		break;
	}
	if (x->elf.interp[0]) {
		struct dentry *idn;
		int err = open_exec(t, x->elf.interp, &x->interp_file, &idn);
		if (err == -EACCES) /* an interpreter need not be executable, only readable */
			err = -EACCES;
		if (err < 0)
			return err == -ENOENT ? -ENOENT : err;
		dentry_put(idn);
		struct kstat st;
		inode_getattr(x->interp_file->inode, &st);
		err = elf_parse(file_pread, x->interp_file, st.size, &x->interp);
		if (err < 0)
			return err;
		if (x->interp.interp[0])
			return -ELIBBAD;
	}
	return 0;
}

static void release_image(struct exec_image *x)
{
	if (x->file)
		file_put(x->file);
	if (x->interp_file)
		file_put(x->interp_file);
	if (x->dentry)
		dentry_put(x->dentry);
}

static void reset_fpstate(struct task *t)
{
	const struct platform_ops *ops = t->k->plat->ops;
	size_t size = ops->fpstate_size(t->k->plat);
	uint8_t *buf = calloc(1, size);
	if (!buf)
		return;
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;
	memcpy(buf, &fcw, 2);
	memcpy(buf + 24, &mxcsr, 4);
	ops->set_fpstate(t->ctx, buf, size);
	free(buf);
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int loader_exec(struct task *t, const char *path, char *const argv_in[], int argc_in,
		char *const envp[], int envc)
{
	struct kernel *k = t->k;
	struct exec_image x = {0};
	struct mm *mm = NULL;
	struct context *ctx = NULL;
	struct fd_table *own_fdt = NULL;
	uint8_t *stack = NULL;
	int err;
	int argc = argc_in;
	char **argv = calloc((size_t)argc + 2, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	for (int i = 0; i < argc; i++)
		argv[i] = strdup(argv_in[i]);
	const char *execfn = path;

	err = prepare(t, path, &argv, &argc, &x);
	if (err < 0)
		goto out;

	/* From here on the new image is built in a new address space; the old one is
	 * untouched until it is complete, so a failure leaves the caller as it was. */
	err = mm_create(k, &mm);
	if (err < 0)
		goto out;
	rlim_t as = t->tg->rlim[RLIMIT_AS].rlim_cur;
	mm->as_limit = as == RLIM_INFINITY ? 0 : as;
	uint64_t bias = x.elf.is_dyn ? ELF_ET_DYN_BASE - x.elf.lo : 0;
	uint64_t brk_end = 0;
	err = map_elf(mm, x.file, &x.elf, bias, &brk_end);
	if (err < 0)
		goto out;
	mm->brk_start = mm->brk = PAGE_UP(brk_end);
	uint64_t interp_bias = 0, entry = x.elf.entry + bias;
	if (x.interp_file) {
		uint64_t span = x.interp.hi - x.interp.lo, base, unused = 0;
		err = vma_find_gap(&mm->vmas, span, GUEST_MMAP_MIN, mm->mmap_top, &base);
		if (err < 0)
			goto out;
		interp_bias = base - x.interp.lo;
		err = map_elf(mm, x.interp_file, &x.interp, interp_bias, &unused);
		if (err < 0)
			goto out;
		entry = x.interp.entry + interp_bias;
	}
	uint64_t stack_base;
	err = mm_map(mm, mm->stack_top - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0, "[stack]", &stack_base);
	if (err < 0)
		goto out;

	unsigned a = 0, b = 0, c = 0, d = 0;
	__get_cpuid(1, &a, &b, &c, &d);
	const struct creds *cr = &t->tg->cred;
	struct auxv_entry aux[] = {
		{AT_MINSIGSTKSZ, k->plat->ops->fpstate_size(k->plat) + 1024},
		{AT_HWCAP, d},
		{AT_PAGESZ, PAGE},
		{AT_CLKTCK, 100},
		{AT_PHDR, x.elf.phdr_vaddr + bias},
		{AT_PHENT, sizeof(Elf64_Phdr)},
		{AT_PHNUM, x.elf.phnum},
		{AT_BASE, x.interp_file ? x.interp.lo + interp_bias : 0},
		{AT_FLAGS, 0},
		{AT_ENTRY, x.elf.entry + bias},
		{AT_UID, cr->ruid},
		{AT_EUID, cr->euid},
		{AT_GID, cr->rgid},
		{AT_EGID, cr->egid},
		{AT_SECURE, 0},
		{AT_HWCAP2, 0},
	};
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	size_t bufsz = STACK_SIZE / 4; /* Linux allows arguments up to a quarter of the stack */
	stack = malloc(bufsz);
	if (!stack) {
		err = -ENOMEM;
		goto out;
	}
	struct stack_args sa = {
		.stack_top = mm->stack_top,
		.argv = (const char *const *)argv,
		.argc = argc,
		.envp = (const char *const *)envp,
		.envc = envc,
		.aux = aux,
		.naux = (int)(sizeof(aux) / sizeof(aux[0])),
		.random16 = rnd,
		.execfn = execfn,
		.platform = "x86_64",
	};
	uint64_t sp;
	err = stack_build(&sa, stack, bufsz, &sp);
	if (err < 0)
		goto out;
	err = copy_to_user(mm, sp, stack + (sp - (mm->stack_top - bufsz)), mm->stack_top - sp);
	if (err < 0)
		goto out;
	/* Remember where argv/envp strings are, for /proc/pid/cmdline and environ. */
	{
		uint64_t p = sp + 8, v;
		copy_from_user(mm, &v, p, 8);
		mm->arg_start = v;
		if (argc > 0) {
			copy_from_user(mm, &v, p + 8 * (uint64_t)(argc - 1), 8);
			mm->arg_end = v + strlen(argv[argc - 1]) + 1;
		} else {
			mm->arg_end = mm->arg_start;
		}
		uint64_t envp0 = p + 8 * ((uint64_t)argc + 1);
		if (envc > 0) {
			copy_from_user(mm, &v, envp0, 8);
			mm->env_start = v;
			copy_from_user(mm, &v, envp0 + 8 * (uint64_t)(envc - 1), 8);
			mm->env_end = v + strlen(envp[envc - 1]) + 1;
		} else {
			mm->env_start = mm->env_end = mm->arg_end;
		}
		uint64_t auxp = envp0 + 8 * ((uint64_t)envc + 1);
		mm->nauxv = 0;
		while (mm->nauxv + 2 <= 64) {
			uint64_t pair[2];
			if (copy_from_user(mm, pair, auxp, 16) < 0)
				break;
			mm->auxv[mm->nauxv++] = pair[0];
			mm->auxv[mm->nauxv++] = pair[1];
			auxp += 16;
			if (pair[0] == AT_NULL)
				break;
		}
	}

	err = k->plat->ops->new_context(mm->as, &ctx);
	if (err < 0)
		goto out;
	/* As Linux's begin_new_exec: a table still shared (clone with CLONE_FILES into
	 * another process) is copied, so close-on-exec does not close the other's fds. */
	if (t->fdt->refs > 1) {
		own_fdt = fdt_clone(t->fdt);
		if (!own_fdt) {
			k->plat->ops->release_context(ctx);
			err = -ENOMEM;
			goto out;
		}
		own_fdt->lock_owner = t->tg;
	}

	/* Point of no return: switch the task over to the new image. */
	mm->exe = x.dentry;
	x.dentry = NULL;
	struct mm *old = t->tg->mm;
	struct context *oldctx = t->ctx;
	t->tg->mm = mm;
	t->ctx = ctx;
	k->plat->ops->set_owner(ctx, t);
	mm = NULL;
	if (oldctx)
		k->plat->ops->release_context(oldctx);
	if (old) {
		uint64_t u = 0, total = 0;
		if (old->refs == 1 && k->plat->ops->cpu_time(old->as, &u, &total) == 0) {
			t->tg->utime_ns += u; /* CPU time survives exec */
			t->tg->stime_ns += total > u ? total - u : 0;
		}
		mm_put(old);
	}
	reset_fpstate(t);

	arch_regs r;
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rsp = sp;
	r.eflags = 0x202;
	r.cs = 0x33;
	r.ss = 0x2b;
	r.orig_rax = (uint64_t)-1;
	t->regs = r;

	if (own_fdt) {
		fdt_put(t->fdt);
		t->fdt = own_fdt;
	}
	fdt_close_on_exec(t->fdt);
	for (int s = 0; s < WARD_NSIG; s++) {
		struct ksigaction *act = &t->tg->sighand->action[s];
		if (act->handler != (uint64_t)SIG_IGN)
			*act = (struct ksigaction){0};
	}
	t->altstack = (stack_t){.ss_flags = SS_DISABLE};
	t->robust_list = 0;
	t->clear_child_tid = 0;
	snprintf(t->tg->comm, sizeof(t->tg->comm), "%.15s", basename_of(execfn));
	err = 0;
out:
	if (mm)
		mm_put(mm);
	free(stack);
	release_image(&x);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return err;
}
