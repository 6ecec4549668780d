/*
 * Fuzz targets: one file per parser, each an entry point for libFuzzer.
 *
 * Built with --enable-fuzz, each fuzz/fuzz_NAME.c links with
 * -fsanitize=fuzzer into fuzz/fuzz-NAME.  Built with -DFUZZ_REPLAY_MAIN
 * (tests/fuzz-replay, part of make check), the same entry points get
 * distinct names and fuzz/replay.c calls them on every committed seed and
 * reproducer, so a fixed crash stays fixed without clang.
 */
#ifndef CV_FUZZ_H
#define CV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef FUZZ_REPLAY_MAIN
#define FUZZ_ENTRY(name) \
	int fuzz_##name##_one(const uint8_t *data, size_t size)
#define FUZZ_INIT(name) \
	int fuzz_##name##_init(int *argc, char ***argv)
#else
#define FUZZ_ENTRY(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#define FUZZ_INIT(name) \
	int LLVMFuzzerInitialize(int *argc, char ***argv)
#endif

/* Every target's prototypes (-Wmissing-prototypes). */
#define FUZZ_DECLARE(name)						\
	FUZZ_ENTRY(name);						\
	FUZZ_INIT(name)

#endif
