/*
 * stowage.h - the C ABI between a web server shim and libstowage.
 *
 * This header is the single source of truth for both sides: the Rust library
 * gets its types from it through bindgen (build.rs), and the Apache shim
 * (ffi/apache/mod_stowage.c) and the C test host (tests/abi/) include it.
 *
 * Rules of the boundary:
 *  - A host obtains every entry point through stowage_get_api(), passing the
 *    STOWAGE_ABI_VERSION it was compiled against. A library that does not
 *    speak that version returns NULL and the host must refuse to start.
 *  - Strings are {ptr,len} views (stowage_str), never NUL-terminated, and are
 *    only borrowed for the duration of the call that receives them.
 *  - Nothing allocated on one side is freed by the other. Error messages are
 *    written into a caller-provided buffer (always NUL-terminated when
 *    err_len > 0).
 *  - No panic crosses the boundary: a panic inside a call is logged through
 *    the host's log callback and reported as STOWAGE_ERR_PANIC (for a request,
 *    after a 500 response if nothing was sent yet).
 *  - All functions are thread-safe unless noted.
 */
#ifndef STOWAGE_H
#define STOWAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any incompatible change to a type or to stowage_api below. */
/* 2: the status entry and STOWAGE_HANDLER_STATUS (admission gates). */
/* 3: stowage_host_ops.flush (heartbeats of long bulk and SLO requests). */
#define STOWAGE_ABI_VERSION 3u

/* A borrowed byte string. ptr may be NULL only when len == 0. */
typedef struct stowage_str {
    const char *ptr;
    size_t len;
} stowage_str;

/* Result codes: 0 is success, errors live in stable ranges. */
typedef enum stowage_result {
    STOWAGE_OK = 0,
    STOWAGE_ERR_ARGUMENT = 1,  /* a NULL or malformed argument */
    STOWAGE_ERR_CONFIG = 2,    /* a directive or configuration is invalid */
    STOWAGE_ERR_IO = 3,        /* the storage root could not be prepared */
    STOWAGE_ERR_ABORTED = 4,   /* handle: the response broke off after it
                                * started (stored bytes failed verification):
                                * the host must end it so that no client can
                                * take it as complete (close the connection,
                                * no last chunk) */
    STOWAGE_ERR_PANIC = 100    /* a bug: caught at the boundary and logged */
} stowage_result;

/* Log levels, mapped by the host onto its own (Apache: APLOG_*). */
typedef enum stowage_log_level {
    STOWAGE_LOG_ERROR = 1,
    STOWAGE_LOG_WARN = 2,
    STOWAGE_LOG_INFO = 3,
    STOWAGE_LOG_DEBUG = 4
} stowage_log_level;

/* Negative results of read_body: why the body cannot be read. A library
 * treats any other negative value as STOWAGE_BODY_FAILED. */
typedef enum stowage_body_error {
    STOWAGE_BODY_FAILED = -1,  /* client gone, malformed chunking, host limit */
    STOWAGE_BODY_TIMEOUT = -2  /* the client did not send it in time (Apache:
                                * Timeout, mod_reqtimeout) */
} stowage_body_error;

/* Which processor a host location is bound to (Apache: SetHandler). */
typedef enum stowage_handler {
    STOWAGE_HANDLER_SWIFT = 0, /* "stowage": the Swift v1 API, auth, info */
    STOWAGE_HANDLER_DEBUG = 1, /* "stowage-debug": echo the request, count the body */
    STOWAGE_HANDLER_STATUS = 2 /* "stowage-status": the vhost's gate figures as JSON */
} stowage_handler;

/* Renderings of stowage_api.status. */
typedef enum stowage_status_format {
    STOWAGE_STATUS_HTML = 0,   /* a section for the host's status page */
    STOWAGE_STATUS_TEXT = 1,   /* "Key: value" lines (mod_status ?auto) */
    STOWAGE_STATUS_JSON = 2    /* one JSON object */
} stowage_status_format;

/* Output sink for stowage_api.status: called any number of times with
 * borrowed bytes. */
typedef void (*stowage_write_fn)(void *ctx, stowage_str bytes);

/* Host log sink for messages that belong to no request (configuration,
 * start-up). host_data is whatever the host passed along with it. */
typedef void (*stowage_log_fn)(void *host_data, int level, stowage_str message);

/* Every configuration directive the library parses, the one list both
 * sides take theirs from: a host builds its directive table with
 * STOWAGE_DIRECTIVES(X), and the library's unit tests fail when the names it
 * parses differ from these. X(name, args, secret, help): `args` is TAKE1
 * (exactly one argument) or RAW_ARGS (a line the host splits into words,
 * quotes honoured; the library checks the count), `secret` the 1-based
 * argument that error messages must not echo (0: none). Every directive is
 * per server (server config or <VirtualHost>). */
#define STOWAGE_DIRECTIVES(X)                                                  \
    X("StowageRoot", TAKE1, 0,                                                 \
      "StowageRoot <absolute path>: where this server's accounts, "            \
      "containers and objects are stored")                                     \
    X("StowageUser", RAW_ARGS, 2,                                              \
      "StowageUser <account:user> <key> [.admin] [.reseller_admin]: a "        \
      "TempAuth-style user")                                                   \
    X("StowageTokenLife", TAKE1, 0,                                            \
      "StowageTokenLife <seconds>: lifetime of the tokens /auth/v1.0 issues "  \
      "(default 86400)")                                                       \
    X("StowageGate", RAW_ARGS, 0,                                              \
      "StowageGate object-read|object-write|object|container|account off | "   \
      "[limit=N] [queue=N] [wait=DURATION] [yield=N|off] [scope=db|vhost]: "   \
      "a processor's admission gate")                                          \
    X("StowageApacheAuth", RAW_ARGS, 0,                                        \
      "StowageApacheAuth Off|On|Only: act on the user Apache's own "           \
      "authentication established (Only: ignore tokens)")                      \
    X("StowageApacheUser", RAW_ARGS, 0,                                        \
      "StowageApacheUser <apache-user> <account> [.admin] "                    \
      "[.reseller_admin]: map an Apache user to a Swift account")              \
    X("StowageHashPathPrefix", TAKE1, 1,                                       \
      "StowageHashPathPrefix <secret>: salt before the names hashed to "       \
      "storage paths (Swift's swift_hash_path_prefix)")                        \
    X("StowageHashPathSuffix", TAKE1, 1,                                       \
      "StowageHashPathSuffix <secret>: salt after the names hashed to "        \
      "storage paths (Swift's swift_hash_path_suffix)")                        \
    X("StowageCorsAllowOrigin", RAW_ARGS, 0,                                   \
      "StowageCorsAllowOrigin <origin>...: origins allowed CORS requests to "  \
      "every container (Swift's cors_allow_origin)")                           \
    X("StowageCorsExposeHeaders", RAW_ARGS, 0,                                 \
      "StowageCorsExposeHeaders <header>...: headers every CORS answer "       \
      "exposes (Swift's cors_expose_headers)")                                 \
    X("StowageStrictCorsMode", TAKE1, 0,                                       \
      "StowageStrictCorsMode On|Off: CORS headers only for allowed origins "   \
      "(default On, Swift's strict_cors_mode)")                            \
    X("StowageStoragePolicy", RAW_ARGS, 0,                                     \
      "StowageStoragePolicy <index> <name> [aliases=NAME,...] [default] "     \
      "[deprecated]: a storage policy, as swift.conf's [storage-policy:N]") \
    X("StowageObjectServer", TAKE1, 0,                                         \
      "StowageObjectServer <absolute path>: serve Swift's object-server "      \
      "protocol for the devices in this directory (a backend object node)")    \
    X("StowageSwiftConf", TAKE1, 0,                                            \
      "StowageSwiftConf <absolute path>: the swift.conf a backend object "     \
      "server reads (hash path prefix/suffix, storage policies)")

/* One configuration directive as the host parsed it: argv[0] is the
 * directive name (e.g. "StowageRoot"), argv[1..argc) its arguments. */
typedef struct stowage_directive {
    const stowage_str *argv;
    size_t argc;
} stowage_directive;

typedef struct stowage_header {
    stowage_str name;
    stowage_str value;
} stowage_header;

/* A request as the host received it. Every field is borrowed for the
 * duration of stowage_api.handle only. */
typedef struct stowage_request {
    stowage_str method;        /* "GET", "PUT", ... */
    stowage_str uri;           /* raw request path, still percent-encoded, no query */
    stowage_str query;         /* raw query string without '?', possibly empty */
    stowage_str scheme;        /* "http" or "https" */
    stowage_str host;          /* Host header value (or server name[:port]) */
    stowage_str remote_user;   /* identity established by the host's authn, or empty */
    stowage_str request_id;    /* the host's unique id of this request, or empty */
    const stowage_header *headers;
    size_t header_count;
    int64_t content_length;    /* -1 when the request has no Content-Length */
    int body_chunked;          /* 1 when the client sent Transfer-Encoding: chunked */
} stowage_request;

/* How the library talks back to the host during one request. ctx is the
 * host's per-request pointer, passed back unchanged. Status and headers must
 * be set before the first write/send_file; the host sends them then. */
typedef struct stowage_host_ops {
    /* Read up to len bytes of the request body, already de-chunked by the
     * host. Returns the number of bytes read (> 0), 0 at the end of the body,
     * STOWAGE_BODY_TIMEOUT when the client stalled past the host's timeouts,
     * or STOWAGE_BODY_FAILED (-1) when the body cannot be read for another
     * reason (client gone, malformed chunking, host body limit). A request with content_length == -1 and
     * body_chunked == 0 may still have a body (HTTP/2): read until 0. */
    int64_t (*read_body)(void *ctx, uint8_t *buf, size_t len);
    void (*set_status)(void *ctx, int status);
    /* Add a response header. "Content-Type" and "Content-Length" are
     * recognised by the host and set through its own mechanisms. Values never
     * contain CR or LF. */
    void (*add_header)(void *ctx, stowage_str name, stowage_str value);
    /* Send body bytes. Returns 0, or -1 when the client is gone. */
    int (*write)(void *ctx, const uint8_t *buf, size_t len);
    /* Send len bytes of the open file fd starting at offset, using the
     * host's zero-copy path where it has one. The library keeps ownership of
     * fd and may close it when handle returns: a host that sends lazily must
     * dup() it. Returns 0, or -1 on failure. */
    int (*send_file)(void *ctx, int fd, uint64_t offset, uint64_t len);
    /* Log a line tied to this request (Apache: ap_log_rerror). */
    void (*log)(void *ctx, int level, stowage_str message);
    /* Attach a named note to the request for the host's access log
     * (Apache: r->notes, so LogFormat "%{name}n" prints it). */
    void (*set_note)(void *ctx, stowage_str name, stowage_str value);
    /* Send what earlier write/send_file calls left buffered now, headers
     * included, instead of when the host would (a long request's heartbeat
     * must reach the client while the work goes on). Returns 0, or -1 when
     * the client is gone. May be NULL: a host that buffers nothing. */
    int (*flush)(void *ctx);
} stowage_host_ops;

/* A configured virtual host: its storage root, users, limits. Opaque. */
typedef struct stowage_vhost stowage_vhost;

/* The library's entry points, one table per ABI version. abi_version and
 * lib_version stay the first two fields in every version, so a host can name
 * both sides' versions when they do not match. */
typedef struct stowage_api {
    uint32_t abi_version;      /* == STOWAGE_ABI_VERSION */
    stowage_str lib_version;   /* the library's own version, e.g. "0.1.0" */

    /* Validate one directive on its own (called while the host parses its
     * configuration, so e.g. `apachectl -t` fails on the directive's line).
     * Returns STOWAGE_OK or STOWAGE_ERR_CONFIG with a message in err. */
    int (*check_directive)(const stowage_directive *directive,
                           char *err, size_t err_len);

    /* Build a virtual host from all of its directives. Validates the set as
     * a whole and prepares the storage root, but opens no database and
     * starts no thread, so it may be called before the host forks (Apache:
     * in its parent, possibly more than once for the same directives, and a
     * vhost may be freed without ever serving a request). It creates nothing
     * on disk: workers create what they need on first use, as their own
     * user. On failure returns NULL with a message in err. log/log_data receive
     * messages that belong to this vhost but to no request; both must stay
     * valid until vhost_free. */
    stowage_vhost *(*vhost_new)(const stowage_directive *directives, size_t count,
                                stowage_log_fn log, void *log_data,
                                char *err, size_t err_len);
    void (*vhost_free)(stowage_vhost *vhost);

    /* Called once in each worker process after the host forks it. */
    void (*child_init)(void);

    /* Serve one request completely (status, headers and body through ops).
     * vhost may be NULL for STOWAGE_HANDLER_DEBUG. Returns STOWAGE_OK when a
     * response was produced, STOWAGE_ERR_ABORTED when it broke off half-way
     * on purpose, STOWAGE_ERR_PANIC after a caught panic. */
    int (*handle)(stowage_vhost *vhost, int handler, const stowage_request *request,
                  const stowage_host_ops *ops, void *ctx);

    /* Release process-wide resources; no call may follow. Optional for the
     * host (Apache children may exit without reaching a safe point to call
     * it) and idempotent. */
    void (*shutdown)(void);

    /* Write the node-wide figures of the vhost's admission gates (limit,
     * in flight, queued, admitted, shed, timed out, wait percentiles) in
     * `format` (a stowage_status_format) through write(ctx, ...). `index`
     * numbers the vhost in the host's list, so TEXT keys stay unique.
     * Call only in a worker process (after child_init). Returns STOWAGE_OK,
     * STOWAGE_ERR_ARGUMENT for a NULL vhost/write or an unknown format. */
    int (*status)(stowage_vhost *vhost, int format, unsigned index,
                  stowage_write_fn write, void *ctx);
} stowage_api;

/* The one exported symbol. Returns the table for abi_version, or NULL when
 * this library does not implement that version. */
const stowage_api *stowage_get_api(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif /* STOWAGE_H */
