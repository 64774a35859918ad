/*
 * solo: run a command as the only instance of a job.  The lock is a
 * listening socket (a loopback TCP port, or a Linux abstract unix socket
 * name) handed to the command across exec: the kernel allows one holder,
 * frees it the moment the command dies, and leaves nothing on disk.  A
 * private name (root's -U by default) is instead a flock(2) on a file in
 * a directory only its owner can write, handed over the same way.
 * Timothy Kay's solo syntax (-port=N ...) is accepted as well.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <paths.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "deadline.h"
#include "exitcode.h"
#include "holder.h"
#include "parse.h"
#include "privlock.h"
#include "report.h"
#include "slots.h"
#include "socklock.h"
#include "soloopt.h"
#include "takeover.h"
#include "version.h"

/*
 * --replace: the holder's grace between SIGTERM and SIGKILL, and without
 * -w the time after it that the wait for the lock lasts.
 */
#define KILL_AFTER_DEFAULT	5
#define REPLACE_MARGIN		1

static const char synopsis[] =
"usage: solo [-hqVv] [-a addr] [-E code] [-w secs] [--max-time secs]\n"
"            [--replace [--kill-after secs] | --slots n] port command\n"
"            [arg ...]\n"
"       solo [options] [--abstract | --private] [--dir dir] -U name\n"
"            command [arg ...]\n"
"       solo [options] [--replace [--kill-after secs] | --slots n] --abstract\n"
"            -U name command [arg ...]\n"
"       solo [options] --test [--json] port | --test [--json] -U name\n"
"       solo --list [--json]\n"
"       solo --etcd endpoints [-qv] [-E code] [-w secs] [--max-time secs]\n"
"            [--ttl secs] [--cacert file] [--cert file] [--key file]\n"
"            [--user name] -U name command [arg ...]\n"
"       solo --etcd endpoints [options] --test -U name\n"
"       solo -port=port [-verbose] [-silent] [-timeout=sec] [-noport]\n"
"            [-sleep=sec] command [arg ...]\n";

static const char options[] =
"\n"
"  -a, --addr ADDR          lock on loopback ADDR (default 127.A.B.1 from uid)\n"
"  -U, --unix NAME          lock on a name: private for root or with\n"
"                           --private, --dir or $SOLO_DIR; else abstract\n"
"      --private            -U names are private (a file only we can lock)\n"
"      --abstract           -U names are abstract unix sockets\n"
"      --dir DIR            private names in DIR (default $SOLO_DIR, else\n"
"                           /run/solo for root, $XDG_RUNTIME_DIR/solo)\n"
"  -E, --conflict-exit-code N  exit N when the lock is held (default 1)\n"
"  -q, --quiet              say nothing when the lock is held\n"
"  -w, --wait SECS          wait up to SECS (fractional, or inf) for the lock\n"
"      --max-time SECS      send the command SIGALRM after SECS\n"
"      --replace            end the holder (SIGTERM, then SIGKILL) and take over\n"
"      --kill-after SECS    with --replace, SIGKILL after SECS (default 5)\n"
"      --slots N            let N copies run at once (1 to 64); SOLO_SLOT says\n"
"                           which slot a command got\n"
"      --test               take no lock; say whether it is held, and by whom\n"
"      --list               list the ports and abstract names held now\n"
"                           (root: everyone's)\n"
"      --json               with --test or --list: say it in JSON\n"
"      --etcd ENDPOINTS     lock NAME in etcd, for all hosts (--etcd E -h: more)\n"
"  -v, --verbose            say which address is bound, and whom we wait for\n"
"                           (a conflict or timeout names the holder anyway)\n"
"  -h, --help               print this help\n"
"  -V, --version            print the version\n";

struct solo {
	struct soloopt	 o;		/* -E -q -U -v -w --max-time --test */
	const char	*addr;		/* -a, NULL for 127.A.B.1 */
	const char	*dir;		/* --dir, $SOLO_DIR */
	const char	*etcd;		/* --etcd's endpoints */
	const char	*local;		/* the first option --etcd refuses */
	const char	*etcdonly;	/* the first option only --etcd takes */
	bool		 private, abstract;
	int		 port;
	int		 slots;		/* --slots, 0 without */
	bool		 noport, list, json, replace;
	bool		 have_killafter;
	struct timespec	 sleep, killafter;
	char		**cmd;
	char		*shcmd[4];
};

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(LK_EXIT_USAGE);
}

/* named: a name could go here instead, with -U. */
static int
parse_port(const char *s, bool named)
{
	const char *errstr;
	int port;

	port = (int)parse_number(s, 1, 65535, &errstr);
	if (errstr != NULL)
		errx(LK_EXIT_USAGE, "invalid port '%s': expected 1 to 65535%s",
		    parse_shown(s), named && isalpha((unsigned char)*s) ?
		    " (a name needs -U)" : "");
	return port;
}

/*
 * Whether a duration asks for anything: to --max-time and -sleep, 0 means
 * none, as when the option is not given.
 */
static bool
nonzero(const struct timespec *ts)
{
	return ts->tv_sec > 0 || ts->tv_nsec > 0;
}

/* Kay's options are single-dash words: -port=N, -verbose, ... */
static const char *
kay_option(const char *arg, const char *word)
{
	size_t n = strlen(word);

	if (arg[0] != '-' || strncmp(arg + 1, word, n) != 0)
		return NULL;
	if (arg[n + 1] == '\0')
		return "";
	return arg[n + 1] == '=' ? arg + n + 2 : NULL;
}

static bool
is_kay(int argc, char *argv[])
{
	static const char *const words[] = {
		"port", "verbose", "silent", "timeout", "noport", "sleep"
	};
	size_t i;
	int a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++)
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (kay_option(argv[a], words[i]) != NULL)
				return true;
	return false;
}

/*
 * Kay's solo: solo -port=PORT [-verbose] [-silent] [-timeout=SEC] [-noport]
 * [-sleep=SEC] COMMAND [ARG...].  Values may also follow as the next word.
 * Like Perl's exec, a lone COMMAND word with spaces or shell
 * metacharacters runs through /bin/sh.
 */
static void
parse_kay(struct solo *s, int argc, char *argv[])
{
	const char *v;
	int a;

	s->port = 0;
	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
#define VALUE()	(*v != '\0' ? v : a + 1 < argc ? argv[++a] : (usage(), ""))
		if ((v = kay_option(argv[a], "port")) != NULL)
			s->port = parse_port(VALUE(), false);
		else if ((v = kay_option(argv[a], "timeout")) != NULL)
			parse_duration_arg("timeout", VALUE(), false,
			    &s->o.maxtime);
		else if ((v = kay_option(argv[a], "sleep")) != NULL)
			parse_duration_arg("sleep", VALUE(), false, &s->sleep);
		else if (strcmp(argv[a], "-verbose") == 0)
			s->o.verbose = true;
		else if (strcmp(argv[a], "-silent") == 0)
			s->o.quiet = true;
		else if (strcmp(argv[a], "-noport") == 0)
			s->noport = true;
		else if (strcmp(argv[a], "--") == 0) {
			a++;
			break;
		} else {
			warnx("unknown option %s", argv[a]);
			usage();
		}
#undef VALUE
	}
	if (s->port == 0 && !s->noport)
		errx(LK_EXIT_USAGE, "-port=PORT is required (or -noport)");
	if (a == argc)
		errx(LK_EXIT_USAGE, "missing command");
	s->cmd = argv + a;
	if (argc - a == 1 && strpbrk(argv[a], " \t\n$&*(){}[]'\";\\|?<>~`")) {
		s->shcmd[0] = (char *)_PATH_BSHELL;
		s->shcmd[1] = (char *)"-c";
		s->shcmd[2] = argv[a];
		s->shcmd[3] = NULL;
		s->cmd = s->shcmd;
	}
	/* Kay's solo exits 0, silently, when another copy runs. */
	if (s->o.quiet)
		s->o.conflict = LK_EXIT_OK;
}

/* A long option of solo's local locks, which --etcd refuses. */
static bool
is_local(int ch)
{
	switch (ch) {
	case SOLOOPT_ABSTRACT:
	case SOLOOPT_DIR:
	case SOLOOPT_JSON:
	case SOLOOPT_KILLAFTER:
	case SOLOOPT_LIST:
	case SOLOOPT_PRIVATE:
	case SOLOOPT_REPLACE:
	case SOLOOPT_SLOTS:
		return true;
	}
	return false;
}

/*
 * solo --etcd: run solo-etcd with our arguments, which it parses again.
 * The cluster client, with libcurl and json-c, is a program of its own
 * (as git-remote-http is git's), so the local locks never load them.
 * What only a local lock can do is refused here, so that the refusal
 * does not depend on solo-etcd being installed.
 */
static void __attribute__((noreturn))
exec_etcd(const struct solo *s, char *argv[])
{
	if (s->addr != NULL)
		errx(LK_EXIT_USAGE, "--etcd locks a name (-U name), not an "
		    "address");
	/*
	 * A holder on another host can be neither ended (--replace) nor
	 * counted in slots (--slots) from here; the rest name local locks.
	 */
	if (s->local != NULL)
		errx(LK_EXIT_USAGE, "--%s is for local locks only: not with "
		    "--etcd", s->local);
	child_exec_helper("solo-etcd", argv);
}

static void
parse_args(struct solo *s, int argc, char *argv[])
{
	const char *errstr;
	int ch, li;

	while ((ch = getopt_long(argc, argv, SOLOOPT_SHORT, soloopt_long,
	    &li)) != -1) {
		if (soloopt_parse(&s->o, ch, optarg))
			continue;
		/* The long options --etcd refuses: the first, by name. */
		if (s->local == NULL && is_local(ch))
			s->local = soloopt_long[li].name;
		switch (ch) {
		case 'a':
			s->addr = optarg;
			break;
		case 'h':
			if (s->etcd != NULL)
				exec_etcd(s, argv);
			fputs(synopsis, stdout);
			fputs(options, stdout);
			exit(fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_OSERR);
		case SOLOOPT_KILLAFTER:
			parse_duration_arg("kill-after", optarg, false, &s->killafter);
			s->have_killafter = true;
			break;
		case SOLOOPT_ABSTRACT:
			s->abstract = true;
			break;
		case SOLOOPT_DIR:
			if (*optarg == '\0')
				errx(LK_EXIT_USAGE, "--dir: empty directory "
				    "name");
			s->dir = optarg;
			s->private = true;
			break;
		case SOLOOPT_PRIVATE:
			s->private = true;
			break;
		case SOLOOPT_ETCD:
			s->etcd = optarg;
			break;
		case SOLOOPT_CACERT:
		case SOLOOPT_CERT:
		case SOLOOPT_KEY:
		case SOLOOPT_TTL:
		case SOLOOPT_USER:
			/* solo-etcd's to read. */
			if (s->etcdonly == NULL)
				s->etcdonly = soloopt_long[li].name;
			break;
		case SOLOOPT_JSON:
			s->json = true;
			break;
		case SOLOOPT_LIST:
			s->list = true;
			break;
		case SOLOOPT_REPLACE:
			s->replace = true;
			break;
		case SOLOOPT_SLOTS:
			s->slots = (int)parse_number(optarg, 1, SLOTS_MAX,
			    &errstr);
			if (errstr != NULL)
				errx(LK_EXIT_USAGE, "invalid slots '%s': expected "
				    "1 to %d", optarg, SLOTS_MAX);
			break;
		default:
			usage();
		}
	}
	if (s->etcd != NULL)
		exec_etcd(s, argv);
	if (s->etcdonly != NULL)
		errx(LK_EXIT_USAGE, "--%s goes with --etcd", s->etcdonly);
	argc -= optind;
	argv += optind;

	if (s->json && !s->o.test && !s->list)
		errx(LK_EXIT_USAGE, "--json goes with --test or --list");
	if (s->list) {
		if (argc > 0 || s->o.test || s->o.name != NULL ||
		    s->addr != NULL || s->o.have_wait ||
		    nonzero(&s->o.maxtime) || s->replace || s->slots > 0)
			errx(LK_EXIT_USAGE, "--list takes no port, name, "
			    "address, command, --test, -w, --max-time, "
			    "--replace or --slots");
		return;
	}
	if (s->o.name != NULL && s->addr != NULL)
		errx(LK_EXIT_USAGE, "-a and -U are exclusive");
	if (s->abstract && s->private)
		errx(LK_EXIT_USAGE, "--abstract and --private (or --dir) are "
		    "exclusive");
	if ((s->abstract || s->private) && s->o.name == NULL)
		errx(LK_EXIT_USAGE, "--abstract, --private and --dir go with -U");
	if (s->o.name == NULL) {
		if (argc == 0)
			errx(LK_EXIT_USAGE, "missing port");
		s->port = parse_port(argv[0], true);
		argc--;
		argv++;
		if (s->port + s->slots - 1 > 65535)
			errx(LK_EXIT_USAGE, "--slots %d from port %d runs past "
			    "port 65535", s->slots, s->port);
	}
	if (s->replace && (s->o.test || s->slots > 0))
		errx(LK_EXIT_USAGE, "--replace goes with neither --test nor "
		    "--slots");
	if (s->have_killafter && !s->replace)
		errx(LK_EXIT_USAGE, "--kill-after needs --replace");
	if (!s->have_killafter)
		s->killafter.tv_sec = KILL_AFTER_DEFAULT;
	soloopt_check(&s->o, argc);
	s->cmd = argv;
}

/*
 * The lock: a socket, or --slots' set of them (slots.h), or a private
 * name's file (privlock.h).
 */
struct lock {
	bool		 private;
	struct slots	 set;		/* one socket lock, or the slots */
	struct socklock	*sl;		/* the slot taken, else the first */
	struct privlock	 pl;
};

static const char *
lock_name(struct lock *l)
{
	return l->private ? l->pl.path : slots_name(&l->set);
}

static int
lock_try(struct lock *l, const struct deadline *d)
{
	int r;

	if (l->private)
		return d == NULL ? privlock_try(&l->pl) :
		    privlock_wait(&l->pl, d);
	r = d == NULL ? slots_try(&l->set) : slots_wait(&l->set, d);
	if (r == 0)
		l->sl = &l->set.sl[l->set.taken];
	return r;
}

/*
 * Whether -U names are private: with --private or --dir, with SOLO_DIR
 * set, and for root, whose cron jobs no other user must be able to block
 * by taking an abstract name first (solo(1), SECURITY); never with
 * --abstract.
 */
static bool
want_private(const struct solo *s)
{
	const char *env = getenv("SOLO_DIR");

	if (s->o.name == NULL || s->abstract)
		return false;
	return s->private || (env != NULL && *env != '\0') || geteuid() == 0;
}

/* Set the lock up from the options; usage errors exit here. */
static void
lock_setup(struct lock *l, const struct solo *s, uid_t uid)
{
	char buf[PATH_MAX];
	const char *errstr, *dir, *run;

	/* Only what is used: the slots alone are 27 KiB. */
	memset(&l->pl, 0, sizeof(l->pl));
	if ((l->private = want_private(s))) {
		/* flock(2) cannot wait on several files at once. */
		if (s->slots > 0 || s->replace)
			errx(LK_EXIT_USAGE, "--%s needs a port or an abstract "
			    "name, not the private name '%s' (see --abstract)",
			    s->slots > 0 ? "slots" : "replace", s->o.name);
		if ((dir = s->dir) == NULL && ((dir = getenv("SOLO_DIR")) ==
		    NULL || *dir == '\0'))
			dir = privlock_default_dir(geteuid(), buf, sizeof(buf));
		run = getenv("XDG_RUNTIME_DIR");
		if (dir == NULL)
			errx(LK_EXIT_USAGE, "no directory for private names: "
			    "XDG_RUNTIME_DIR is %s; use --dir or SOLO_DIR",
			    run == NULL || *run == '\0' ? "not set" :
			    *run != '/' ? "not an absolute path" : "too long");
		if (privlock_init(&l->pl, dir, s->o.name, !s->o.test,
		    &errstr) == -1) {
			if (errno == EINVAL)
				errx(LK_EXIT_USAGE, "invalid name '%s': %s",
				    parse_shown(s->o.name), errstr);
			errx(exit_for_open(errno), "%s: %s", l->pl.path, errstr);
		}
		if (!s->o.test && privlock_open(&l->pl, &errstr) == -1)
			errx(exit_for_open(errno), "%s: %s", l->pl.path, errstr);
		return;
	}
	l->sl = &l->set.sl[0];
	if (s->o.name != NULL) {
		if (slots_unix(&l->set, uid, s->o.name, s->slots,
		    &errstr) == -1)
			errx(LK_EXIT_USAGE, "invalid name '%s': %s",
			    parse_shown(s->o.name), errstr);
	} else if (slots_tcp(&l->set, s->addr, uid, s->port, s->slots,
	    &errstr) == -1) {
		if (s->addr != NULL)
			errx(LK_EXIT_USAGE, "invalid address '%s': %s",
			    parse_shown(s->addr), errstr);
		errx(LK_EXIT_USAGE, "uid %u does not fit 127.A.B.1: it would "
		    "wrap onto uid %u's address; use -U name or -a addr",
		    (unsigned)uid, (unsigned)(uid & 0xffff));
	}
}

/*
 * The lock could be neither taken nor tested: name the call that failed.
 * Binding ::1 fails so where IPv6 is off (disable_ipv6): say so.
 */
static void __attribute__((noreturn))
lock_failed(struct lock *l, int status)
{
	const char *what = l->private || l->sl->failed == NULL ? "lock" :
	    l->sl->failed;

	if (!l->private && errno == EADDRNOTAVAIL &&
	    l->sl->sa.ss_family == AF_INET6 && strcmp(what, "bind") == 0)
		errx(status, "%s: cannot bind: %s (is IPv6 off here?)",
		    lock_name(l), strerror(errno));
	err(status, "%s: cannot %s", lock_name(l), what);
}

/*
 * Who holds the lock (l->sl, the slot in question, for a socket lock),
 * one line ending in end: the same before a wait or a replacement.
 */
static void
say_held(FILE *fp, struct lock *l, const char *end)
{
	char comm[32], whose[48];
	const char *name;
	pid_t pid;
	uid_t uid;

	pid = l->private ? privlock_holder(&l->pl, comm, sizeof(comm), &uid) :
	    socklock_holder(l->sl, comm, sizeof(comm), &uid);
	name = l->private ? l->pl.path : socklock_name(l->sl);
	if (pid > 0)
		fprintf(fp, "%s is held by pid %d (%s)%s%s\n", name,
		    (int)pid, comm, holder_whose(uid, whose, sizeof(whose)),
		    end);
	else
		fprintf(fp, "%s is held by another process%s%s\n", name,
		    holder_whose(uid, whose, sizeof(whose)), end);
}

/* A JSON report, or NULL for lines on stdout. */
static struct report *
out_start(bool json)
{
	struct report *rep;
	const char *why;

	if (!json)
		return NULL;
	if ((rep = report_new(&why)) == NULL)
		errx(LK_EXIT_OSERR, "json: %s", why);
	return rep;
}

static void
out_end(struct report *rep)
{
	if ((rep != NULL && report_print(rep, stdout) == -1) ||
	    fflush(stdout) != 0)
		err(LK_EXIT_OSERR, "stdout");
}

/* One holder: in the report arg, or (NULL) a line as --test prints it. */
static void
out_holder(const struct socklock_holder *h, void *arg)
{
	struct report_entry e;
	char whose[48];

	if (arg == NULL) {
		if (h->pid > 0)
			printf("%s is held by pid %d (%s)%s\n", h->address,
			    (int)h->pid, h->comm, holder_whose(h->uid, whose,
			    sizeof(whose)));
		else
			printf("%s is held by another process%s\n", h->address,
			    holder_whose(h->uid, whose, sizeof(whose)));
		return;
	}
	memset(&e, 0, sizeof(e));
	e.kind = h->kind;
	e.pid = h->pid;
	e.command = h->pid > 0 ? h->comm : NULL;
	e.has_uid = h->uid != HOLDER_UID_UNKNOWN;
	e.uid = h->uid;
	e.mode = REPORT_EXCLUSIVE;
	e.address = h->address;
	report_add(arg, &e);
}

/* --list: every lock of this user's (root: everyone's) held now. */
static int
list(bool json)
{
	struct report *rep = out_start(json);
	uid_t uid = getuid();

	if (socklock_list(uid, uid == 0, out_holder, rep) == -1)
		err(LK_EXIT_OSERR, "/proc/net");
	out_end(rep);
	return LK_EXIT_OK;
}

/* The holder of l (l->sl, the slot in question, for a socket lock). */
static void
holder_of(struct lock *l, struct socklock_holder *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->address, sizeof(h->address), "%s", l->private ?
	    l->pl.path : socklock_name(l->sl));
	/* A private name is flock(2) on its file (privlock.h). */
	h->kind = l->private ? "flock" : l->sl->sa.ss_family == AF_UNIX ?
	    "unix" : "tcp";
	h->pid = l->private ? privlock_holder(&l->pl, h->comm,
	    sizeof(h->comm), &h->uid) : socklock_holder(l->sl, h->comm,
	    sizeof(h->comm), &h->uid);
}

/*
 * For each slot of l, or the one lock: add its holder to rep if it is
 * held, else with lines (rep NULL) say "SLOT is free".  Returns how many
 * are free, or -1 with errno set (l->sl then the slot that failed).
 */
static int
test_slots(struct lock *l, struct report *rep, bool quiet)
{
	struct socklock_holder h;
	int i, r, nfree = 0;

	for (i = 0; i < l->set.n; i++) {
		l->sl = &l->set.sl[i];
		if ((r = socklock_held(l->sl)) == -1)
			return -1;
		nfree += r == 0;
		if (quiet && rep == NULL)
			continue;
		if (r == 1) {
			holder_of(l, &h);
			out_holder(&h, rep);
		} else if (rep == NULL)
			printf("%s is free\n", socklock_name(l->sl));
	}
	l->sl = &l->set.sl[0];
	return nfree;
}

/*
 * --test: 0 if the lock, or any slot, is free; else who holds it.  With
 * --json one document lists the holder, or every held slot's.
 */
static int
test(const struct solo *s, struct lock *l)
{
	struct socklock_holder h;
	struct report *rep = out_start(s->json);
	const char *errstr = NULL;
	int r;

	if (!l->private && !l->set.plain) {
		/* The status a run gets for the same failure (solo(1)). */
		if ((r = test_slots(l, rep, s->o.quiet)) == -1)
			lock_failed(l, exit_for_lock(errno));
		r = r == 0;
	} else {
		r = l->private ? privlock_held(&l->pl, &errstr) :
		    socklock_held(l->sl);
		/* A refused lock file: as when locking (lock_setup()). */
		if (r == -1 && l->private && errstr != NULL)
			errx(exit_for_open(errno), "%s: %s", lock_name(l),
			    errstr);
		if (r == -1)
			lock_failed(l, exit_for_lock(errno));
		if (r == 1 && (rep != NULL || !s->o.quiet)) {
			holder_of(l, &h);
			out_holder(&h, rep);
		}
	}
	out_end(rep);
	return r == 0 ? LK_EXIT_OK : s->o.conflict;
}

/*
 * --verbose on slots: who holds each, one line ending in end ("; waiting"
 * before a wait, "" on a conflict or timeout).  A slot that is free by
 * now (or cannot be asked) is left out: a wait takes it at once.
 */
static void
say_slots(struct lock *l, const char *end)
{
	int i;

	for (i = 0; i < l->set.n; i++) {
		l->sl = &l->set.sl[i];
		if (socklock_held(l->sl) != 1)
			continue;
		fprintf(stderr, "%s: ", getprogname());
		say_held(stderr, l, end);
	}
	l->sl = &l->set.sl[0];
}

/*
 * --replace: end the holder and take the lock, waiting for it as -w does
 * for the -w time, or without -w for the grace and a margin.  Returns as
 * socklock_wait() does; a holder we may not end is a conflict.
 */
static int
replace(const struct solo *s, struct lock *l, uid_t uid)
{
	struct timespec wait = s->o.wait;
	struct takeover t;
	struct deadline dl;
	char whose[48];
	int r;

	if (!s->o.have_wait) {
		wait = s->killafter;
		wait.tv_sec += REPLACE_MARGIN;
	}
	if (s->o.verbose) {
		fprintf(stderr, "%s: ", getprogname());
		say_held(stderr, l, "; replacing");
	}
	deadline_start(&dl, &wait);
	if ((r = takeover_lock(l->sl, uid, &s->killafter, &dl, s->o.verbose,
	    &t)) != 2 && r != 3)
		return r;
	if (s->o.quiet)
		exit(s->o.conflict);
	if (r == 3)
		errx(s->o.conflict, "%s is held through a descriptor this process "
		    "inherited; refusing to replace", lock_name(l));
	if (t.pid > 0)
		errx(s->o.conflict, "%s is held by pid %d (%s)%s: only root may "
		    "end another user's process", lock_name(l), (int)t.pid,
		    t.comm, holder_whose(t.uid, whose, sizeof(whose)));
	errx(s->o.conflict, "%s is held by another user's process, or one not "
	    "visible here: not ended", lock_name(l));
}

/* --verbose, for root: a lock any user could take first. */
static void
warn_open(struct lock *l)
{
	int start;

	if (l->private || !socklock_open_to_all(l->sl, &start))
		return;
	if (l->sl->sa.ss_family == AF_UNIX)
		warnx("warning: any user may take %s first: abstract names "
		    "are open to all; drop --abstract", lock_name(l));
	else if (start <= 1)
		warnx("warning: any user may take %s first: every port is "
		    "open to all (net.ipv4.ip_unprivileged_port_start is %d); "
		    "use -U name", lock_name(l), start);
	else
		warnx("warning: any user may take %s first: ports from %d "
		    "up are open to all; use one below %d, or -U name",
		    lock_name(l), start, start);
}

int
main(int argc, char *argv[])
{
	struct solo s;
	struct lock l;
	struct deadline dl;
	char slot[16];
	uid_t uid = getuid();
	int r, fd;

	memset(&s, 0, sizeof(s));
	soloopt_init(&s.o);
	/* getopt(3) names argv[0] in its messages, err(3) the short name. */
	argv[0] = (char *)getprogname();
	if (is_kay(argc, argv))
		parse_kay(&s, argc, argv);
	else
		parse_args(&s, argc, argv);

	/* SOLO_SLOT names a slot this command got, never one it inherited. */
	if (s.slots == 0 && unsetenv("SOLO_SLOT") == -1)
		err(LK_EXIT_OSERR, "unsetenv");
	if (s.noport)
		child_exec(s.cmd);
	if (s.list)
		return list(s.json);
	lock_setup(&l, &s, uid);

	if (s.o.test)
		return test(&s, &l);

	r = lock_try(&l, NULL);
	if (r == 1 && s.replace)
		r = replace(&s, &l, uid);
	else if (r == 1 && s.o.have_wait) {
		if (s.o.verbose && (l.private || l.set.plain)) {
			fprintf(stderr, "%s: ", getprogname());
			say_held(stderr, &l, "; waiting");
		} else if (s.o.verbose)
			say_slots(&l, "; waiting");
		deadline_start(&dl, &s.o.wait);
		r = lock_try(&l, &dl);
	}
	if (r == -1)
		lock_failed(&l, exit_for_lock(errno));
	if (r == 1) {
		if (s.o.quiet)
			return s.o.conflict;
		if (l.private || l.set.plain) {
			fprintf(stderr, "%s: ", getprogname());
			say_held(stderr, &l, "");
		} else {
			if (s.o.verbose)
				say_slots(&l, "");
			warnx("%s: all %d slots are held", lock_name(&l),
			    l.set.n);
		}
		return s.o.conflict;
	}
	if (s.o.verbose) {
		warnx("%s %s", l.private ? "lock" : "bind", l.private ?
		    l.pl.path : socklock_name(l.sl));
		if (uid == 0)
			warn_open(&l);
	}

	/* The one descriptor the command inherits: the lock itself. */
	fd = l.private ? l.pl.fd : l.sl->fd;
	if (fcntl(fd, F_SETFD, 0) == -1)
		err(LK_EXIT_OSERR, "%s: fcntl", lock_name(&l));
	if (s.slots > 0) {
		snprintf(slot, sizeof(slot), "%d", l.set.taken);
		if (setenv("SOLO_SLOT", slot, 1) == -1)
			err(LK_EXIT_OSERR, "setenv");
	}
	if (nonzero(&s.sleep))
		while (nanosleep(&s.sleep, &s.sleep) == -1 && errno == EINTR)
			continue;
	child_alarm_after(&s.o.maxtime);
	child_exec(s.cmd);
}
