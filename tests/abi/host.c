/*
 * tests/abi/host.c - a C test host for the Stowage ABI (ffi/stowage.h).
 *
 * It plays the part of a web server: it dlopen()s the library, resolves the
 * single exported symbol stowage_get_api, and drives the table through the
 * contract written in the header, recording everything the library sends
 * back through the host ops. Output is TAP-style, one line per check:
 *
 *     ok - description
 *     not ok - description  (# detail)
 *
 * Usage:
 *     abi-host [--suite=normal|panic|all] LIBRARY.so
 *
 *   normal  everything except the panic boundary (release library)
 *   panic   the panic boundary (library built with --features test-hooks)
 *   all     both (only useful against a test-hooks library)
 *
 * Exit status: 0 when every check passed, 1 when one failed, 2 on usage or
 * load errors. Built by tests/abi/run.sh with -Wall -Wextra -Werror and
 * AddressSanitizer + UndefinedBehaviorSanitizer.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../ffi/stowage.h"

/* ------------------------------------------------------------------------ */
/* TAP output                                                                */

static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;
static int n_pass, n_fail;

static int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int cond, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&tap_lock);
    fputs(cond ? "ok - " : "not ok - ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    if (cond)
        n_pass++;
    else
        n_fail++;
    pthread_mutex_unlock(&tap_lock);
    return cond;
}

/* A diagnostic line, printed after a failing check. */
static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&tap_lock);
    fputs("#   ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&tap_lock);
}

/* ------------------------------------------------------------------------ */
/* MD5 (RFC 1321), small and self-contained, to check Body-MD5 and ETags.    */

typedef struct {
    uint32_t a, b, c, d;
    uint64_t n;
    uint8_t buf[64];
} md5_ctx;

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
    0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
    0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
    0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
    0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};
static const uint8_t md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                  5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(md5_ctx *c, const uint8_t *p)
{
    uint32_t w[16], a = c->a, b = c->b, cc = c->c, d = c->d;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & cc) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & cc);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ cc ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = cc ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = cc;
        cc = b;
        uint32_t x = a + f + md5_k[i] + w[g];
        b = b + ((x << md5_r[i]) | (x >> (32 - md5_r[i])));
        a = t;
    }
    c->a += a;
    c->b += b;
    c->c += cc;
    c->d += d;
}

static void md5_init(md5_ctx *c)
{
    c->a = 0x67452301;
    c->b = 0xefcdab89;
    c->c = 0x98badcfe;
    c->d = 0x10325476;
    c->n = 0;
}

static void md5_update(md5_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t have = (size_t)(c->n % 64);
    c->n += len;
    if (have) {
        size_t take = 64 - have < len ? 64 - have : len;
        memcpy(c->buf + have, p, take);
        p += take;
        len -= take;
        if (have + take < 64)
            return;
        md5_block(c, c->buf);
    }
    for (; len >= 64; p += 64, len -= 64)
        md5_block(c, p);
    memcpy(c->buf, p, len);
}

static void md5_hex(md5_ctx *c, char out[33])
{
    uint64_t bits = c->n * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (size_t)((c->n % 64 < 56) ? 56 - c->n % 64 : 120 - c->n % 64);
    md5_update(c, pad, padlen);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (8 * i));
    md5_update(c, lenb, 8);
    uint32_t v[4] = {c->a, c->b, c->c, c->d};
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", (unsigned)(v[i / 4] >> (8 * (i % 4))) & 0xffu);
    out[32] = 0;
}

static void md5_of(const void *data, size_t len, char out[33])
{
    md5_ctx c;
    md5_init(&c);
    md5_update(&c, data, len);
    md5_hex(&c, out);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static stowage_str S(const char *s)
{
    stowage_str r = {s, s ? strlen(s) : 0};
    return r;
}

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            perror("realloc");
            abort();
        }
        b->p = np;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0; /* keep it a C string for strstr() */
}

static void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static char *dupstr(stowage_str s)
{
    char *r = malloc(s.len + 1);
    if (!r)
        abort();
    if (s.len)
        memcpy(r, s.ptr, s.len);
    r[s.len] = 0;
    return r;
}

/* ------------------------------------------------------------------------ */
/* The recording host: one per request                                      */

#define MAX_HDRS 64
#define MAX_PIECES 16

typedef struct {
    /* request body source */
    const uint8_t *body;
    size_t body_len;
    size_t body_pos;
    size_t pieces[MAX_PIECES]; /* cycle of read sizes; 0-terminated */
    size_t piece_idx;
    size_t fail_at;            /* fail once body_pos reaches this; SIZE_MAX: never */
    int fail_code;             /* what a failing read returns (STOWAGE_BODY_*) */
    int read_calls;
    int reads_after_end;       /* read_body calls after it already returned 0 or -1 */
    int read_done;

    /* response */
    int status;
    int status_calls;
    char *hname[MAX_HDRS], *hvalue[MAX_HDRS];
    int nhdrs;
    buf_t out;
    int write_calls;
    int flush_calls;
    int send_file_calls;
    int send_file_errors;       /* pread failures, fd closed, ... */
    int late_headers;           /* set_status/add_header after body bytes went out */
    int logs;
    buf_t logtext;
    int notes;
    buf_t notetext;
    int null_ptr_nonzero_len;   /* a stowage_str with ptr NULL and len > 0 */
} rec_t;

static void rec_init(rec_t *r)
{
    memset(r, 0, sizeof *r);
    r->fail_at = SIZE_MAX;
    r->fail_code = STOWAGE_BODY_FAILED;
}

static void rec_free(rec_t *r)
{
    for (int i = 0; i < r->nhdrs; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    buf_free(&r->out);
    buf_free(&r->logtext);
    buf_free(&r->notetext);
}

static void rec_body(rec_t *r, const void *body, size_t len, const size_t *pieces)
{
    r->body = body;
    r->body_len = len;
    for (int i = 0; pieces && pieces[i] && i < MAX_PIECES - 1; i++)
        r->pieces[i] = pieces[i];
}

static const char *rec_header(const rec_t *r, const char *name)
{
    for (int i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hname[i], name) == 0)
            return r->hvalue[i];
    return NULL;
}

static void note_str(rec_t *r, stowage_str s)
{
    if (s.ptr == NULL && s.len > 0)
        r->null_ptr_nonzero_len++;
}

static int64_t op_read_body(void *ctx, uint8_t *buf, size_t len)
{
    rec_t *r = ctx;
    r->read_calls++;
    if (r->read_done) {
        r->reads_after_end++;
        return r->read_done < 0 ? r->fail_code : 0;
    }
    if (r->body_pos >= r->fail_at) {
        r->read_done = -1;
        return r->fail_code;
    }
    if (r->body_pos >= r->body_len) {
        r->read_done = 1;
        return 0;
    }
    if (len == 0)
        return 0; /* the library asked for nothing; it gets nothing */
    size_t n = r->body_len - r->body_pos;
    if (r->pieces[0]) {
        size_t p = r->pieces[r->piece_idx];
        r->piece_idx++;
        if (r->piece_idx >= MAX_PIECES || r->pieces[r->piece_idx] == 0)
            r->piece_idx = 0;
        if (n > p)
            n = p;
    }
    if (n > len)
        n = len;
    if (r->fail_at != SIZE_MAX && r->body_pos + n > r->fail_at)
        n = r->fail_at - r->body_pos;
    memcpy(buf, r->body + r->body_pos, n);
    r->body_pos += n;
    return (int64_t)n;
}

static void op_set_status(void *ctx, int status)
{
    rec_t *r = ctx;
    if (r->write_calls || r->send_file_calls)
        r->late_headers++;
    r->status = status;
    r->status_calls++;
}

static void op_add_header(void *ctx, stowage_str name, stowage_str value)
{
    rec_t *r = ctx;
    note_str(r, name);
    note_str(r, value);
    if (r->write_calls || r->send_file_calls)
        r->late_headers++;
    if (r->nhdrs < MAX_HDRS) {
        r->hname[r->nhdrs] = dupstr(name);
        r->hvalue[r->nhdrs] = dupstr(value);
        r->nhdrs++;
    }
}

static int op_write(void *ctx, const uint8_t *buf, size_t len)
{
    rec_t *r = ctx;
    r->write_calls++;
    if (buf == NULL && len > 0) {
        r->null_ptr_nonzero_len++;
        return -1;
    }
    buf_add(&r->out, buf, len);
    return 0;
}

static int op_send_file(void *ctx, int fd, uint64_t offset, uint64_t len)
{
    rec_t *r = ctx;
    r->send_file_calls++;
    if (fcntl(fd, F_GETFD) == -1) {
        r->send_file_errors++;
        return -1;
    }
    char tmp[65536];
    while (len > 0) {
        size_t want = len < sizeof tmp ? (size_t)len : sizeof tmp;
        ssize_t n = pread(fd, tmp, want, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* error, or the file is shorter than promised */
            r->send_file_errors++;
            return -1;
        }
        buf_add(&r->out, tmp, (size_t)n);
        offset += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0; /* the fd stays open: the library owns it */
}

static void op_log(void *ctx, int level, stowage_str message)
{
    rec_t *r = ctx;
    note_str(r, message);
    r->logs++;
    char lvl[16];
    snprintf(lvl, sizeof lvl, "[%d] ", level);
    buf_add(&r->logtext, lvl, strlen(lvl));
    buf_add(&r->logtext, message.ptr, message.len);
    buf_add(&r->logtext, "\n", 1);
}

static void op_set_note(void *ctx, stowage_str name, stowage_str value)
{
    rec_t *r = ctx;
    note_str(r, name);
    note_str(r, value);
    r->notes++;
    buf_add(&r->notetext, name.ptr, name.len);
    buf_add(&r->notetext, "=", 1);
    buf_add(&r->notetext, value.ptr, value.len);
    buf_add(&r->notetext, "\n", 1);
}

static int op_flush(void *ctx)
{
    rec_t *r = ctx;
    r->flush_calls++;
    return 0;
}

static const stowage_host_ops host_ops = {
    .read_body = op_read_body,
    .set_status = op_set_status,
    .add_header = op_add_header,
    .write = op_write,
    .send_file = op_send_file,
    .log = op_log,
    .set_note = op_set_note,
    .flush = op_flush,
};

/* Vhost-level log sink (no request). */
static pthread_mutex_t vlog_lock = PTHREAD_MUTEX_INITIALIZER;
static int vlog_count;
static void vhost_log(void *host_data, int level, stowage_str message)
{
    pthread_mutex_lock(&vlog_lock);
    vlog_count++;
    if (host_data && getenv("ABI_HOST_VERBOSE"))
        fprintf(stderr, "# vhost log [%d] %.*s\n", level, (int)message.len,
                message.ptr ? message.ptr : "");
    pthread_mutex_unlock(&vlog_lock);
}

/* ------------------------------------------------------------------------ */
/* Request building                                                          */

typedef struct {
    stowage_request r;
    stowage_header h[32];
} reqb_t;

static void req_init(reqb_t *b, const char *method, const char *uri, const char *query)
{
    memset(b, 0, sizeof *b);
    b->r.method = S(method);
    b->r.uri = S(uri);
    b->r.query = S(query ? query : "");
    b->r.scheme = S("http");
    b->r.host = S("127.0.0.1:8080");
    b->r.remote_user = S("");
    b->r.request_id = S("abi-test");
    b->r.headers = b->h;
    b->r.header_count = 0;
    b->r.content_length = -1;
    b->r.body_chunked = 0;
}

static void req_header(reqb_t *b, const char *name, const char *value)
{
    if (b->r.header_count >= 32)
        abort();
    b->h[b->r.header_count].name = S(name);
    b->h[b->r.header_count].value = S(value);
    b->r.header_count++;
}

static const stowage_api *api;

static int do_req(stowage_vhost *vh, int handler, reqb_t *b, rec_t *rec)
{
    return api->handle(vh, handler, &b->r, &host_ops, rec);
}

/* Generic sanity of any response: a status was set, in range, and nothing
 * was changed after the body started. Returns 1 when fine. */
static int response_sane(const rec_t *r)
{
    return r->status >= 100 && r->status <= 599 && r->late_headers == 0 &&
           r->null_ptr_nonzero_len == 0 && r->send_file_errors == 0;
}

static void dump_response(const rec_t *r)
{
    diag("status=%d status_calls=%d headers=%d writes=%d send_files=%d(errors %d) late=%d "
         "logs=%d body_len=%zu",
         r->status, r->status_calls, r->nhdrs, r->write_calls, r->send_file_calls,
         r->send_file_errors, r->late_headers, r->logs, r->out.len);
    for (int i = 0; i < r->nhdrs; i++)
        diag("  %s: %s", r->hname[i], r->hvalue[i]);
    if (r->out.len)
        diag("  body: %.300s%s", r->out.p, r->out.len > 300 ? "..." : "");
    if (r->logs)
        diag("  log: %.500s", r->logtext.p);
}

/* Finds a line "Prefix value" in text and returns a malloc'd copy of value. */
static char *line_value(const char *text, const char *prefix)
{
    size_t pl = strlen(prefix);
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll >= pl && memcmp(p, prefix, pl) == 0) {
            size_t vl = ll - pl;
            if (vl && p[pl + vl - 1] == '\r')
                vl--;
            char *v = malloc(vl + 1);
            memcpy(v, p + pl, vl);
            v[vl] = 0;
            return v;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static int has_line(const char *text, const char *line)
{
    size_t ll = strlen(line);
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t)(eol - p) : strlen(p);
        if (l && p[l - 1] == '\r')
            l--;
        if (l == ll && memcmp(p, line, ll) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}

static int has_prefix_line(const char *text, const char *prefix)
{
    char *v = line_value(text, prefix);
    free(v);
    return v != NULL;
}

static int line_is(const char *text, const char *prefix, const char *want)
{
    char *v = line_value(text, prefix);
    int ok = v && strcmp(v, want) == 0;
    if (!ok)
        diag("line '%s' = '%s', want '%s'", prefix, v ? v : "(missing)", want);
    free(v);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Tests: version negotiation                                                */

static void test_get_api(const stowage_api *(*get)(uint32_t))
{
    const stowage_api *a = get(STOWAGE_ABI_VERSION);
    check(a != NULL, "stowage_get_api(STOWAGE_ABI_VERSION=%u) returns a table", STOWAGE_ABI_VERSION);
    if (!a)
        return;
    check(a->abi_version == STOWAGE_ABI_VERSION, "api->abi_version == %u (got %u)",
          STOWAGE_ABI_VERSION, a->abi_version);
    check(a->lib_version.ptr != NULL && a->lib_version.len > 0 && a->lib_version.len < 256,
          "api->lib_version is non-empty ('%.*s')", (int)(a->lib_version.len < 256 ? a->lib_version.len : 0),
          a->lib_version.ptr ? a->lib_version.ptr : "");
    check(get(STOWAGE_ABI_VERSION) == a, "stowage_get_api is stable (same table twice)");
    check(a->check_directive && a->vhost_new && a->vhost_free && a->child_init && a->handle &&
              a->shutdown,
          "every entry point in the table is non-NULL");
    check(get(STOWAGE_ABI_VERSION + 1) == NULL, "stowage_get_api(ABI_VERSION+1) returns NULL");
    check(get(0) == NULL, "stowage_get_api(0) returns NULL");
    check(get(UINT32_MAX) == NULL, "stowage_get_api(UINT32_MAX) returns NULL");
}

/* ------------------------------------------------------------------------ */
/* Tests: check_directive                                                    */

static int directive(const char **words, char *err, size_t err_len)
{
    stowage_str argv[16];
    size_t n = 0;
    for (; words[n]; n++)
        argv[n] = S(words[n]);
    stowage_directive d = {argv, n};
    return api->check_directive(&d, err, err_len);
}

#define D(...) ((const char *[]){__VA_ARGS__, NULL})

static void test_check_directive(const char *tmpdir)
{
    char err[256];
    int rc;

    memset(err, 'X', sizeof err);
    rc = directive(D("StowageRoot", tmpdir), err, sizeof err);
    if (!check(rc == STOWAGE_OK, "check_directive: StowageRoot /abs/path is OK"))
        diag("rc=%d err='%.200s'", rc, memchr(err, 0, sizeof err) ? err : "(unterminated)");

    rc = directive(D("StowageRoot", "/nonexistent/yet/absolute"), err, sizeof err);
    check(rc == STOWAGE_OK,
          "check_directive: StowageRoot with an absolute path that does not exist yet is OK "
          "(checked at vhost_new) (rc=%d)",
          rc);

    memset(err, 'X', sizeof err);
    rc = directive(D("StowageRoot", "relative"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageRoot relative -> STOWAGE_ERR_CONFIG (rc=%d)", rc);
    int term = memchr(err, 0, sizeof err) != NULL;
    check(term && strstr(err, "relative") != NULL,
          "check_directive: the message mentions the value 'relative' ('%.200s')",
          term ? err : "(unterminated)");

    memset(err, 'X', sizeof err);
    rc = directive(D("StowageNoSuchDirective", "x"), err, sizeof err);
    check(rc != STOWAGE_OK, "check_directive: an unknown directive name is an error (rc=%d)", rc);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: unknown directive -> STOWAGE_ERR_CONFIG (rc=%d)", rc);
    term = memchr(err, 0, sizeof err) != NULL;
    check(term && err[0] != 0 && strstr(err, "StowageNoSuchDirective") != NULL,
          "check_directive: unknown directive's message names it ('%.200s')",
          term ? err : "(unterminated)");

    /* Every directive of the header's list is one the library parses:
     * whatever it says of an empty argument list, it is not "unknown". */
#define KNOWN_DIRECTIVE(name, args, secret, help)                                      \
    memset(err, 0, sizeof err);                                                        \
    rc = directive(D(name), err, sizeof err);                                          \
    check(strstr(err, "unknown directive") == NULL,                                    \
          "check_directive: %s (STOWAGE_DIRECTIVES) is known to the library ('%.200s')", \
          name, err);
    STOWAGE_DIRECTIVES(KNOWN_DIRECTIVE)
#undef KNOWN_DIRECTIVE

    rc = directive(D("StowageRoot"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageRoot with no argument -> error (rc=%d)", rc);
    rc = directive(D("StowageRoot", "/a", "/b"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageRoot with two arguments -> error (rc=%d)", rc);
    rc = directive(D("StowageUser", "test:tester"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageUser without a key -> error (rc=%d)", rc);
    rc = directive(D("StowageUser"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageUser with no argument -> error (rc=%d)", rc);

    memset(err, 'X', sizeof err);
    rc = directive(D("StowageUser", "test:tester", "testing", ".admin"), err, sizeof err);
    if (!check(rc == STOWAGE_OK, "check_directive: StowageUser test:tester testing .admin is OK"))
        diag("rc=%d err='%.200s'", rc, memchr(err, 0, sizeof err) ? err : "(unterminated)");
    rc = directive(D("StowageUser", "nocolon", "key"), err, sizeof err);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: StowageUser nocolon key -> error (rc=%d)", rc);

    /* Error buffer discipline. */
    char small[64];
    memset(small, 'X', sizeof small);
    rc = directive(D("StowageRoot", "relative"), small, 1);
    int untouched = 1;
    for (size_t i = 1; i < sizeof small; i++)
        untouched &= small[i] == 'X';
    check(rc == STOWAGE_ERR_CONFIG && small[0] == 0 && untouched,
          "check_directive: err_len=1 -> err[0]==NUL and nothing written past err_len");

    memset(small, 'X', sizeof small);
    rc = directive(D("StowageRoot", "relative"), small, 8);
    untouched = 1;
    for (size_t i = 8; i < sizeof small; i++)
        untouched &= small[i] == 'X';
    int nul8 = memchr(small, 0, 8) != NULL;
    check(rc == STOWAGE_ERR_CONFIG && nul8 && untouched,
          "check_directive: err_len=8 -> NUL-terminated within 8 bytes, nothing written past err_len");
    check(nul8 && strlen(small) == 7,
          "check_directive: err_len=8 -> message truncated to 7 bytes (got %zu)",
          nul8 ? strlen(small) : (size_t)0);

    memset(small, 'X', sizeof small);
    rc = directive(D("StowageRoot", "relative"), small, 0);
    untouched = 1;
    for (size_t i = 0; i < sizeof small; i++)
        untouched &= small[i] == 'X';
    check(rc == STOWAGE_ERR_CONFIG && untouched, "check_directive: err_len=0 -> buffer untouched");

    rc = directive(D("StowageRoot", "relative"), NULL, 0);
    check(rc == STOWAGE_ERR_CONFIG, "check_directive: err=NULL, err_len=0 is tolerated (rc=%d)", rc);

    /* Successful calls: buffer either untouched or an empty string. */
    memset(small, 'X', sizeof small);
    rc = directive(D("StowageRoot", "/srv/ok"), small, sizeof small);
    check(rc == STOWAGE_OK && (small[0] == 'X' || small[0] == 0),
          "check_directive: success leaves no stale message");

    /* Argument errors. */
    memset(err, 'X', sizeof err);
    rc = api->check_directive(NULL, err, sizeof err);
    check(rc == STOWAGE_ERR_ARGUMENT, "check_directive: NULL directive -> STOWAGE_ERR_ARGUMENT (rc=%d)", rc);
    check(memchr(err, 0, sizeof err) != NULL, "check_directive: NULL directive still NUL-terminates err");

    stowage_directive d0 = {NULL, 0};
    rc = api->check_directive(&d0, err, sizeof err);
    check(rc == STOWAGE_ERR_ARGUMENT || rc == STOWAGE_ERR_CONFIG,
          "check_directive: argc=0 -> an error (rc=%d)", rc);

    stowage_directive dn = {NULL, 2};
    rc = api->check_directive(&dn, err, sizeof err);
    check(rc == STOWAGE_ERR_ARGUMENT, "check_directive: argv=NULL with argc=2 -> STOWAGE_ERR_ARGUMENT (rc=%d)", rc);

    stowage_str badv[2] = {S("StowageRoot"), {NULL, 5}};
    stowage_directive db = {badv, 2};
    rc = api->check_directive(&db, err, sizeof err);
    check(rc == STOWAGE_ERR_ARGUMENT || rc == STOWAGE_ERR_CONFIG,
          "check_directive: a {NULL,5} string -> rejected, no crash (rc=%d)", rc);

    /* Arguments are views, not C strings: no reliance on a terminating NUL. */
    char notnul[] = {'/', 't', 'm', 'p', 'Z', 'Z'}; /* "/tmp" then junk, no NUL */
    stowage_str v[2] = {S("StowageRoot"), {notnul, 4}};
    stowage_directive dv = {v, 2};
    rc = api->check_directive(&dv, err, sizeof err);
    check(rc == STOWAGE_OK, "check_directive: arguments are read as {ptr,len}, not NUL-terminated (rc=%d)", rc);

    /* Non-UTF-8 bytes in a value must not crash (either outcome is fine). */
    char bad[] = {'/', 't', 'm', 'p', '/', (char)0xff, (char)0xfe};
    stowage_str vb[2] = {S("StowageRoot"), {bad, sizeof bad}};
    stowage_directive dvb = {vb, 2};
    rc = api->check_directive(&dvb, err, sizeof err);
    check(rc == STOWAGE_OK || rc == STOWAGE_ERR_CONFIG || rc == STOWAGE_ERR_ARGUMENT,
          "check_directive: non-UTF-8 bytes do not crash (rc=%d)", rc);
}

/* ------------------------------------------------------------------------ */
/* Tests: vhost lifecycle                                                    */

static stowage_vhost *make_vhost(const char *root, char *err, size_t err_len)
{
    stowage_str a0[2] = {S("StowageRoot"), S(root)};
    stowage_str a1[4] = {S("StowageUser"), S("test:tester"), S("testing"), S(".admin")};
    stowage_str a2[3] = {S("StowageUser"), S("other:alice"), S("secret")};
    stowage_directive ds[3] = {{a0, 2}, {a1, 4}, {a2, 3}};
    return api->vhost_new(ds, 3, vhost_log, (void *)"vh", err, err_len);
}

static stowage_vhost *test_vhost(const char *root)
{
    char err[512];
    memset(err, 'X', sizeof err);
    stowage_vhost *vh = make_vhost(root, err, sizeof err);
    if (!check(vh != NULL, "vhost_new: temp root + users -> a vhost"))
        diag("err='%.400s'", memchr(err, 0, sizeof err) ? err : "(unterminated)");

    /* No StowageRoot at all. */
    stowage_str a1[4] = {S("StowageUser"), S("test:tester"), S("testing"), S(".admin")};
    stowage_directive ds[1] = {{a1, 4}};
    memset(err, 'X', sizeof err);
    stowage_vhost *bad = api->vhost_new(ds, 1, vhost_log, NULL, err, sizeof err);
    int term = memchr(err, 0, sizeof err) != NULL;
    check(bad == NULL && term && err[0] != 0, "vhost_new: no StowageRoot -> NULL + message ('%.200s')",
          term ? err : "(unterminated)");
    if (bad)
        api->vhost_free(bad);

    /* Zero directives, and a NULL directive array. */
    memset(err, 'X', sizeof err);
    bad = api->vhost_new(NULL, 0, NULL, NULL, err, sizeof err);
    check(bad == NULL && memchr(err, 0, sizeof err) && err[0] != 0,
          "vhost_new: no directives at all -> NULL + message");
    if (bad)
        api->vhost_free(bad);

    /* An invalid directive inside the set is reported too. */
    stowage_str r0[2] = {S("StowageRoot"), S(root)};
    stowage_str r1[3] = {S("StowageUser"), S("nocolon"), S("key")};
    stowage_directive ds2[2] = {{r0, 2}, {r1, 3}};
    memset(err, 'X', sizeof err);
    bad = api->vhost_new(ds2, 2, vhost_log, NULL, err, sizeof err);
    check(bad == NULL && memchr(err, 0, sizeof err) && err[0] != 0,
          "vhost_new: an invalid directive in the set -> NULL + message");
    if (bad)
        api->vhost_free(bad);

    /* A root that cannot be created (a regular file in the way). */
    char path[600];
    snprintf(path, sizeof path, "%s-file", root);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd >= 0)
        close(fd);
    char sub[700];
    snprintf(sub, sizeof sub, "%s/below", path);
    stowage_str f0[2] = {S("StowageRoot"), S(sub)};
    stowage_directive ds3[1] = {{f0, 2}};
    memset(err, 'X', sizeof err);
    bad = api->vhost_new(ds3, 1, vhost_log, NULL, err, sizeof err);
    check(bad == NULL && memchr(err, 0, sizeof err) && err[0] != 0,
          "vhost_new: a root that cannot be prepared -> NULL + message ('%.200s')",
          memchr(err, 0, sizeof err) ? err : "");
    if (bad)
        api->vhost_free(bad);
    unlink(path);

    /* Tiny error buffer on vhost_new. */
    char small[16];
    memset(small, 'X', sizeof small);
    bad = api->vhost_new(ds, 1, vhost_log, NULL, small, 4);
    int untouched = 1;
    for (size_t i = 4; i < sizeof small; i++)
        untouched &= small[i] == 'X';
    check(bad == NULL && memchr(small, 0, 4) && untouched,
          "vhost_new: err_len=4 -> NUL-terminated, nothing written past err_len");
    if (bad)
        api->vhost_free(bad);

    api->vhost_free(NULL);
    check(1, "vhost_free(NULL) is harmless");

    /* A second vhost on the same root can be created and freed. */
    stowage_vhost *vh2 = make_vhost(root, err, sizeof err);
    check(vh2 != NULL, "vhost_new: a second vhost on the same root");
    if (vh2)
        api->vhost_free(vh2);
    return vh;
}

/* ------------------------------------------------------------------------ */
/* Tests: the debug handler                                                  */

static uint8_t *make_body(size_t n, uint32_t seed)
{
    uint8_t *b = malloc(n ? n : 1);
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

/* In quiet mode (many threads, many requests) only the first few failures
 * are printed, each as its own "not ok" line; the caller counts the rest. */
static int quiet_report(void)
{
    static int printed;
    pthread_mutex_lock(&vlog_lock);
    int yes = printed++ < 10;
    pthread_mutex_unlock(&vlog_lock);
    return yes;
}

/* Runs one debug request and checks every line. Returns 1 when all fine. */
static int debug_roundtrip(stowage_vhost *vh, const char *label, size_t body_len, int chunked,
                           const size_t *pieces, int quiet)
{
    uint8_t *body = make_body(body_len, (uint32_t)body_len * 2654435761u + 7);
    char want_md5[33];
    md5_of(body, body_len, want_md5);

    reqb_t b;
    char cl[32];
    req_init(&b, "POST", "/debug/a%20b/c", "x=1&y=%2F");
    req_header(&b, "X-Foo", "bar baz");
    req_header(&b, "X-Empty", "");
    req_header(&b, "Accept", "*/*");
    if (chunked) {
        req_header(&b, "Transfer-Encoding", "chunked");
        b.r.body_chunked = 1;
    } else {
        snprintf(cl, sizeof cl, "%zu", body_len);
        req_header(&b, "Content-Length", cl);
        b.r.content_length = (int64_t)body_len;
    }
    rec_t r;
    rec_init(&r);
    rec_body(&r, body, body_len, pieces);
    int rc = do_req(vh, STOWAGE_HANDLER_DEBUG, &b, &r);
    const char *txt = r.out.p ? r.out.p : "";

    int ok = 1;
#define SUB(cond, ...)                                  \
    do {                                                \
        int c_ = (cond);                                \
        if (!quiet)                                     \
            check(c_, __VA_ARGS__);                     \
        else if (!c_ && quiet_report())                 \
            check(c_, __VA_ARGS__);                     \
        ok &= c_;                                       \
    } while (0)

    SUB(rc == STOWAGE_OK, "debug %s: handle returns STOWAGE_OK (rc=%d)", label, rc);
    SUB(r.status == 200, "debug %s: status 200 (got %d)", label, r.status);
    SUB(response_sane(&r), "debug %s: response is well-formed (no header after body, no bad strings)",
        label);
    const char *ct = rec_header(&r, "Content-Type");
    SUB(ct && strncmp(ct, "text/plain", 10) == 0, "debug %s: Content-Type text/plain (got %s)", label,
        ct ? ct : "none");
    SUB(r.read_done == 1 && r.body_pos == body_len,
        "debug %s: the library read the whole body to its end (%zu of %zu, end seen=%d)", label,
        r.body_pos, body_len, r.read_done);
    char want[128];
    snprintf(want, sizeof want, "%zu", body_len);
    SUB(line_is(txt, "Body-Length: ", want), "debug %s: Body-Length: %zu", label, body_len);
    SUB(line_is(txt, "Body-MD5: ", want_md5), "debug %s: Body-MD5: %s", label, want_md5);
    SUB(line_is(txt, "Body-Chunked: ", chunked ? "yes" : "no"), "debug %s: Body-Chunked: %s", label,
        chunked ? "yes" : "no");
    SUB(line_is(txt, "Method: ", "POST"), "debug %s: Method: POST", label);
    SUB(line_is(txt, "URI: ", "/debug/a%20b/c"), "debug %s: URI: is the raw path", label);
    SUB(line_is(txt, "Query: ", "x=1&y=%2F"), "debug %s: Query: is the raw query", label);
    SUB(has_line(txt, "Header: X-Foo: bar baz"), "debug %s: Header: X-Foo: bar baz", label);
    SUB(has_line(txt, "Header: Accept: */*"), "debug %s: Header: Accept: */*", label);
    SUB(has_line(txt, "Header: X-Empty: ") || has_line(txt, "Header: X-Empty:"),
        "debug %s: Header: X-Empty with an empty value", label);
    snprintf(want, sizeof want, "%ld", (long)getpid());
    SUB(line_is(txt, "PID: ", want), "debug %s: PID: is this process", label);
    snprintf(want, sizeof want, "%ld", (long)getuid());
    SUB(line_is(txt, "UID: ", want), "debug %s: UID: %s", label, want);
    snprintf(want, sizeof want, "%ld", (long)getgid());
    SUB(line_is(txt, "GID: ", want), "debug %s: GID: %s", label, want);
    SUB(r.reads_after_end == 0, "debug %s: no read_body after it returned 0 (%d extra)", label,
        r.reads_after_end);
#undef SUB
    if (!ok && !quiet)
        dump_response(&r);
    rec_free(&r);
    free(body);
    return ok;
}

static void test_debug_handler(void)
{
    static const size_t odd[] = {1, 7, 4096, 3, 65536, 13, 1000, 0};
    static const size_t ones[] = {1, 0};
    debug_roundtrip(NULL, "100000 B in 1/7/4096/3/65536/13/1000 pieces", 100000, 0, odd, 0);
    debug_roundtrip(NULL, "chunked 70001 B", 70001, 1, odd, 0);
    debug_roundtrip(NULL, "empty body", 0, 0, NULL, 0);
    debug_roundtrip(NULL, "3000 B one byte at a time", 3000, 0, ones, 0);
    debug_roundtrip(NULL, "5 MiB in large reads", 5u << 20, 0, NULL, 0);

    /* Every optional field {NULL,0}. */
    stowage_request q;
    memset(&q, 0, sizeof q);
    q.method = S("GET");
    q.uri = S("/debug");
    q.content_length = -1;
    rec_t r;
    rec_init(&r);
    int rc = api->handle(NULL, STOWAGE_HANDLER_DEBUG, &q, &host_ops, &r);
    int ok = rc == STOWAGE_OK && r.status == 200 && response_sane(&r) && r.out.p &&
             line_is(r.out.p, "Body-Length: ", "0") && line_is(r.out.p, "Method: ", "GET") &&
             line_is(r.out.p, "URI: ", "/debug") &&
             (has_line(r.out.p, "Query: ") || has_line(r.out.p, "Query:"));
    if (!check(ok, "debug: a request with {NULL,0} for every optional field and no headers works"))
        dump_response(&r);
    rec_free(&r);

    /* read_body failure on the debug handler: answer, do not crash. */
    uint8_t *body = make_body(10000, 3);
    reqb_t b;
    req_init(&b, "PUT", "/debug", NULL);
    req_header(&b, "Content-Length", "10000");
    b.r.content_length = 10000;
    rec_init(&r);
    rec_body(&r, body, 10000, odd);
    r.fail_at = 5000;
    rc = do_req(NULL, STOWAGE_HANDLER_DEBUG, &b, &r);
    /* Either an error status, or the echo with the failure reported in it. */
    ok = rc == STOWAGE_OK && r.read_done == -1 &&
         ((r.status >= 400 && r.status <= 599) ||
          (r.status == 200 && r.out.p && has_prefix_line(r.out.p, "Body-Error:")));
    if (!check(ok, "debug: read_body -1 mid-body -> reported (4xx/5xx, or 200 with Body-Error:) "
                   "(status %d, rc=%d)", r.status, rc))
        dump_response(&r);
    if (r.status == 200)
        check(r.out.p && line_is(r.out.p, "Body-Length: ", "5000"),
              "debug: ...and Body-Length counts the 5000 bytes read before the failure");
    reqb_t b2;
    req_init(&b2, "GET", "/debug", NULL);
    rec_t r2;
    rec_init(&r2);
    rc = do_req(NULL, STOWAGE_HANDLER_DEBUG, &b2, &r2);
    check(rc == STOWAGE_OK && r2.status == 200, "debug: a request after the failed read still works");
    rec_free(&r2);
    rec_free(&r);
    free(body);

    /* NULL request / NULL ops: argument errors. */
    rec_init(&r);
    rc = api->handle(NULL, STOWAGE_HANDLER_DEBUG, NULL, &host_ops, &r);
    check(rc == STOWAGE_ERR_ARGUMENT, "handle: NULL request -> STOWAGE_ERR_ARGUMENT (rc=%d)", rc);
    rec_free(&r);
    req_init(&b, "GET", "/debug", NULL);
    rc = api->handle(NULL, STOWAGE_HANDLER_DEBUG, &b.r, NULL, NULL);
    check(rc == STOWAGE_ERR_ARGUMENT, "handle: NULL ops -> STOWAGE_ERR_ARGUMENT (rc=%d)", rc);

    /* headers == NULL with header_count > 0 is malformed. */
    req_init(&b, "GET", "/debug", NULL);
    b.r.headers = NULL;
    b.r.header_count = 3;
    rec_init(&r);
    rc = api->handle(NULL, STOWAGE_HANDLER_DEBUG, &b.r, &host_ops, &r);
    check(rc == STOWAGE_ERR_ARGUMENT || (rc == STOWAGE_OK && response_sane(&r)),
          "handle: headers=NULL with header_count=3 -> no crash (rc=%d status=%d)", rc, r.status);
    rec_free(&r);

    /* Unknown handler number. */
    req_init(&b, "GET", "/debug", NULL);
    rec_init(&r);
    rc = api->handle(NULL, 42, &b.r, &host_ops, &r);
    check(rc == STOWAGE_ERR_ARGUMENT || (rc == STOWAGE_OK && r.status >= 400),
          "handle: unknown handler 42 -> rejected (rc=%d status=%d)", rc, r.status);
    rec_free(&r);

    /* The Swift handler without a vhost. */
    req_init(&b, "GET", "/healthcheck", NULL);
    rec_init(&r);
    rc = api->handle(NULL, STOWAGE_HANDLER_SWIFT, &b.r, &host_ops, &r);
    check(rc == STOWAGE_ERR_ARGUMENT || (rc == STOWAGE_OK && r.status >= 500),
          "handle: SWIFT handler with vhost NULL -> rejected (rc=%d status=%d)", rc, r.status);
    rec_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Tests: the Swift handler                                                  */

static int swift(stowage_vhost *vh, const char *method, const char *uri, const char *token,
                 const char *body, rec_t *r)
{
    reqb_t b;
    req_init(&b, method, uri, NULL);
    if (token)
        req_header(&b, "X-Auth-Token", token);
    char cl[32];
    if (body) {
        snprintf(cl, sizeof cl, "%zu", strlen(body));
        req_header(&b, "Content-Length", cl);
        b.r.content_length = (int64_t)strlen(body);
    }
    rec_init(r);
    if (body)
        rec_body(r, body, strlen(body), NULL);
    return do_req(vh, STOWAGE_HANDLER_SWIFT, &b, r);
}

static char *get_token(stowage_vhost *vh, int verbose)
{
    reqb_t b;
    req_init(&b, "GET", "/auth/v1.0", NULL);
    req_header(&b, "X-Auth-User", "test:tester");
    req_header(&b, "X-Auth-Key", "testing");
    rec_t r;
    rec_init(&r);
    int rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
    const char *tok = rec_header(&r, "X-Auth-Token");
    char *ret = tok && *tok ? strdup(tok) : NULL;
    if (verbose) {
        if (!check(rc == STOWAGE_OK && r.status >= 200 && r.status < 300 && ret,
                   "swift: GET /auth/v1.0 with X-Auth-User/X-Auth-Key -> 2xx + X-Auth-Token (status %d)",
                   r.status))
            dump_response(&r);
        const char *url = rec_header(&r, "X-Storage-Url");
        check(url && strstr(url, "/v1/AUTH_test") != NULL,
              "swift: auth answers X-Storage-Url ending in /v1/AUTH_test (%s)", url ? url : "none");
    }
    rec_free(&r);
    return ret;
}

static void strip_quotes(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
    }
}

static void test_swift(stowage_vhost *vh)
{
    rec_t r;
    int rc;

    rc = swift(vh, "GET", "/healthcheck", NULL, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.p && strcmp(r.out.p, "OK") == 0 &&
                   response_sane(&r),
               "swift: GET /healthcheck -> 200 \"OK\""))
        dump_response(&r);
    rec_free(&r);

    rc = swift(vh, "GET", "/info", NULL, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.p && strstr(r.out.p, "\"swift\"") &&
                   response_sane(&r),
               "swift: GET /info -> 200 with JSON containing \"swift\""))
        dump_response(&r);
    const char *ct = rec_header(&r, "Content-Type");
    check(ct && strstr(ct, "application/json"), "swift: /info Content-Type application/json (%s)",
          ct ? ct : "none");
    rec_free(&r);

    rc = swift(vh, "GET", "/v1/AUTH_test", NULL, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 401, "swift: GET /v1/AUTH_test without token -> 401 (got %d)",
               r.status))
        dump_response(&r);
    rec_free(&r);

    rc = swift(vh, "GET", "/v1/AUTH_test", "AUTH_tkbogus0000000000000000", NULL, &r);
    check(rc == STOWAGE_OK && r.status == 401, "swift: GET /v1/AUTH_test with a bogus token -> 401 (got %d)",
          r.status);
    rec_free(&r);

    {
        reqb_t b;
        req_init(&b, "GET", "/auth/v1.0", NULL);
        req_header(&b, "X-Auth-User", "test:tester");
        req_header(&b, "X-Auth-Key", "wrong");
        rec_init(&r);
        rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
        check(rc == STOWAGE_OK && r.status == 401, "swift: /auth/v1.0 with a wrong key -> 401 (got %d)",
              r.status);
        rec_free(&r);
    }

    char *tok = get_token(vh, 1);
    if (!tok) {
        check(0, "swift: object flow skipped: no token");
        return;
    }

    rc = swift(vh, "PUT", "/v1/AUTH_test/c", tok, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 201, "swift: PUT /v1/AUTH_test/c -> 201 (got %d)", r.status))
        dump_response(&r);
    rec_free(&r);

    rc = swift(vh, "PUT", "/v1/AUTH_test/c/o", tok, "hello", &r);
    const char *et = rec_header(&r, "ETag");
    char etag[128] = "";
    if (et)
        snprintf(etag, sizeof etag, "%s", et);
    strip_quotes(etag);
    if (!check(rc == STOWAGE_OK && r.status == 201, "swift: PUT /v1/AUTH_test/c/o \"hello\" -> 201 (got %d)",
               r.status))
        dump_response(&r);
    check(strcmp(etag, "5d41402abc4b2a76b9719d911017c592") == 0,
          "swift: PUT answers ETag 5d41402abc4b2a76b9719d911017c592 (got '%s')", etag);
    check(r.read_done == 1 && r.body_pos == 5, "swift: PUT read the body to its end");
    rec_free(&r);

    rc = swift(vh, "GET", "/v1/AUTH_test/c/o", tok, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.len == 5 && memcmp(r.out.p, "hello", 5) == 0 &&
                   response_sane(&r),
               "swift: GET /v1/AUTH_test/c/o -> 200 \"hello\""))
        dump_response(&r);
    check(r.send_file_calls > 0 && r.send_file_errors == 0,
          "swift: GET body arrives through send_file (%d calls, %d writes)", r.send_file_calls,
          r.write_calls);
    et = rec_header(&r, "ETag");
    snprintf(etag, sizeof etag, "%s", et ? et : "");
    strip_quotes(etag);
    check(strcmp(etag, "5d41402abc4b2a76b9719d911017c592") == 0, "swift: GET answers the same ETag ('%s')",
          etag);
    const char *cl = rec_header(&r, "Content-Length");
    check(cl && strcmp(cl, "5") == 0, "swift: GET answers Content-Length 5 (%s)", cl ? cl : "none");
    rec_free(&r);

    rc = swift(vh, "HEAD", "/v1/AUTH_test/c/o", tok, NULL, &r);
    cl = rec_header(&r, "Content-Length");
    if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.len == 0 && cl && strcmp(cl, "5") == 0,
               "swift: HEAD object -> 200, Content-Length 5, no body"))
        dump_response(&r);
    rec_free(&r);

    rc = swift(vh, "GET", "/v1/AUTH_test/c", tok, NULL, &r);
    if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.p && has_line(r.out.p, "o"),
               "swift: GET container lists \"o\" (status %d)", r.status))
        dump_response(&r);
    rec_free(&r);

    /* A PUT whose body read fails midway: any error status (the client is
     * gone), or 408 when the host says the client stalled past its
     * timeouts. Either way nothing is stored. */
    {
        static const struct {
            const char *path;
            int fail_code;
            int want; /* 0: any 4xx/5xx */
        } cases[] = {
            {"/v1/AUTH_test/c/broken", STOWAGE_BODY_FAILED, 0},
            {"/v1/AUTH_test/c/stalled", STOWAGE_BODY_TIMEOUT, 408},
        };
        static const size_t pieces[] = {1000, 0};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            uint8_t *body = make_body(100000, (uint32_t)(11 + i));
            reqb_t b;
            req_init(&b, "PUT", cases[i].path, NULL);
            req_header(&b, "X-Auth-Token", tok);
            req_header(&b, "Content-Length", "100000");
            b.r.content_length = 100000;
            rec_init(&r);
            rec_body(&r, body, 100000, pieces);
            r.fail_at = 40000;
            r.fail_code = cases[i].fail_code;
            rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
            int ok = cases[i].want ? r.status == cases[i].want
                                   : (r.status >= 400 && r.status <= 599);
            if (!check(rc == STOWAGE_OK && ok, "swift: read_body %d mid-PUT -> %s (got %d), no crash",
                       cases[i].fail_code, cases[i].want ? "408" : "a 4xx/5xx", r.status))
                dump_response(&r);
            rec_free(&r);
            free(body);

            rc = swift(vh, "GET", cases[i].path, tok, NULL, &r);
            check(rc == STOWAGE_OK && r.status == 404, "swift: the failed PUT %s left no object (GET -> %d)",
                  cases[i].path, r.status);
            rec_free(&r);
        }
    }

    /* A PUT whose body is shorter than its Content-Length. */
    {
        reqb_t b;
        req_init(&b, "PUT", "/v1/AUTH_test/c/short", NULL);
        req_header(&b, "X-Auth-Token", tok);
        req_header(&b, "Content-Length", "10");
        b.r.content_length = 10;
        rec_init(&r);
        rec_body(&r, "hello", 5, NULL);
        rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
        check(rc == STOWAGE_OK && r.status >= 400 && r.status <= 599,
              "swift: PUT with body shorter than Content-Length -> 4xx/5xx (got %d)", r.status);
        rec_free(&r);
        rc = swift(vh, "GET", "/v1/AUTH_test/c/short", tok, NULL, &r);
        check(rc == STOWAGE_OK && r.status == 404, "swift: ...and left no object (GET -> %d)", r.status);
        rec_free(&r);
    }

    /* A chunked PUT of 1 MiB in odd pieces, then GET it back through send_file. */
    {
        static const size_t odd[] = {1, 7, 4096, 3, 65536, 13, 1000, 0};
        size_t n = 1u << 20;
        uint8_t *body = make_body(n, 99);
        char want[33];
        md5_of(body, n, want);
        reqb_t b;
        req_init(&b, "PUT", "/v1/AUTH_test/c/big%20one", NULL);
        req_header(&b, "X-Auth-Token", tok);
        req_header(&b, "Transfer-Encoding", "chunked");
        b.r.body_chunked = 1;
        rec_init(&r);
        rec_body(&r, body, n, odd);
        rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
        et = rec_header(&r, "ETag");
        snprintf(etag, sizeof etag, "%s", et ? et : "");
        strip_quotes(etag);
        if (!check(rc == STOWAGE_OK && r.status == 201 && strcmp(etag, want) == 0,
                   "swift: chunked PUT of 1 MiB in odd pieces -> 201 + ETag %s (got %d '%s')", want,
                   r.status, etag))
            dump_response(&r);
        rec_free(&r);

        rc = swift(vh, "GET", "/v1/AUTH_test/c/big%20one", tok, NULL, &r);
        char got[33] = "";
        if (r.out.len)
            md5_of(r.out.p, r.out.len, got);
        check(rc == STOWAGE_OK && r.status == 200 && r.out.len == n && strcmp(got, want) == 0,
              "swift: GET of the 1 MiB object returns the same bytes (%zu B, md5 %s)", r.out.len, got);
        rec_free(&r);

        /* Range GET. */
        reqb_t g;
        req_init(&g, "GET", "/v1/AUTH_test/c/big%20one", NULL);
        req_header(&g, "X-Auth-Token", tok);
        req_header(&g, "Range", "bytes=1000-1999");
        rec_init(&r);
        rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &g, &r);
        check(rc == STOWAGE_OK && r.status == 206 && r.out.len == 1000 &&
                  memcmp(r.out.p, body + 1000, 1000) == 0,
              "swift: Range bytes=1000-1999 -> 206 with the right 1000 bytes (status %d, %zu B)", r.status,
              r.out.len);
        rec_free(&r);
        free(body);
    }

    rc = swift(vh, "DELETE", "/v1/AUTH_test/c/o", tok, NULL, &r);
    check(rc == STOWAGE_OK && r.status == 204, "swift: DELETE object -> 204 (got %d)", r.status);
    rec_free(&r);
    rc = swift(vh, "GET", "/v1/AUTH_test/c/o", tok, NULL, &r);
    check(rc == STOWAGE_OK && r.status == 404, "swift: GET deleted object -> 404 (got %d)", r.status);
    rec_free(&r);

    /* Every optional field {NULL,0} on the Swift handler. */
    {
        stowage_request q;
        memset(&q, 0, sizeof q);
        q.method = S("GET");
        q.uri = S("/healthcheck");
        q.content_length = -1;
        rec_init(&r);
        rc = api->handle(vh, STOWAGE_HANDLER_SWIFT, &q, &host_ops, &r);
        if (!check(rc == STOWAGE_OK && r.status == 200 && r.out.p && strcmp(r.out.p, "OK") == 0,
                   "swift: /healthcheck with {NULL,0} optional fields works"))
            dump_response(&r);
        rec_free(&r);

        stowage_header h = {S("X-Auth-Token"), S(tok)};
        memset(&q, 0, sizeof q);
        q.method = S("GET");
        q.uri = S("/v1/AUTH_test/c");
        q.headers = &h;
        q.header_count = 1;
        q.content_length = -1;
        rec_init(&r);
        rc = api->handle(vh, STOWAGE_HANDLER_SWIFT, &q, &host_ops, &r);
        if (!check(rc == STOWAGE_OK && r.status >= 200 && r.status < 300,
                   "swift: container GET with {NULL,0} query/scheme/host/user/id works (status %d)", r.status))
            dump_response(&r);
        rec_free(&r);
    }

    /* Empty method or URI: an answer, not a crash. */
    {
        stowage_request q;
        memset(&q, 0, sizeof q);
        q.content_length = -1;
        rec_init(&r);
        rc = api->handle(vh, STOWAGE_HANDLER_SWIFT, &q, &host_ops, &r);
        check((rc == STOWAGE_OK && r.status >= 400) || rc == STOWAGE_ERR_ARGUMENT,
              "swift: empty method and URI -> 4xx or STOWAGE_ERR_ARGUMENT (rc=%d status=%d)", rc, r.status);
        rec_free(&r);
    }
    free(tok);
}

/* ------------------------------------------------------------------------ */
/* Tests: the panic boundary (test-hooks library)                            */

/* ABI v3's flush: a bulk delete whose heartbeat is due at every step
 * (X-Stowage-Test-Yield-Ms: 0, test-hooks build) flushes after each beat,
 * and its body is the beats, a blank line, then the results. */
static void test_flush(stowage_vhost *vh)
{
    char *tok = get_token(vh, 0);
    if (!check(tok != NULL, "flush: got a token"))
        return;
    rec_t r;
    swift(vh, "PUT", "/v1/AUTH_test/hb", tok, NULL, &r);
    rec_free(&r);
    swift(vh, "PUT", "/v1/AUTH_test/hb/a", tok, "x", &r);
    rec_free(&r);
    const char *list = "/hb/a\n/hb/b\n/hb/c\n";
    reqb_t b;
    req_init(&b, "POST", "/v1/AUTH_test", "bulk-delete");
    req_header(&b, "X-Auth-Token", tok);
    req_header(&b, "Content-Type", "text/plain");
    req_header(&b, "Accept", "application/json");
    req_header(&b, "X-Stowage-Test-Yield-Ms", "0");
    char cl[32];
    snprintf(cl, sizeof cl, "%zu", strlen(list));
    req_header(&b, "Content-Length", cl);
    b.r.content_length = (int64_t)strlen(list);
    rec_init(&r);
    rec_body(&r, list, strlen(list), NULL);
    int rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
    const char *sep = r.out.p ? strstr(r.out.p, "\r\n\r\n") : NULL;
    check(rc == STOWAGE_OK && r.status == 200, "flush: bulk delete answers 200 (rc=%d status=%d)",
          rc, r.status);
    check(r.flush_calls >= 1, "flush: each heartbeat is flushed (%d flushes)", r.flush_calls);
    if (!check(r.out.p && r.out.p[0] == ' ' && sep && strstr(sep, "\"Number Deleted\": 1"),
               "flush: body is heartbeats, a blank line, then the results"))
        dump_response(&r);
    rec_free(&r);
    free(tok);
}

static void test_panic(stowage_vhost *vh)
{
    reqb_t b;
    req_init(&b, "GET", "/healthcheck", NULL);
    req_header(&b, "X-Stowage-Test-Panic", "1");
    rec_t r;
    rec_init(&r);
    int rc = do_req(vh, STOWAGE_HANDLER_SWIFT, &b, &r);
    check(rc == STOWAGE_ERR_PANIC, "panic: handle returns STOWAGE_ERR_PANIC (rc=%d)", rc);
    check(r.status == 500, "panic: the recorded status is 500 (got %d)", r.status);
    if (!check(r.logs > 0, "panic: a log line came through ops->log (%d lines)", r.logs))
        dump_response(&r);
    else if (getenv("ABI_HOST_VERBOSE"))
        diag("panic log: %s", r.logtext.p);
    rec_free(&r);

    /* The debug handler too. */
    req_init(&b, "GET", "/debug", NULL);
    req_header(&b, "X-Stowage-Test-Panic", "1");
    rec_init(&r);
    rc = do_req(NULL, STOWAGE_HANDLER_DEBUG, &b, &r);
    check(rc == STOWAGE_ERR_PANIC && r.status == 500 && r.logs > 0,
          "panic: debug handler too -> STOWAGE_ERR_PANIC, 500, logged (rc=%d status=%d logs=%d)", rc, r.status,
          r.logs);
    rec_free(&r);

    /* Same vhost still serves. */
    rec_init(&r);
    rc = swift(vh, "GET", "/healthcheck", NULL, NULL, &r);
    check(rc == STOWAGE_OK && r.status == 200 && r.out.p && strcmp(r.out.p, "OK") == 0,
          "panic: the same vhost still answers /healthcheck afterwards");
    rec_free(&r);
    char *tok = get_token(vh, 0);
    int ok = tok != NULL;
    if (tok) {
        swift(vh, "PUT", "/v1/AUTH_test/after-panic", tok, NULL, &r);
        ok &= r.status == 201 || r.status == 202;
        rec_free(&r);
    }
    check(ok, "panic: auth and a container PUT still work afterwards");
    free(tok);

    check(debug_roundtrip(NULL, "after panic", 1234, 0, NULL, 1), "panic: debug handler works afterwards");
}

/* ------------------------------------------------------------------------ */
/* Tests: concurrency                                                        */

typedef struct {
    int id;
    stowage_vhost *vh;
    int failures;
    char first_failure[200];
} thr_t;

static void *thr_main(void *arg)
{
    thr_t *t = arg;
    static const size_t pieces[] = {1, 7, 4096, 3, 0};
    for (int i = 0; i < 200; i++) {
        char label[64];
        snprintf(label, sizeof label, "thread %d iteration %d", t->id, i);
        size_t len = (size_t)((t->id * 7919 + i * 104729) % 20000);
        if (!debug_roundtrip(NULL, label, len, i % 3 == 0, pieces, 1)) {
            if (!t->failures++)
                snprintf(t->first_failure, sizeof t->first_failure, "%s: debug roundtrip", label);
        }
        rec_t r;
        int rc = swift(t->vh, "GET", "/healthcheck", NULL, NULL, &r);
        if (!(rc == STOWAGE_OK && r.status == 200 && r.out.p && strcmp(r.out.p, "OK") == 0)) {
            if (!t->failures++)
                snprintf(t->first_failure, sizeof t->first_failure, "%s: healthcheck status %d", label,
                         r.status);
        }
        rec_free(&r);
    }
    return NULL;
}

static void test_concurrency(stowage_vhost *vh)
{
    enum { N = 8 };
    pthread_t th[N];
    thr_t ts[N];
    for (int i = 0; i < N; i++) {
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].id = i;
        ts[i].vh = vh;
        if (pthread_create(&th[i], NULL, thr_main, &ts[i]) != 0) {
            check(0, "concurrency: pthread_create");
            return;
        }
    }
    int fails = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        fails += ts[i].failures;
    }
    if (!check(fails == 0, "concurrency: 8 threads x 200 debug requests + healthchecks all correct (%d failed)",
               fails))
        for (int i = 0; i < N; i++)
            if (ts[i].failures)
                diag("%s", ts[i].first_failure);
}

/* Concurrent PUTs to one container from several threads. */
typedef struct {
    int id;
    stowage_vhost *vh;
    const char *tok;
    int failures;
    int last_status;
} pthr_t;

static void *put_main(void *arg)
{
    pthr_t *t = arg;
    for (int i = 0; i < 25; i++) {
        char uri[128], body[64];
        snprintf(uri, sizeof uri, "/v1/AUTH_test/conc/t%d-o%d", t->id, i);
        snprintf(body, sizeof body, "thread %d object %d", t->id, i);
        rec_t r;
        swift(t->vh, "PUT", uri, t->tok, body, &r);
        if (r.status != 201) {
            t->failures++;
            t->last_status = r.status;
        }
        rec_free(&r);
        swift(t->vh, "GET", uri, t->tok, NULL, &r);
        if (r.status != 200 || r.out.len != strlen(body) || memcmp(r.out.p, body, r.out.len) != 0) {
            t->failures++;
            t->last_status = r.status;
        }
        rec_free(&r);
    }
    return NULL;
}

static void test_concurrent_puts(stowage_vhost *vh)
{
    char *tok = get_token(vh, 0);
    if (!tok) {
        check(0, "concurrency: 8 threads x 25 object PUT+GET (no token)");
        return;
    }
    rec_t r;
    swift(vh, "PUT", "/v1/AUTH_test/conc", tok, NULL, &r);
    rec_free(&r);
    enum { N = 8 };
    pthread_t th[N];
    pthr_t ts[N];
    for (int i = 0; i < N; i++) {
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].id = i;
        ts[i].vh = vh;
        ts[i].tok = tok;
        pthread_create(&th[i], NULL, put_main, &ts[i]);
    }
    int fails = 0, last = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        fails += ts[i].failures;
        if (ts[i].failures)
            last = ts[i].last_status;
    }
    check(fails == 0, "concurrency: 8 threads x 25 object PUT+GET in one container (%d failed, last status %d)",
          fails, last);
    swift(vh, "GET", "/v1/AUTH_test/conc", tok, NULL, &r);
    int lines = 0;
    for (size_t i = 0; i < r.out.len; i++)
        lines += r.out.p[i] == '\n';
    check(r.status == 200 && lines == 200, "concurrency: the container lists all 200 objects (%d)", lines);
    rec_free(&r);
    free(tok);
}

/* ------------------------------------------------------------------------ */
/* Tests: fork after vhost_new, child_init in the child (Apache's prefork).  */

static void test_fork(stowage_vhost *vh)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        check(0, "fork");
        return;
    }
    if (pid == 0) {
        api->child_init();
        int code = 0;
        rec_t r;
        swift(vh, "GET", "/healthcheck", NULL, NULL, &r);
        if (r.status != 200)
            code |= 1;
        rec_free(&r);
        char *tok = get_token(vh, 0);
        if (!tok)
            code |= 2;
        else {
            swift(vh, "PUT", "/v1/AUTH_test/c/from-child", tok, "child", &r);
            if (r.status != 201)
                code |= 4;
            rec_free(&r);
            free(tok);
        }
        _exit(code);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fork: a forked child after child_init() serves healthcheck, auth and PUT (exit %d%s)",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? ", killed by a signal" : "");
    /* The parent sees the child's object. */
    char *tok = get_token(vh, 0);
    if (tok) {
        rec_t r;
        swift(vh, "GET", "/v1/AUTH_test/c/from-child", tok, NULL, &r);
        check(r.status == 200 && r.out.len == 5 && memcmp(r.out.p, "child", 5) == 0,
              "fork: the parent reads the object the child wrote (status %d)", r.status);
        rec_free(&r);
        free(tok);
    }
}

/* ------------------------------------------------------------------------ */

static int rm_rf(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

int main(int argc, char **argv)
{
    const char *suite = "normal";
    const char *lib = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--suite=", 8) == 0)
            suite = argv[i] + 8;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--suite=normal|panic|all] LIBRARY.so\n", argv[0]);
            return 2;
        } else
            lib = argv[i];
    }
    int do_normal = strcmp(suite, "normal") == 0 || strcmp(suite, "all") == 0;
    int do_panic = strcmp(suite, "panic") == 0 || strcmp(suite, "all") == 0;
    if (!lib || (!do_normal && !do_panic)) {
        fprintf(stderr, "usage: %s [--suite=normal|panic|all] LIBRARY.so\n", argv[0]);
        return 2;
    }

    { /* MD5 self-test, so a Body-MD5 mismatch is never the host's fault. */
        char h[33];
        md5_of("", 0, h);
        int ok = strcmp(h, "d41d8cd98f00b204e9800998ecf8427e") == 0;
        md5_of("hello", 5, h);
        ok &= strcmp(h, "5d41402abc4b2a76b9719d911017c592") == 0;
        md5_of("The quick brown fox jumps over the lazy dog", 43, h);
        ok &= strcmp(h, "9e107d9d372bb6826bd81d3542a419d6") == 0;
        if (!ok) {
            fprintf(stderr, "abi-host: MD5 self-test failed\n");
            return 2;
        }
    }

    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!check(h != NULL, "dlopen %s", lib)) {
        diag("%s", dlerror());
        return 1;
    }
    const stowage_api *(*get)(uint32_t);
    *(void **)&get = dlsym(h, "stowage_get_api");
    if (!check(get != NULL, "dlsym stowage_get_api")) {
        return 1;
    }
    test_get_api(get);
    api = get(STOWAGE_ABI_VERSION);
    if (!api) {
        return 1;
    }

    char tmpl[] = "/tmp/stowage-abi-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    if (!tmp) {
        perror("mkdtemp");
        return 2;
    }
    char root[256];
    snprintf(root, sizeof root, "%s/root", tmp);

    if (do_normal)
        test_check_directive(tmp);
    stowage_vhost *vh = do_normal ? test_vhost(root) : make_vhost(root, NULL, 0);
    if (do_panic && !vh)
        check(0, "panic: vhost_new for the panic tests");
    if (vh)
        api->child_init();

    if (do_normal) {
        test_debug_handler();
        if (vh) {
            test_swift(vh);
            test_concurrency(vh);
            test_concurrent_puts(vh);
            test_fork(vh);
        }
    }
    if (do_panic && vh) {
        test_panic(vh);
        test_flush(vh);
    }

    if (vh)
        api->vhost_free(vh);
    api->shutdown();
    check(1, "vhost_free + shutdown return");
    rm_rf(tmp);
    /* No dlclose: a Rust cdylib's thread-locals may still be registered. */

    printf("# %s: %d passed, %d failed\n", suite, n_pass, n_fail);
    return n_fail ? 1 : 0;
}
