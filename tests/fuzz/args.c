/*
 * libFuzzer target: one tool's argument handling.  make fuzz builds it
 * once per tool, with that tool's cmd/NAME.c compiled as tool_main().
 *
 * The input, split at NUL bytes, is argv[1..].  The tool's main runs
 * until it either gives up (err/errx/exit, through the overrides below)
 * or makes its first request of the library that would touch the system:
 * every such function is a stub that jumps back here.  So every argv ends
 * without touching a file, a socket or a process, and what is checked is
 * the parsing: no crash, no undefined behaviour, no leak, every format
 * string well fed, and only the statuses parsing may exit with (0 for
 * --help and --version, 64 for bad usage).
 */
#include <dlfcn.h>
#include <err.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "devlock.h"
#include "filelock.h"
#include "holder.h"
#include "privlock.h"
#include "report.h"
#include "slots.h"
#include "socklock.h"
#include "takeover.h"

#define MAXARGS	64

int	tool_main(int, char **);

static jmp_buf	back;
static int	inside;		/* tool_main is running */

enum { ENDED_EXIT = 1, ENDED_ACT };

/* Format the message as err(3) would, so bad format arguments show. */
static void
eat(const char *fmt, va_list ap)
{
	char buf[512];

	if (fmt != NULL)
		vsnprintf(buf, sizeof(buf), fmt, ap);
}

static int last_status;

static void __attribute__((noreturn))
ended(int how, int status)
{
	last_status = status;
	longjmp(back, how);
}

void
exit(int status)
{
	void (*real)(int);

	if (inside)
		ended(ENDED_EXIT, status);
	*(void **)&real = dlsym(RTLD_NEXT, "exit");
	real(status);
	__builtin_unreachable();
}

void
err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	eat(fmt, ap);
	va_end(ap);
	ended(ENDED_EXIT, status);
}

/* Nothing is printed, so errno's text makes no difference: one body. */
void	errx(int, const char *, ...) __attribute__((alias("err")));

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	eat(fmt, ap);
	va_end(ap);
}

void	warnx(const char *, ...) __attribute__((alias("warn")));

void
vwarn(const char *fmt, va_list ap)
{
	eat(fmt, ap);
}

/* The library's acts: reaching one means the arguments were accepted. */
#define ACT	ended(ENDED_ACT, 0)

void filelock_open(struct filelock *f, const char *p, const struct lockreq *r)
{ (void)f; (void)p; (void)r; ACT; }
void filelock_use_fd(struct filelock *f, int fd) { (void)f; (void)fd; ACT; }
int filelock_acquire(struct filelock *f, size_t n, const struct lockreq *r,
    const struct deadline *d, bool nb, bool v, int *st)
{ (void)f; (void)n; (void)r; (void)d; (void)nb; (void)v; (void)st; ACT; }
void filelock_release(struct filelock *f, size_t n, const struct lockreq *r)
{ (void)f; (void)n; (void)r; ACT; }
int filelock_unlock(struct filelock *f, const struct lockreq *r)
{ (void)f; (void)r; ACT; }
bool filelock_still_named(struct filelock *f, size_t n)
{ (void)f; (void)n; ACT; }
void filelock_reopen(struct filelock *f, size_t n, const struct lockreq *r)
{ (void)f; (void)n; (void)r; ACT; }
int filelock_test(struct filelock *f, const struct lockreq *r,
    struct holder *h, size_t max)
{ (void)f; (void)r; (void)h; (void)max; ACT; }
void filelock_remove(struct filelock *f, size_t n, const struct lockreq *r)
{ (void)f; (void)n; (void)r; ACT; }
void filelock_say_holders(struct filelock *f, const struct lockreq *r,
    const char *l, bool w)
{ (void)f; (void)r; (void)l; (void)w; ACT; }
int socklock_tcp(struct socklock *s, const char *a, uid_t u, int p,
    const char **e)
{ (void)s; (void)a; (void)u; (void)p; (void)e; ACT; }
int socklock_unix(struct socklock *s, uid_t u, const char *n, const char **e)
{ (void)s; (void)u; (void)n; (void)e; ACT; }
int socklock_try(struct socklock *s) { (void)s; ACT; }
const char *socklock_name(struct socklock *s) { (void)s; return "x"; }
int socklock_wait(struct socklock *s, const struct deadline *d)
{ (void)s; (void)d; ACT; }
int socklock_held(struct socklock *s) { (void)s; ACT; }
pid_t socklock_holder(const struct socklock *s, char *c, size_t n, uid_t *u)
{ (void)s; (void)c; (void)n; (void)u; ACT; }
bool socklock_open_to_all(const struct socklock *s, int *p)
{ (void)s; (void)p; ACT; }
const char *privlock_default_dir(uid_t u, char *b, size_t n)
{ (void)u; (void)b; (void)n; ACT; }
int privlock_init(struct privlock *pl, const char *d, const char *n, bool c,
    const char **w)
{ (void)pl; (void)d; (void)n; (void)c; (void)w; ACT; }
int privlock_open(struct privlock *pl, const char **w)
{ (void)pl; (void)w; ACT; }
int privlock_try(struct privlock *pl) { (void)pl; ACT; }
int privlock_wait(struct privlock *pl, const struct deadline *d)
{ (void)pl; (void)d; ACT; }
int privlock_held(struct privlock *pl, const char **w)
{ (void)pl; (void)w; ACT; }
pid_t privlock_holder(struct privlock *pl, char *c, size_t n, uid_t *u)
{ (void)pl; (void)c; (void)n; (void)u; ACT; }
int socklock_list(uid_t u, bool a,
    void (*fn)(const struct socklock_holder *, void *), void *arg)
{ (void)u; (void)a; (void)fn; (void)arg; ACT; }
int slots_tcp(struct slots *s, const char *a, uid_t u, int p, int n,
    const char **e)
{ (void)s; (void)a; (void)u; (void)p; (void)n; (void)e; ACT; }
int slots_unix(struct slots *s, uid_t u, const char *m, int n,
    const char **e)
{ (void)s; (void)u; (void)m; (void)n; (void)e; ACT; }
const char *slots_name(struct slots *s) { (void)s; return "x"; }
int slots_try(struct slots *s) { (void)s; ACT; }
int slots_wait(struct slots *s, const struct deadline *d)
{ (void)s; (void)d; ACT; }
int takeover_lock(struct socklock *s, uid_t u, const struct timespec *g,
    const struct deadline *d, bool v, struct takeover *t)
{ (void)s; (void)u; (void)g; (void)d; (void)v; (void)t; ACT; }
int devlock_init(struct devlock *dl, const char *l, const char *d,
    const char **f)
{ (void)dl; (void)l; (void)d; (void)f; ACT; }
void devlock_close(struct devlock *dl) { (void)dl; ACT; }
int devlock_open_dir(struct devlock *dl, const char *l)
{ (void)dl; (void)l; ACT; }
int devlock_file(const struct devlock *dl, const char *n,
    struct devlock_file *f)
{ (void)dl; (void)n; (void)f; ACT; }
int devlock_list(const struct devlock *dl,
    void (*fn)(const struct devlock_file *, void *), void *arg)
{ (void)dl; (void)fn; (void)arg; ACT; }
void devlock_device(const char *n, char *b, size_t l)
{ (void)n; (void)b; (void)l; ACT; }
pid_t devlock_owner(const struct devlock *dl) { (void)dl; ACT; }
uid_t devlock_file_uid(const struct devlock *dl, pid_t p)
{ (void)dl; (void)p; ACT; }
bool devlock_exited(pid_t p) { (void)p; ACT; }
int devlock_lock(struct devlock *dl, pid_t p, pid_t *o)
{ (void)dl; (void)p; (void)o; ACT; }
int devlock_wait(struct devlock *dl, pid_t p, const struct deadline *d,
    pid_t *o)
{ (void)dl; (void)p; (void)d; (void)o; ACT; }
int devlock_relock(struct devlock *dl, pid_t p, pid_t n, pid_t *o)
{ (void)dl; (void)p; (void)n; (void)o; ACT; }
int devlock_unlock(struct devlock *dl, pid_t p, bool f, pid_t *o)
{ (void)dl; (void)p; (void)f; (void)o; ACT; }
int child_run(char *const argv[], const int *c, size_t n,
    void (*s)(pid_t, void *), void *a)
{ (void)argv; (void)c; (void)n; (void)s; (void)a; ACT; }
void child_exec(char *const argv[]) { (void)argv; ACT; }
void child_exec_helper(const char *p, char *const argv[])
{ (void)p; (void)argv; ACT; }
void child_alarm_after(const struct timespec *d) { (void)d; ACT; }
void holder_comm(pid_t p, char *c, size_t n) { (void)p; (void)c; (void)n; ACT; }
void holder_print(FILE *fp, const struct holder *h) { (void)fp; (void)h; ACT; }
uid_t holder_uid(pid_t p) { (void)p; ACT; }
const char *holder_whose(uid_t u, char *b, size_t n)
{ (void)u; (void)b; (void)n; ACT; }
struct report *report_new(const char **w) { (void)w; ACT; }
void report_add(struct report *r, const struct report_entry *e)
{ (void)r; (void)e; ACT; }
void report_holder(struct report_entry *e, const struct holder *h,
    const char *p)
{ (void)e; (void)h; (void)p; ACT; }
int report_print(struct report *r, FILE *fp) { (void)r; (void)fp; ACT; }

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[4096];
	char *argv[MAXARGS + 2];
	FILE *out = stdout, *errs = stderr, *null;
	volatile int how;
	size_t i;
	int argc = 1;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"tool";
	/* NUL-separated words; a trailing word without NUL counts too. */
	for (i = 0; i < size && argc <= MAXARGS; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	/* Usage and --help text go nowhere; the fuzzer's own output stays. */
	if ((null = fopen("/dev/null", "w")) == NULL)
		abort();
	stdout = stderr = null;
	optind = 0;		/* glibc: start getopt afresh */
	inside = 1;
	if ((how = setjmp(back)) == 0) {
		tool_main(argc, argv);
		how = ENDED_EXIT;	/* returned from main */
	}
	inside = 0;
	stdout = out;
	stderr = errs;
	fclose(null);
	if (how == ENDED_EXIT && last_status != 0 && last_status != 64)
		abort();	/* parsing may only end in 0 or 64 */
	return 0;
}
