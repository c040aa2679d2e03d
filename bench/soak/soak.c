/*
 * Memory soak of the C library's hot paths (bench/soak/run.sh builds it against the
 * optimised static library). Each path runs N calls; RSS (VmRSS) is read after the first
 * 10% (warm-up), at the midpoint and at the end. Prints one JSON object per path on stdout.
 *   soak N_FAST N_KDF
 * The C API has no credential store (verification is sans-IO: the caller reads the record
 * and claims the nonce) and no SSE registry, so its paths are sign, verify_with_record,
 * JWT sign, JWT verify and argon2id verify.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authcore.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define STR(s) ((struct authcore_str){(s), strlen(s)})

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    if (f) fclose(f);
    return kib;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(authcore_result rc, const char *what) {
    if (rc != AUTHCORE_OK) {
        fprintf(stderr, "%s failed: %s\n", what, authcore_result_name(rc));
        exit(1);
    }
}

typedef void (*op_fn)(void *ctx, long i);

static long median3(long a, long b, long c) {
    if (a > b) { long x = a; a = b; b = x; }
    if (b > c) b = c;
    return a > b ? a : b;
}

/* Warm-up: the first 10% of the calls; then a reading after every tenth of the other 90%
 * (trace[0] right after warm-up, trace[10] at the end). Each checkpoint is the median of
 * three neighbouring readings, as in soak.mjs and soak.py. */
static void soak(const char *path, long n, op_fn f, void *ctx) {
    long warm = n / 10, measured = n - warm;
    long rss_start = rss_kib(), trace[11];
    double t = now_s();
    long i = 0;
    for (; i < warm; i++) f(ctx, i);
    trace[0] = rss_kib();
    for (int k = 1; k <= 10; k++) {
        for (; i < warm + measured * k / 10; i++) f(ctx, i);
        trace[k] = rss_kib();
    }
    double secs = now_s() - t;
    printf("{\"lang\":\"c\",\"path\":\"%s\",\"calls\":%ld,\"seconds\":%.2f,\"rss_start_kib\":%ld,"
           "\"rss_warm_kib\":%ld,\"rss_mid_kib\":%ld,\"rss_end_kib\":%ld,\"rss_trace_kib\":[",
           path, n, secs, rss_start, median3(trace[0], trace[1], trace[2]),
           median3(trace[4], trace[5], trace[6]), median3(trace[8], trace[9], trace[10]));
    for (int k = 0; k <= 10; k++) printf("%s%ld", k ? "," : "", trace[k]);
    printf("]}\n");
    fflush(stdout);
}

static const char SECRET_HASH[] = "8ba10c5b2c8f4e19f5dcd5f7b0c7f1ad3b6c2a7e9d4f1b3c5a7e9d1f3b5c7a9e";
static const char BODY[] = "{\"order\":42,\"items\":[{\"sku\":\"sku-1\",\"qty\":1}]}";

static void op_sign(void *ctx, long i) {
    (void)ctx;
    char nonce[32], out[65];
    size_t n;
    snprintf(nonce, sizeof nonce, "n%ld", i);
    authcore_sign_input in = {STR("POST"), STR("/api/orders?x=1"), 1.7e12 + (double)i,
                              STR(nonce), (const uint8_t *)BODY, sizeof BODY - 1, STR(SECRET_HASH)};
    must(authcore_sign_request(&in, out, sizeof out, &n), "sign");
}

typedef struct {
    char record[256];
} verify_ctx;

static void op_verify(void *p, long i) {
    verify_ctx *c = p;
    char nonce[32], ts[32], sig[65];
    size_t n;
    double now = 1.7e12 + (double)i;
    snprintf(nonce, sizeof nonce, "n%ld", i);
    snprintf(ts, sizeof ts, "%.0f", now);
    authcore_sign_input in = {STR("POST"), STR("/api/orders?x=1"), now, STR(nonce),
                              (const uint8_t *)BODY, sizeof BODY - 1, STR(SECRET_HASH)};
    must(authcore_sign_request(&in, sig, sizeof sig, &n), "sign");
    authcore_verify_request req;
    memset(&req, 0, sizeof req);
    req.method = STR("POST");
    req.path = STR("/api/orders?x=1");
    req.client_id = STR("app_a");
    req.signature = (struct authcore_str){sig, 64};
    req.timestamp = STR(ts);
    req.nonce = STR(nonce);
    req.body = (const uint8_t *)BODY;
    req.body_len = sizeof BODY - 1;
    req.now_ms = now;
    req.max_skew_ms = 300000;
    req.record = STR(c->record);
    authcore_verification out;
    must(authcore_verify_with_record(&req, &out), "verify");
}

static const char PAYLOAD[] =
    "{\"sub\":\"u1\",\"email\":\"alice@example.com\",\"role\":\"user\",\"iat\":1700000000,\"exp\":4000000000}";

typedef struct {
    authcore_jwt_keyset *ks;
    char token[1024];
    size_t token_len;
} jwt_ctx;

static void op_jwt_sign(void *p, long i) {
    (void)i;
    jwt_ctx *c = p;
    char out[1024];
    size_t n;
    must(authcore_jwt_sign(c->ks, LIT(PAYLOAD), out, sizeof out, &n), "jwt sign");
}

static void op_jwt_verify(void *p, long i) {
    (void)i;
    jwt_ctx *c = p;
    char out[1024];
    size_t n;
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.now = 1700000030;
    must(authcore_jwt_verify(c->ks, c->token, c->token_len, &v, out, sizeof out, &n), "jwt verify");
}

typedef struct {
    char hash[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
    size_t len;
} pw_ctx;

static void op_pw_verify(void *p, long i) {
    (void)i;
    pw_ctx *c = p;
    bool ok = false;
    must(authcore_password_verify((const uint8_t *)"pw-soak", 7, c->hash, c->len, &ok), "pw verify");
    if (!ok) {
        fprintf(stderr, "password did not verify\n");
        exit(1);
    }
}

int main(int argc, char **argv) {
    long n_fast = argc > 1 ? atol(argv[1]) : 1000000;
    long n_kdf = argc > 2 ? atol(argv[2]) : 1000000;

    soak("sign", n_fast, op_sign, NULL);

    verify_ctx vc;
    snprintf(vc.record, sizeof vc.record,
             "{\"secretHash\":\"%s\",\"createdAt\":1,\"updatedAt\":1,\"expiresAt\":null,\"allowedIps\":[]}",
             SECRET_HASH);
    soak("verify_with_record (sans-IO)", n_fast, op_verify, &vc);

    jwt_ctx jc;
    must(authcore_jwt_keyset_new(&jc.ks), "keyset");
    must(authcore_jwt_keyset_add_hmac(jc.ks, AUTHCORE_JWT_HS256, (const uint8_t *)"soak-secret-0123456789abcdef0123", 32,
                                      NULL, 0, 0),
         "add hmac");
    must(authcore_jwt_sign(jc.ks, LIT(PAYLOAD), jc.token, sizeof jc.token, &jc.token_len), "sign");
    soak("jwt_sign", n_fast, op_jwt_sign, &jc);
    soak("jwt_verify", n_fast, op_jwt_verify, &jc);
    authcore_jwt_keyset_free(jc.ks);

    pw_ctx pc;
    authcore_argon2_params params = {8, 1, 1, 32};
    must(authcore_password_hash_argon2id((const uint8_t *)"pw-soak", 7, &params, pc.hash, sizeof pc.hash, &pc.len), "hash");
    soak("password_verify (argon2id m=8 t=1 p=1)", n_kdf, op_pw_verify, &pc);
    return 0;
}
