#include <sys/pidfd.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "holder.h"
#include "takeover.h"

/* How long a lock held by nobody visible is waited for, and how often. */
#define UNSEEN_WAIT_NS	(50 * 1000000L)
#define UNSEEN_TRIES	3

static bool
may_end(uid_t caller, uid_t uid)
{
	return caller == 0 || uid == caller;
}

/*
 * Every process that has socket ino open, however many (a prefork server
 * may have hundreds): a malloc'd array of them, their count in *n.  The
 * array grows until a scan leaves room to spare, so none was cut off.
 * Returns NULL with errno set if memory runs out.
 */
static pid_t *
all_holders(unsigned long ino, size_t *n)
{
	pid_t *pids = NULL, *p;
	size_t max = 256;

	for (;; max *= 2) {
		if ((p = reallocarray(pids, max, sizeof(*pids))) == NULL) {
			free(pids);
			return NULL;
		}
		pids = p;
		if ((*n = holder_socket_pids(ino, pids, max)) < max)
			return pids;
	}
}

/*
 * Send sig to each process that has socket t->ino open and may be ended;
 * returns how many were sent it, -1 with errno set if memory runs out.  A pid found in /proc may have gone and
 * been given to a stranger by the time we signal it, so each is signalled
 * through a pidfd, opened first and checked after: if the process the
 * pidfd refers to is alive when signalled, it was alive when its
 * /proc/PID was read, so that was its own, and it holds the socket.  If
 * it has died, the signal fails (ESRCH) and reaches nobody.
 */
static int
signal_holders(struct socklock *sl, const struct takeover *t, uid_t caller,
    int sig, bool verbose)
{
	pid_t *pids;
	char comm[32];
	size_t i, n;
	uid_t uid;
	int pfd, sent = 0;

	if ((pids = all_holders(t->ino, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (pids[i] == getpid() ||
		    (pfd = pidfd_open(pids[i], 0)) == -1)
			continue;
		if (holder_has_socket(pids[i], t->ino) &&
		    (uid = holder_uid(pids[i])) != HOLDER_UID_UNKNOWN &&
		    may_end(caller, uid)) {
			if (verbose) {
				holder_comm(pids[i], comm, sizeof(comm));
				warnx("%s: sending SIG%s to pid %d (%s)",
				    socklock_name(sl), sigabbrev_np(sig),
				    (int)pids[i], comm);
			}
			if (pidfd_send_signal(pfd, sig, NULL, 0) == 0)
				sent++;
		}
		close(pfd);
	}
	free(pids);
	return sent;
}

/* Whether deadline a comes before b. */
static bool
sooner(const struct deadline *a, const struct deadline *b)
{
	if (a->inf || b->inf)
		return !a->inf;
	return a->at.tv_sec < b->at.tv_sec || (a->at.tv_sec == b->at.tv_sec &&
	    a->at.tv_nsec < b->at.tv_nsec);
}

int
takeover_lock(struct socklock *sl, uid_t caller, const struct timespec *grace,
    const struct deadline *d, bool verbose, struct takeover *t)
{
	pid_t *pids;
	const struct timespec unseen = { 0, UNSEEN_WAIT_NS };
	struct deadline g;
	size_t i, n = 0;
	int r, tries;

	memset(t, 0, sizeof(*t));
	for (tries = 0;; tries++) {
		if ((t->ino = socklock_inode(sl)) != 0) {
			if ((pids = all_holders(t->ino, &n)) == NULL)
				return -1;
			if (n > 0)
				break;
			free(pids);
		}
		if ((r = socklock_held(sl)) != 1)
			return r == 0 ? socklock_wait_direct(sl, d) : -1;
		/*
		 * Held, and nobody has the socket open: a holder we may not
		 * see, or one dying, its descriptors closed and its socket
		 * not yet.  Wait a little for the lock, then look again.
		 */
		if (tries == UNSEEN_TRIES)
			return 2;
		deadline_start(&g, &unseen);
		if (sooner(d, &g))
			g = *d;
		if ((r = socklock_wait_direct(sl, &g)) != 1 || deadline_passed(d))
			return r;
	}
	/*
	 * We hold the socket ourselves (inherited from the holder, as when
	 * run by its command): ending the holder would not free the lock,
	 * and signalling our own ancestors would end us.
	 */
	if (holder_has_socket(getpid(), t->ino)) {
		free(pids);
		return 3;
	}
	/* All or none: a refusal leaves every holder as it was. */
	t->pid = pids[0];
	for (i = 0; i < n; i++)
		if ((t->uid = holder_uid(pids[i])) != HOLDER_UID_UNKNOWN &&
		    !may_end(caller, t->uid)) {
			t->pid = pids[i];
			break;
		}
	free(pids);
	holder_comm(t->pid, t->comm, sizeof(t->comm));
	if (i < n)
		return 2;

	if (signal_holders(sl, t, caller, SIGTERM, verbose) == -1)
		return -1;
	deadline_start(&g, grace);
	if (sooner(d, &g))
		g = *d;
	if ((r = socklock_wait_direct(sl, &g)) != 1 || deadline_passed(d))
		return r;
	/*
	 * Only the socket we found is ended: a process that took the lock
	 * after its holder went holds a new socket, another inode.
	 */
	if (signal_holders(sl, t, caller, SIGKILL, verbose) == -1)
		return -1;
	return socklock_wait_direct(sl, d);
}
