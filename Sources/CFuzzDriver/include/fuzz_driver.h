#pragma once
#include <stddef.h>
#include <stdint.h>

typedef int (*vault_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer when it is linked in (a build with -sanitize=fuzzer); otherwise replays each
/// file named on the command line through the callback once, so a normal build still works and
/// doubles as a regression runner over a corpus. Returns a process exit status.
int vault_fuzz_run(int argc, char **argv, vault_fuzz_callback callback);
