/*
 * Runs a service's stop/start/reload command (or an exec issuer) with
 * uv_spawn: no shell, its own session (so a timeout kills what it
 * started), output to a log file the caller names (a pipe would never see
 * EOF when the command leaves a daemon behind holding it), killed at the
 * timeout, which counts as failure.  Loop thread only.
 */
#ifndef CV_SERVICE_H
#define CV_SERVICE_H

#include <stdint.h>

#include <uv.h>

#define SERVICE_OUTPUT_MAX	2048	/* bytes of output kept */

/* status: exit status, or -1 (killed at the timeout, or could not run).
 * detail: "exit 0", "killed after 60s", with the output's tail. */
typedef void (*service_cb)(void *arg, int status, const char *detail);

struct service;

/*
 * Runs argv with extra environment entries ("K=V", NULL-ended, may be
 * NULL) appended to the daemon's.  Returns 0 (cb will run exactly once,
 * later), or -1 with cb not called and detail in err.
 */
int	 service_run(uv_loop_t *, char *const *argv, char *const *env,
	    int64_t timeout_s, const char *log_path, service_cb, void *arg,
	    struct service **, char *err, size_t errlen);

#endif
