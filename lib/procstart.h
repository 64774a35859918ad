/*
 * When a process started, and whether it can be the owner a lock file
 * names: a pid is only a number, which the kernel hands out again once
 * its process is gone (at once in a new container, after a reboot, or
 * once pids wrap), so a live pid proves nothing unless its process is
 * older than the file that names it.
 */
#ifndef LOCKKIT_PROCSTART_H
#define LOCKKIT_PROCSTART_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

/*
 * Seconds the clock may have been stepped forward, between a lock file's
 * last write and now, before a live owner's lock could look stale; see
 * procstart_judge() for why this many.
 */
#define PROCSTART_SLACK	60

/* What procstart_judge() says. */
enum {
	PROCSTART_MAY_OWN = 0,	/* started before the write (or unknown) */
	PROCSTART_NEWER,	/* started after the file was last written */
	PROCSTART_PREBOOT	/* the file was last written before this boot */
};

/*
 * Read /proc/PID/stat: the state letter (field 3: 'Z' for a zombie) into
 * *state, but 'R' for a thread-group leader that exited while its other
 * threads run (/proc says Z with num_threads, field 20, above 1: the
 * process lives; only a whole process that exited is a zombie); and, if
 * since_boot is not NULL, the start time (field 22, clock ticks since
 * boot, CLOCK_BOOTTIME) in nanoseconds into *since_boot.
 * Returns 0, or -1 with errno set (ENOENT: no such process, or hidden by
 * /proc's hidepid; EINVAL: a line not in the format proc(5) gives).
 */
int	procstart_read(pid_t pid, char *state, int64_t *since_boot);

/*
 * When this system booted, in CLOCK_REALTIME nanoseconds: CLOCK_REALTIME
 * less CLOCK_BOOTTIME (which counts suspended time too, as field 22 does),
 * now.  A clock step moves it by the step.  0, or -1 with errno set.
 */
int	procstart_boot(int64_t *boot);

/*
 * Can a process that started since_boot nanoseconds after boot (-1: not
 * known) own a lock file last written at written, boot and written being
 * CLOCK_REALTIME nanoseconds?  A process writes its lock after it starts,
 * and lockdev's relock and run mode write after the new owner started,
 * so the owner is never younger than the file's last write; any later
 * write (touch, a rewrite) only makes the file younger still.  So:
 *   PROCSTART_PREBOOT if written < boot - SLACK, whatever the process
 *   (no process of this boot can have written it, and this still works
 *   when since_boot is unknown);
 *   PROCSTART_NEWER if boot + since_boot > written + SLACK;
 *   PROCSTART_MAY_OWN otherwise.
 * All times are in CLOCK_REALTIME, the only clock a file's mtime has, and
 * a clock step between the write and now moves boot and the start by the
 * step but not the mtime.  A step back only makes the owner look older:
 * safe.  A step forward by more than PROCSTART_SLACK makes a live owner
 * look younger than its file: its lock then reads as stale.  Synchronised
 * clocks step by far less than a minute (NTP clients step only above
 * 0.128 to 1 s, and chiefly once, at start), and a battery-backed clock
 * set at boot drifts less than that in a month; larger steps come from a
 * clock set by hand or a machine without a real-time clock setting its
 * time from the network after a lock was taken, and lockdev(1) says so.
 * The price of the slack is the other way round, and harmless: a pid
 * reused within a minute of the lock's last write still reads as the
 * owner, as it did without this rule, and -u -f clears it.
 */
int	procstart_judge(int64_t written, int64_t boot, int64_t since_boot);

#endif
