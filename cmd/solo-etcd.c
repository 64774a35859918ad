/*
 * solo-etcd: solo --etcd, one copy of a job across many hosts.  solo
 * execs this program with its own arguments when it meets --etcd, so that
 * the local locks never load libcurl and json-c (as git keeps libcurl in
 * git-remote-http).  The lock is etcd's own recipe (clientv3/concurrency
 * mutex.go), so etcdctl lock and solo exclude each other: a lease, a key
 * NAME/<lease id in hex> on it, and the owner is the key under NAME/ with
 * the lowest create revision.  We stay the command's parent to keep the
 * lease alive, and stop the command before the lease can expire.
 */
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <readpassphrase.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "child.h"
#include "deadline.h"
#include "etcd.h"
#include "etcdlock.h"
#include "exitcode.h"
#include "holder.h"
#include "parse.h"
#include "soloopt.h"
#include "version.h"

#define TTL_DEFAULT	10	/* seconds; etcdctl lock's is 60 */
#define TTL_MAX		86400
#define REQUEST_MS	2000L	/* one request to one endpoint, at most */

static const char synopsis[] =
"usage: solo --etcd endpoints [-qv] [-E code] [-w secs] [--max-time secs]\n"
"            [--ttl secs] [--cacert file] [--cert file] [--key file]\n"
"            [--user name] -U name command [arg ...]\n"
"       solo --etcd endpoints [options] --test -U name\n";

static const char options[] =
"\n"
"      --etcd URL[,URL...]  etcd endpoints (empty: $SOLO_ETCD_ENDPOINTS)\n"
"  -U, --unix NAME          the lock's name: keys NAME/<lease>\n"
"      --ttl SECS           the lease's time to live (default 10)\n"
"  -E, --conflict-exit-code N  exit N when the lock is held (default 1)\n"
"  -q, --quiet              say nothing when the lock is held\n"
"  -w, --wait SECS          wait up to SECS (fractional, or inf) for the lock\n"
"      --max-time SECS      send the command SIGALRM after SECS\n"
"      --test               take no lock; say whether it is held, and by whom\n"
"      --cacert FILE        trust the CA certificates in FILE\n"
"      --cert FILE          present the client certificate in FILE\n"
"      --key FILE           the client certificate's key\n"
"      --user NAME          authenticate as NAME ($SOLO_ETCD_PASSWORD)\n"
"  -v, --verbose            say whom we wait for, and what we hold\n"
"  -h, --help               print this help\n"
"  -V, --version            print the version\n";

/*
 * SIGALRM and SIGPIPE too: left at their default they would end us
 * without revoking, leaving key and lease in etcd for the TTL.  The
 * command's own --max-time SIGALRM is its timer's, not ours.
 */
static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE
};
#define NFORWARDED	(sizeof(forwarded) / sizeof(forwarded[0]))

struct soloe {
	char		*endpoints;
	const char	*name;
	int64_t		 ttl;
	int		 conflict;
	bool		 quiet, verbose, test, have_wait;
	struct timespec	 wait, maxtime;
	struct etcd_conf conf;
	char		**cmd;
};

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(LK_EXIT_USAGE);
}

/*
 * solo's options (soloopt.h), of which solo has refused those for local
 * locks only; run by hand, they are a usage error here.
 */
static void
parse_args(struct soloe *s, int argc, char *argv[])
{
	struct soloopt o;
	const char *errstr, *bad;
	int ch;

	soloopt_init(&o);
	while ((ch = getopt_long(argc, argv, SOLOOPT_SHORT, soloopt_long,
	    NULL)) != -1) {
		if (soloopt_parse(&o, ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			fputs(synopsis, stdout);
			fputs(options, stdout);
			exit(fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_OSERR);
		case SOLOOPT_CACERT:
			s->conf.cacert = optarg;
			break;
		case SOLOOPT_CERT:
			s->conf.cert = optarg;
			break;
		case SOLOOPT_ETCD:
			s->endpoints = optarg;
			break;
		case SOLOOPT_KEY:
			s->conf.key = optarg;
			break;
		case SOLOOPT_TTL:
			s->ttl = parse_number(optarg, 2, TTL_MAX, &errstr);
			if (errstr != NULL)
				errx(LK_EXIT_USAGE, "invalid ttl '%s': expected "
				    "2 to %d seconds",
				    parse_shown(optarg), TTL_MAX);
			break;
		case SOLOOPT_USER:
			/*
			 * etcdctl's USER:PASSWORD would put the password in
			 * ps and in our messages: refused, and not shown.
			 */
			if (strchr(optarg, ':') != NULL)
				errx(LK_EXIT_USAGE, "--user: a name without "
				    "':'; the password goes in "
				    "SOLO_ETCD_PASSWORD, never on the command "
				    "line");
			s->conf.user = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	s->name = o.name;
	s->conflict = o.conflict;
	s->quiet = o.quiet;
	s->verbose = o.verbose;
	s->test = o.test;
	s->have_wait = o.have_wait;
	s->wait = o.wait;
	s->maxtime = o.maxtime;

	if (s->endpoints == NULL)
		usage();
	if (*s->endpoints == '\0' &&
	    (s->endpoints = getenv("SOLO_ETCD_ENDPOINTS")) == NULL)
		errx(LK_EXIT_USAGE, "--etcd '': SOLO_ETCD_ENDPOINTS is not set");
	if ((s->endpoints = strdup(s->endpoints)) == NULL)
		err(LK_EXIT_OSERR, NULL);
	if (etcd_endpoints(&s->conf, s->endpoints, &bad, &errstr) == -1) {
		if (bad == NULL)
			errx(LK_EXIT_USAGE, "invalid endpoint: %s", errstr);
		errx(LK_EXIT_USAGE, "invalid endpoint '%s': %s",
		    parse_shown(bad), errstr);
	}
	if (s->name == NULL)
		errx(LK_EXIT_USAGE, "--etcd locks a name: -U name%s",
		    argc > 0 ? ", not a port" : "");
	/*
	 * -U's rule for local names, and no '/': the lock is every key
	 * under NAME/ (etcd's prefix), so "a/b"'s keys would queue in "a".
	 */
	if (parse_lock_name(s->name, &errstr) == -1)
		errx(LK_EXIT_USAGE, "invalid name '%s': %s",
		    parse_shown(s->name), errstr);
	if (strchr(s->name, '/') != NULL)
		errx(LK_EXIT_USAGE, "invalid name '%s': no '/' with --etcd "
		    "(the lock is every key under NAME/)",
		    parse_shown(s->name));
	soloopt_check(&o, argc);
	if ((s->conf.cert == NULL) != (s->conf.key == NULL))
		errx(LK_EXIT_USAGE, "--cert and --key go together");
	s->cmd = argv;
}

/*
 * A TLS file libcurl would only fail to read at the first request, where
 * it looks like etcd being unavailable (75, which cron users retry): a
 * file that cannot be read is the caller's to fix, 66, said at once.
 */
static void
check_readable(const char *opt, const char *file)
{
	char c;
	int fd;

	if (file == NULL)
		return;
	/* A read, not access(2): a directory opens, and fails here. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, &c, 1) == -1)
		err(LK_EXIT_NOINPUT, "%s %s: cannot read", opt,
		    parse_shown(file));
	close(fd);
}

/*
 * The password never on a command line: from the environment, else asked
 * on the terminal.  The command does not inherit it.
 */
static void
get_password(struct soloe *s)
{
	static char pw[256];
	char prompt[300];
	const char *env;

	if (s->conf.user == NULL)
		return;
	if ((env = getenv("SOLO_ETCD_PASSWORD")) != NULL) {
		if (strlcpy(pw, env, sizeof(pw)) >= sizeof(pw))
			errx(LK_EXIT_USAGE, "SOLO_ETCD_PASSWORD: too long");
		unsetenv("SOLO_ETCD_PASSWORD");
	} else {
		snprintf(prompt, sizeof(prompt), "etcd password for %s: ",
		    s->conf.user);
		if (readpassphrase(prompt, pw, sizeof(pw), RPP_REQUIRE_TTY) ==
		    NULL)
			errx(LK_EXIT_USAGE, "--user %s: no SOLO_ETCD_PASSWORD "
			    "and no terminal to ask on", s->conf.user);
	}
	s->conf.password = pw;
}

/* What our key holds: who we are, for conflict messages on other hosts. */
static char *
holder_value(const struct soloe *s)
{
	json_object *o = json_object_new_object();
	char host[256], when[64], *v;
	const char *cmd = s->cmd[0] != NULL ? s->cmd[0] : "";
	time_t now = time(NULL);

	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "?", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	if (strrchr(cmd, '/') != NULL)
		cmd = strrchr(cmd, '/') + 1;
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "uid", json_object_new_int64(getuid()));
	json_object_object_add(o, "start", json_object_new_string(when));
	v = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (v == NULL)
		err(LK_EXIT_OSERR, NULL);
	return v;
}

/*
 * "NAME is held by ...TAIL": solo's own value, or what a foreign key
 * shows; TAIL as solo's say_held ("; waiting" before a wait, or "").
 */
/*
 * What another client wrote, in buf (of PRINTED bytes), '?' for what is
 * not printable (holder_printable): etcd's values are anyone's text.
 */
#define PRINTED	256
static const char *
printed(char *buf, const char *s)
{
	strlcpy(buf, s != NULL ? s : "", PRINTED);
	holder_printable(buf, true);
	return buf;
}

static void
say_held(FILE *fp, const char *name, const struct etcd_kv *kv,
    const char *tail)
{
	json_object *o = json_tokener_parse(kv->value), *pid, *cmd, *host,
	    *start;
	char b1[PRINTED], b2[PRINTED], b3[PRINTED];

	if (json_object_object_get_ex(o, "pid", &pid) &&
	    json_object_object_get_ex(o, "cmd", &cmd) &&
	    json_object_object_get_ex(o, "host", &host) &&
	    json_object_object_get_ex(o, "start", &start))
		fprintf(fp, "%s is held by pid %d (%s) on %s since %s%s\n",
		    name, json_object_get_int(pid),
		    printed(b1, json_object_get_string(cmd)),
		    printed(b2, json_object_get_string(host)),
		    printed(b3, json_object_get_string(start)), tail);
	else
		fprintf(fp, "%s is held by lease %" PRIx64 " (key %s, not "
		    "solo's: no holder named)%s\n", name, kv->lease,
		    printed(b1, kv->key), tail);
	json_object_put(o);
}

static void
held(const struct soloe *s, const struct etcd_kv *owner)
{
	if (s->quiet)
		return;
	fprintf(stderr, "%s: ", getprogname());
	say_held(stderr, s->name, owner, "");
}

static void
failed(int r, const char *what, struct etcd *e) __attribute__((noreturn));

/* An etcd call failed at start: one line, 75 or 65 (see EXIT STATUS). */
static void
failed(int r, const char *what, struct etcd *e)
{
	errx(r == ETCD_UNAVAILABLE ? LK_EXIT_TEMPFAIL : LK_EXIT_LOCKFAIL,
	    "%s: etcd %s: %s", what, r == ETCD_UNAVAILABLE ? "unavailable" :
	    "refused", etcd_why(e));
}

/*
 * An etcd call failed while we had a lease: revoke it if etcd lets us
 * (else it expires within the TTL), and say the failure in one line.
 */
static void
failed_leased(int r, const char *what, struct etcdlock *l)
    __attribute__((noreturn));

static void
failed_leased(int r, const char *what, struct etcdlock *l)
{
	char why[ETCD_WHYLEN];

	strlcpy(why, etcd_why(l->e), sizeof(why));
	if (etcdlock_release(l) != 0)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    " (our lease expires within %" PRId64 " s)", l->ttl);
	errx(r == ETCD_UNAVAILABLE ? LK_EXIT_TEMPFAIL : LK_EXIT_LOCKFAIL,
	    "%s: etcd %s: %s", what, r == ETCD_UNAVAILABLE ? "unavailable" :
	    "refused", why);
}

/* Revoke our lease, say why if that fails: it then expires on its own. */
static void
release(struct etcdlock *l, const char *name)
{
	if (etcdlock_release(l) != 0)
		warnx("%s: cannot revoke lease %" PRIx64 " (it expires within "
		    "%" PRId64 " s): %s", name, l->lease, l->ttl,
		    etcd_why(l->e));
}

/* The forwarded signals we were started with ignored (nohup, a shell's &). */
static sigset_t ignored;

/* A blocked signal read from sigfd: its number, or 0 if none. */
static int
next_signal(int sigfd, struct signalfd_siginfo *si)
{
	if (read(sigfd, si, sizeof(*si)) != (ssize_t)sizeof(*si))
		return 0;
	return (int)si->ssi_signo;
}

/* Die of sig, as the waiter it interrupted would have. */
static void __attribute__((noreturn))
die_of(int sig, const sigset_t *old)
{
	signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	kill(getpid(), sig);
	exit(LK_EXIT_SIGBASE + sig);
}

/*
 * -w: wait in etcd's queue order, without polling (etcdlock_wait).
 * Returns 0 when we own the lock, 1 on timeout; a forwarded signal we do
 * not ignore revokes our lease and ends us by that signal.
 */
static int
await(const struct soloe *s, struct etcdlock *l, int sigfd,
    const sigset_t *old)
{
	struct signalfd_siginfo si;
	struct deadline dl;
	int r, sig;

	deadline_start(&dl, &s->wait);
	while ((r = etcdlock_wait(l, &dl, sigfd)) == 2)
		if ((sig = next_signal(sigfd, &si)) != 0 && sig != SIGCHLD &&
		    !sigismember(&ignored, sig)) {
			release(l, s->name);
			die_of(sig, old);
		}
	if (r == ETCDLOCK_LOST) {
		/* The key may be all that is gone: the lease goes too. */
		release(l, s->name);
		errx(LK_EXIT_TEMPFAIL, "%s: lost our place in the queue: %s",
		    s->name, l->why);
	}
	if (r < 0)
		failed_leased(r, s->name, l);
	return r;
}

/*
 * The descriptors we were started with, to tell them from ours: libcurl
 * leaves some of its own open without close-on-exec (the socketpair of
 * the multi handle curl_easy_perform keeps), and the command must inherit
 * exactly what solo was given.
 */
#define FDBITS	4096
static unsigned char inherited[FDBITS / 8];

/* Call fn on every open descriptor but the one listing them. */
static void
each_fd(void (*fn)(int))
{
	struct dirent *de;
	const char *errstr;
	DIR *d;
	int fd;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;		/* no /proc: nothing we can do */
	while ((de = readdir(d)) != NULL) {
		fd = (int)strtonum(de->d_name, 0, INT_MAX, &errstr);
		if (errstr == NULL && de->d_name[0] != '.' && fd != dirfd(d))
			fn(fd);
	}
	closedir(d);
}

static void
note_inherited(int fd)
{
	if (fd < FDBITS)
		inherited[fd / 8] |= 1 << (fd % 8);
}

static void
cloexec_ours(int fd)
{
	if (fd < FDBITS && !(inherited[fd / 8] & (1 << (fd % 8))))
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The earlier of a and b, where -1 is "never". */
static long long
earlier(long long a, long long b)
{
	return a < 0 ? b : b < 0 || a < b ? a : b;
}

/*
 * Run the command while holding the lock, and keep the lease alive.
 *
 * Lock lost: etcd gives the lock to the next waiter once our lease expires
 * on the server, at the earliest TTL after it received our last
 * acknowledged keep-alive, so no earlier than l->sent + TTL on our clock.
 * If keep-alives stop succeeding (retried every 100 ms, each endpoint in
 * turn, every attempt over by sent + 0.6 TTL however the members hang),
 * the command gets SIGTERM at sent + 0.6 TTL and SIGKILL at sent + 0.8
 * TTL, all on CLOCK_MONOTONIC: it is dead with 0.2 TTL to spare for
 * scheduling and for clock rate drift between the hosts (NTP keeps that
 * under 500 ppm: 5 ms in 10 s).  What no timer can guarantee: a process or
 * VM paused (SIGSTOP, a live migration, a suspended host, during which
 * CLOCK_MONOTONIC may stand still) wakes up with the lease expired and its
 * command running for the moment we need to notice; that is what
 * SOLO_FENCE is for.
 *
 * If our key is deleted (by someone, or with the lease: revoked, or
 * expired as the member saw it), the next waiter's watch fires at once and
 * the lock may already be another's.  So we sleep in a watch on our own
 * key, not in a plain poll, and on its DELETE event the command gets
 * SIGTERM at once (milliseconds after the deletion; it cannot be before),
 * SIGKILL 0.2 TTL later.  The watch only speeds the news up: a watch that
 * breaks (its member gone, canceled, compacted) says nothing about the
 * lock, and a member cut off from the others may never send the event, so
 * the keep-alives above stay the authority on liveness, and their timing
 * holds whether or not a watch runs.  A broken watch is started again
 * after the next keep-alive that gets through, on the endpoint that
 * answered it: at most once per keep-alive, never in a loop.  A keep-alive
 * also finds a lost key or lease itself (etcdlock_keep), as it did before
 * the watch.  Returns the exit status.
 */
static int
hold(const struct soloe *s, struct etcdlock *l, int sigfd, const sigset_t *old,
    const struct sigaction *chld)
{
	struct signalfd_siginfo si;
	struct pollfd pfd;
	char fence[24], failure[ETCD_WHYLEN] = "";
	long long now, term_at = -1, kill_at = -1, next, sent;
	bool lost = false, watching;
	pid_t pid;
	int r = 0, sig, status, timeout;

	snprintf(fence, sizeof(fence), "%" PRId64, l->rev);
	if (setenv("SOLO_FENCE", fence, 1) == -1)
		err(LK_EXIT_OSERR, "setenv");
	/* As solo's: SIGALRM ends the command, blocked or ignored here. */
	child_alarm_after(&s->maxtime);
	each_fd(cloexec_ours);
	/* Tied: killed with us, so never running on without the lock. */
	pid = child_spawn(s->cmd, old, chld, NULL, NULL, true);
	/*
	 * Only now: the watch's multi handle has a wake-up socketpair that
	 * is not close-on-exec (see etcd_watch_start), and the command,
	 * forked above, cannot inherit what we open from here on.
	 */
	watching = etcdlock_watch(l) == 0;

	for (;;) {
		while ((sig = next_signal(sigfd, &si)) != 0) {
			/* A terminal's ^C or ^\ reached the child already. */
			/* A SIGPIPE of our own: a write's EPIPE says it. */
			if (sig == SIGCHLD || ((sig == SIGINT ||
			    sig == SIGQUIT) && si.ssi_code == SI_KERNEL) ||
			    (pid_t)si.ssi_pid == getpid())
				continue;
			kill(pid, sig);
		}
		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (r == -1 && errno != EINTR)
			err(LK_EXIT_OSERR, "waitpid");

		now = etcdlock_now_ms();
		if (!lost) {
			/*
			 * The request ends by term_at, so SIGTERM is never
			 * late for it (etcdlock_keep's budget covers every
			 * endpoint); after it the deadlines are those of the
			 * last acknowledged keep-alive, which a late success
			 * moves on: the lease lives TTL from its sending.
			 */
			term_at = l->sent + l->ttl * 600;
			sent = l->sent;
			r = now < term_at ? etcdlock_keep(l, term_at - now) :
			    ETCD_UNAVAILABLE;
			if (r == ETCD_UNAVAILABLE || r == ETCD_REFUSED) {
				if (now < term_at)
					strlcpy(failure, etcd_why(l->e),
					    sizeof(failure));
			} else if (l->sent != sent)
				failure[0] = '\0';
			now = etcdlock_now_ms();
			term_at = l->sent + l->ttl * 600;
			kill_at = l->sent + l->ttl * 800;
			if (r == ETCDLOCK_LOST) {
				lost = true;
				warnx("%s: lock lost: %s; stopping the command",
				    s->name, l->why);
				term_at = now;
				kill_at = earlier(kill_at, now + l->ttl * 200);
			} else if (now >= term_at) {
				lost = true;
				/*
				 * With no failure since the last keep-alive,
				 * none was tried: we woke past the deadline
				 * (we were stopped, or starved of CPU).
				 */
				warnx("%s: lock lost: no keep-alive for %lld "
				    "ms; stopping the command: %s", s->name,
				    now - l->sent, failure[0] != '\0' ?
				    failure : "none was sent in time (solo was "
				    "stopped or starved of CPU)");
			} else if (!watching && l->sent != sent)
				watching = etcdlock_watch(l) == 0;
		}
		if (lost && watching) {
			etcd_watch_stop(l->e);
			watching = false;
		}
		if (term_at >= 0 && now >= term_at) {
			kill(pid, SIGTERM);
			term_at = -1;
		}
		if (kill_at >= 0 && now >= kill_at) {
			kill(pid, SIGKILL);
			kill_at = -1;
		}
		next = lost ? -1 : r < 0 ? now + 100 : l->sent + l->ttl * 333;
		next = earlier(earlier(next, term_at), kill_at);
		timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
		/* The signalfd wakes either wait: a signal, the command's end. */
		if (!watching) {
			pfd.fd = sigfd;
			pfd.events = POLLIN;
			poll(&pfd, 1, timeout);
			continue;
		}
		r = etcd_watch_wait(l->e, timeout, sigfd);
		if (r < 0) {
			etcd_watch_stop(l->e);
			watching = false;
		} else if (r == 1) {
			kill(pid, SIGTERM);
			etcd_watch_stop(l->e);
			watching = false;
			lost = true;
			now = etcdlock_now_ms();
			term_at = -1;
			kill_at = earlier(kill_at, now + l->ttl * 200);
			/*
			 * SIGTERM is out; the question may take until
			 * SIGKILL is due, no longer.
			 */
			warnx("%s: lock lost: %s; stopping the command",
			    s->name, etcdlock_why_gone(l, kill_at - now));
		}
	}
	/* Lost: revoke all the same, as the key may be all that is gone. */
	if (lost) {
		etcdlock_release(l);
		return LK_EXIT_TEMPFAIL;
	}
	release(l, s->name);
	return exit_for_wait(status);
}

/* --test: who owns the lock, if anyone; exits. */
static void __attribute__((noreturn))
test(const struct soloe *s, struct etcdlock *l)
{
	struct etcd_kv owner;
	int r;

	if ((r = etcd_first(l->e, l->prefix, &owner)) < 0)
		failed(r, s->name, l->e);
	if (r == 1 && !s->quiet)
		say_held(stdout, s->name, &owner, "");
	etcd_kv_free(&owner);
	exit(fflush(stdout) != 0 ? LK_EXIT_OSERR : r == 0 ? LK_EXIT_OK :
	    s->conflict);
}

/*
 * Our signals wait in a signalfd from here on, so none is lost between the
 * checks and the waits, and none interrupts a request half-way.  SIGCHLD
 * at its default, so the command can be waited for even if we were
 * started with it ignored (*chld keeps the caller's action for it).
 * Returns the signalfd; *old gets the caller's mask.
 */
static int
catch_signals(sigset_t *old, struct sigaction *chld)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;
	int sigfd;

	sigemptyset(&block);
	sigemptyset(&ignored);
	sigaddset(&block, SIGCHLD);
	for (i = 0; i < NFORWARDED; i++) {
		sigaddset(&block, forwarded[i]);
		if (sigaction(forwarded[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			sigaddset(&ignored, forwarded[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, old) == -1 ||
	    (sigfd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(LK_EXIT_OSERR, "signalfd");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, chld) == -1)
		err(LK_EXIT_OSERR, "sigaction");
	return sigfd;
}

/*
 * Take the lock (etcdlock_try, then etcdlock_wait with -w).  Returns once
 * we own it; on a conflict (and after -w's timeout) revokes our lease,
 * says who holds it and exits with the conflict status.
 */
static void
acquire(const struct soloe *s, struct etcdlock *l, int sigfd,
    const sigset_t *old)
{
	struct etcd_kv owner;
	char *value = holder_value(s);
	int r;

	r = etcdlock_try(l, s->ttl, value, &owner);
	free(value);
	if (r < 0)
		failed(r, s->name, l->e);
	if (r == 0)
		return;
	if (s->have_wait) {
		if (s->verbose) {
			fprintf(stderr, "%s: ", getprogname());
			say_held(stderr, s->name, &owner, "; waiting");
		}
		etcd_kv_free(&owner);
		if (await(s, l, sigfd, old) == 0)
			return;
		release(l, s->name);
		/* Who holds it now, for the message. */
		if (etcd_first(l->e, l->prefix, &owner) != 1) {
			if (!s->quiet)
				warnx("%s: timed out", s->name);
			exit(s->conflict);
		}
	} else
		release(l, s->name);
	held(s, &owner);
	etcd_kv_free(&owner);
	exit(s->conflict);
}

int
main(int argc, char *argv[])
{
	struct soloe s;
	struct etcdlock l;
	struct etcd *e;
	struct sigaction chld;
	sigset_t old;
	int r, sigfd;

	memset(&s, 0, sizeof(s));
	s.ttl = TTL_DEFAULT;
	parse_args(&s, argc, argv);
	each_fd(note_inherited);
	check_readable("--cacert", s.conf.cacert);
	check_readable("--cert", s.conf.cert);
	check_readable("--key", s.conf.key);
	get_password(&s);
	if ((e = etcd_open(&s.conf, REQUEST_MS)) == NULL ||
	    etcdlock_init(&l, e, s.name) == -1)
		err(LK_EXIT_OSERR, "etcd client");
	if (s.test)
		test(&s, &l);

	sigfd = catch_signals(&old, &chld);
	acquire(&s, &l, sigfd, &old);
	if (s.verbose)
		warnx("%s: locked: key %s, fence %" PRId64 ", via %s", s.name,
		    l.key, l.rev, etcd_endpoint(e));
	r = hold(&s, &l, sigfd, &old, &chld);
	etcdlock_free(&l);
	etcd_close(e);
	free(s.endpoints);
	return r;
}
