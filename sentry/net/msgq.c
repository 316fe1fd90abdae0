/* Receive queues: messages waiting in a socket, the guest-memory cursor that fills and
 * drains them, and the two ways of reading them — as a byte stream (SOCK_STREAM) or one
 * record at a time (SOCK_DGRAM, SOCK_SEQPACKET). Files passed with SCM_RIGHTS travel in
 * the message as references and are closed if the message is discarded. */
#include "sentry/net/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the cursor ---- */

void iter_init_user(struct msg_iter *it, struct mm *mm, const struct iovec *iov, int niov)
{
	memset(it, 0, sizeof(*it));
	it->mm = mm;
	it->iov = iov;
	it->niov = niov;
	for (int i = 0; i < niov; i++)
		it->left += iov[i].iov_len;
}

void iter_init_kernel(struct msg_iter *it, void *buf, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->kbuf = buf;
	it->kbuf_len = len;
	it->left = len;
}

/* Walks n bytes of the cursor, calling fn on each contiguous piece. */
static int iter_walk(struct msg_iter *it, size_t n, int (*fn)(struct msg_iter *, uint64_t, void *, size_t),
		     void *buf)
{
	uint8_t *p = buf;
	if (!it->mm) {
		size_t off = it->kbuf_len - it->left;
		if (fn)
			fn(it, (uint64_t)(uintptr_t)(it->kbuf + off), p, n);
		it->left -= n;
		return 0;
	}
	while (n) {
		while (it->idx < it->niov && it->seg_off == it->iov[it->idx].iov_len) {
			it->idx++;
			it->seg_off = 0;
		}
		if (it->idx >= it->niov)
			return -EFAULT;
		size_t seg = it->iov[it->idx].iov_len - it->seg_off;
		if (seg > n)
			seg = n;
		if (fn) {
			int err = fn(it, (uint64_t)it->iov[it->idx].iov_base + it->seg_off, p, seg);
			if (err < 0)
				return err;
		}
		it->seg_off += seg;
		it->left -= seg;
		n -= seg;
		if (p)
			p += seg;
	}
	return 0;
}

static int piece_from(struct msg_iter *it, uint64_t src, void *dst, size_t n)
{
	if (!it->mm) {
		memcpy(dst, (void *)(uintptr_t)src, n);
		return 0;
	}
	return copy_from_user(it->mm, dst, src, n) < 0 ? -EFAULT : 0;
}

static int piece_to(struct msg_iter *it, uint64_t dst, void *src, size_t n)
{
	if (!it->mm) {
		memcpy((void *)(uintptr_t)dst, src, n);
		return 0;
	}
	return copy_to_user(it->mm, dst, src, n) < 0 ? -EFAULT : 0;
}

int iter_copy_from(struct msg_iter *it, void *dst, size_t n)
{
	return iter_walk(it, n, piece_from, dst);
}

int iter_copy_to(struct msg_iter *it, const void *src, size_t n)
{
	return iter_walk(it, n, piece_to, (void *)src);
}

void iter_skip(struct msg_iter *it, size_t n)
{
	if (n > it->left)
		n = it->left;
	iter_walk(it, n, NULL, NULL);
}

/* ---- messages ---- */

void kmsg_drop_fds(struct kmsg *m)
{
	for (int i = 0; i < m->nfds; i++)
		file_put(m->fds[i]);
	free(m->fds);
	m->fds = NULL;
	m->nfds = 0;
}

/* Stream messages are made at least this big so that small writes share one. */
#define SKB_MIN_CAP 2048

int skb_from_msg(struct kmsg *m, size_t len, struct skb **out)
{
	size_t cap = len < SKB_MIN_CAP ? SKB_MIN_CAP : len;
	struct skb *skb = malloc(sizeof(*skb) + cap);
	if (!skb)
		return -ENOBUFS;
	memset(skb, 0, sizeof(*skb));
	skb->cap = cap;
	skb->len = len;
	if (iter_copy_from(&m->iter, skb->data, len) < 0) {
		free(skb);
		return -EFAULT;
	}
	skb->fds = m->fds;
	skb->nfds = m->nfds;
	m->fds = NULL;
	m->nfds = 0;
	skb->cred = m->cred;
	skb->has_cred = m->has_cred;
	*out = skb;
	return 0;
}

void skb_free(struct kernel *k, struct skb *skb)
{
	if (skb->nfds && k->net)
		k->net->fds_in_flight -= skb->nfds;
	for (int i = 0; i < skb->nfds; i++)
		file_put(skb->fds[i]);
	free(skb->fds);
	free(skb);
}

void skb_queue(struct sock *sk, struct skb *skb)
{
	if (skb->nfds && sk->k->net)
		sk->k->net->fds_in_flight += skb->nfds;
	list_add_tail(&skb->link, &sk->rxq);
	sk->rx_bytes += skb->len - skb->off;
	sk->rx_count++;
}

static void skb_unlink(struct sock *sk, struct skb *skb)
{
	list_del_init(&skb->link);
	sk->rx_bytes -= skb->len - skb->off;
	sk->rx_count--;
}

void rxq_purge(struct sock *sk)
{
	/* Closing a file here may release another socket whose queue holds more files. */
	while (!list_empty(&sk->rxq)) {
		struct skb *skb = list_entry(sk->rxq.next, struct skb, link);
		skb_unlink(sk, skb);
		skb_free(sk->k, skb);
	}
}

/* Hands the message's files to m (copies of the references when peeking). */
static int take_fds(struct skb *skb, struct kmsg *m, bool peek, struct kernel *k)
{
	if (!skb->nfds)
		return 0;
	struct file **fds = malloc(sizeof(*fds) * (size_t)skb->nfds);
	if (!fds)
		return -ENOMEM;
	for (int i = 0; i < skb->nfds; i++) {
		fds[i] = skb->fds[i];
		if (peek)
			file_get(fds[i]);
	}
	m->fds = fds;
	m->nfds = skb->nfds;
	if (!peek) {
		free(skb->fds);
		skb->fds = NULL;
		if (k->net)
			k->net->fds_in_flight -= skb->nfds;
		skb->nfds = 0;
	}
	return 0;
}

/* Whether two queued stream messages may be read by one call: Linux's unix stream stops
 * at a change of credentials and before a message carrying files. */
static bool same_sender(const struct skb *a, const struct skb *b)
{
	if (b->nfds)
		return false;
	if (a->has_cred != b->has_cred)
		return false;
	return !a->has_cred || memcmp(&a->cred, &b->cred, sizeof(a->cred)) == 0;
}

long rxq_read(struct sock *sk, struct kmsg *m, bool stream, size_t skip)
{
	(void)skip;
	if (list_empty(&sk->rxq))
		return -EAGAIN;
	bool peek = m->flags & MSG_PEEK;
	struct skb *first = list_entry(sk->rxq.next, struct skb, link);
	if (first->has_cred) {
		m->cred = first->cred;
		m->has_cred = true;
	}
	if (!stream) {
		size_t avail = first->len - first->off;
		size_t n = avail < m->iter.left ? avail : m->iter.left;
		if (iter_copy_to(&m->iter, first->data + first->off, n) < 0)
			return -EFAULT;
		if (take_fds(first, m, peek, sk->k) < 0)
			return -ENOMEM;
		memcpy(&m->addr, &first->from, first->fromlen);
		m->addrlen = first->fromlen;
		if (n < avail)
			m->out_flags |= MSG_TRUNC;
		if (!peek) {
			skb_unlink(sk, first);
			skb_free(sk->k, first);
			sock_wake(sk);
		}
		return (m->flags & MSG_TRUNC) ? (long)avail : (long)n;
	}
	size_t copied = 0;
	struct list_head *pos = sk->rxq.next;
	/* first may be consumed and freed by the loop: compare senders with a copy. */
	struct skb first_sender = {.has_cred = first->has_cred, .cred = first->cred};
	bool at_first = true;
	while (pos != &sk->rxq && m->iter.left) {
		struct skb *skb = list_entry(pos, struct skb, link);
		pos = pos->next;
		if (!at_first && !same_sender(&first_sender, skb))
			break;
		size_t avail = skb->len - skb->off;
		size_t n = avail < m->iter.left ? avail : m->iter.left;
		if (iter_copy_to(&m->iter, skb->data + skb->off, n) < 0)
			return copied ? (long)copied : -EFAULT;
		if (at_first && take_fds(skb, m, peek, sk->k) < 0)
			return copied ? (long)copied : -ENOMEM;
		at_first = false;
		copied += n;
		if (peek)
			continue;
		skb->off += n;
		sk->rx_bytes -= n;
		if (skb->off == skb->len) {
			list_del_init(&skb->link);
			sk->rx_count--;
			skb_free(sk->k, skb);
		}
	}
	if (!peek)
		sock_wake(sk);
	return (long)copied;
}

long stream_send(struct sock *sk, struct sock *peer, struct task *t, struct kmsg *m, size_t cap)
{
	size_t done = (t && t->restarting) ? (size_t)t->partial : 0;
	while (done < m->len) {
		size_t room = peer->rx_bytes < cap ? cap - peer->rx_bytes : 0;
		if (room == 0) {
			if (!t || (m->flags & MSG_DONTWAIT))
				return done ? (long)done : -EAGAIN;
			return sock_wait(sk, t, sk->sndtimeo_ns, (long)done);
		}
		size_t n = m->len - done < room ? m->len - done : room;
		struct skb *last = list_empty(&peer->rxq) ? NULL
				   : list_entry(peer->rxq.prev, struct skb, link);
		if (last && !m->nfds && !last->nfds && last->cap - last->len >= n &&
		    last->has_cred == m->has_cred &&
		    (!m->has_cred || memcmp(&last->cred, &m->cred, sizeof(m->cred)) == 0)) {
			if (iter_copy_from(&m->iter, last->data + last->len, n) < 0)
				return done ? (long)done : -EFAULT;
			last->len += n;
			peer->rx_bytes += n;
		} else {
			struct skb *skb;
			int err = skb_from_msg(m, n, &skb);
			if (err < 0)
				return done ? (long)done : err;
			skb_queue(peer, skb);
		}
		done += n;
		waitqueue_wake_all(&peer->wq);
	}
	return (long)done;
}

static bool nonblocking(struct task *t, struct kmsg *m)
{
	return !t || (m->flags & MSG_DONTWAIT);
}

long stream_recv(struct sock *sk, struct task *t, struct kmsg *m)
{
	size_t done = (t && t->restarting) ? (size_t)t->partial : 0;
	for (;;) {
		if (m->iter.left == 0)
			return (long)done;
		long n = rxq_read(sk, m, true, 0);
		if (n > 0) {
			done += (size_t)n;
			/* MSG_WAITALL waits for the whole length; a pending file ends it early. */
			bool all = (m->flags & MSG_WAITALL) && !(m->flags & MSG_PEEK) && !m->nfds;
			if (!all || m->iter.left == 0 || nonblocking(t, m))
				return (long)done;
			continue;
		}
		if (n < 0 && n != -EAGAIN)
			return done ? (long)done : n;
		if (done && !((m->flags & MSG_WAITALL) && !nonblocking(t, m)))
			return (long)done;
		if (sk->fin)
			return (long)done;
		if (sk->err)
			return done ? (long)done : sock_take_error(sk);
		if (sk->shutdown & SHUT_RCV)
			return (long)done;
		if (sk->state == SS_DISCONNECTED)
			return (long)done;
		if (sk->state != SS_CONNECTED && sk->state != SS_CONNECTING)
			return done ? (long)done : -ENOTCONN;
		if (nonblocking(t, m))
			return done ? (long)done : -EAGAIN;
		return sock_wait(sk, t, sk->rcvtimeo_ns, (long)done);
	}
}

long record_recv(struct sock *sk, struct task *t, struct kmsg *m)
{
	long n = rxq_read(sk, m, false, 0);
	if (n != -EAGAIN)
		return n;
	if (sk->err)
		return sock_take_error(sk);
	if (sk->shutdown & SHUT_RCV)
		return 0;
	if (sk->type == SOCK_SEQPACKET) {
		if (sk->state == SS_DISCONNECTED)
			return 0;
		if (sk->state != SS_CONNECTED)
			return -ENOTCONN;
	}
	if (nonblocking(t, m))
		return -EAGAIN;
	return sock_wait(sk, t, sk->rcvtimeo_ns, 0);
}
