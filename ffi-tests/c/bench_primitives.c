/*
 * Micro-benchmarks of the auth-primitive C functions, for the numbers in the report (not part of
 * the test run). Build against an optimised library:
 *   cargo build --profile bench-fast -p authcore-ffi
 *   cc -O2 -std=c11 -Ibindings-c/include ffi-tests/c/bench_primitives.c \
 *      target/bench-fast/libauthcore_ffi.a -lpthread -ldl -lm -o target/c-primitives-bench
 * (bench/c-primitives/run.sh does exactly this and runs it.)
 *
 * Reports operations per second (or milliseconds per operation for the KDFs), the median
 * of 5 runs, and the wall time of 8 concurrent argon2id hashes on pthreads.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authcore.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define PW(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void must(authcore_result rc, const char *what) {
    if (rc != AUTHCORE_OK) {
        fprintf(stderr, "%s failed: %s\n", what, authcore_result_name(rc));
        exit(1);
    }
}

typedef void (*op_fn)(void *ctx);

/* Median seconds per operation over 5 runs of `iters` operations. */
static double per_op(op_fn f, void *ctx, int iters) {
    double runs[5];
    for (int r = 0; r < 5; r++) {
        double t = now_s();
        for (int i = 0; i < iters; i++) {
            f(ctx);
        }
        runs[r] = (now_s() - t) / iters;
    }
    qsort(runs, 5, sizeof runs[0], cmp);
    return runs[2];
}

static const char PAYLOAD[] =
    "{\"sub\":\"u1\",\"email\":\"alice@example.com\",\"role\":\"user\",\"loginProvider\":\"local\","
    "\"isEmailVerified\":true,\"isTotpEnabled\":false,\"iat\":1700000000,\"exp\":4000000000}";

typedef struct {
    authcore_jwt_keyset *ks;
    char token[1024];
    size_t token_len;
} jwt_ctx;

static void op_sign(void *p) {
    jwt_ctx *c = p;
    char out[1024];
    size_t n;
    must(authcore_jwt_sign(c->ks, LIT(PAYLOAD), out, sizeof out, &n), "sign");
}

static void op_verify(void *p) {
    jwt_ctx *c = p;
    char out[1024];
    size_t n;
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.now = 1700000030;
    must(authcore_jwt_verify(c->ks, c->token, c->token_len, &v, out, sizeof out, &n), "verify");
}

typedef struct {
    const char *hash;
    size_t len;
} pw_ctx;

static void op_argon_hash(void *p) {
    (void)p;
    char out[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
    size_t n;
    must(authcore_password_hash_argon2id(PW("correct horse battery staple"), NULL, out, sizeof out, &n), "hash");
}

static void op_verify_pw(void *p) {
    pw_ctx *c = p;
    bool ok = false;
    must(authcore_password_verify(PW("correct horse battery staple"), c->hash, c->len, &ok), "verify");
    if (!ok) {
        fprintf(stderr, "password did not verify\n");
        exit(1);
    }
}

static void op_unknown_user(void *p) {
    (void)p;
    bool ok = true;
    must(authcore_password_verify(PW("correct horse battery staple"), NULL, 0, &ok), "dummy");
}

static void op_totp(void *p) {
    (void)p;
    uint64_t step;
    must(authcore_totp_verify(LIT("661763"), LIT("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), 1700000015, NULL,
                              NULL, &step),
         "totp");
}

static void op_pkce(void *p) {
    (void)p;
    must(authcore_pkce_verify(LIT("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                              LIT("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), LIT("S256"), false),
         "pkce");
}

static const char DOCS[] =
    "[{\"version\":\"1.0\",\"statements\":[{\"sid\":\"R\",\"effect\":\"Allow\",\"principals\":[\"role:editor\"],"
    "\"actions\":[\"get*\"],\"resources\":[\"service:core/package:mfg/**\"]},{\"effect\":\"Deny\","
    "\"principals\":[\"*\"],\"actions\":[\"getCost\"],\"resources\":[\"service:core/**\"]}]}]";
static const char REQ[] = "{\"userId\":\"u1\",\"roles\":[\"editor\"],\"action\":\"getMaterials\","
                          "\"resource\":\"service:core/package:mfg/table:materials\"}";

static void op_policy(void *p) {
    (void)p;
    authcore_policy_decision d;
    must(authcore_policy_evaluate_query(LIT(DOCS), LIT(REQ), &d, NULL, 0, NULL), "policy");
}

static void *hash_thread(void *p) {
    int n = *(const int *)p;
    for (int i = 0; i < n; i++) {
        op_argon_hash(NULL);
    }
    return NULL;
}

/* Wall seconds for `threads` threads doing 8 / threads hashes each. */
static double hashes_on_threads(int threads) {
    pthread_t t[8];
    int each = 8 / threads;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, hash_thread, &each);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
    }
    return now_s() - t0;
}

static void jwt_bench(const char *name, uint32_t alg, const char *pem, int iters) {
    jwt_ctx c;
    must(authcore_jwt_keyset_new(&c.ks), "keyset");
    if (pem == NULL) {
        must(authcore_jwt_keyset_add_hmac(c.ks, alg, PW("node-auth-access-secret"), NULL, 0, 0), "add");
    } else {
        must(authcore_jwt_keyset_add_private_pem(c.ks, alg, pem, strlen(pem), NULL, 0), "add");
    }
    must(authcore_jwt_sign(c.ks, LIT(PAYLOAD), c.token, sizeof c.token, &c.token_len), "sign");
    double s = per_op(op_sign, &c, iters), v = per_op(op_verify, &c, iters);
    printf("%-6s sign   %10.0f ops/s   (%.2f us)\n", name, 1 / s, s * 1e6);
    printf("%-6s verify %10.0f ops/s   (%.2f us)\n", name, 1 / v, v * 1e6);
    authcore_jwt_keyset_free(c.ks);
}

int main(int argc, char **argv) {
    const char *rsa_pem = argc > 1 ? argv[1] : NULL;
    printf("authcore %s C benchmarks (median of 5 runs)\n", authcore_version());
    jwt_bench("HS256", AUTHCORE_JWT_HS256, NULL, 20000);
    if (rsa_pem != NULL) {
        jwt_bench("RS256", AUTHCORE_JWT_RS256, rsa_pem, 200);
    }

    char owasp[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
    size_t n;
    must(authcore_password_hash_argon2id(PW("correct horse battery staple"), NULL, owasp, sizeof owasp, &n), "hash");
    pw_ctx pc = {owasp, n};
    double h = per_op(op_argon_hash, NULL, 5), vv = per_op(op_verify_pw, &pc, 5);
    op_unknown_user(NULL); /* makes the dummy */
    double u = per_op(op_unknown_user, NULL, 5);
    printf("argon2id m=19456,t=2,p=1 hash   %7.2f ms\n", h * 1e3);
    printf("argon2id m=19456,t=2,p=1 verify %7.2f ms (unknown user: %.2f ms)\n", vv * 1e3, u * 1e3);

    double w1 = hashes_on_threads(1), w2 = hashes_on_threads(2), w8 = hashes_on_threads(8);
    printf("argon2id 8 hashes: 1 thread %.0f ms, 2 threads %.0f ms, 8 threads %.0f ms (wall)\n",
           w1 * 1e3, w2 * 1e3, w8 * 1e3);

    char bc[61];
    must(authcore_bcrypt_hash(PW("correct horse battery staple"), 10, bc, sizeof bc, &n), "bcrypt");
    pw_ctx bcc = {bc, n};
    double b = per_op(op_verify_pw, &bcc, 5);
    printf("bcrypt cost 10 verify           %7.2f ms\n", b * 1e3);

    double tv = per_op(op_totp, NULL, 20000), pk = per_op(op_pkce, NULL, 20000),
           po = per_op(op_policy, NULL, 20000);
    printf("TOTP verify (window 1)   %10.0f ops/s   (%.2f us)\n", 1 / tv, tv * 1e6);
    printf("PKCE S256 verify         %10.0f ops/s   (%.2f us)\n", 1 / pk, pk * 1e6);
    printf("policy evaluate (JSON)   %10.0f ops/s   (%.2f us)\n", 1 / po, po * 1e6);
    return 0;
}
