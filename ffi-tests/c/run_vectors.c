/*
 * The C vector runner: every case of the upstream naskot vectors and
 * the hmac-NAME.json vector files (turned into static data by gen_vectors.py) is run
 * through the public C API of authcore, using only authcore.h.
 *
 * Every text result is fetched twice (run_text in vector_runner.h): first a size query
 * (out = NULL, out_len = 0) that must answer AUTHCORE_BUFFER_TOO_SMALL with the exact
 * size, then into a heap buffer of exactly that size, so AddressSanitizer sees any
 * off-by-one write.
 *
 * An unknown op fails the run. Exit status 0 only when every case passed.
 */
#include <string.h>

#include "authcore.h"
#include "vectors.gen.h"
#define VECTOR_CASE vcase
#include "vector_runner.h" /* fail(), run_text(), run_bool(), run_vectors(): ffi-tests/c-common */

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
    return authcore_normalize_allowed_ip_rules(c->rules, c->rules_len, o, l, w, &rules_count);
}

/* A text result against the expectation (and the rule count of normalize_allowed_ips). */
static void check_text(const char *text, size_t len) {
    if (expect_text_equal(text, len) && current->op == OP_NORMALIZE_ALLOWED_IPS &&
        rules_count != current->expect_count) {
        fail("wrong rule count");
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
    if (!expect_success(authcore_sign_message(&in, &out))) {
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
    bool ok = expect_success_status(rc, out.status);
    if (rc == AUTHCORE_BAD_SIGNATURE && strlen(out.expected_signature) != AUTHCORE_HEX_LEN) {
        fail("BAD_SIGNATURE without the expected signature");
    }
    if (!ok) {
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

static void run_case(const vcase *c) {
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
    default: fail_unknown_op(); break;
    }
}

int main(void) {
    return run_vectors("C vector runner", run_case);
}
