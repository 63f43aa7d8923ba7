/* The anchor of the VaultKit rows of scripts/bench: raw libsodium, nothing else.
 * Usage: sodium_rate open|seal MESSAGE_FILE BOX_FILE SECRET_KEY_HEX SECONDS
 * Prints operations per second of crypto_box_seal_open of the box (open) or crypto_box_seal of
 * the message (seal), run back to back for SECONDS; exits 1 if a single call fails. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    unsigned char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6 || sodium_init() < 0) { fprintf(stderr, "usage: sodium_rate open|seal MESSAGE BOX SKHEX SECONDS\n"); return 2; }
    size_t mlen, blen;
    unsigned char *msg = slurp(argv[2], &mlen), *box = slurp(argv[3], &blen);
    unsigned char sk[crypto_box_SECRETKEYBYTES], pk[crypto_box_PUBLICKEYBYTES];
    if (sodium_hex2bin(sk, sizeof sk, argv[4], strlen(argv[4]), NULL, NULL, NULL) != 0) return 2;
    crypto_scalarmult_base(pk, sk);
    double seconds = atof(argv[5]);
    unsigned char *out = malloc(mlen + blen + crypto_box_SEALBYTES);
    int opening = strcmp(argv[1], "open") == 0;
    long n = 0;
    double start = now(), t;
    do {
        for (int i = 0; i < 64; i++, n++) {
            int rc = opening ? crypto_box_seal_open(out, box, blen, pk, sk) : crypto_box_seal(out, msg, mlen, pk);
            if (rc != 0) { fprintf(stderr, "sodium_rate: %s failed\n", argv[1]); return 1; }
        }
        t = now() - start;
    } while (t < seconds);
    printf("%.1f\n", n / t);
    return 0;
}
