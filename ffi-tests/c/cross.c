/*
 * authcore_cross: the C participant of the cross-language tests and the demo, written
 * against authcore.h only. Built by scripts/c.sh as target/ffi-tests-c/authcore_cross
 * (statically linked: it runs without LD_LIBRARY_PATH).
 *
 *   authcore_cross hash SECRET [TOKEN]
 *       prints hashClientSecret(SECRET, TOKEN) (the secretHash a server stores)
 *   authcore_cross sign METHOD PATH TIMESTAMP NONCE SECRET_HASH BODY
 *       prints the x-signature of the request (BODY "-" reads the body from stdin)
 *   authcore_cross verify METHOD PATH CLIENT_ID SIGNATURE TIMESTAMP NONCE NOW RECORD BODY
 *       runs the sans-IO verifyHttpSignature against the stored RECORD (the raw
 *       `<ns>:clients` value; "" = unknown client), BODY "-" reads stdin. Prints
 *       "OK 200 clientId=<id> timestamp=<ts>" or "<CODE> <status> <message>".
 *
 * Exit status: 0 on success, 1 when the check fails, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcore.h"

static authcore_str str(const char *s) { return (authcore_str){s, strlen(s)}; }

static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static int report(authcore_result rc, unsigned status) {
    char msg[512];
    size_t n = 0;
    if (authcore_error_message(msg, sizeof msg, &n) != AUTHCORE_OK) {
        msg[0] = '\0';
    }
    printf("%s %u %s\n", authcore_result_name(rc), status, msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "hash") == 0) {
        char hex[AUTHCORE_HEX_BUFFER_SIZE];
        size_t n = 0;
        const char *token = argc == 4 ? argv[3] : NULL;
        authcore_result rc = authcore_hash_client_secret(argv[2], strlen(argv[2]), token,
                                                         token ? strlen(token) : 0, hex,
                                                         sizeof hex, &n);
        if (rc != AUTHCORE_OK) {
            return report(rc, authcore_http_status(rc));
        }
        printf("%s\n", hex);
        return 0;
    }
    int sign = argc == 8 && strcmp(argv[1], "sign") == 0;
    int verify = argc == 11 && strcmp(argv[1], "verify") == 0;
    if (!sign && !verify) {
        fprintf(stderr,
                "usage: %s hash SECRET [TOKEN]\n"
                "       %s sign METHOD PATH TIMESTAMP NONCE SECRET_HASH BODY|-\n"
                "       %s verify METHOD PATH CLIENT_ID SIGNATURE TIMESTAMP NONCE NOW RECORD BODY|-\n",
                argv[0], argv[0], argv[0]);
        return 2;
    }
    const char *body_arg = argv[argc - 1];
    size_t body_len = strlen(body_arg);
    char *body = NULL;
    if (strcmp(body_arg, "-") == 0) {
        body = read_stdin(&body_len);
        if (body == NULL) {
            fprintf(stderr, "cannot read the body from stdin\n");
            return 2;
        }
    }
    const uint8_t *body_ptr = (const uint8_t *)(body != NULL ? body : body_arg);
    int status = 0;
    if (sign) {
        char *end = NULL;
        double ts = strtod(argv[4], &end);
        if (end == argv[4] || *end != '\0') {
            fprintf(stderr, "TIMESTAMP must be a number\n");
            free(body);
            return 2;
        }
        authcore_sign_input in = {str(argv[2]), str(argv[3]), ts,     str(argv[5]),
                                  body_ptr,     body_len,     str(argv[6])};
        char sig[AUTHCORE_HEX_BUFFER_SIZE];
        size_t n = 0;
        authcore_result rc = authcore_sign_request(&in, sig, sizeof sig, &n);
        if (rc != AUTHCORE_OK) {
            status = report(rc, authcore_http_status(rc));
        } else {
            printf("%s\n", sig);
        }
    } else {
        char *end = NULL;
        double now = strtod(argv[8], &end);
        if (end == argv[8] || *end != '\0') {
            fprintf(stderr, "NOW must be a number\n");
            free(body);
            return 2;
        }
        authcore_verify_request req = {str(argv[2]), str(argv[3]), str(argv[4]), str(argv[5]),
                                       str(argv[6]), str(argv[7]), body_ptr,     body_len,
                                       now,          AUTHCORE_DEFAULT_MAX_SKEW_MS,
                                       str(argv[9]), NULL,         0};
        authcore_verification v;
        authcore_result rc = authcore_verify_with_record(&req, &v);
        if (rc != AUTHCORE_OK) {
            status = report(rc, v.status);
        } else {
            printf("OK %u clientId=%.*s timestamp=%.17g\n", (unsigned)v.status,
                   (int)v.client_id_len, argv[4] + v.client_id_offset, v.timestamp);
        }
    }
    free(body);
    return status;
}
