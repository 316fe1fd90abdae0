/* Syscall patching: a hot `mov $nr,%eax; syscall` site of a guest's code is rewritten
 * into a jump to a thunk, so that the syscall reaches the sentry without a host signal
 * (docs/design-notes.md "Syscall patching"). Only on a platform that has a patch entry
 * (seccomp), and not with `ward run --no-syscall-patching`.
 *
 * The region at PATCH_BASE, in the guest's address space, holds one page of jump slots
 * (slot 0: the platform's patch entry; slot i: thunk i) and the thunks. A patched site
 * is `jmp *slot_i` (ff 24 25 + the slot's 32-bit address), 7 bytes like the two
 * instructions it replaces. Thunk i is `mov $nr,%eax; movabs $site+7,%rcx; jmp *slot_0`.
 * The other form patched is a 5-byte load of a register from the stack followed by the
 * syscall (glibc's syscall(): `mov 0x8(%rsp),%r9`; Go's: `mov 0x8(%rsp),%rax`): the
 * thunk runs that load itself (rsp is the same there), then goes on with eax as it is.
 *
 * The slots' addresses end in the bytes 0xcc 0x7f, which is where the old syscall
 * instruction was: code that jumps there (the kernel's restart of an interrupted
 * syscall moves rip back by 2; a guest may jump to its own syscall instruction) runs
 * an int3, and the SIGTRAP it takes is served as the syscall in eax. */
#include "sentry/kernel/kernel.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PATCH_BASE 0x7fcc0000ULL
#define PATCH_SLOTS 512 /* one page of slots: 511 sites per address space */
#define PATCH_THUNKS (PATCH_BASE + 0x1000)
#define PATCH_THUNK_SIZE 32
#define PATCH_REGION_SIZE (0x1000 + PATCH_SLOTS * PATCH_THUNK_SIZE)
/* A site is patched at its second trap: a process that makes a call once (start-up,
 * exit) does not pay for a private copy of the page and a thunk it would never use. */
#ifndef PATCH_AFTER
#define PATCH_AFTER 2
#endif
#define HOT_BUCKETS 64
#define NOT_PATCHABLE UINT32_MAX

_Static_assert(PATCH_SLOTS * 8 <= 0x10000, "slot addresses must keep 0xcc 0x7f as their top bytes");
_Static_assert(((PATCH_BASE >> 16) & 0xff) == 0xcc && (PATCH_BASE >> 24) == 0x7f, "the int3 trick");

struct syscall_patches {
	int next;      /* the next free slot; 0 = no region yet */
	bool disabled; /* no region could be made here, or it is full */
	struct {
		uint64_t rip;
		uint32_t hits;
	} hot[HOT_BUCKETS];
};

static struct syscall_patches *patches_of(struct mm *mm)
{
	if (!mm->patches)
		mm->patches = calloc(1, sizeof(*mm->patches));
	return mm->patches;
}

void syscall_patches_fork(const struct mm *src, struct mm *dst)
{
	dst->patches_off = src->patches_off;
	if (!src->patches)
		return;
	/* The child has the parent's thunks and patched sites (private memory is copied):
	 * its next site takes the next slot. Without a record of its own it could hand
	 * out a slot in use, so then it patches nothing. */
	struct syscall_patches *p = patches_of(dst);
	if (!p) {
		dst->patches_off = true;
		return;
	}
	p->next = src->patches->next;
	p->disabled = src->patches->disabled;
}

void syscall_patches_free(struct mm *mm)
{
	free(mm->patches);
	mm->patches = NULL;
}

enum site_kind { SITE_NONE, SITE_MOV_EAX, SITE_STACK_LOAD };

/* The register a capstone register id names in regs, for the 64-bit general ones. */
static uint64_t *reg_slot(arch_regs *r, unsigned id)
{
	switch (id) {
	case X86_REG_RAX: return (uint64_t *)&r->rax;
	case X86_REG_RBX: return (uint64_t *)&r->rbx;
	case X86_REG_RCX: return (uint64_t *)&r->rcx;
	case X86_REG_RDX: return (uint64_t *)&r->rdx;
	case X86_REG_RSI: return (uint64_t *)&r->rsi;
	case X86_REG_RDI: return (uint64_t *)&r->rdi;
	case X86_REG_RBP: return (uint64_t *)&r->rbp;
	case X86_REG_R8: return (uint64_t *)&r->r8;
	case X86_REG_R9: return (uint64_t *)&r->r9;
	case X86_REG_R10: return (uint64_t *)&r->r10;
	case X86_REG_R12: return (uint64_t *)&r->r12;
	case X86_REG_R13: return (uint64_t *)&r->r13;
	case X86_REG_R14: return (uint64_t *)&r->r14;
	case X86_REG_R15: return (uint64_t *)&r->r15;
	default: return NULL; /* rsp, r11 (the syscall clobbered it), others */
	}
}

/* What the 7 bytes before the trap are, by capstone's decoding of exactly two
 * instructions at these boundaries (the byte patterns are necessary, not sufficient),
 * and by the registers at the trap: eax = the mov's immediate, or the loaded register
 * equal to the stack slot it was loaded from, as it must be right after the load. */
static enum site_kind classify(struct task *t, const uint8_t *code, uint64_t addr)
{
	static csh handle;
	static int state; /* 0: not opened, 1: open, -1: failed */
	if (state == 0) {
		state = cs_open(CS_ARCH_X86, CS_MODE_64, &handle) == CS_ERR_OK &&
				cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON) == CS_ERR_OK
			? 1
			: -1;
		if (state < 0)
			kernel_log("capstone unavailable: syscall patching off");
	}
	if (state < 0)
		return SITE_NONE;
	cs_insn *insn;
	size_t n = cs_disasm(handle, code, 7, addr, 2, &insn);
	enum site_kind kind = SITE_NONE;
	if (n == 2 && insn[0].size == 5 && insn[1].id == X86_INS_SYSCALL && insn[1].size == 2 &&
	    insn[0].id == X86_INS_MOV) {
		uint32_t imm;
		memcpy(&imm, code + 1, 4);
		const cs_x86 *x = &insn[0].detail->x86;
		if (code[0] == 0xb8 && imm == t->regs.orig_rax) {
			kind = SITE_MOV_EAX;
		} else if (x->op_count == 2 && x->operands[0].type == X86_OP_REG && x->operands[0].size == 8 &&
			   x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base == X86_REG_RSP &&
			   x->operands[1].mem.index == X86_REG_INVALID &&
			   x->operands[1].mem.segment == X86_REG_INVALID && x->operands[1].mem.disp >= 0 &&
			   x->operands[1].mem.disp < 128) {
			uint64_t *dst = reg_slot(&t->regs, x->operands[0].reg), slot;
			if (dst && copy_from_user(t->tg->mm, &slot, t->regs.rsp + (uint64_t)x->operands[1].mem.disp,
						  sizeof(slot)) == 0 &&
			    slot == *dst)
				kind = SITE_STACK_LOAD;
		}
	}
	if (n)
		cs_free(insn, n);
	return kind;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* The region: slot 0 points at the platform's entry. */
static int region_create(struct kernel *k, struct mm *mm)
{
	uint64_t at;
	int err = mm_map(mm, PATCH_BASE, PATCH_REGION_SIZE, PROT_READ | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0, "[ward-patch]", &at);
	if (err < 0)
		return err;
	if (at != PATCH_BASE)
		return -EEXIST;
	uint64_t entry = k->patch_entry;
	return mm_write_code(mm, PATCH_BASE, &entry, sizeof(entry));
}

void syscall_patch_consider(struct task *t)
{
	struct kernel *k = t->k;
	struct mm *mm = t->tg->mm;
	uint64_t rip = t->regs.rip, nr = t->regs.orig_rax;
	/* rt_sigreturn stays a trap: it loads a whole frame anyway. */
	if (!k->patch_entry || mm->patches_off || nr == SYS_rt_sigreturn || nr >= 1024 || rip < 7)
		return;
	struct syscall_patches *p = patches_of(mm);
	if (!p || p->disabled)
		return;
	unsigned b = (unsigned)((rip ^ (rip >> 7) ^ (rip >> 17)) % HOT_BUCKETS);
	if (p->hot[b].rip != rip) {
		p->hot[b].rip = rip;
		p->hot[b].hits = 0;
	}
	if (p->hot[b].hits == NOT_PATCHABLE || ++p->hot[b].hits < PATCH_AFTER)
		return;
	/* Code must not change under a thread that may be executing it; the next trap
	 * from this site tries again. */
	if (k->plat->ops->others_running(t->ctx))
		return;
	const struct vma *v = vma_find(&mm->vmas, rip - 7);
	const uint8_t *at = user_ptr(mm, rip - 7, 7, PROT_READ | PROT_EXEC);
	uint8_t code[7];
	const uint8_t *c = at ? memcpy(code, at, sizeof(code)) : NULL;
	/* Only code from files (a program, its libraries): generated code may be read or
	 * rewritten by its generator, which expects its own bytes. */
	enum site_kind kind = SITE_NONE;
	if (c && v && v->file && !(v->flags & VMA_SHARED) && c[5] == 0x0f && c[6] == 0x05)
		kind = classify(t, c, rip - 7);
	if (kind == SITE_NONE) {
		p->hot[b].hits = NOT_PATCHABLE;
		return;
	}
	if (!p->next) {
		if (region_create(k, mm) < 0) {
			p->disabled = true;
			return;
		}
		p->next = 1;
	}
	int slot = p->next;
	uint64_t thunk_at = PATCH_THUNKS + (uint64_t)slot * PATCH_THUNK_SIZE, back = rip;
	uint8_t thunk[PATCH_THUNK_SIZE];
	memset(thunk, 0xcc, sizeof(thunk));
	memcpy(thunk, c, 5); /* mov $nr,%eax, or the stack load */
	thunk[5] = 0x48; /* movabs $site+7, %rcx */
	thunk[6] = 0xb9;
	memcpy(thunk + 7, &back, 8);
	thunk[15] = 0xff; /* jmp *PATCH_BASE (slot 0) */
	thunk[16] = 0x24;
	thunk[17] = 0x25;
	put_le32(thunk + 18, (uint32_t)PATCH_BASE);
	uint8_t site[7] = {0xff, 0x24, 0x25};
	put_le32(site + 3, (uint32_t)(PATCH_BASE + 8 * (uint64_t)slot));
	if (mm_write_code(mm, thunk_at, thunk, sizeof(thunk)) < 0 ||
	    mm_write_code(mm, PATCH_BASE + 8 * (uint64_t)slot, &thunk_at, 8) < 0) {
		p->disabled = true; /* the guest unmapped or changed the region */
		return;
	}
	if (mm_write_code(mm, rip - 7, site, sizeof(site)) < 0) {
		p->hot[b].hits = NOT_PATCHABLE;
		return;
	}
	p->hot[b].hits = NOT_PATCHABLE; /* done: it no longer traps */
	if (k->debug)
		kernel_log("[%d] patched the syscall site at %#llx (%s, %s) into slot %d", t->tid,
			   (unsigned long long)(rip - 7), syscall_name((long)nr),
			   kind == SITE_MOV_EAX ? "mov $nr,%eax" : "a load from the stack", slot);
	if (++p->next == PATCH_SLOTS)
		p->disabled = true;
}

bool syscall_patch_fault(struct task *t, const siginfo_t *info)
{
	if (!t->k->patch_entry || info->si_signo != SIGTRAP || t->regs.rip < 6)
		return false;
	/* The int3 is the fifth byte of a patched jump: rip is just after it. */
	uint64_t site = t->regs.rip - 6;
	const uint8_t *c = user_ptr(t->tg->mm, site, 7, 0);
	if (!c || c[0] != 0xff || c[1] != 0x24 || c[2] != 0x25 || c[5] != 0xcc || c[6] != 0x7f)
		return false;
	if (t->k->debug)
		kernel_log("[%d] the old syscall instruction of the patched site at %#llx", t->tid,
			   (unsigned long long)site);
	t->regs.rip = site + 7;
	t->regs.rcx = site + 7; /* as the syscall instruction leaves them */
	t->regs.r11 = t->regs.eflags;
	t->regs.orig_rax = t->regs.rax;
	t->regs.rax = (uint64_t)-ENOSYS;
	return true;
}
