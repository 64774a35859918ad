/*
 * flockrun: run a command while holding a flock(2), OFD or POSIX record
 * lock on one or more files; a superset of util-linux flock(1) that also
 * takes byte ranges, tests locks and names their holders.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <paths.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "deadline.h"
#include "exitcode.h"
#include "filelock.h"
#include "parse.h"
#include "report.h"
#include "version.h"

#define MAXFILES	64	/* file operand plus --also files */

enum {
	OPT_ALSO = 256, OPT_FCNTL, OPT_FD, OPT_JSON, OPT_LENGTH, OPT_MAXTIME,
	OPT_REMOVE, OPT_START, OPT_TEST, OPT_VERBOSE
};

static const struct option longopts[] = {
	{ "also",		required_argument,	NULL, OPT_ALSO },
	{ "close",		no_argument,		NULL, 'o' },
	{ "conflict-exit-code",	required_argument,	NULL, 'E' },
	{ "exclusive",		no_argument,		NULL, 'x' },
	{ "fcntl",		optional_argument,	NULL, OPT_FCNTL },
	{ "fd",			required_argument,	NULL, OPT_FD },
	{ "help",		no_argument,		NULL, 'h' },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "length",		required_argument,	NULL, OPT_LENGTH },
	{ "max-time",		required_argument,	NULL, OPT_MAXTIME },
	{ "nb",			no_argument,		NULL, 'n' },
	{ "no-fork",		no_argument,		NULL, 'F' },
	{ "nonblock",		no_argument,		NULL, 'n' },
	{ "remove",		no_argument,		NULL, OPT_REMOVE },
	{ "shared",		no_argument,		NULL, 's' },
	{ "start",		required_argument,	NULL, OPT_START },
	{ "test",		no_argument,		NULL, OPT_TEST },
	{ "timeout",		required_argument,	NULL, 'w' },
	{ "unlock",		no_argument,		NULL, 'u' },
	{ "verbose",		no_argument,		NULL, OPT_VERBOSE },
	{ "version",		no_argument,		NULL, 'V' },
	{ "wait",		required_argument,	NULL, 'w' },
	{ NULL,			0,			NULL, 0 }
};

static const char synopsis[] =
"usage: flockrun [-eFhnosuVx] [-E code] [-w secs] [--also file] [--fcntl[=ofd|posix]]\n"
"                [--json] [--length n] [--max-time secs] [--remove]\n"
"                [--start n] [--test] [--verbose] file | dir command [arg ...]\n"
"       flockrun [options] file | dir -c command-string\n"
"       flockrun [options] fd\n"
"       flockrun [options] --fd fd command [arg ...]\n";

static const char options[] =
"\n"
"  -s, --shared              take a shared (read) lock\n"
"  -x, -e, --exclusive       take an exclusive (write) lock (default)\n"
"  -u, --unlock              remove a lock (on an inherited fd)\n"
"  -n, --nb, --nonblock      fail at once rather than wait\n"
"  -w, --wait, --timeout S   wait at most S seconds (fractional or inf; 0 is -n)\n"
"  -E, --conflict-exit-code N  exit N on conflict or timeout (default 1)\n"
"  -o, --close               close the lock fd before running the command\n"
"  -F, --no-fork             exec the command in place of flockrun\n"
"  -c, --command STRING      run STRING with $SHELL -c (after file)\n"
"      --fcntl[=ofd|posix]   take an fcntl lock (default ofd) not flock\n"
"      --start N             byte range start (implies --fcntl)\n"
"      --length N            byte range length; 0 to EOF, < 0 before start\n"
"      --max-time S          send the command SIGALRM after S seconds\n"
"      --fd FD               lock inherited descriptor FD, run command\n"
"      --also FILE           lock FILE too (repeatable; fixed global order)\n"
"      --remove              delete the lock file(s) when done\n"
"      --test                take no lock; say who holds it\n"
"      --json                with --test: say it in JSON\n"
"      --verbose             report holders, wait time and the command\n"
"  -h, --help                print this help\n"
"  -V, --version             print the version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(LK_EXIT_USAGE);
}

/* lone: the only operand, where a file without its command ends up. */
static int
parse_fd(const char *s, bool lone)
{
	const char *errstr;
	int fd;

	fd = (int)parse_number(s, 0, INT_MAX, &errstr);
	if (errstr != NULL && strcmp(errstr, "invalid") == 0)
		errx(LK_EXIT_USAGE, "bad file descriptor '%s': not a "
		    "number%s", parse_shown(s), lone ?
		    " (a lock file needs a command)" : "");
	if (errstr != NULL)
		errx(LK_EXIT_USAGE, "bad file descriptor '%s': expected 0 "
		    "to %d", parse_shown(s), INT_MAX);
	return fd;
}

static off_t
parse_offset(const char *opt, const char *s, bool allow_negative)
{
	const char *errstr;
	off_t v;

	if (parse_size(s, allow_negative, &v, &errstr) == -1)
		errx(LK_EXIT_USAGE, "invalid %s '%s': %s", opt, parse_shown(s),
		    errstr);
	return v;
}

/*
 * Report every holder of a lock we would want, a line each or in one JSON
 * document; 0 if it is free now.
 */
static int
test_locks(struct filelock *fl, size_t n, const struct lockreq *req,
    int conflict, bool json)
{
	/* Static: kept for the process's life, as err() may end it here. */
	static struct holder *h;
	static size_t max;
	struct holder *more;
	struct report_entry e;
	struct report *rep = NULL;
	const char *why;
	size_t i;
	int k, j, rv = LK_EXIT_OK;

	if (h == NULL && (h = reallocarray(NULL, max = 16, sizeof(*h))) == NULL)
		err(LK_EXIT_OSERR, "holders");
	if (json && (rep = report_new(&why)) == NULL)
		errx(LK_EXIT_OSERR, "json: %s", why);
	for (i = 0; i < n; i++) {
		/* A full array may have left holders out: grow, look again. */
		while ((k = filelock_test(&fl[i], req, h, max)) != -1 &&
		    (size_t)k == max) {
			if ((more = reallocarray(h, max *= 2, sizeof(*h))) ==
			    NULL)
				err(LK_EXIT_OSERR, "holders");
			h = more;
		}
		if (k == -1)
			err(LK_EXIT_OSERR, "%s: cannot test lock",
			    fl[i].path ? fl[i].path : "fd");
		for (j = 0; j < k; j++) {
			if (json) {
				report_holder(&e, &h[j], fl[i].path);
				report_add(rep, &e);
			} else
				holder_print(stdout, &h[j]);
		}
		if (k > 0)
			rv = conflict;
	}
	if (json && report_print(rep, stdout) == -1)
		err(LK_EXIT_OSERR, "stdout");
	if (fflush(stdout) != 0)
		err(LK_EXIT_OSERR, "stdout");
	return rv;
}

/*
 * The last line of --verbose on a conflict or timeout: util-linux
 * flock's words, after the name of the file (or "fd N") that stopped
 * us, which with --also they alone would not tell.
 */
static void
say_busy(const struct filelock *fl, size_t n, int rv)
{
	const char *what = rv == FL_TIMEOUT ?
	    "timeout while waiting to get lock" : "failed to get lock";
	size_t i;

	for (i = 0; i < n; i++)
		if (fl[i].busy) {
			if (fl[i].path == NULL)
				warnx("fd %d: %s", fl[i].fd, what);
			else
				warnx("%s: %s", fl[i].path, what);
			return;
		}
	warnx("%s", what);
}

int
main(int argc, char *argv[])
{
	struct lockreq req = { LOCK_KIND_FLOCK, false, 0, 0 };
	struct filelock fl[MAXFILES];
	struct deadline dl;
	struct timespec wait, maxtime = { 0, 0 }, t0;
	const char *shell;
	char *also[MAXFILES], **cmd = NULL, *shcmd[4];
	bool fcntl_set = false, range_set = false, nonblock = false,
	    unlock = false, closefd = false, nofork = false, verbose = false,
	    test = false, remove = false, have_wait = false, json = false;
	size_t nalso = 0, nfl = 0, i;
	int ch, conflict = LK_EXIT_CONFLICT, fdopt = -1, rv, status = 0;
	int fds[MAXFILES];

	/* getopt(3) names argv[0] in its messages, err(3) the short name. */
	argv[0] = (char *)getprogname();

	while ((ch = getopt_long(argc, argv, "+eE:FhnosuVw:x", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'E':
			conflict = parse_exit_status_arg(optarg);
			break;
		case 'F':
			nofork = true;
			break;
		case 'h':
			fputs(synopsis, stdout);
			fputs(options, stdout);
			return fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_OSERR;
		case 'n':
			nonblock = true;
			break;
		case 'o':
			closefd = true;
			break;
		case 's':
			req.shared = true;
			break;
		case 'u':
			unlock = true;
			break;
		case 'V':
			print_version();
		case 'w':
			parse_duration_arg("timeout", optarg, true, &wait);
			have_wait = true;
			break;
		case 'e':
		case 'x':
			req.shared = false;
			break;
		case OPT_ALSO:
			if (nalso == MAXFILES - 1)
				errx(LK_EXIT_USAGE, "too many --also files "
				    "(at most %d)", MAXFILES - 1);
			also[nalso++] = optarg;
			break;
		case OPT_FCNTL:
			fcntl_set = true;
			if (optarg == NULL || strcmp(optarg, "ofd") == 0)
				req.kind = LOCK_KIND_OFD;
			else if (strcmp(optarg, "posix") == 0)
				req.kind = LOCK_KIND_POSIX;
			else
				errx(LK_EXIT_USAGE, "invalid --fcntl '%s': "
				    "expected ofd or posix",
				    parse_shown(optarg));
			break;
		case OPT_FD:
			fdopt = parse_fd(optarg, false);
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_LENGTH:
			req.len = parse_offset("length", optarg, true);
			range_set = true;
			break;
		case OPT_MAXTIME:
			parse_duration_arg("max-time", optarg, false, &maxtime);
			break;
		case OPT_REMOVE:
			remove = true;
			break;
		case OPT_START:
			req.start = parse_offset("start", optarg, false);
			range_set = true;
			break;
		case OPT_TEST:
			test = true;
			break;
		case OPT_VERBOSE:
			verbose = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	/* Operands: [file] [command ... | -c string], or a lone fd. */
	if (fdopt == -1 && argc == 0)
		errx(LK_EXIT_USAGE, "requires file descriptor, file or "
		    "directory");
	if (fdopt == -1 && argc == 1 && !test) {
		fdopt = parse_fd(argv[0], true);
		argc--;
		argv++;
	} else if (fdopt == -1) {
		nfl = 1;
		argc--;
		argv++;
	}
	if (argc > 0 && (strcmp(argv[0], "-c") == 0 ||
	    strcmp(argv[0], "--command") == 0)) {
		if (argc != 2)
			errx(LK_EXIT_USAGE, "%s requires exactly one command "
			    "argument", argv[0]);
		shell = getenv("SHELL");
		shcmd[0] = (char *)(shell != NULL && *shell != '\0' ? shell :
		    _PATH_BSHELL);
		shcmd[1] = (char *)"-c";
		shcmd[2] = argv[1];
		shcmd[3] = NULL;
		cmd = shcmd;
	} else if (argc > 0 && (nfl == 1 || fdopt != -1))
		cmd = argv;

	if (range_set && !fcntl_set)
		req.kind = LOCK_KIND_OFD;
	if (req.len < 0 && req.start + req.len < 0)
		errx(LK_EXIT_USAGE, "byte range starts before byte 0");
	if (nofork && closefd)
		errx(LK_EXIT_USAGE, "the --no-fork and --close options are "
		    "incompatible");
	if (remove && (nofork || test || nfl == 0))
		errx(LK_EXIT_USAGE, "--remove needs a file, a command, and "
		    "neither --no-fork nor --test");
	if (json && !test)
		errx(LK_EXIT_USAGE, "--json goes with --test");
	if (test && (cmd != NULL || unlock))
		errx(LK_EXIT_USAGE, "--test takes no command and no --unlock");
	if (test && (have_wait || closefd || nofork || maxtime.tv_sec > 0 ||
	    maxtime.tv_nsec > 0))
		errx(LK_EXIT_USAGE, "--test neither waits nor runs a command: "
		    "-w, -o, -F and --max-time do not apply");
	if (cmd == NULL && (maxtime.tv_sec > 0 || maxtime.tv_nsec > 0))
		errx(LK_EXIT_USAGE, "--max-time needs a command");
	if (req.kind == LOCK_KIND_POSIX && cmd == NULL && !test && !unlock)
		errx(LK_EXIT_USAGE, "a POSIX lock on a descriptor ends with "
		    "flockrun; use --fcntl=ofd");
	if (have_wait && wait.tv_sec == 0 && wait.tv_nsec == 0)
		nonblock = true;

	if (fdopt != -1)
		filelock_use_fd(&fl[0], fdopt);
	else
		also[nalso++] = argv[-1];	/* the file operand */
	nfl = fdopt != -1;
	for (i = 0; i < nalso; i++) {
		/* --test creates nothing: a missing file has no holder. */
		if (test && access(also[i], F_OK) == -1 && errno == ENOENT)
			continue;
		filelock_open(&fl[nfl++], also[i], &req);
	}

	if (test)
		return test_locks(fl, nfl, &req, conflict, json);
	if (unlock) {
		for (i = 0; i < nfl; i++)
			if (filelock_unlock(&fl[i], &req) == -1) {
				if (fl[i].path == NULL)
					err(exit_for_lock(errno), "fd %d: "
					    "cannot unlock", fl[i].fd);
				err(exit_for_lock(errno), "%s: cannot unlock",
				    fl[i].path);
			}
	} else {
		if (verbose)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		deadline_start(&dl, have_wait ? &wait : NULL);
		for (;;) {
			rv = filelock_acquire(fl, nfl, &req, &dl, nonblock,
			    verbose, &status);
			if (rv == FL_ERROR)
				return status;
			if (rv != 0) {
				if (verbose)
					say_busy(fl, nfl, rv);
				return conflict;
			}
			if (!remove || filelock_still_named(fl, nfl))
				break;
			/*
			 * The previous holder removed the file while it held
			 * it: we locked an unnamed inode that a newcomer will
			 * not see.  Drop it and lock what the name is now.
			 */
			filelock_release(fl, nfl, &req);
			filelock_reopen(fl, nfl, &req);
		}
		if (verbose)
			warnx("getting lock took %.6f seconds",
			    elapsed_since(&t0));
	}
	if (cmd == NULL)
		return LK_EXIT_OK;

	if (verbose)
		warnx("executing %s", cmd[0]);
	child_alarm_after(&maxtime);
	if (nofork)
		child_exec(cmd);
	for (i = 0; i < nfl; i++)
		fds[i] = fl[i].fd;
	status = child_run(cmd, fds, closefd ? nfl : 0, NULL, NULL);
	if (remove)
		filelock_remove(fl, nfl, &req);
	/* The caller keeps its descriptor: give back what we took on it. */
	if (fdopt != -1)
		filelock_release(fl, nfl, &req);
	return status;
}
