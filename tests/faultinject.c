/*
 * faultinject.so: an LD_PRELOAD fault injector for the fault tests.
 *
 *   FAULT_CALL=write|fsync|rename|open|malloc   which call to fail
 *   FAULT_N=N          fail the Nth such call (1-based) ...
 *   FAULT_STICKY=1     ... and every one after it (a full disk)
 *   FAULT_ERRNO=EIO|ENOSPC|EDQUOT|ENOMEM   the error (default EIO;
 *                      ENOMEM for malloc)
 *   FAULT_PATH=STR     count only calls on paths / fds whose path
 *                      contains STR (not for malloc)
 *   FAULT_COUNT=FILE   at exit, append "CALL COUNT" (calls seen), so a
 *                      loop knows how far N goes
 *   FAULT_DELAY_MS=N   no failure: every open() (without O_CREAT) of a
 *                      path containing FAULT_PATH first sleeps N ms (a
 *                      slow disk or NFS; tests/renew-deployed.sh)
 *   FAULT_AFTER=STR    count nothing until a path containing STR has been
 *                      open()ed (say the issuer's CA key: faults land in
 *                      a renewal, not in the daemon's start-up)
 *
 * The variables and LD_PRELOAD are removed from the environment at load,
 * so the programs the process spawns (a service's stop and start
 * commands, nginx) run without faults.
 *
 * Built without sanitizers.  malloc faults need
 * faultinject-malloc.so (this file with -DFAULT_MALLOC), which replaces
 * malloc with glibc's __libc_malloc: for non-ASan builds only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef FAULT_MALLOC
extern void	*__libc_malloc(size_t);
#endif

static int		 fi_ready, fi_sticky, fi_errno = EIO, fi_armed = 1;
static long		 fi_n, fi_count;
static const char	*fi_call = "", *fi_path, *fi_after, *fi_count_file;
static long		 fi_delay_ms;

static void
fi_report(void)
{
	const char	*f = fi_count_file;
	char		 buf[128];
	int		 fd, n;

	if (f == NULL)
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD, f,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "%s %ld\n", fi_call, fi_count);
	(void)!syscall(SYS_write, fd, buf, (size_t)n);
	close(fd);
}

static void
fi_init(void)
{
	const char	*e;

	if (fi_ready)
		return;
	fi_ready = 1;
	if ((e = getenv("FAULT_CALL")) != NULL)
		fi_call = e;
	if ((e = getenv("FAULT_N")) != NULL)
		fi_n = atol(e);
	fi_sticky = getenv("FAULT_STICKY") != NULL;
	fi_path = getenv("FAULT_PATH");
	if ((e = getenv("FAULT_DELAY_MS")) != NULL)
		fi_delay_ms = atol(e);
	fi_count_file = getenv("FAULT_COUNT");
	if ((fi_after = getenv("FAULT_AFTER")) != NULL)
		fi_armed = 0;
	if ((e = getenv("FAULT_ERRNO")) != NULL) {
		if (strcmp(e, "ENOSPC") == 0)
			fi_errno = ENOSPC;
		else if (strcmp(e, "EDQUOT") == 0)
			fi_errno = EDQUOT;
		else if (strcmp(e, "ENOMEM") == 0)
			fi_errno = ENOMEM;
	}
	if (strcmp(fi_call, "malloc") == 0)
		fi_errno = ENOMEM;
	if (*fi_call != '\0')
		atexit(fi_report);
}

/*
 * At load: read the settings, then take them and LD_PRELOAD out of the
 * environment so that children start clean.  getenv() keeps pointing at
 * the strings (unsetenv only unlinks them from environ).
 */
__attribute__((constructor)) static void
fi_load(void)
{
	static const char	*vars[] = { "LD_PRELOAD", "FAULT_CALL",
	    "FAULT_N", "FAULT_STICKY", "FAULT_PATH", "FAULT_ERRNO",
	    "FAULT_COUNT", "FAULT_AFTER", "FAULT_DELAY_MS" };
	size_t			 i;

	fi_init();
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static int
fi_path_match(const char *path)
{
	return fi_path == NULL || (path != NULL && strstr(path, fi_path));
}

static int
fi_fd_match(int fd)
{
	char	link[64], path[4096];
	ssize_t	n;

	if (fi_path == NULL)
		return 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, fi_path) != NULL;
}

/* Whether this call of name fails. */
static int
fi_hit(const char *name, int match)
{
	long	c;

	fi_init();
	if (!fi_armed || strcmp(fi_call, name) != 0 || !match)
		return 0;
	c = __atomic_add_fetch(&fi_count, 1, __ATOMIC_RELAXED);
	if (fi_n <= 0)
		return 0;
	return c == fi_n || (fi_sticky && c > fi_n);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t	(*real)(int, const void *, size_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))
		    dlsym(RTLD_NEXT, "write");
	/* Only files: stderr and sockets are not the disk. */
	if (fd > 2 && fi_hit("write", fi_fd_match(fd))) {
		errno = fi_errno;
		return -1;
	}
	return real(fd, buf, len);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t	(*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))
		    dlsym(RTLD_NEXT, "pwrite64");
	if (fi_hit("write", fi_fd_match(fd))) {
		errno = fi_errno;
		return -1;
	}
	return real(fd, buf, len, off);
}

int
fsync(int fd)
{
	static int	(*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (fi_hit("fsync", fi_fd_match(fd))) {
		errno = fi_errno;
		return -1;
	}
	return real(fd);
}

int
fdatasync(int fd)
{
	static int	(*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (fi_hit("fsync", fi_fd_match(fd))) {
		errno = fi_errno;
		return -1;
	}
	return real(fd);
}

int
rename(const char *from, const char *to)
{
	static int	(*real)(const char *, const char *);

	if (real == NULL)
		real = (int (*)(const char *, const char *))
		    dlsym(RTLD_NEXT, "rename");
	if (fi_hit("rename", fi_path_match(to))) {
		errno = fi_errno;
		return -1;
	}
	return real(from, to);
}

int
open(const char *path, int flags, ...)
{
	static int	(*real)(const char *, int, ...);
	mode_t		 mode = 0;
	va_list		 ap;

	if (real == NULL)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT,
		    "open");
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (!fi_armed && path != NULL && strstr(path, fi_after) != NULL)
		__atomic_store_n(&fi_armed, 1, __ATOMIC_RELAXED);
	fi_init();
	if (fi_delay_ms > 0 && fi_path != NULL && !(flags & O_CREAT) &&
	    fi_path_match(path))
		usleep((useconds_t)(fi_delay_ms * 1000));
	if ((flags & O_CREAT) && fi_hit("open", fi_path_match(path))) {
		errno = fi_errno;
		return -1;
	}
	return real(path, flags, mode);
}

/* The path an *at() call names: dirfd's path joined with a relative
 * name (the daemon opens files through a directory descriptor). */
static const char *
fi_at_path(int dirfd, const char *name, char *buf, size_t len)
{
	char	link[64];
	ssize_t	n;

	if (name == NULL || name[0] == '/' || dirfd == AT_FDCWD)
		return name;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	if ((n = readlink(link, buf, len - 1)) <= 0)
		return name;
	buf[n] = '\0';
	if ((size_t)n + 1 + strlen(name) + 1 > len)
		return name;
	strcat(buf, "/");
	strcat(buf, name);
	return buf;
}

int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	static int	(*real)(int, const char *, int, const char *);
	char		 buf[4096];

	if (real == NULL)
		real = (int (*)(int, const char *, int, const char *))
		    dlsym(RTLD_NEXT, "renameat");
	if (fi_hit("rename", fi_path_match(fi_at_path(tofd, to, buf,
	    sizeof(buf))))) {
		errno = fi_errno;
		return -1;
	}
	return real(fromfd, from, tofd, to);
}

/* open()'s rules for openat(): arming, the delay, O_CREAT faults. */
int
openat(int dirfd, const char *name, int flags, ...)
{
	static int	(*real)(int, const char *, int, ...);
	mode_t		 mode = 0;
	va_list		 ap;
	char		 buf[4096];
	const char	*path;

	if (real == NULL)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
		    "openat");
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	path = fi_at_path(dirfd, name, buf, sizeof(buf));
	if (!fi_armed && path != NULL && fi_after != NULL &&
	    strstr(path, fi_after) != NULL)
		__atomic_store_n(&fi_armed, 1, __ATOMIC_RELAXED);
	fi_init();
	if (fi_delay_ms > 0 && fi_path != NULL && !(flags & O_CREAT) &&
	    fi_path_match(path))
		usleep((useconds_t)(fi_delay_ms * 1000));
	if ((flags & O_CREAT) && fi_hit("open", fi_path_match(path))) {
		errno = fi_errno;
		return -1;
	}
	return real(dirfd, name, flags, mode);
}

#ifdef FAULT_MALLOC
/* Only in faultinject-malloc.so: replacing malloc breaks ASan's. */
void *
malloc(size_t n)
{
	if (fi_ready && fi_armed && fi_hit("malloc", 1)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!fi_ready && getenv("FAULT_CALL") != NULL)
		fi_init();
	return __libc_malloc(n);
}
#endif
