#include "fuzz_driver.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// Weak: present only when libFuzzer's runtime is linked (-sanitize=fuzzer). SwiftPM renames
// the executable's entry point, so libFuzzer's own main() never runs; this is the way in.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t))
    __attribute__((weak));

// libFuzzer's archive also carries a main() that calls this; when the linker pulls that object
// in, the symbol must exist. It forwards to the callback the Swift program registered.
static vault_fuzz_callback registered;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return registered ? registered(data, size) : 0;
}

static int replay_file(const char *path, vault_fuzz_callback callback) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "vault-fuzz: cannot read %s\n", path); return 1; }
    size_t cap = 1 << 16, size = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + size, 1, cap - size, f)) > 0) {
        size += n;
        if (size == cap) { cap *= 2; buf = realloc(buf, cap); }
    }
    fclose(f);
    if (!buf) return 1;
    callback(buf, size);
    free(buf);
    return 0;
}

static int replay(const char *path, vault_fuzz_callback callback, int *count) {
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "vault-fuzz: no such file %s\n", path); return 1; }
    if (!S_ISDIR(st.st_mode)) { (*count)++; return replay_file(path, callback); }
    DIR *d = opendir(path);
    if (!d) return 1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        rc |= replay(child, callback, count);
    }
    closedir(d);
    return rc;
}

int vault_fuzz_run(int argc, char **argv, vault_fuzz_callback callback) {
    registered = callback;
    if (LLVMFuzzerRunDriver) return LLVMFuzzerRunDriver(&argc, &argv, callback);
    int rc = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;  // libFuzzer flags mean nothing when replaying
        rc |= replay(argv[i], callback, &count);
    }
    fprintf(stderr, "vault-fuzz: replayed %d inputs without libFuzzer\n", count);
    return rc;
}
