/*
 * Test helper: open a pseudo-terminal, print its slave's path, and keep
 * the master open until standard input reaches end of file, so tests have
 * a real character device to lock that nothing else uses.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(void)
{
	char buf[64];
	int m;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) == -1 ||
	    unlockpt(m) == -1)
		err(1, "pty");
	printf("%s\n", ptsname(m));
	if (fflush(stdout) != 0)
		err(1, "stdout");
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		continue;
	return 0;
}
