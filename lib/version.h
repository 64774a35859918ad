#ifndef LOCKKIT_VERSION_H
#define LOCKKIT_VERSION_H

#ifndef LOCKKIT_VERSION
#define LOCKKIT_VERSION "unknown"
#endif

/* Print "NAME (lockkit) VERSION" on stdout and exit 0, for -V/--version. */
void	print_version(void) __attribute__((noreturn));

#endif
