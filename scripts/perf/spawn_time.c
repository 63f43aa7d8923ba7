/* Wall time of one-shot commands, process start included, as scripts/bench measures them (scripts/perf/bench.py).
 * Usage: spawn_time RUNS WARMUP -- A ARGS... -- B ARGS...
 * Runs A and B alternately (A, B, A, B, ...), so both see the same machine load, with standard
 * input, output and error on /dev/null. "{}" in an argument is replaced by the run's number
 * (0, 1, ...; warm-up runs count too), for commands that must not repeat (opening a blob).
 * Prints "MEDIAN_A_MS MEDIAN_B_MS MIN_A_MS MIN_B_MS" (the minimum is the steadiest figure on a
 * loaded machine); exits 1 if any run fails or is killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double run(char **argv, int n) {
    char *args[256];
    int i;
    for (i = 0; argv[i] && i < 255; i++) {
        char *p = strstr(argv[i], "{}");
        args[i] = argv[i];
        if (p && asprintf(&args[i], "%.*s%d%s", (int)(p - argv[i]), argv[i], n, p + 2) < 0) exit(1);
    }
    args[i] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd < 3; fd++) posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    pid_t pid;
    double t = now();
    if (posix_spawnp(&pid, args[0], &fa, NULL, args, environ) != 0) { perror(args[0]); exit(1); }
    int status;
    waitpid(pid, &status, 0);
    t = now() - t;
    posix_spawn_file_actions_destroy(&fa);
    for (i = 0; args[i]; i++) if (args[i] != argv[i]) free(args[i]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_time: '%s' (run %d) failed with status %d\n", args[0], n, status);
        exit(1);
    }
    return t * 1000;
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[3], "--") != 0) { fprintf(stderr, "usage: spawn_time RUNS WARMUP -- A... -- B...\n"); return 2; }
    int runs = atoi(argv[1]), warmup = atoi(argv[2]);
    char **a = argv + 4, **b = NULL;
    for (int i = 4; i < argc; i++) if (strcmp(argv[i], "--") == 0) { argv[i] = NULL; b = argv + i + 1; }
    if (!b || !*b || runs < 1) { fprintf(stderr, "usage: spawn_time RUNS WARMUP -- A... -- B...\n"); return 2; }
    double *ta = calloc(runs, sizeof *ta), *tb = calloc(runs, sizeof *tb);
    for (int i = 0; i < warmup + runs; i++) {
        double x = run(a, i), y = run(b, i);
        if (i >= warmup) { ta[i - warmup] = x; tb[i - warmup] = y; }
    }
    qsort(ta, runs, sizeof *ta, cmp);
    qsort(tb, runs, sizeof *tb, cmp);
    printf("%.3f %.3f %.3f %.3f\n", ta[runs / 2], tb[runs / 2], ta[0], tb[0]);
    return 0;
}
