/*
 * Credential propagation through the C ABI, on real components: C peers on the
 * in-process mesh (amqp_protocol "memory", state memory://) and two peers over the real
 * RabbitMQ (vhost hmac-credentials) with their state in a real Redis. Each peer has a
 * credential store (record JSON per client id) and a management "database" (credential
 * rows and per-target statuses, the POC adapter's rules) written in C below.
 *
 * Covered: ensure -> sync -> the target applies the credential through its sink -> ACK ->
 * markTargetSuccess + markCredentialFullyPropagated (plain cleared); ensure's create vs
 * update; rotate; revoke; a receive-only target (applies, ACK dropped by the sender);
 * MANAGEMENT_NOT_CONFIGURED; UNKNOWN_CLIENT; a failing callback's message reaching the
 * caller; bad configs (INVALID_OPTIONS in the original's order, bad protocol/port, bad
 * queue name, missing callbacks, NULL, invalid UTF-8); the logger.
 *
 * No fixed sleep decides anything: asynchronous outcomes are polled with a deadline.
 * Environment: AUTHCORE_PROP_RUN (unique run id, default pid-based), AUTHCORE_PROP_REDIS
 * (default redis://127.0.0.1:6379/9), AUTHCORE_PROP_AMQP_HOST (default 127.0.0.1).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authcore.h"
#include "check.h" /* CHECK, CHECK_RC, message(): ffi-tests/c-common */

#define S(lit) ((authcore_str){(lit), sizeof(lit) - 1})
#define STR(p) ((authcore_str){(p), strlen(p)})
#define NONE ((authcore_str){NULL, 0})

/* ------------------------------------------------------------------------------------ */
/* A peer: credential store, management database, directory of secrets, log lines.      */

#define MAXN 16

typedef struct {
    char id[64];
    char record[512];
} store_entry;

typedef struct {
    char target[64];
    char status[16]; /* pending, sent, success, error */
    char reason[128];
} target_row;

typedef struct {
    char client_id[64];
    char track[16];
    char op[32];
    bool has_plain;
    char plain[64];
    target_row targets[MAXN];
    int ntargets;
    char final_status[16];
} cred_row;

typedef struct {
    char name[64];   /* logical queue name */
    char secret[64]; /* propagation secret */
} dir_entry;

typedef struct peer {
    pthread_mutex_t mu;
    char name[64];
    char secret[64];
    char token[64]; /* the credential store's secretToken */
    store_entry store[MAXN];
    int nstore;
    cred_row creds[MAXN];
    int ncreds;
    const dir_entry *dir;
    int ndir;
    int fully_count, sent_count, success_count, upsert_count, rotate_count;
    int fail_upsert_rc;          /* nonzero: upsert fails with this code */
    const char *fail_upsert_msg; /* NULL: no message */
    bool fail_fetch;
    bool fail_put;
    char log[8192];
    int log_lines;
    authcore_propagator *prop;
} peer;

/* Set by an atexit handler the exit modes register before any propagator exists (so it
 * runs after the library's own exit hook): the application's state is torn down from then
 * on, and a callback that still runs would use it. */
static volatile sig_atomic_t torn_down;
static void tear_down(void) { torn_down = 1; }
static void exit_guard(void) {
    if (torn_down) {
        static const char msg[] = "FAIL: a callback ran after the application's exit teardown\n";
        if (write(2, msg, sizeof msg - 1) < 0) _exit(71);
        _exit(70);
    }
}

static void peer_init(peer *p, const char *name, const char *secret, const char *token) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->secret, sizeof p->secret, "%s", secret);
    snprintf(p->token, sizeof p->token, "%s", token);
}

static int reply_text(authcore_propagation_reply *reply, const char *text) {
    return authcore_propagation_reply_set_text(reply, text, strlen(text)) == AUTHCORE_OK ? 0 : 1;
}

static int reply_error(authcore_propagation_reply *reply, int rc, const char *msg) {
    if (msg != NULL && authcore_propagation_reply_set_error(reply, msg, strlen(msg)) != AUTHCORE_OK) {
        return 99;
    }
    return rc;
}

/* --- credential sink -------------------------------------------------------------- */

static store_entry *store_find(peer *p, const char *id) {
    for (int i = 0; i < p->nstore; i++) {
        if (strcmp(p->store[i].id, id) == 0) return &p->store[i];
    }
    return NULL;
}

static int sink_get(void *ud, const char *client_id, authcore_propagation_reply *reply) {
    exit_guard();
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    store_entry *e = store_find(p, client_id);
    int rc = e ? reply_text(reply, e->record) : 0;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int sink_put(void *ud, const char *client_id, const char *record,
                    authcore_propagation_reply *reply) {
    exit_guard();
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    if (p->fail_put) {
        pthread_mutex_unlock(&p->mu);
        return reply_error(reply, 1, "credential store is read-only");
    }
    store_entry *e = store_find(p, client_id);
    if (e == NULL && p->nstore < MAXN) e = &p->store[p->nstore++];
    if (e != NULL) {
        snprintf(e->id, sizeof e->id, "%s", client_id);
        snprintf(e->record, sizeof e->record, "%s", record);
    }
    pthread_mutex_unlock(&p->mu);
    return e ? 0 : reply_error(reply, 1, "store full");
}

static int sink_delete(void *ud, const char *client_id, authcore_propagation_reply *reply) {
    exit_guard();
    (void)reply;
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    store_entry *e = store_find(p, client_id);
    if (e != NULL) *e = p->store[--p->nstore];
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* The record's secretHash ("" when absent), copied into out[65]. */
static void stored_hash(peer *p, const char *id, char out[65]) {
    out[0] = 0;
    pthread_mutex_lock(&p->mu);
    store_entry *e = store_find(p, id);
    if (e != NULL) {
        const char *h = strstr(e->record, "\"secretHash\":\"");
        if (h != NULL) {
            h += strlen("\"secretHash\":\"");
            size_t n = 0;
            while (n < 64 && h[n] != '"' && h[n] != 0) n++;
            memcpy(out, h, n);
            out[n] = 0;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void hash_of(const char *plain, const char *token, char out[65]) {
    size_t n = 0;
    CHECK_RC(authcore_hash_client_secret(plain, strlen(plain), token, strlen(token), out, 65, &n),
             AUTHCORE_OK);
}

/* --- management (the POC adapter's rules over rows in memory) ---------------------- */

static cred_row *cred_find(peer *p, const char *id) {
    for (int i = 0; i < p->ncreds; i++) {
        if (strcmp(p->creds[i].client_id, id) == 0) return &p->creds[i];
    }
    return NULL;
}

static target_row *target_find(cred_row *c, const char *t) {
    for (int i = 0; i < c->ntargets; i++) {
        if (strcmp(c->targets[i].target, t) == 0) return &c->targets[i];
    }
    return NULL;
}

static int m_upsert(void *ud, const authcore_upsert_input *in, authcore_propagation_reply *reply) {
    exit_guard();
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    p->upsert_count++;
    if (p->fail_upsert_rc != 0) {
        int rc = p->fail_upsert_rc;
        const char *msg = p->fail_upsert_msg;
        pthread_mutex_unlock(&p->mu);
        return reply_error(reply, rc, msg);
    }
    cred_row *c = cred_find(p, in->client_id);
    if (c == NULL) {
        c = &p->creds[p->ncreds++];
        memset(c, 0, sizeof *c);
        snprintf(c->client_id, sizeof c->client_id, "%s", in->client_id);
    }
    snprintf(c->track, sizeof c->track, "%s", in->track);
    snprintf(c->op, sizeof c->op, "%s", in->op);
    c->has_plain = in->secret_plain != NULL;
    snprintf(c->plain, sizeof c->plain, "%s", in->secret_plain ? in->secret_plain : "");
    c->final_status[0] = 0;
    for (size_t i = 0; i < in->targets_len; i++) {
        target_row *t = target_find(c, in->targets[i]);
        if (t == NULL) t = &c->targets[c->ntargets++];
        snprintf(t->target, sizeof t->target, "%s", in->targets[i]);
        snprintf(t->status, sizeof t->status, "pending");
        t->reason[0] = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int m_rotate(void *ud, const authcore_rotate_input *in, authcore_propagation_reply *reply) {
    exit_guard();
    (void)reply;
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    p->rotate_count++;
    cred_row *c = cred_find(p, in->client_id);
    if (c != NULL) {
        c->has_plain = true;
        snprintf(c->plain, sizeof c->plain, "%s", in->secret_plain);
        snprintf(c->op, sizeof c->op, "credential.update");
        c->final_status[0] = 0;
        for (int i = 0; i < c->ntargets; i++) snprintf(c->targets[i].status, 16, "pending");
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static const char *dir_secret(peer *p, const char *name) {
    for (int i = 0; i < p->ndir; i++) {
        if (strcmp(p->dir[i].name, name) == 0) return p->dir[i].secret;
    }
    return NULL;
}

static int m_fetch_pending(void *ud, authcore_propagation_reply *reply) {
    exit_guard();
    peer *p = ud;
    char json[8192];
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    if (p->fail_fetch) {
        pthread_mutex_unlock(&p->mu);
        return reply_error(reply, 2, "SELECT failed: connection reset");
    }
    n += (size_t)snprintf(json + n, sizeof json - n, "[");
    bool first = true;
    for (int i = 0; i < p->ncreds; i++) {
        cred_row *c = &p->creds[i];
        bool any = false;
        for (int j = 0; j < c->ntargets; j++) any |= strcmp(c->targets[j].status, "pending") == 0;
        if (!any) continue;
        const char *op = c->has_plain ? c->op : "credential.delete";
        n += (size_t)snprintf(json + n, sizeof json - n, "%s{\"clientId\":\"%s\",\"track\":\"%s\","
                              "\"op\":\"%s\",\"secretPlain\":", first ? "" : ",", c->client_id,
                              c->track, op);
        if (c->has_plain) {
            n += (size_t)snprintf(json + n, sizeof json - n, "\"%s\"", c->plain);
        } else {
            n += (size_t)snprintf(json + n, sizeof json - n, "null");
        }
        n += (size_t)snprintf(json + n, sizeof json - n, ",\"expiresAt\":null,\"pendingTargets\":[");
        bool tfirst = true;
        for (int j = 0; j < c->ntargets; j++) {
            if (strcmp(c->targets[j].status, "pending") != 0) continue;
            const char *sec = dir_secret(p, c->targets[j].target);
            n += (size_t)snprintf(json + n, sizeof json - n,
                                  "%s{\"targetAmqpQueue\":\"%s\",\"propagationSecret\":\"%s\"}",
                                  tfirst ? "" : ",", c->targets[j].target, sec ? sec : "");
            tfirst = false;
        }
        n += (size_t)snprintf(json + n, sizeof json - n, "]}");
        first = false;
    }
    snprintf(json + n, sizeof json - n, "]");
    pthread_mutex_unlock(&p->mu);
    return reply_text(reply, json);
}

static int m_source_secret(void *ud, const char *sender, authcore_propagation_reply *reply) {
    exit_guard();
    peer *p = ud;
    const char *s = dir_secret(p, sender);
    return s ? reply_text(reply, s) : 0; /* no text: null */
}

static void set_status(peer *p, const char *client, const char *target, const char *status,
                       const char *reason) {
    pthread_mutex_lock(&p->mu);
    cred_row *c = cred_find(p, client);
    target_row *t = c ? target_find(c, target) : NULL;
    if (t != NULL) {
        snprintf(t->status, sizeof t->status, "%s", status);
        snprintf(t->reason, sizeof t->reason, "%s", reason ? reason : "");
    }
    if (strcmp(status, "sent") == 0) p->sent_count++;
    if (strcmp(status, "success") == 0) p->success_count++;
    pthread_mutex_unlock(&p->mu);
}

static int m_sent(void *ud, const authcore_target_sent_input *in, authcore_propagation_reply *r) {
    exit_guard();
    (void)r;
    CHECK(in->attempt_count == 1 && in->sent_at > 1600000000000LL);
    set_status(ud, in->client_id, in->target_amqp_queue, "sent", NULL);
    return 0;
}

static int m_success(void *ud, const authcore_target_success_input *in,
                     authcore_propagation_reply *r) {
    exit_guard();
    (void)r;
    CHECK(in->applied_at > 1600000000000LL);
    set_status(ud, in->client_id, in->target_amqp_queue, "success", NULL);
    return 0;
}

static int m_error(void *ud, const authcore_target_error_input *in, authcore_propagation_reply *r) {
    exit_guard();
    (void)r;
    set_status(ud, in->client_id, in->target_amqp_queue, "error", in->reason);
    return 0;
}

static int m_fully(void *ud, const authcore_fully_propagated_input *in,
                   authcore_propagation_reply *r) {
    exit_guard();
    (void)r;
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    p->fully_count++;
    cred_row *c = cred_find(p, in->client_id);
    if (c != NULL) {
        c->has_plain = false; /* the POC: secret_plain = NULL */
        c->plain[0] = 0;
        snprintf(c->final_status, sizeof c->final_status, "%s", in->final_status);
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static void on_log(void *ud, int level, const char *line) {
    exit_guard();
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    CHECK(level >= AUTHCORE_LOG_INFO && level <= AUTHCORE_LOG_ERROR);
    size_t used = strlen(p->log);
    snprintf(p->log + used, sizeof p->log - used, "%d %s\n", level, line);
    p->log_lines++;
    pthread_mutex_unlock(&p->mu);
}

static authcore_propagation_management management_of(peer *p) {
    authcore_propagation_management m = {p, m_upsert, m_rotate, m_fetch_pending, m_source_secret,
                                         m_sent, m_success, m_error, m_fully};
    return m;
}

static authcore_credential_sink sink_of(peer *p) {
    authcore_credential_sink s = {p, STR(p->token), sink_get, sink_put, sink_delete};
    return s;
}

/* --- polling ------------------------------------------------------------------------ */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Poll `cond` until it holds or `seconds` pass; a failed check if it never does. */
#define WAIT_FOR(cond, seconds)                                                     \
    do {                                                                            \
        double end_ = now_s() + (seconds);                                          \
        bool ok_ = (cond);                                                          \
        while (!ok_ && now_s() < end_) {                                            \
            nap();                                                                  \
            ok_ = (cond);                                                           \
        }                                                                           \
        checks++;                                                                   \
        if (!ok_) {                                                                 \
            failures++;                                                             \
            fprintf(stderr, "FAIL %s:%d: never true: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

static bool has_record(peer *p, const char *id) {
    pthread_mutex_lock(&p->mu);
    bool ok = store_find(p, id) != NULL;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static bool hash_is(peer *p, const char *id, const char *want) {
    char h[65];
    stored_hash(p, id, h);
    return strcmp(h, want) == 0;
}

static bool status_is(peer *p, const char *client, const char *target, const char *status) {
    pthread_mutex_lock(&p->mu);
    cred_row *c = cred_find(p, client);
    target_row *t = c ? target_find(c, target) : NULL;
    bool ok = t != NULL && strcmp(t->status, status) == 0;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static bool fully_is(peer *p, const char *client, const char *status, int count) {
    pthread_mutex_lock(&p->mu);
    cred_row *c = cred_find(p, client);
    bool ok = c != NULL && strcmp(c->final_status, status) == 0 && !c->has_plain &&
              p->fully_count == count;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static bool log_has(peer *p, const char *needle) {
    pthread_mutex_lock(&p->mu);
    bool ok = strstr(p->log, needle) != NULL;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

/* ------------------------------------------------------------------------------------ */

static char RUN[48];

static authcore_propagation_config memory_config(const char *mesh, const char *queue,
                                                 const char *secret) {
    authcore_propagation_config c = {STR(mesh), 5672, S("guest"), S("guest"), S("memory"),
                                     NONE, STR(queue), STR(secret), S("memory://")};
    return c;
}

static void ensure_one(peer *p, const char *client, const char *secret, const char **targets,
                       size_t ntargets, bool *created) {
    authcore_str ts[MAXN];
    for (size_t i = 0; i < ntargets; i++) ts[i] = STR(targets[i]);
    authcore_ensure_input in = {STR(client), STR(secret), ntargets ? ts : NULL, ntargets,
                                NONE, NULL, 0, false, 0};
    CHECK_RC(authcore_propagator_ensure(p->prop, &in, created), AUTHCORE_OK);
}

static void test_codes(void) {
    CHECK(AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED == 300);
    CHECK(AUTHCORE_PROPAGATION_RANDOM_UNAVAILABLE == 307);
    CHECK(strcmp(authcore_result_name(AUTHCORE_PROPAGATION_UNKNOWN_CLIENT),
                 "PROPAGATION_UNKNOWN_CLIENT") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_PROPAGATION_INVALID_OPTIONS),
                 "PROPAGATION_INVALID_OPTIONS") == 0);
    CHECK(strcmp(authcore_result_name(308), "UNKNOWN") == 0);
    CHECK(authcore_http_status(AUTHCORE_PROPAGATION_CALLBACK_ERROR) == 500);
    char buf[64];
    size_t n = 0;
    CHECK_RC(authcore_propagation_build_queue_name("mgmt-1", 6, buf, sizeof buf, &n), AUTHCORE_OK);
    CHECK(strcmp(buf, "hmac-mgmt-1.queue") == 0 && n == 17);
    CHECK_RC(authcore_propagation_build_queue_name("bad_name", 8, buf, sizeof buf, &n),
             AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME);
    CHECK(strcmp(message(), "Invalid amqpQueue \"bad_name\": must match [A-Za-z0-9-]+") == 0);
}

static void test_bad_config(void) {
    peer p;
    peer_init(&p, "cfg", "s", "");
    authcore_credential_sink sink = sink_of(&p);
    authcore_propagation_management m = management_of(&p);
    authcore_propagator *out = (authcore_propagator *)&p; /* must be reset to NULL */
    char mesh[128];
    snprintf(mesh, sizeof mesh, "cfg-%s", RUN);

    struct {
        int field;
        const char *want;
    } missing[] = {
        {0, "amqpHost is required"},      {1, "amqpPort is required"},
        {2, "amqpUser is required"},      {3, "amqpPassword is required"},
        {4, "amqpProtocol is required"},  {5, "amqpQueue is required"},
        {6, "propagationSecret is required"}, {7, "redis is required"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        authcore_propagation_config c = memory_config(mesh, "cfg-q", "sec");
        switch (missing[i].field) {
        case 0: c.amqp_host = NONE; break;
        case 1: c.amqp_port = 0; break;
        case 2: c.amqp_user = S(""); break; /* empty counts as absent */
        case 3: c.amqp_password = NONE; break;
        case 4: c.amqp_protocol = NONE; break;
        case 5: c.amqp_queue = NONE; break;
        case 6: c.propagation_secret = NONE; break;
        case 7: c.redis = NONE; break;
        }
        CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out),
                 AUTHCORE_PROPAGATION_INVALID_OPTIONS);
        CHECK(strcmp(message(), missing[i].want) == 0);
        CHECK(out == NULL);
    }
    authcore_propagation_config c = memory_config(mesh, "cfg-q", "sec");
    CHECK_RC(authcore_propagator_create(&c, &m, NULL, NULL, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strcmp(message(), "At least one of hmacHttpAuth or hmacMessageAuth must be provided") == 0);

    c.amqp_protocol = S("http");
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strstr(message(), "amqpProtocol must be \"amqp\" or \"amqps\"") != NULL);
    c.amqp_protocol = S("amqp");
    c.amqp_port = 70000;
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strstr(message(), "amqpPort must be an integer from 1 to 65535") != NULL);

    c = memory_config(mesh, "bad_queue", "sec");
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME);

    c = memory_config(mesh, "cfg-q", "sec");
    authcore_propagation_management partial = m;
    partial.mark_target_error = NULL;
    CHECK_RC(authcore_propagator_create(&c, &partial, &sink, NULL, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strcmp(message(), "management.mark_target_error must be a function") == 0);
    authcore_credential_sink bad_sink = sink;
    bad_sink.put_record = NULL;
    CHECK_RC(authcore_propagator_create(&c, &m, NULL, &bad_sink, NULL, &out),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strcmp(message(), "message.put_record must be a function") == 0);

    c.amqp_host = (authcore_str){"\xff\xfe", 2};
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out), AUTHCORE_INVALID_UTF8);
    CHECK(strstr(message(), "config->amqp_host") != NULL);
    c = memory_config(mesh, "cfg-q", "sec");
    CHECK_RC(authcore_propagator_create(NULL, &m, &sink, NULL, NULL, &out),
             AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, NULL), AUTHCORE_NULL_PARAMETER);
    /* An unreachable Redis for the state: STORE_ERROR, nothing created. */
    c.redis = S("redis://127.0.0.1:1/0");
    CHECK_RC(authcore_propagator_create(&c, &m, &sink, NULL, NULL, &out), AUTHCORE_STORE_ERROR);
    CHECK(out == NULL);

    /* NULLs on the other functions. */
    authcore_sync_summary sum;
    CHECK_RC(authcore_propagator_sync(NULL, &sum), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_propagator_ensure(NULL, NULL, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_propagator_rotate(NULL, "a", 1, "b", 1, NULL, 0), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_propagator_close(NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_propagation_reply_set_text(NULL, "x", 1), AUTHCORE_NULL_PARAMETER);
    authcore_propagator_free(NULL);
    pthread_mutex_destroy(&p.mu);
}

/* A (full mode) -> B (full mode) and C (receive-only), on the in-process mesh. */
static void test_memory_mesh(void) {
    char mesh[128], qa[64], qb[64], qc[64];
    snprintf(mesh, sizeof mesh, "mesh-%s", RUN);
    snprintf(qa, sizeof qa, "a-%s", RUN);
    snprintf(qb, sizeof qb, "b-%s", RUN);
    snprintf(qc, sizeof qc, "c-%s", RUN);
    dir_entry dir[3];
    snprintf(dir[0].name, 64, "%s", qa), snprintf(dir[0].secret, 64, "secret-of-a");
    snprintf(dir[1].name, 64, "%s", qb), snprintf(dir[1].secret, 64, "secret-of-b");
    snprintf(dir[2].name, 64, "%s", qc), snprintf(dir[2].secret, 64, "secret-of-c");

    static peer a, b, c;
    peer_init(&a, qa, "secret-of-a", "pepper-a");
    peer_init(&b, qb, "secret-of-b", "pepper-b");
    peer_init(&c, qc, "secret-of-c", "");
    a.dir = b.dir = dir;
    a.ndir = b.ndir = 3;

    authcore_propagation_config ca = memory_config(mesh, qa, a.secret);
    authcore_propagation_config cb = memory_config(mesh, qb, b.secret);
    authcore_propagation_config cc = memory_config(mesh, qc, c.secret);
    authcore_propagation_management ma = management_of(&a), mb = management_of(&b);
    authcore_credential_sink sa = sink_of(&a), sb = sink_of(&b), sc = sink_of(&c);
    authcore_logger la = {&a, on_log}, lc = {&c, on_log};
    CHECK_RC(authcore_propagator_create(&ca, &ma, &sa, NULL, &la, &a.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_create(&cb, &mb, &sb, NULL, NULL, &b.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_create(&cc, NULL, &sc, NULL, &lc, &c.prop), AUTHCORE_OK);
    if (a.prop == NULL || b.prop == NULL || c.prop == NULL) {
        fprintf(stderr, "FAIL: cannot create the mesh: %s\n", message());
        failures++;
        return;
    }

    /* ensure: created, applied locally at once with A's pepper, never published. */
    const char *to_b[] = {qb};
    bool created = false;
    ensure_one(&a, "partner", "plain-1", to_b, 1, &created);
    CHECK(created);
    char h1[65], h2[65];
    hash_of("plain-1", "pepper-a", h1);
    CHECK(hash_is(&a, "partner", h1));
    CHECK(!hash_is(&b, "partner", h1));
    CHECK(status_is(&a, "partner", qb, "pending"));
    ensure_one(&a, "partner", "plain-1", to_b, 1, &created);
    CHECK(!created); /* now in the local store: credential.update */
    CHECK(a.upsert_count == 2);

    /* sync -> B applies through its sink -> ACK -> success + fully propagated. */
    authcore_sync_summary s;
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
    CHECK(s.propagations_read == 1 && s.targets_published == 1 && s.targets_retrying == 0);
    WAIT_FOR(hash_is(&b, "partner", h1), 20);
    WAIT_FOR(fully_is(&a, "partner", "success", 1), 20);
    CHECK(status_is(&a, "partner", qb, "success"));
    CHECK(a.sent_count == 1 && a.success_count == 1);
    /* The sender's hash is shipped as is: B's record verifies A's plain under A's pepper,
     * and keeps the original's record layout. */
    pthread_mutex_lock(&b.mu);
    store_entry *rec = store_find(&b, "partner");
    CHECK(rec != NULL && strstr(rec->record, "\"expiresAt\":null,\"allowedIps\":[]}") != NULL);
    pthread_mutex_unlock(&b.mu);
    /* Nothing pending any more. */
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
    CHECK(s.propagations_read == 0 && s.targets_published == 0);

    /* rotate: rotateCredentialSecret, new hash locally, then to B. */
    CHECK_RC(authcore_propagator_rotate(a.prop, "partner", 7, "plain-2", 7, NULL, 0), AUTHCORE_OK);
    hash_of("plain-2", "pepper-a", h2);
    CHECK(a.rotate_count == 1);
    CHECK(hash_is(&a, "partner", h2));
    CHECK(hash_is(&b, "partner", h1));
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
    CHECK(s.propagations_read == 1 && s.targets_published == 1);
    WAIT_FOR(hash_is(&b, "partner", h2), 20);
    WAIT_FOR(fully_is(&a, "partner", "success", 2), 20);

    /* UNKNOWN_CLIENT on rotate. */
    CHECK_RC(authcore_propagator_rotate(a.prop, "nobody", 6, "x", 1, NULL, 0),
             AUTHCORE_PROPAGATION_UNKNOWN_CLIENT);
    CHECK(strcmp(message(), "rotate: clientId \"nobody\" does not exist") == 0);
    CHECK(a.rotate_count == 1);
    /* A blank client id: the HMAC core's MISSING_CLIENT_ID. */
    CHECK_RC(authcore_propagator_rotate(a.prop, " ", 1, "x", 1, NULL, 0),
             AUTHCORE_MISSING_CLIENT_ID);
    /* A track without a sink. */
    CHECK_RC(authcore_propagator_rotate(a.prop, "partner", 7, "x", 1, "message", 7),
             AUTHCORE_PROPAGATION_INVALID_OPTIONS);
    CHECK(strcmp(message(), "No message auth instance configured") == 0);

    /* A failing callback: its code and message reach the caller; nothing applied. */
    pthread_mutex_lock(&a.mu);
    a.fail_upsert_rc = 3;
    a.fail_upsert_msg = "db is down: upsert refused";
    pthread_mutex_unlock(&a.mu);
    authcore_ensure_input in = {S("other"), S("x"), NULL, 0, NONE, NULL, 0, false, 0};
    CHECK_RC(authcore_propagator_ensure(a.prop, &in, NULL), AUTHCORE_PROPAGATION_CALLBACK_ERROR);
    CHECK(strcmp(message(), "db is down: upsert refused") == 0);
    char *full = last_message();
    CHECK(full != NULL && strcmp(full, "db is down: upsert refused") == 0);
    free(full);
    CHECK(!has_record(&a, "other"));
    pthread_mutex_lock(&a.mu);
    a.fail_upsert_msg = NULL;
    pthread_mutex_unlock(&a.mu);
    CHECK_RC(authcore_propagator_ensure(a.prop, &in, NULL), AUTHCORE_PROPAGATION_CALLBACK_ERROR);
    CHECK(strcmp(message(), "upsert_credential_with_targets failed (returned 3)") == 0);
    pthread_mutex_lock(&a.mu);
    a.fail_upsert_rc = 0;
    a.fail_fetch = true;
    pthread_mutex_unlock(&a.mu);
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_PROPAGATION_CALLBACK_ERROR);
    CHECK(strcmp(message(), "SELECT failed: connection reset") == 0);
    CHECK(s.propagations_read == 0 && s.targets_published == 0);
    pthread_mutex_lock(&a.mu);
    a.fail_fetch = false;
    a.fail_put = true;
    pthread_mutex_unlock(&a.mu);
    /* The local apply through the sink fails: CALLBACK_ERROR after the upsert. */
    CHECK_RC(authcore_propagator_ensure(a.prop, &in, NULL), AUTHCORE_PROPAGATION_CALLBACK_ERROR);
    CHECK(strcmp(message(), "credential store is read-only") == 0);
    pthread_mutex_lock(&a.mu);
    a.fail_put = false;
    pthread_mutex_unlock(&a.mu);

    /* Receive-only C: MANAGEMENT_NOT_CONFIGURED before anything else. */
    authcore_ensure_input in_c = {S("x"), S("y"), NULL, 0, NONE, NULL, 0, false, 0};
    CHECK_RC(authcore_propagator_ensure(c.prop, &in_c, NULL),
             AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED);
    CHECK(strcmp(message(), "ensure/rotate/revoke/sync require the management adapter to be "
                            "configured in createPropagator options") == 0);
    CHECK_RC(authcore_propagator_sync(c.prop, &s), AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED);
    CHECK_RC(authcore_propagator_rotate(c.prop, "x", 1, "y", 1, NULL, 0),
             AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED);
    CHECK_RC(authcore_propagator_revoke(c.prop, "x", 1, NULL, 0, NULL, 0),
             AUTHCORE_PROPAGATION_MANAGEMENT_NOT_CONFIGURED);

    /* A -> receive-only C: C applies it ("strict obedience"), but its ACK carries ""
     * (no management to look A's secret up), so A drops it: the row stays "sent". */
    char h3[65];
    hash_of("plain-3", "pepper-a", h3);
    authcore_str tc[] = {STR(qc)};
    authcore_ensure_input in3 = {S("ro-client"), S("plain-3"), tc, 1, NONE, NULL, 0, false, 0};
    CHECK_RC(authcore_propagator_ensure(a.prop, &in3, &created), AUTHCORE_OK);
    CHECK(created);
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
    CHECK(s.propagations_read == 1 && s.targets_published == 1);
    WAIT_FOR(hash_is(&c, "ro-client", h3), 20);
    WAIT_FOR(log_has(&c, "has no source secret"), 20);
    WAIT_FOR(log_has(&a, "propagation-secret-mismatch"), 20);
    CHECK(status_is(&a, "ro-client", qc, "sent"));

    /* revoke: local delete at once, then the delete reaches B. */
    authcore_str tb[] = {STR(qb)};
    CHECK_RC(authcore_propagator_revoke(a.prop, "partner", 7, tb, 1, NULL, 0), AUTHCORE_OK);
    CHECK(!has_record(&a, "partner"));
    CHECK(hash_is(&b, "partner", h2));
    CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
    CHECK(s.targets_published == 1);
    WAIT_FOR(!has_record(&b, "partner"), 20);
    WAIT_FOR(fully_is(&a, "partner", "success", 3), 20);

    /* close, then free: calls still answer (sync counts targets as retrying). */
    CHECK_RC(authcore_propagator_close(b.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_close(b.prop), AUTHCORE_OK);
    authcore_propagator_free(a.prop);
    authcore_propagator_free(b.prop);
    authcore_propagator_free(c.prop);
    a.prop = b.prop = c.prop = NULL;
    /* After free, no callback runs: the logs can be read without the lock. */
    CHECK(a.log_lines > 0);
    pthread_mutex_destroy(&a.mu);
    pthread_mutex_destroy(&b.mu);
    pthread_mutex_destroy(&c.mu);
}

/* Two full-mode peers over the real RabbitMQ, with their state in a real Redis. */
static void test_rabbitmq(void) {
    const char *redis = getenv("AUTHCORE_PROP_REDIS");
    if (redis == NULL) redis = "redis://127.0.0.1:6379/9";
    const char *host = getenv("AUTHCORE_PROP_AMQP_HOST");
    if (host == NULL) host = "127.0.0.1";
    char qa[64], qb[64];
    snprintf(qa, sizeof qa, "cprop-%s-a", RUN);
    snprintf(qb, sizeof qb, "cprop-%s-b", RUN);
    dir_entry dir[2];
    snprintf(dir[0].name, 64, "%s", qa), snprintf(dir[0].secret, 64, "amqp-secret-a");
    snprintf(dir[1].name, 64, "%s", qb), snprintf(dir[1].secret, 64, "amqp-secret-b");
    static peer a, b;
    peer_init(&a, qa, "amqp-secret-a", "pepper-x");
    peer_init(&b, qb, "amqp-secret-b", "pepper-y");
    a.dir = b.dir = dir;
    a.ndir = b.ndir = 2;
    authcore_propagation_config ca = {STR(host), 5672, S("guest"), S("guest"), S("amqp"),
                                      S("hmac-credentials"), STR(qa), STR(a.secret), STR(redis)};
    authcore_propagation_config cb = ca;
    cb.amqp_queue = STR(qb);
    cb.propagation_secret = STR(b.secret);
    authcore_propagation_management ma = management_of(&a), mb = management_of(&b);
    authcore_credential_sink sa = sink_of(&a), sb = sink_of(&b);
    authcore_logger la = {&a, on_log};
    CHECK_RC(authcore_propagator_create(&ca, &ma, &sa, NULL, &la, &a.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_create(&cb, &mb, &sb, NULL, NULL, &b.prop), AUTHCORE_OK);
    if (a.prop == NULL || b.prop == NULL) {
        fprintf(stderr, "FAIL: rabbitmq/redis peers: %s\n", message());
        failures++;
        authcore_propagator_free(a.prop);
        authcore_propagator_free(b.prop);
        return;
    }
    char client[96], h[65];
    snprintf(client, sizeof client, "cprop-%s-client", RUN);
    const char *to_b[] = {qb};
    bool created = false;
    ensure_one(&a, client, "amqp-plain", to_b, 1, &created);
    CHECK(created);
    hash_of("amqp-plain", "pepper-x", h);
    /* The broker link comes up in the background: sync until the target is published. */
    authcore_sync_summary s = {0};
    double end = now_s() + 30;
    bool published = false;
    while (!published && now_s() < end) {
        CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
        published = s.targets_published == 1;
        if (!published) nap();
    }
    CHECK(published);
    WAIT_FOR(hash_is(&b, client, h), 30);
    WAIT_FOR(fully_is(&a, client, "success", 1), 30);
    CHECK(status_is(&a, client, qb, "success"));
    /* revoke over the broker too. */
    authcore_str tb[] = {STR(qb)};
    CHECK_RC(authcore_propagator_revoke(a.prop, client, strlen(client), tb, 1, NULL, 0),
             AUTHCORE_OK);
    published = false;
    end = now_s() + 30;
    while (!published && now_s() < end) {
        CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
        published = s.targets_published == 1;
        if (!published) nap();
    }
    CHECK(published);
    WAIT_FOR(!has_record(&b, client), 30);
    WAIT_FOR(fully_is(&a, client, "success", 2), 30);
    authcore_propagator_free(a.prop);
    authcore_propagator_free(b.prop);
    pthread_mutex_destroy(&a.mu);
    pthread_mutex_destroy(&b.mu);
}

/* `exit-mesh` / `exit-amqp` (scripts/c.sh runs each many times): three peers, on the
 * in-process mesh or on RabbitMQ with their state in Redis, busy applying events and
 * handling ACKs, and a JWT key set, all left alive when main returns. The process must
 * exit with 0: no callback runs into a process that is tearing down. */
static int exit_without_free(const char *mode) {
    atexit(tear_down);
    bool amqp = strcmp(mode, "exit-amqp") == 0;
    if (!amqp && strcmp(mode, "exit-mesh") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    const char *redis = getenv("AUTHCORE_PROP_REDIS");
    if (redis == NULL) redis = "redis://127.0.0.1:6379/9";
    const char *host = getenv("AUTHCORE_PROP_AMQP_HOST");
    if (host == NULL) host = "127.0.0.1";
    static char mesh[128], qa[64], qb[64], qc[64];
    static dir_entry dir[3];
    static peer a, b, c;
    snprintf(mesh, sizeof mesh, "mesh-%s", RUN);
    snprintf(qa, sizeof qa, "cprop-%s-a", RUN);
    snprintf(qb, sizeof qb, "cprop-%s-b", RUN);
    snprintf(qc, sizeof qc, "cprop-%s-c", RUN);
    snprintf(dir[0].name, 64, "%s", qa), snprintf(dir[0].secret, 64, "secret-of-a");
    snprintf(dir[1].name, 64, "%s", qb), snprintf(dir[1].secret, 64, "secret-of-b");
    snprintf(dir[2].name, 64, "%s", qc), snprintf(dir[2].secret, 64, "secret-of-c");
    peer_init(&a, qa, "secret-of-a", "pepper-a");
    peer_init(&b, qb, "secret-of-b", "pepper-b");
    peer_init(&c, qc, "secret-of-c", "");
    a.dir = b.dir = dir;
    a.ndir = b.ndir = 3;
    b.fail_put = true; /* B keeps failing and requeueing: callbacks still run at exit */
    peer *peers[3] = {&a, &b, &c};
    authcore_propagation_config cfg[3];
    for (int i = 0; i < 3; i++) {
        if (amqp) {
            authcore_propagation_config k = {STR(host), 5672, S("guest"), S("guest"), S("amqp"),
                                             S("hmac-credentials"), STR(peers[i]->name),
                                             STR(peers[i]->secret), STR(redis)};
            cfg[i] = k;
        } else {
            cfg[i] = memory_config(mesh, peers[i]->name, peers[i]->secret);
        }
    }
    authcore_propagation_management ma = management_of(&a), mb = management_of(&b);
    authcore_credential_sink sa = sink_of(&a), sb = sink_of(&b), sc = sink_of(&c);
    authcore_logger la = {&a, on_log}, lc = {&c, on_log};
    CHECK_RC(authcore_propagator_create(&cfg[0], &ma, &sa, NULL, &la, &a.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_create(&cfg[1], &mb, &sb, NULL, NULL, &b.prop), AUTHCORE_OK);
    CHECK_RC(authcore_propagator_create(&cfg[2], NULL, &sc, NULL, &lc, &c.prop), AUTHCORE_OK);
    authcore_jwt_keyset *keys = NULL;
    CHECK_RC(authcore_jwt_keyset_new(&keys), AUTHCORE_OK);
    if (a.prop == NULL || b.prop == NULL || c.prop == NULL || keys == NULL) {
        fprintf(stderr, "FAIL: %s: %s\n", mode, message());
        return 1;
    }
    const char *to[] = {qb, qc};
    char client[96];
    bool created = false;
    for (int k = 0; k < 3; k++) {
        snprintf(client, sizeof client, "exit-client-%d", k);
        ensure_one(&a, client, "plain-secret", to, 2, &created);
    }
    /* The broker link comes up in the background: sync until the events are out. */
    authcore_sync_summary s = {0};
    double end = now_s() + 20;
    do {
        CHECK_RC(authcore_propagator_sync(a.prop, &s), AUTHCORE_OK);
        if (s.targets_published == 0) nap();
    } while (s.targets_published == 0 && now_s() < end);
    CHECK(s.targets_published > 0);
    printf("READY %s\n", mode);
    fflush(stdout);
    return failures == 0 ? 0 : 1; /* nothing freed, nothing closed */
}

int main(int argc, char **argv) {
    const char *run = getenv("AUTHCORE_PROP_RUN");
    if (run != NULL && run[0] != 0) {
        snprintf(RUN, sizeof RUN, "%s", run);
    } else {
        snprintf(RUN, sizeof RUN, "%ld-%ld", (long)getpid(), (long)time(NULL));
    }
    if (argc > 1) return exit_without_free(argv[1]);
    test_codes();
    test_bad_config();
    test_memory_mesh();
    test_rabbitmq();
    printf("test_propagation: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
