/*
 * tests/fuzz-replay: runs every fuzz target's entry point on each file
 * under fuzz/repro/TARGET/ and fuzz/corpus/TARGET/, with a plain main()
 * instead of libFuzzer, so make check replays every crash ever found
 * (and the seeds) in the normal and the ASan builds.
 *
 *   fuzz-replay SRCDIR/fuzz        every target, every file
 *   fuzz-replay TARGET FILE...     those files through one target
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "fuzz.h"

#define FUZZ_TARGET(name) FUZZ_DECLARE(name);
#include "targets.h"
#undef FUZZ_TARGET

static const struct {
	const char	*name;
	int		(*init)(int *, char ***);
	int		(*one)(const uint8_t *, size_t);
} replay_targets[] = {
#define FUZZ_TARGET(name) { #name, fuzz_##name##_init, fuzz_##name##_one },
#include "targets.h"
#undef FUZZ_TARGET
};
#define REPLAY_NTARGETS (sizeof(replay_targets) / sizeof(replay_targets[0]))

static int
replay_file(size_t t, const char *path)
{
	unsigned char	*data;
	size_t		 len;
	struct cv_err	 err;

	if (fsutil_read_file(path, 64u * 1024 * 1024, &data, &len, &err)
	    == -1) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, err.msg);
		return -1;
	}
	replay_targets[t].one(data, len);
	free(data);
	return 0;
}

static int
replay_dir(size_t t, const char *dir, int *count)
{
	struct dirent	**v;
	char		 *path;
	int		  n, i, rc = 0;

	if ((n = scandir(dir, &v, NULL, alphasort)) == -1)
		return 0;	/* no reproducers for this target */
	for (i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			if (asprintf(&path, "%s/%s", dir, v[i]->d_name) == -1)
				abort();
			if (replay_file(t, path) == -1)
				rc = -1;
			else
				(*count)++;
			free(path);
		}
		free(v[i]);
	}
	free(v);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char	*kinds[] = { "repro", "corpus" };
	char			*dir;
	size_t			 t, k;
	int			 i, count, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: fuzz-replay FUZZDIR | TARGET FILE...\n");
		return 2;
	}
	if (argc > 2) {
		for (t = 0; t < REPLAY_NTARGETS; t++)
			if (strcmp(replay_targets[t].name, argv[1]) == 0)
				break;
		if (t == REPLAY_NTARGETS) {
			fprintf(stderr, "fuzz-replay: no target %s\n", argv[1]);
			return 2;
		}
		replay_targets[t].init(&argc, &argv);
		for (i = 2; i < argc; i++)
			if (replay_file(t, argv[i]) == -1)
				rc = 1;
		return rc;
	}
	for (t = 0; t < REPLAY_NTARGETS; t++) {
		replay_targets[t].init(&argc, &argv);
		for (k = 0; k < 2; k++) {
			count = 0;
			if (asprintf(&dir, "%s/%s/%s", argv[1], kinds[k],
			    replay_targets[t].name) == -1)
				abort();
			if (replay_dir(t, dir, &count) == -1)
				rc = 1;
			printf("ok - %s: %d %s file%s\n",
			    replay_targets[t].name, count, kinds[k],
			    count == 1 ? "" : "s");
			free(dir);
		}
	}
	return rc;
}
