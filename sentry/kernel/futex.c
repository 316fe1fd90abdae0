#include "sentry/kernel/futex.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define FUTEX_BITSET_ANY 0xffffffffu

/* The wait queue all futex waiters are on; wakers scan it by key. */
static struct waitqueue *futex_queue(struct kernel *k)
{
	return &k->futex_wq;
}

static int futex_key(struct mm *mm, uint64_t addr, uint64_t *key)
{
	if (addr % 4)
		return -EINVAL;
	struct vma *v = vma_find(&mm->vmas, addr);
	if (!v)
		return -EFAULT;
	*key = v->memfile_off + (addr - v->start);
	return 0;
}

static int wake_key(struct kernel *k, uint64_t key, int n, uint32_t bitset)
{
	struct waitqueue *q = futex_queue(k);
	struct list_head *pos, *nx;
	int woken = 0;
	list_for_each_safe(pos, nx, &q->waiters)
	{
		if (woken >= n)
			break;
		struct task *w = list_entry(pos, struct waiter, link)->task;
		if (w->futex_key != key || !(w->futex_bitset & bitset))
			continue;
		task_wake(w, true, 0);
		woken++;
	}
	return woken;
}

int futex_wake_addr(struct mm *mm, uint64_t addr, int n)
{
	uint64_t key;
	if (futex_key(mm, addr, &key) < 0)
		return 0;
	return wake_key(mm->k, key, n, FUTEX_BITSET_ANY);
}

void futex_cancel_wait(struct task *t)
{
	t->futex_key = 0;
}

static long futex_wait(struct task *t, uint64_t addr, uint32_t val, uint64_t utime, uint32_t bitset,
		       bool absolute, bool realtime)
{
	struct mm *mm = t->tg->mm;
	uint64_t key, deadline = 0;
	uint32_t cur;
	int err;
	if (!bitset)
		return -EINVAL;
	if ((err = futex_key(mm, addr, &key)) < 0)
		return err;
	if (copy_from_user(mm, &cur, addr, sizeof(cur)) < 0)
		return -EFAULT;
	if (utime) {
		struct timespec ts;
		if (copy_from_user(mm, &ts, utime, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (absolute) {
			uint64_t now = realtime ? realtime_ns() : now_ns();
			deadline = now_ns() + (ns > now ? ns - now : 0);
		} else {
			deadline = now_ns() + ns;
		}
		if (deadline == 0)
			deadline = 1;
	}
	if (cur != val)
		return -EAGAIN;
	long r = task_block(t, futex_queue(t->k), deadline);
	t->futex_key = key;
	t->futex_bitset = bitset;
	return r;
}

static long futex_requeue(struct task *t, uint64_t addr, int nwake, int nreq, uint64_t addr2,
			  bool cmp, uint32_t val3)
{
	struct mm *mm = t->tg->mm;
	uint64_t key, key2;
	int err;
	if (nwake < 0 || nreq < 0)
		return -EINVAL;
	if ((err = futex_key(mm, addr, &key)) < 0 || (err = futex_key(mm, addr2, &key2)) < 0)
		return err;
	if (cmp) {
		uint32_t cur;
		if (copy_from_user(mm, &cur, addr, sizeof(cur)) < 0)
			return -EFAULT;
		if (cur != val3)
			return -EAGAIN;
	}
	int woken = wake_key(t->k, key, nwake, FUTEX_BITSET_ANY);
	int moved = 0;
	struct list_head *pos;
	list_for_each(pos, &futex_queue(t->k)->waiters)
	{
		if (moved >= nreq)
			break;
		struct task *w = list_entry(pos, struct waiter, link)->task;
		if (w->futex_key == key) {
			w->futex_key = key2;
			moved++;
		}
	}
	return woken + moved;
}

static long futex_wake_op(struct task *t, uint64_t addr, int n, int n2, uint64_t addr2, uint32_t op)
{
	struct mm *mm = t->tg->mm;
	uint64_t key, key2;
	int err;
	if ((err = futex_key(mm, addr, &key)) < 0 || (err = futex_key(mm, addr2, &key2)) < 0)
		return err;
	uint32_t *p = user_ptr(mm, addr2, 4, PROT_READ | PROT_WRITE);
	if (!p)
		return -EFAULT;
	unsigned opcode = (op >> 28) & 7, cmp = (op >> 24) & 15;
	uint32_t oparg = (op >> 12) & 0xfff, cmparg = op & 0xfff;
	if (op & (8u << 28))
		oparg = 1u << (oparg & 31);
	uint32_t old = *p, nv;
	switch (opcode) {
	case FUTEX_OP_SET: nv = oparg; break;
	case FUTEX_OP_ADD: nv = old + oparg; break;
	case FUTEX_OP_OR: nv = old | oparg; break;
	case FUTEX_OP_ANDN: nv = old & ~oparg; break;
	case FUTEX_OP_XOR: nv = old ^ oparg; break;
	default: return -ENOSYS;
	}
	*p = nv;
	int woken = wake_key(t->k, key, n, FUTEX_BITSET_ANY);
	int32_t o = (int32_t)old, c = (int32_t)cmparg;
	bool hit;
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = o == c; break;
	case FUTEX_OP_CMP_NE: hit = o != c; break;
	case FUTEX_OP_CMP_LT: hit = o < c; break;
	case FUTEX_OP_CMP_LE: hit = o <= c; break;
	case FUTEX_OP_CMP_GT: hit = o > c; break;
	case FUTEX_OP_CMP_GE: hit = o >= c; break;
	default: return -ENOSYS;
	}
	if (hit)
		woken += wake_key(t->k, key2, n2, FUTEX_BITSET_ANY);
	return woken;
}

long sys_futex(struct task *t, const uint64_t a[6])
{
	uint64_t addr = a[0];
	int op = (int)a[1];
	uint32_t val = (uint32_t)a[2];
	int cmd = op & FUTEX_CMD_MASK;
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(t, addr, val, a[3], FUTEX_BITSET_ANY, false, false);
	case FUTEX_WAIT_BITSET:
		return futex_wait(t, addr, val, a[3], (uint32_t)a[5], true, realtime);
	case FUTEX_WAKE:
		return futex_wake_addr(t->tg->mm, addr, (int)val) ;
	case FUTEX_WAKE_BITSET: {
		uint64_t key;
		int err;
		if (!(uint32_t)a[5])
			return -EINVAL;
		if ((err = futex_key(t->tg->mm, addr, &key)) < 0)
			return err;
		return wake_key(t->k, key, (int)val, (uint32_t)a[5]);
	}
	case FUTEX_REQUEUE:
		return futex_requeue(t, addr, (int)val, (int)a[3], a[4], false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(t, addr, (int)val, (int)a[3], a[4], true, (uint32_t)a[5]);
	case FUTEX_WAKE_OP:
		return futex_wake_op(t, addr, (int)val, (int)a[3], a[4], (uint32_t)a[5]);
	default:
		return -ENOSYS; /* PI futexes are not implemented */
	}
}

/* Linux's robust-futex cleanup (kernel/futex/core.c exit_robust_list), bounded by
 * ROBUST_LIST_LIMIT so a hostile circular list cannot hang the sentry. */
void futex_robust_exit(struct task *t)
{
	struct mm *mm = t->tg->mm;
	struct {
		uint64_t list, futex_offset, pending;
	} head;
	if (!t->robust_list || !mm || copy_from_user(mm, &head, t->robust_list, sizeof(head)) < 0)
		return;
	uint64_t entry = head.list;
	for (int i = 0; i < 2048 && entry != t->robust_list; i++) {
		uint64_t next;
		if (copy_from_user(mm, &next, entry, sizeof(next)) < 0)
			break;
		if (entry != head.pending) {
			uint64_t uaddr = entry + head.futex_offset;
			uint32_t *w = user_ptr(mm, uaddr, 4, PROT_READ | PROT_WRITE);
			if (w && (*w & FUTEX_TID_MASK) == (uint32_t)t->tid) {
				*w = (*w & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
				if (*w & FUTEX_WAITERS)
					futex_wake_addr(mm, uaddr, 1);
			}
		}
		entry = next;
	}
	if (head.pending) {
		uint64_t uaddr = head.pending + head.futex_offset;
		uint32_t *w = user_ptr(mm, uaddr, 4, PROT_READ | PROT_WRITE);
		if (w && (*w & FUTEX_TID_MASK) == (uint32_t)t->tid) {
			*w = (*w & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
			futex_wake_addr(mm, uaddr, 1);
		}
	}
	t->robust_list = 0;
}
