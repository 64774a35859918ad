/*
 * Benchmark probe for hand-off latency: reads CLOCK_MONOTONIC and writes it
 * in nanoseconds to a file.
 *
 *   stamp FILE             the waiter's command: the clock is read first
 *   stamp -b FILE          the holder's last act: FILE is opened, then the
 *                          clock read just before exit
 *   stamp -x FILE CMD ...  as -b, then exec CMD (what one exec costs)
 *   stamp -l LOCK CMD ...  a bare locker: block in flock(2) on LOCK, then
 *                          exec CMD (what the kernel alone costs)
 *
 * It uses no libc.  A program linked with one spends the better part of a
 * millisecond on this machine starting up before main (page faults on its
 * own code and data), and that would be charged to every lock tool; a
 * file created between the two clock reads would be too.  So the clock is
 * the first thing the waiter's command does and the last the holder does.
 * x86_64 and aarch64 only.
 */
#include <sys/syscall.h>

#include <fcntl.h>
#include <time.h>

#define LOCK_EX	2

static long
sys(long n, long a, long b, long c, long d)
{
	long r;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;

	__asm__ volatile ("syscall" : "=a"(r)
	    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
	    : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile ("svc #0" : "+r"(x0)
	    : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	r = x0;
#else
#error "stamp: add this architecture's system call instruction"
#endif
	return r;
}

static void __attribute__((noreturn))
quit(int status)
{
	for (;;)
		sys(SYS_exit_group, status, 0, 0, 0);
}

static int
is(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b)
		a++, b++;
	return *a == *b;
}

static long
create(const char *path)
{
	long fd = sys(SYS_openat, AT_FDCWD, (long)path,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		quit(66);
	return fd;
}

static void
put(long fd, const struct timespec *ts)
{
	unsigned long long v = (unsigned long long)ts->tv_sec * 1000000000ULL +
	    (unsigned long long)ts->tv_nsec;
	char buf[24];
	int i = sizeof(buf);

	buf[--i] = '\n';
	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (sys(SYS_write, fd, (long)(buf + i), (long)sizeof(buf) - i, 0) !=
	    (long)sizeof(buf) - i || sys(SYS_close, fd, 0, 0, 0) != 0)
		quit(71);
}

void __attribute__((used, noreturn))
stamp_main(long *sp)
{
	struct timespec ts;
	long argc = sp[0], fd;
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;

	if (argc == 2) {
		sys(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0);
		put(create(argv[1]), &ts);
		quit(0);
	}
	if (argc == 3 && is(argv[1], "-b")) {
		fd = create(argv[2]);
		sys(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0);
		put(fd, &ts);
		quit(0);
	}
	if (argc >= 4 && is(argv[1], "-x")) {
		fd = create(argv[2]);
		sys(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0);
		put(fd, &ts);
	} else if (argc >= 4 && is(argv[1], "-l")) {
		fd = sys(SYS_openat, AT_FDCWD, (long)argv[2], O_RDONLY, 0);
		if (fd < 0 || sys(SYS_flock, fd, LOCK_EX, 0, 0) != 0)
			quit(75);
	} else
		quit(64);
	sys(SYS_execve, (long)argv[3], (long)(argv + 3), (long)envp, 0);
	quit(69);
}

/* The kernel's entry: argc, argv and envp lie on the stack. */
#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n"
    "\tcall stamp_main\n\thlt\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n_start:\n\tmov x0, sp\n\tbl stamp_main\n");
#endif
