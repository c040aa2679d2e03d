/*
 * The C vector runner: every case of the upstream naskot vectors and
 * the hmac-NAME.json vector files (turned into static data by gen_vectors.py) is run
 * through the public C API of authcore, using only authcore.h.
 *
 * Every text result is fetched twice: first a size query (out = NULL, out_len = 0)
 * that must answer AUTHCORE_BUFFER_TOO_SMALL with the exact size, then into a heap
 * buffer of exactly that size, so AddressSanitizer sees any off-by-one write.
 *
 * An unknown op fails the run. Exit status 0 only when every case passed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcore.h"
#include "vectors.gen.h"

static int failures = 0;
static const vcase *current = NULL;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...) {
    failures++;
    fprintf(stderr, "FAIL %s#%s [%s]: ", current->file, current->id, current->op_name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static char *last_message(void) {
    size_t need = 0;
    authcore_result r = authcore_error_message(NULL, 0, &need);
    if (r != AUTHCORE_BUFFER_TOO_SMALL || need == 0) {
        return NULL;
    }
    char *buf = malloc(need);
    size_t n = 0;
    if (buf == NULL || authcore_error_message(buf, need, &n) != AUTHCORE_OK || n + 1 != need) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A text-producing call: out, out_len, out_written are the last three arguments. */
typedef authcore_result (*text_fn)(const vcase *c, char *out, size_t out_len, size_t *out_written);

typedef struct {
    authcore_result rc;
    char *text; /* heap, NUL-terminated, only when rc == AUTHCORE_OK */
    size_t len;
} text_result;

static text_result call_text(text_fn fn, const vcase *c) {
    text_result res = {AUTHCORE_OK, NULL, 0};
    size_t need = 0;
    authcore_result r = fn(c, NULL, 0, &need);
    if (r != AUTHCORE_BUFFER_TOO_SMALL) {
        res.rc = r; /* an error the size query already reports */
        if (r == AUTHCORE_OK) {
            fail("size query returned OK for an empty buffer");
        }
        return res;
    }
    char *buf = malloc(need);
    if (buf == NULL) {
        fail("out of memory");
        res.rc = AUTHCORE_PANIC;
        return res;
    }
    size_t n = (size_t)-1;
    r = fn(c, buf, need, &n);
    res.rc = r;
    if (r != AUTHCORE_OK) {
        free(buf);
        return res;
    }
    if (n + 1 != need || buf[n] != '\0') {
        fail("written length disagrees with the size query");
    }
    res.text = buf;
    res.len = n;
    return res;
}

static authcore_sign_input sign_input(const vcase *c) {
    authcore_sign_input in = {c->method, c->path, c->timestamp, c->nonce,
                              (const uint8_t *)c->body.ptr, c->body.len, c->secret};
    return in;
}

static authcore_result f_hash_client_secret(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_hash_client_secret(c->secret.ptr, c->secret.len, c->secret_token.ptr,
                                       c->secret_token.len, o, l, w);
}
static authcore_result f_hash_body(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_hash_body((const uint8_t *)c->body.ptr, c->body.len, o, l, w);
}
static authcore_result f_build_signing_payload(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_sign_input in = sign_input(c);
    return authcore_build_signing_payload(&in, o, l, w);
}
static authcore_result f_sign_request(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_sign_input in = sign_input(c);
    return authcore_sign_request(&in, o, l, w);
}
static authcore_result f_normalize_path(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_normalize_path(c->path.ptr, c->path.len, o, l, w);
}
static authcore_result f_message_canonical(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_message_canonical(c->message.ptr, c->message.len, o, l, w);
}
static authcore_result f_parse_record(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_parse_record(c->raw.ptr, c->raw.len, o, l, w);
}
static size_t rules_count;
static authcore_result f_normalize_allowed_ips(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_normalize_allowed_ips(c->rules, c->rules_len, o, l, w, &rules_count);
}

static int same(const char *p, size_t n, authcore_str want) {
    return n == want.len && (n == 0 || memcmp(p, want.ptr, n) == 0);
}

/* Printable copies for failure messages (embedded NULs shown as \0). */
static char *show(const char *p, size_t n) {
    char *s = malloc(n * 2 + 1);
    size_t j = 0;
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (p[i] == '\0') {
            s[j++] = '\\';
            s[j++] = '0';
        } else {
            s[j++] = p[i];
        }
    }
    if (s != NULL) {
        s[j] = '\0';
    }
    return s;
}

static void check_error(authcore_result rc, uint16_t status) {
    const char *name = authcore_result_name(rc);
    if (current->expect_error == NULL) {
        char *msg = last_message();
        fail("expected success, got %s: %s", name, msg ? msg : "(no message)");
        free(msg);
        return;
    }
    if (strcmp(name, current->expect_error) != 0) {
        char *msg = last_message();
        fail("expected error %s, got %s", current->expect_error, name);
        if (msg != NULL) {
            fprintf(stderr, "    message: %s\n", msg);
        }
        free(msg);
        return;
    }
    if (current->expect_status != 0 && status != current->expect_status) {
        fail("expected HTTP status %d, got %u", current->expect_status, (unsigned)status);
    }
    /* Every failure has a message. */
    char *msg = last_message();
    if (msg == NULL || msg[0] == '\0') {
        fail("error %s without a message", name);
    }
    free(msg);
}

static void run_text(text_fn fn) {
    text_result r = call_text(fn, current);
    if (r.rc != AUTHCORE_OK) {
        check_error(r.rc, authcore_http_status(r.rc));
        return;
    }
    if (current->expect_error != NULL) {
        fail("expected error %s, got success", current->expect_error);
    } else if (!same(r.text, r.len, current->expect_text)) {
        char *got = show(r.text, r.len);
        char *want = show(current->expect_text.ptr, current->expect_text.len);
        fail("got \"%s\", want \"%s\"", got ? got : "?", want ? want : "?");
        free(got);
        free(want);
    } else if (current->op == OP_NORMALIZE_ALLOWED_IPS && rules_count != current->expect_count) {
        fail("wrong rule count");
    }
    free(r.text);
}

static void run_bool(authcore_result rc, bool got) {
    if (rc != AUTHCORE_OK) {
        check_error(rc, authcore_http_status(rc));
        return;
    }
    if (current->expect_error != NULL) {
        fail("expected error %s, got success", current->expect_error);
    } else if ((int)got != current->expect_bool) {
        fail("got %s, want %s", got ? "true" : "false", current->expect_bool ? "true" : "false");
    }
}

static authcore_message_input message_input(const vcase *c) {
    authcore_message_input in = {c->client_id, c->message, c->secret, c->secret_is_hashed,
                                 c->hash_token};
    return in;
}

static void run_sign_message(void) {
    authcore_message_input in = message_input(current);
    authcore_signed_message out;
    memset(&out, 0xAB, sizeof out);
    authcore_result rc = authcore_sign_message(&in, &out);
    if (rc != AUTHCORE_OK) {
        check_error(rc, authcore_http_status(rc));
        return;
    }
    if (current->expect_error != NULL) {
        fail("expected error %s, got success", current->expect_error);
        return;
    }
    if (out.client_id_offset + out.client_id_len > in.client_id.len ||
        !same(in.client_id.ptr + out.client_id_offset, out.client_id_len,
              current->expect_client_id)) {
        fail("wrong trimmed clientId");
    }
    if (!same(out.message_hash, strlen(out.message_hash), current->expect_message_hash)) {
        fail("messageHash %s, want %.*s", out.message_hash, (int)current->expect_message_hash.len,
             current->expect_message_hash.ptr);
    }
    if (!same(out.signature, strlen(out.signature), current->expect_signature)) {
        fail("signature %s, want %.*s", out.signature, (int)current->expect_signature.len,
             current->expect_signature.ptr);
    }
}

static void run_verify_with_record(void) {
    const vcase *c = current;
    authcore_verify_request req = {
        c->method, c->path, c->h_client_id, c->h_signature, c->h_timestamp, c->h_nonce,
        (const uint8_t *)c->body.ptr, c->body.len, c->now, c->max_skew, c->record, c->ips,
        c->ips_len};
    authcore_verification out;
    memset(&out, 0xAB, sizeof out);
    authcore_result rc = authcore_verify_with_record(&req, &out);
    if (rc != AUTHCORE_OK) {
        check_error(rc, out.status);
        if (rc == AUTHCORE_BAD_SIGNATURE && strlen(out.expected_signature) != AUTHCORE_HEX_LEN) {
            fail("BAD_SIGNATURE without the expected signature");
        }
        return;
    }
    if (c->expect_error != NULL) {
        fail("expected error %s, got success", c->expect_error);
        return;
    }
    if (out.status != 200) {
        fail("status is not 200 on success");
    }
    if (out.client_id_offset + out.client_id_len > req.client_id.len ||
        !same(req.client_id.ptr + out.client_id_offset, out.client_id_len, c->expect_client_id)) {
        fail("wrong trimmed clientId");
    }
    if (out.timestamp != c->expect_timestamp) {
        fail("wrong timestamp");
    }
    /* The verified nonce and signature are the raw header values. */
    if (!same(req.nonce.ptr, req.nonce.len, c->expect_nonce)) {
        fail("the verified nonce is not the header value");
    }
    if (!same(req.signature.ptr, req.signature.len, c->expect_signature)) {
        fail("the verified signature is not the header value");
    }
}

int main(void) {
    printf("authcore %s: C vector runner, %d cases\n", authcore_version(), VECTOR_COUNT);
    for (int i = 0; i < VECTOR_FILE_COUNT; i++) {
        printf("  %s\n", VECTOR_FILES[i]);
    }
    int failed_cases = 0;
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        const vcase *c = &VECTORS[i];
        current = c;
        int before = failures;
        bool flag = false;
        switch (c->op) {
        case OP_HASH_CLIENT_SECRET: run_text(f_hash_client_secret); break;
        case OP_HASH_BODY: run_text(f_hash_body); break;
        case OP_BUILD_SIGNING_PAYLOAD: run_text(f_build_signing_payload); break;
        case OP_SIGN_REQUEST: {
            run_text(f_sign_request);
            /* The same case must verify with its own signature. */
            if (failures == before && c->expect_error == NULL) {
                authcore_sign_input in = sign_input(c);
                authcore_result rc = authcore_verify_request_signature(
                    &in, c->expect_text.ptr, c->expect_text.len, &flag);
                if (rc != AUTHCORE_OK || !flag) {
                    fail("the expected signature does not verify");
                }
            }
            break;
        }
        case OP_NORMALIZE_PATH: run_text(f_normalize_path); break;
        case OP_SAFE_EQUAL_HEX: {
            /* The call is sequenced before `flag` is read. */
            authcore_result rc = authcore_safe_equal_hex(c->a.ptr, c->a.len, c->b.ptr, c->b.len, &flag);
            run_bool(rc, flag);
            break;
        }
        case OP_MESSAGE_CANONICAL: run_text(f_message_canonical); break;
        case OP_SIGN_MESSAGE: run_sign_message(); break;
        case OP_VERIFY_MESSAGE: {
            authcore_message_input in = message_input(c);
            authcore_result rc = authcore_verify_message(&in, c->signature.ptr, c->signature.len, &flag);
            run_bool(rc, flag);
            break;
        }
        case OP_IP_ALLOWED: {
            authcore_result rc = authcore_ip_allowed(c->ip.ptr, c->ip.len, c->rules, c->rules_len, &flag);
            run_bool(rc, flag);
            break;
        }
        case OP_NORMALIZE_ALLOWED_IPS: run_text(f_normalize_allowed_ips); break;
        case OP_PARSE_RECORD: run_text(f_parse_record); break;
        case OP_VERIFY_WITH_RECORD: run_verify_with_record(); break;
        case OP_UNKNOWN:
        default:
            fail("unknown op \"%s\": this runner does not know it", c->op_name);
            break;
        }
        if (failures != before) {
            failed_cases++;
        }
    }
    printf("%d passed, %d failed\n", VECTOR_COUNT - failed_cases, failed_cases);
    return failed_cases == 0 && VECTOR_COUNT > 0 ? 0 : 1;
}
