/*
 * The config parser: the input is written to a memfd and loaded through
 * /proc/self/fd/N, so conf_load() reads it exactly as it reads a file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

FUZZ_DECLARE(conf);

static int	fuzz_conf_fd = -1;
static char	fuzz_conf_path[64];

FUZZ_INIT(conf)
{
	fuzz_conf_fd = memfd_create("fuzz-conf", MFD_CLOEXEC);
	if (fuzz_conf_fd == -1)
		abort();
	snprintf(fuzz_conf_path, sizeof(fuzz_conf_path), "/proc/self/fd/%d",
	    fuzz_conf_fd);
	return 0;
}

FUZZ_ENTRY(conf)
{
	struct config	*cf = NULL;
	struct cv_err	 err;

	if (fuzz_conf_fd == -1)
		abort();
	if (ftruncate(fuzz_conf_fd, 0) == -1 ||
	    pwrite(fuzz_conf_fd, data, size, 0) != (ssize_t)size)
		abort();
	if (conf_load(fuzz_conf_path, 1, &cf, &err) == 0)
		conf_unref(cf);
	return 0;
}
