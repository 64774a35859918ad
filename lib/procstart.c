#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "procstart.h"

#define NSEC	1000000000LL

int
procstart_read(pid_t pid, char *state, int64_t *since_boot)
{
	char path[32], buf[512], *p, *end;
	unsigned long long ticks = 0;
	long hz;
	ssize_t n;
	int fd, field;

	p = stpcpy(path, "/proc/");
	p += fmt_dec(p, (unsigned long)pid, 0, '0');
	(void)stpcpy(p, "/stat");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1)
		return -1;
	buf[n > 0 ? n : 0] = '\0';
	/* "pid (comm) S ...": comm may hold ')', nothing after it does. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		goto bad;
	*state = p[2];
	if (since_boot == NULL && *state != 'Z')
		return 0;
	/* Field 3 is at p + 2; step over fields 3 to 19. */
	end = buf + n;
	for (p += 2, field = 3; field < 20 && p < end; p++)
		if (*p == ' ')
			field++;
	if (field != 20 || !FMT_DIGIT(*p))
		goto bad;
	/* A leader gone before its threads: the process lives (header). */
	if (*state == 'Z' && (p[0] != '1' || p[1] != ' '))
		*state = 'R';
	if (since_boot == NULL)
		return 0;
	/* Step over fields 20 and 21. */
	for (; field < 22 && p < end; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || !FMT_DIGIT(*p))
		goto bad;
	for (; FMT_DIGIT(*p) && ticks < (1ULL << 40); p++)
		ticks = ticks * 10 + (unsigned long long)(*p - '0');
	if (*p != ' ' || (hz = sysconf(_SC_CLK_TCK)) <= 0)
		goto bad;
	*since_boot = (int64_t)(ticks / (unsigned long long)hz) * NSEC +
	    (int64_t)(ticks % (unsigned long long)hz) * NSEC / hz;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
procstart_boot(int64_t *boot)
{
	struct timespec rt, bt;

	/* Two readings a few nanoseconds apart: the boot time to within those. */
	if (clock_gettime(CLOCK_BOOTTIME, &bt) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &rt) == -1)
		return -1;
	*boot = ((int64_t)rt.tv_sec - bt.tv_sec) * NSEC +
	    (rt.tv_nsec - bt.tv_nsec);
	return 0;
}

int
procstart_judge(int64_t written, int64_t boot, int64_t since_boot)
{
	const int64_t slack = PROCSTART_SLACK * NSEC;

	if (written < boot - slack)
		return PROCSTART_PREBOOT;
	if (since_boot >= 0 && boot + since_boot > written + slack)
		return PROCSTART_NEWER;
	return PROCSTART_MAY_OWN;
}
