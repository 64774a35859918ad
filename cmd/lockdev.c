/*
 * lockdev: test, take, hand over and release the UUCP/FHS lock files that
 * serial-port programs (cu, minicom, pppd, Kermit) agree on, or run a
 * command while holding one.  Its exit statuses are those of the
 * liblockdev helper, so it can stand in for it.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "deadline.h"
#include "devlock.h"
#include "exitcode.h"
#include "filelock.h"
#include "holder.h"
#include "parse.h"
#include "report.h"
#include "version.h"

#ifndef LOCKDEV_DIR
#define LOCKDEV_DIR	"/var/lock"
#endif

enum mode { TEST, LOCK, UNLOCK, RELOCK, RUN, LIST };
enum { OPT_JSON = 256, OPT_LIST };

static const struct option longopts[] = {
	{ "debug",	no_argument,		NULL, 'd' },
	{ "force",	no_argument,		NULL, 'f' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "list",	no_argument,		NULL, OPT_LIST },
	{ "lock",	no_argument,		NULL, 'l' },
	{ "lockdir",	required_argument,	NULL, 'L' },
	{ "pid",	required_argument,	NULL, 'p' },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "relock",	required_argument,	NULL, 'r' },
	{ "unlock",	no_argument,		NULL, 'u' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "wait",	required_argument,	NULL, 'w' },
	{ NULL,		0,			NULL, 0 }
};

static const char synopsis[] =
"usage: lockdev [-dhqVv] [-L lockdir] [--json] device\n"
"       lockdev --list [--json] [-L lockdir]\n"
"       lockdev -l [-p pid] [-w secs] [options] device\n"
"       lockdev -u [-f] [-p pid] [options] device\n"
"       lockdev -r newpid [-p pid] [options] device\n"
"       lockdev [-w secs] [options] device command [arg ...]\n";

static const char options[] =
"\n"
"  (none)                   test: print the owner's pid, exit 1 if locked\n"
"  -l, --lock               lock the device for --pid\n"
"  -u, --unlock             unlock it, if --pid (or a dead process) owns it\n"
"  -r, --relock NEWPID      hand the lock from --pid to NEWPID\n"
"  -p, --pid PID            the owner to write or match (default: parent)\n"
"  -w, --wait SECS          wait up to SECS (fractional, or inf) for it\n"
"  -L, --lockdir DIR        lock directory (default $LOCKDEV_LOCKDIR or "
LOCKDEV_DIR ")\n"
"  -f, --force              unlock whoever owns it\n"
"  -q, --quiet              print no pid\n"
"      --list               list every lock file, its owner and device\n"
"      --json               test or list in JSON\n"
"  -v, --verbose            say what was done\n"
"  -d, --debug              show each lock file read\n"
"  -h, --help               print this help\n"
"  -V, --version            print the version\n";

struct run {
	struct devlock	*dl;
	pid_t		 owner;		/* whose pid the lock files hold */
	bool		 verbose;
};

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(LK_EXIT_USAGE);
}

static pid_t
parse_pid(const char *opt, const char *s)
{
	const char *errstr;
	pid_t pid;

	pid = (pid_t)parse_number(s, 1, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(LK_EXIT_USAGE, "invalid %s '%s': expected 1 to %d", opt,
		    parse_shown(s), INT_MAX);
	return pid;
}

/* warn(3) with errno's reason, then exit with errno's status. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(exit_for_lockdev(e));
}

/*
 * Refuse, as fail() does, an owner that names no process, or one that
 * has exited unreaped (devlock.h: its lock would be stale).
 */
static void
need_live(const char *what, pid_t pid)
{
	if (kill(pid, 0) == -1 && errno == ESRCH)
		fail("%s %d", what, (int)pid);
	if (devlock_exited(pid)) {
		warnx("%s %d: has exited (a zombie)", what, (int)pid);
		exit(exit_for_lockdev(ESRCH));
	}
}

/*
 * One line on who holds the device, then tail: the owner of its lock
 * files, or whoever flocks what we must lock to remove a stale one.
 */
static void
say_holder(const struct devlock *dl, pid_t owner, const char *tail)
{
	char comm[32], whose[48], fwhose[48], file[80], who[160];
	uid_t uid, fuid;

	if (owner > 0) {
		holder_comm(owner, comm, sizeof(comm));
		uid = holder_uid(owner);
		fuid = devlock_file_uid(dl, owner);
		/*
		 * Anyone who may write the lock directory can write any pid:
		 * a file not of the pid's owner is said to be so.
		 */
		file[0] = '\0';
		if (fuid != uid && fuid != (uid_t)-1 &&
		    uid != HOLDER_UID_UNKNOWN)
			snprintf(file, sizeof(file), " in a file of %s",
			    fuid == getuid() ? "your own" : holder_whose(fuid,
			    fwhose, sizeof(fwhose)) + strlen(" of "));
		snprintf(who, sizeof(who), "pid %d (%s)%s%s", (int)owner,
		    comm, holder_whose(uid, whose, sizeof(whose)), file);
	} else
		snprintf(who, sizeof(who), "another process");
	if (dl->busy[0] != '\0')
		warnx("%s: cannot remove stale lock %s: %s holds flock on "
		    "it%s", dl->dev, strcmp(dl->busy, ".") == 0 ?
		    "(a symbolic link), the lock directory" : dl->busy, who,
		    tail);
	else if (owner > 0)
		warnx("%s: locked by %s%s", dl->dev, who, tail);
	else
		warnx("%s: being locked by another program%s", dl->dev, tail);
}

/*
 * A stale lock file of another user's that we may not remove (a sticky
 * lock directory), one line, then tail.
 */
static void
say_stale(const struct devlock *dl, const char *tail)
{
	char whose[48];

	warnx("%s: cannot remove stale lock %s%s: %s%s", dl->dev, dl->stale,
	    holder_whose(dl->stale_uid, whose, sizeof(whose)),
	    strerror(dl->stale_errno), tail);
}

/*
 * Locked by someone else: the pid on stdout (unless -q), status 1, and
 * with -v who holds it.  A stale lock another process keeps
 * us from removing is said always: it has no owner to print, and is
 * someone's doing.
 */
static int
held(const struct devlock *dl, pid_t owner, bool quiet, bool verbose)
{
	if (dl->busy[0] != '\0') {
		say_holder(dl, owner, "");
		return LK_EXIT_CONFLICT;
	}
	if (dl->stale[0] != '\0') {
		say_stale(dl, "");
		return LK_EXIT_CONFLICT;
	}
	if (!quiet && owner > 0) {
		printf("%d\n", (int)owner);
		if (fflush(stdout) != 0)
			err(LK_EXIT_OSERR, "stdout");
	}
	if (verbose)
		say_holder(dl, owner, "");
	return LK_EXIT_CONFLICT;
}

/* f's entry, pointing into f, comm and device. */
static void
entry(struct report_entry *e, const struct devlock_file *f, char *comm,
    size_t len, const char *device)
{
	memset(e, 0, sizeof(*e));
	e->kind = "uucp";
	e->pid = f->pid > 0 ? f->pid : 0;
	if (e->pid > 0 && !f->stale) {
		holder_comm(e->pid, comm, len);
		e->command = comm;
	}
	/* The process's uid while it lives, else the file's owner's. */
	e->has_uid = true;
	if (e->pid == 0 || f->stale ||
	    (e->uid = holder_uid(e->pid)) == HOLDER_UID_UNKNOWN)
		e->uid = f->uid;
	e->mode = REPORT_EXCLUSIVE;
	e->device = *device != '\0' ? device : NULL;
	e->lockfile = f->name;
	e->since = f->mtime;
	e->stale = f->stale ? REPORT_STALE : REPORT_LIVE;
}

/* One line for --list: "LCK..ttyS0: /dev/ttyS0 locked by pid 1 (cu)". */
static void
say_file(const struct devlock_file *f, const char *device)
{
	char comm[32];

	printf("%s: %s ", f->name, *device != '\0' ? device : "?");
	if (f->stale && f->pid > 0)
		printf("stale (pid %d)\n", (int)f->pid);
	else if (f->stale)
		printf("stale (%s)\n", f->pid == 0 ? "empty" : "no valid pid");
	else if (f->pid == 0)
		printf("being written\n");
	else {
		holder_comm(f->pid, comm, sizeof(comm));
		printf("locked by pid %d (%s)\n", (int)f->pid, comm);
	}
}

/* Where lock files are reported: a JSON report, or lines on stdout. */
struct out {
	struct report	*rep;		/* NULL: text */
	const char	*dev;		/* the device tested; NULL: by name */
};

static void
out_start(struct out *o, bool json, const char *dev)
{
	const char *why;

	o->rep = NULL;
	o->dev = dev;
	/* lockdev's statuses are liblockdev's: 255 is "anything else". */
	if (json && (o->rep = report_new(&why)) == NULL)
		errx(exit_for_lockdev(ELIBACC), "json: %s", why);
}

/* devlock_list()'s callback: one file. */
static void
out_file(const struct devlock_file *f, void *arg)
{
	struct out *o = arg;
	char comm[32], device[PATH_MAX];
	struct report_entry e;

	if (o->dev != NULL)
		snprintf(device, sizeof(device), "%s", o->dev);
	else
		devlock_device(f->name, device, sizeof(device));
	if (o->rep != NULL) {
		entry(&e, f, comm, sizeof(comm), device);
		report_add(o->rep, &e);
	} else
		say_file(f, device);
}

/* Print the report, if JSON; exit if stdout fails. */
static void
out_end(struct out *o)
{
	if ((o->rep != NULL && report_print(o->rep, stdout) == -1) ||
	    fflush(stdout) != 0)
		fail("stdout");
}

/* --list: every lock file in lockdir; never writes. */
static int
list(const char *lockdir, bool json)
{
	struct devlock dl;
	struct out o;

	if (devlock_open_dir(&dl, lockdir) == -1)
		fail("%s", lockdir);
	out_start(&o, json, NULL);
	if (devlock_list(&dl, out_file, &o) == -1)
		fail("%s", lockdir);
	out_end(&o);
	devlock_close(&dl);
	return LK_EXIT_OK;
}

/*
 * --json test: every lock file naming the device (each file once), stale
 * ones too, marked so; the status as for a plain test.
 */
static int
test_json(const struct devlock *dl)
{
	struct devlock_file f;
	ino_t seen[DEVLOCK_MAXNAMES];
	struct out o;
	pid_t owner;
	int i, j, n = 0;

	owner = devlock_owner(dl);
	out_start(&o, true, dl->dev);
	for (i = 0; i < dl->nnames; i++) {
		if (devlock_file(dl, dl->names[i], &f) == -1)
			continue;
		for (j = 0; j < n && (f.ino == 0 || seen[j] != f.ino); j++)
			continue;
		if (j < n)
			continue;	/* another name of a file listed */
		seen[n++] = f.ino;
		out_file(&f, &o);
	}
	out_end(&o);
	return owner == 0 ? LK_EXIT_OK : LK_EXIT_CONFLICT;
}

/* Lock for pid; with a deadline, wait for the holder to go. */
static int
take(struct devlock *dl, pid_t pid, const struct deadline *d, pid_t *owner,
    bool verbose)
{
	int r;

	r = devlock_lock(dl, pid, owner);
	/* A stale file we may not remove is waited for (devlock_wait()). */
	if (d == NULL || (r != DEVLOCK_HELD && (r != -1 ||
	    dl->stale[0] == '\0')))
		return r;
	if (verbose && r == -1)
		say_stale(dl, "; waiting");
	else if (verbose)
		say_holder(dl, *owner, "; waiting");
	return devlock_wait(dl, pid, d, owner);
}

/*
 * flock the device node, waiting until the deadline if there is one: 0,
 * 1 if another holds it, -1 on failure (already reported).  With verbose,
 * the holders are named, by the device's name, before a wait and on a
 * conflict or timeout.  A free device takes one flock and no timer.
 */
static int
flock_device(const struct devlock *dl, int fd, const struct deadline *d,
    bool verbose)
{
	struct lockreq req = { LOCK_KIND_FLOCK, false, 0, 0 };
	struct filelock fl;
	int r, status;

	filelock_use_fd(&fl, fd);
	r = filelock_acquire(&fl, 1, &req, d, true, false, &status);
	if (r == FL_CONFLICT && verbose)
		filelock_say_holders(&fl, &req, dl->dev, d != NULL);
	if (r == FL_CONFLICT && d != NULL) {
		r = filelock_acquire(&fl, 1, &req, d, false, false, &status);
		if (r == FL_TIMEOUT && verbose)
			filelock_say_holders(&fl, &req, dl->dev, false);
	}
	return r == 0 ? 0 : r == FL_ERROR ? -1 : 1;
}

/*
 * In the command's process, before its exec: make its pid the owner.
 * A vfork child (child.h): devlock_relock() only makes system calls and
 * formats on the stack; warn() writes unbuffered stderr; r->owner is the
 * caller's memory, where the caller reads it once the command is done.
 */
static void
hand_to_child(pid_t child, void *arg)
{
	struct run *r = arg;
	pid_t owner;

	if (devlock_relock(r->dl, r->owner, child, &owner) != DEVLOCK_OK)
		warn("%s: cannot hand the lock to pid %d", r->dl->dev,
		    (int)child);
	else {
		r->owner = child;
		if (r->verbose)
			warnx("%s: locked for pid %d", r->dl->dev, (int)child);
	}
}

int
main(int argc, char *argv[])
{
	struct devlock dl;
	struct deadline d;
	struct timespec wait;
	struct run run;
	const char *lockdir = NULL, *failed;
	enum mode mode = TEST;
	bool secure, force = false, quiet = false, verbose = false,
	    debug = false, have_wait = false, have_pid = false, json = false;
	pid_t pid = getppid(), newpid = 0, owner = 0;
	int ch, r = 0, devfd, status;

	/*
	 * Installed setgid (or setuid) to write a protected lock directory:
	 * trust nothing from the caller's environment or -L.
	 */
	secure = getegid() != getgid() || geteuid() != getuid();
	if (!secure)
		lockdir = getenv("LOCKDEV_LOCKDIR");
	else if (clearenv() != 0)
		errx(LK_EXIT_OSERR, "cannot clear the environment");

	/* getopt(3) names argv[0] in its messages, err(3) the short name. */
	argv[0] = (char *)getprogname();

	while ((ch = getopt_long(argc, argv, "+dfhL:lp:qr:uVvw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = true;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(synopsis, stdout);
			fputs(options, stdout);
			return fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_OSERR;
		case 'L':
			if (*optarg == '\0')
				errx(LK_EXIT_USAGE,
				    "invalid lock directory '': empty");
			if (!secure)
				lockdir = optarg;
			break;
		case 'l':
		case 'r':
		case 'u':
			if (mode != TEST)
				errx(LK_EXIT_USAGE, "--list, -l, -u and -r are "
				    "exclusive");
			mode = ch == 'l' ? LOCK : ch == 'u' ? UNLOCK : RELOCK;
			if (ch == 'r')
				newpid = parse_pid("new pid", optarg);
			break;
		case 'p':
			pid = parse_pid("pid", optarg);
			have_pid = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'V':
			print_version();
		case 'v':
			verbose = true;
			break;
		case 'w':
			parse_duration_arg("wait", optarg, true, &wait);
			have_wait = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_LIST:
			if (mode != TEST)
				errx(LK_EXIT_USAGE, "--list, -l, -u and -r are "
				    "exclusive");
			mode = LIST;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (json && mode != TEST && mode != LIST)
		errx(LK_EXIT_USAGE, "--json goes with a test or --list");
	if (mode == LIST) {
		if (argc > 0 || have_wait || have_pid || force)
			errx(LK_EXIT_USAGE, "--list takes no device, -w, -p "
			    "or -f");
		if (lockdir == NULL || *lockdir == '\0')
			lockdir = LOCKDEV_DIR;
		return list(lockdir, json);
	}
	if (argc == 0)
		errx(LK_EXIT_USAGE, "missing device");
	if (argc > 1) {
		if (json)
			errx(LK_EXIT_USAGE, "--json goes with a test or --list");
		if (mode != TEST)
			errx(LK_EXIT_USAGE, "a command runs only without -l, "
			    "-u and -r");
		if (have_pid)
			errx(LK_EXIT_USAGE, "a command's lock is for its own "
			    "pid; -p does not apply");
		mode = RUN;
	}
	if (force && mode != UNLOCK)
		errx(LK_EXIT_USAGE, "-f goes with -u");
	if (have_wait && mode != LOCK && mode != RUN)
		errx(LK_EXIT_USAGE, "-w goes with -l or a command");
	if (have_pid && mode == TEST)
		errx(LK_EXIT_USAGE, "a test names whoever holds the device; "
		    "-p goes with -l, -u and -r");
	if (lockdir == NULL || *lockdir == '\0')
		lockdir = LOCKDEV_DIR;
	if (secure) {
		/* Only for oneself: a pid we may signal, no forcing. */
		if (have_pid && kill(pid, 0) == -1)
			fail("pid %d", (int)pid);
		if (force && getuid() != 0) {
			errno = EPERM;
			fail("-f is for root only");
		}
	}

	if (devlock_init(&dl, lockdir, argv[0], &failed) == -1) {
		if (failed == lockdir && errno == EPERM) {
			warnx("%s: writable by others without the sticky bit; "
			    "refusing", lockdir);
			exit(exit_for_lockdev(EPERM));
		}
		if (failed != lockdir && errno == EINVAL) {
			if (*argv[0] == '\0')
				warnx("'': empty device name");
			else
				warnx("%s: not a character device", argv[0]);
			exit(exit_for_lockdev(EINVAL));
		}
		fail("%s", failed);
	}
	dl.debug = debug;
	/* A lock written for no process, or a zombie, is stale at once. */
	if (mode == LOCK && have_pid)
		need_live("pid", pid);
	if (mode == RELOCK)
		need_live("new pid", newpid);
	/* A setgid helper locks only what the real user may open. */
	if (secure && access(dl.dev, R_OK | W_OK) == -1)
		fail("%s", dl.dev);
	deadline_start(&d, have_wait ? &wait : NULL);

	/* Run mode locks for itself, then hands the lock to the command. */
	if (mode == RUN)
		pid = getpid();
	switch (mode) {
	case TEST:
		if (json)
			return test_json(&dl);
		if ((owner = devlock_owner(&dl)) == 0) {
			if (verbose)
				warnx("%s: free", dl.dev);
			return LK_EXIT_OK;
		}
		return held(&dl, owner, quiet, verbose);
	case LOCK:
	case RUN:
		r = take(&dl, pid, have_wait ? &d : NULL, &owner, verbose);
		break;
	case UNLOCK:
		r = devlock_unlock(&dl, pid, force, &owner);
		break;
	case RELOCK:
		r = devlock_relock(&dl, pid, newpid, &owner);
		pid = newpid;
		break;
	case LIST:
		break;		/* done above */
	}
	/* Past devlock_init() every file touched is in the lock directory. */
	if (r == -1 && dl.stale[0] != '\0') {
		say_stale(&dl, "");
		exit(exit_for_lockdev(dl.stale_errno));
	}
	if (r == -1)
		fail("%s: cannot %s in %s", dl.dev, mode == UNLOCK ? "unlock" :
		    mode == RELOCK ? "relock" : "lock", lockdir);
	if (r == DEVLOCK_HELD)
		return held(&dl, owner, quiet, verbose);
	if (mode != RUN) {
		if (verbose && mode == UNLOCK)
			warnx("%s: unlocked", dl.dev);
		else if (verbose)
			warnx("%s: locked for pid %d", dl.dev, (int)pid);
		return LK_EXIT_OK;
	}

	/* flock(2) users such as picocom see the device busy as well. */
	if ((devfd = open(dl.dev, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || (r = flock_device(&dl, devfd, have_wait ? &d :
	    NULL, verbose)) != 0) {
		int e = errno;

		devlock_unlock(&dl, pid, false, &owner);
		if (devfd != -1 && r == 1) {
			if (!quiet)
				warnx("%s: in use (flock)", dl.dev);
			return LK_EXIT_CONFLICT;
		}
		if (devfd != -1)	/* flock_device() said why */
			exit(exit_for_lockdev(EIO));
		errno = e;
		fail("%s", dl.dev);
	}
	run.dl = &dl;
	run.owner = pid;
	run.verbose = verbose;
	status = child_run(argv + 1, NULL, 0, hand_to_child, &run);
	/*
	 * Device flock first, lock files second: a waiter that sees the
	 * files go must find the flock free too.  The command is reaped, so
	 * its lock reads as stale and a waiter may have taken it over: the
	 * unlock removes the files only if they still name run.owner (or a
	 * dead pid), never a live other owner's.  Matching the command's
	 * pid, not just "dead", also frees the lock when that pid has
	 * already gone to a new, unrelated process.
	 */
	close(devfd);
	(void)devlock_unlock(&dl, run.owner, false, &owner);
	devlock_close(&dl);
	return status;
}
