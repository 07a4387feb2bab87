/*
 * mod_stowage.c - the thin Apache httpd 2.4 shim for libstowage.
 *
 * Everything Swift lives in libstowage (Rust); this module only translates
 * between Apache and the C ABI in ffi/stowage.h:
 *
 *   - configuration: every Stowage* directive is validated on its own through
 *     check_directive() while Apache parses (so `apache2 -t` names the file,
 *     line and directive), collected per server as an argv list, and handed
 *     to vhost_new() as a whole;
 *   - lifecycle: stowage_get_api() in pre_config (an ABI mismatch refuses to
 *     start); check_config builds and frees each vhost once, so `apache2 -t`
 *     and a start fail on a directive set the library rejects; post_config
 *     (real pass) builds the vhosts to serve with (a failure refuses to
 *     start); vhost_free() when the configuration pool goes; child_init()
 *     in every worker process. vhost_new() runs as Apache's User/Group when
 *     Apache starts as root, so the storage it prepares belongs to the
 *     children. api->shutdown() is never called: Apache has no point where
 *     it is safe (children leave through exit() or a signal handler, and the
 *     parent keeps the library loaded across restarts).
 *   - requests: `SetHandler stowage` (Swift API) and `SetHandler
 *     stowage-debug` (echo) build a stowage_request from request_rec and
 *     serve it through the host ops below (body reads through the input
 *     filters, so chunked bodies are de-chunked and LimitRequestBody holds;
 *     output through a brigade; files as file buckets for sendfile/mmap).
 *     The path handed over is the raw one from the request line; for these
 *     requests Apache is also told not to percent-decode r->uri.
 *
 * Inheritance of directives between the main server and <VirtualHost>s:
 * a virtual host that contains at least one Stowage* directive uses exactly
 * its own directives (nothing is inherited, not even StowageUser lines, so
 * users and storage never leak between vhosts by accident); a virtual host
 * without any Stowage* directive inherits the main server's list and shares
 * the main server's storage instance (one stowage_vhost, not a copy).
 *
 * The only global mutable state is the api pointer, written in pre_config
 * while Apache is single-threaded and only read afterwards.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_expr.h"
#include "util_filter.h"
#include "unixd.h"
#include "mod_status.h"

#include "apr_buckets.h"
#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_portable.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "stowage.h"

module AP_MODULE_DECLARE_DATA stowage_module;
APLOG_USE_MODULE(stowage);

/* The library's entry points for STOWAGE_ABI_VERSION; set in pre_config. */
static const stowage_api *api;

#define HANDLER_SWIFT "stowage"
#define HANDLER_DEBUG "stowage-debug"
#define HANDLER_STATUS "stowage-status"

/* Room for a library error message (check_directive, vhost_new). */
#define ERR_BUF_LEN 1024

/* A body remainder up to this size that has already arrived when the
 * response is settled is read and thrown away (so the connection stays
 * alive); one still on its way, a bigger one, or one of unknown size
 * closes the connection instead (drop_arrived_body). */
#define DISCARD_BODY_MAX (64 * 1024)

/* Library messages are logged without a source position: the shim's own
 * file and line would only mislead (and ErrorLogFormat's %F field drops
 * out when empty). */
#define LIB_MARK NULL, 0, APLOG_MODULE_INDEX

/* Largest single read handed to the input filters. */
#define READ_CHUNK_MAX ((size_t)1 << 30)

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* The directives written in one server (main or <VirtualHost>) and the
 * library vhost built from them. Shared by the servers that inherit it. */
typedef struct stowage_instance {
    apr_array_header_t *directives; /* of stowage_directive, in file order */
    server_rec *defined_in;         /* the server the directives belong to */
    stowage_vhost *vhost;           /* built in post_config, NULL before */
    pid_t built_by;                 /* the process that built vhost */
} stowage_instance;

typedef struct {
    stowage_instance *inst;         /* NULL: no Stowage* directive applies */
} stowage_server_conf;

/* Directive table flag (cmd_data): argument N (1-based) is a secret and is
 * not echoed back in error messages. */
#define SECRET_ARG(n) ((void *)(intptr_t)(n))

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(stowage_server_conf));
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const stowage_server_conf *base = basev;
    const stowage_server_conf *add = addv;
    stowage_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    /* Whole-list rule, see the comment at the top of the file. */
    conf->inst = add->inst ? add->inst : base->inst;
    return conf;
}

static stowage_str str_view(const char *s)
{
    stowage_str v;
    v.ptr = s ? s : "";
    v.len = s ? strlen(s) : 0;
    return v;
}

static int clamp_int(size_t len)
{
    return len > (size_t)INT_MAX ? INT_MAX : (int)len;
}

/* The directive as written, for error messages, with a secret masked. */
static const char *echo_directive(apr_pool_t *p, const stowage_directive *d,
                                  intptr_t secret)
{
    const char *out = apr_pstrmemdup(p, d->argv[0].ptr, d->argv[0].len);
    size_t i;

    for (i = 1; i < d->argc; i++) {
        const char *arg = (secret > 0 && (size_t)secret == i)
            ? "***" : apr_pstrmemdup(p, d->argv[i].ptr, d->argv[i].len);
        out = apr_pstrcat(p, out,
                          ap_strchr_c(arg, ' ') || !*arg ? " \"" : " ",
                          arg,
                          ap_strchr_c(arg, ' ') || !*arg ? "\"" : "",
                          NULL);
    }
    return out;
}

/* Validate one directive through the library and append it to this
 * server's list. Returns NULL or an error message for Apache to report
 * ("Syntax error on line N of FILE: ..."). */
static const char *add_directive(cmd_parms *cmd, apr_array_header_t *args)
{
    stowage_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &stowage_module);
    stowage_directive d;
    char err[ERR_BUF_LEN];
    int rc;
    const char *ctx_err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);

    if (ctx_err) {
        return ctx_err;
    }
    if (!api) {
        return apr_psprintf(cmd->pool, "%s: libstowage is not loaded",
                            cmd->cmd->name);
    }

    d.argv = (const stowage_str *)args->elts;
    d.argc = (size_t)args->nelts;

    err[0] = '\0';
    rc = api->check_directive(&d, err, sizeof(err));
    if (rc != STOWAGE_OK) {
        size_t n = strlen(cmd->cmd->name);
        if (!strncasecmp(err, cmd->cmd->name, n)
            && (err[n] == ' ' || err[n] == ':')) {
            /* The library already names the directive (and the value). */
            return apr_pstrdup(cmd->pool, err);
        }
        return apr_psprintf(cmd->pool, "%s: %s",
                            echo_directive(cmd->temp_pool, &d,
                                           (intptr_t)cmd->info),
                            err[0] ? err : "invalid directive");
    }

    if (!conf->inst) {
        conf->inst = apr_pcalloc(cmd->pool, sizeof(stowage_instance));
        conf->inst->directives =
            apr_array_make(cmd->pool, 4, sizeof(stowage_directive));
        conf->inst->defined_in = cmd->server;
    }
    *(stowage_directive *)apr_array_push(conf->inst->directives) = d;
    return NULL;
}

static apr_array_header_t *new_args(cmd_parms *cmd)
{
    apr_array_header_t *args =
        apr_array_make(cmd->pool, 4, sizeof(stowage_str));
    *(stowage_str *)apr_array_push(args) = str_view(cmd->cmd->name);
    return args;
}

/* TAKE1 directives (StowageRoot, StowageTokenLife). */
static const char *set_take1(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_array_header_t *args = new_args(cmd);
    (void)dconf;
    *(stowage_str *)apr_array_push(args) =
        str_view(apr_pstrdup(cmd->pool, arg));
    return add_directive(cmd, args);
}

/* RAW_ARGS directives: split like Apache does (quotes honoured), any
 * number of arguments; the library checks the count. */
static const char *set_raw_args(cmd_parms *cmd, void *dconf, const char *line)
{
    apr_array_header_t *args = new_args(cmd);
    (void)dconf;
    while (apr_isspace(*line)) {
        line++;
    }
    while (*line) {
        char *word = ap_getword_conf(cmd->pool, &line);
        *(stowage_str *)apr_array_push(args) = str_view(word);
        while (apr_isspace(*line)) {
            line++;
        }
    }
    return add_directive(cmd, args);
}

/* The directive table, from the header's one list (STOWAGE_DIRECTIVES);
 * the library validates the arguments. */
#define STOWAGE_CMD_TAKE1(name, secret, help)                                 \
    AP_INIT_TAKE1(name, set_take1, SECRET_ARG(secret), RSRC_CONF, help),
#define STOWAGE_CMD_RAW_ARGS(name, secret, help)                              \
    AP_INIT_RAW_ARGS(name, set_raw_args, SECRET_ARG(secret), RSRC_CONF, help),
#define STOWAGE_CMD(name, args, secret, help) STOWAGE_CMD_##args(name, secret, help)
static const command_rec stowage_cmds[] = {
    STOWAGE_DIRECTIVES(STOWAGE_CMD)
    {NULL}
};

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

static int map_level(int level)
{
    switch (level) {
    case STOWAGE_LOG_ERROR: return APLOG_ERR;
    case STOWAGE_LOG_WARN:  return APLOG_WARNING;
    case STOWAGE_LOG_INFO:  return APLOG_INFO;
    case STOWAGE_LOG_DEBUG: return APLOG_DEBUG;
    default:                return level < STOWAGE_LOG_ERROR ? APLOG_ERR
                                                             : APLOG_DEBUG;
    }
}

/* stowage_log_fn for messages of a vhost that belong to no request. */
static void log_to_server(void *host_data, int level, stowage_str message)
{
    const server_rec *s = host_data;
    ap_log_error(LIB_MARK, map_level(level), 0, s, "%.*s",
                 clamp_int(message.len), message.ptr ? message.ptr : "");
}

static const char *server_desc(apr_pool_t *p, const server_rec *s)
{
    if (s->is_virtual && s->defn_name) {
        return apr_psprintf(p, "<VirtualHost> at %s:%u", s->defn_name,
                            s->defn_line_number);
    }
    return "the main server";
}

/* Look up the table for our ABI version; on a mismatch, name both. */
static int load_api(apr_pool_t *ptemp)
{
    const stowage_api *found;
    uint32_t v;

    api = stowage_get_api(STOWAGE_ABI_VERSION);
    if (api && api->abi_version == STOWAGE_ABI_VERSION) {
        return OK;
    }
    api = NULL;

    /* Which version does this library speak? abi_version and lib_version
     * lead every version of the table. */
    for (v = 1; v <= 256; v++) {
        if (v == STOWAGE_ABI_VERSION) {
            continue;
        }
        found = stowage_get_api(v);
        if (found) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, NULL,
                         "mod_stowage was built for libstowage ABI version %u, "
                         "but the loaded libstowage %s speaks ABI version %u; "
                         "rebuild mod_stowage against this library's "
                         "stowage.h (or load the matching library)",
                         STOWAGE_ABI_VERSION,
                         apr_pstrmemdup(ptemp, found->lib_version.ptr,
                                        found->lib_version.len),
                         found->abi_version);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, NULL,
                 "mod_stowage was built for libstowage ABI version %u, but "
                 "the loaded libstowage does not implement it (nor any "
                 "version up to 256); rebuild mod_stowage and libstowage "
                 "from the same tree", STOWAGE_ABI_VERSION);
    return HTTP_INTERNAL_SERVER_ERROR;
}

static int stowage_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    return load_api(ptemp);
}

/* Build the library vhost for inst. When Apache starts as root, the
 * storage root is prepared as the User/Group (and supplementary groups) the
 * children will run as, so that what the library creates is theirs, not
 * root's, and a root the children could not write fails here, at start-up.
 * The parent is still single-threaded here. */
static stowage_vhost *build_vhost(stowage_instance *inst, apr_pool_t *p,
                                  char *err, size_t err_len,
                                  const char **as_user)
{
    stowage_vhost *vh;
    uid_t uid = ap_unixd_config.user_id;
    gid_t gid = ap_unixd_config.group_id;
    gid_t saved_egid = getegid();
    gid_t *saved_groups = NULL;
    int saved_ngroups = 0;
    int switched = 0;

    *as_user = NULL;
    if (geteuid() == 0 && uid != 0 && uid != (uid_t)-1 && gid != (gid_t)-1
        && ap_unixd_config.user_name) {
        saved_ngroups = getgroups(0, NULL);
        if (saved_ngroups > 0) {
            saved_groups = apr_palloc(p, sizeof(gid_t) * saved_ngroups);
            saved_ngroups = getgroups(saved_ngroups, saved_groups);
        }
        if (saved_ngroups < 0
            || initgroups(ap_unixd_config.user_name, gid) != 0
            || setegid(gid) != 0 || seteuid(uid) != 0) {
            int e = errno;
            if (seteuid(0) != 0 || setegid(saved_egid) != 0
                || (saved_ngroups >= 0
                    && setgroups((size_t)saved_ngroups, saved_groups) != 0)) {
                /* we fail below anyway */
            }
            apr_snprintf(err, err_len, "cannot switch to user %s (uid %ld, "
                         "gid %ld) to prepare the storage root: %s",
                         ap_unixd_config.user_name, (long)uid, (long)gid,
                         strerror(e));
            return NULL;
        }
        switched = 1;
        *as_user = ap_unixd_config.user_name;
    }

    err[0] = '\0';
    vh = api->vhost_new((const stowage_directive *)inst->directives->elts,
                        (size_t)inst->directives->nelts,
                        log_to_server, inst->defined_in, err, err_len);

    if (switched
        && (seteuid(0) != 0 || setegid(saved_egid) != 0
            || setgroups((size_t)saved_ngroups, saved_groups) != 0)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, errno, inst->defined_in,
                     "mod_stowage: cannot return to root after preparing "
                     "the storage root");
        if (vh) {
            api->vhost_free(vh);
        }
        apr_snprintf(err, err_len, "cannot return to root");
        return NULL;
    }
    return vh;
}

static int report_vhost_error(apr_pool_t *p, stowage_instance *inst,
                              const char *err, const char *as_user)
{
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, inst->defined_in,
                 "mod_stowage: invalid Stowage configuration in %s%s%s: %s",
                 server_desc(p, inst->defined_in),
                 as_user ? " (as user " : "",
                 as_user ? apr_pstrcat(p, as_user, ")", NULL) : "",
                 err[0] ? err : "vhost_new failed");
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* Each distinct instance once (servers that inherit share one). */
static int for_each_instance(server_rec *s, apr_pool_t *p,
                             int (*fn)(stowage_instance *, apr_pool_t *))
{
    for (; s; s = s->next) {
        stowage_server_conf *conf =
            ap_get_module_config(s->module_config, &stowage_module);
        if (conf && conf->inst && conf->inst->defined_in == s) {
            int rc = fn(conf->inst, p);
            if (rc != OK) {
                return rc;
            }
        }
    }
    return OK;
}

/* Check the directives of one server as a set, then drop the result. */
static int validate_instance(stowage_instance *inst, apr_pool_t *p)
{
    char err[ERR_BUF_LEN];
    const char *as_user;
    stowage_vhost *vh = build_vhost(inst, p, err, sizeof(err), &as_user);

    if (!vh) {
        return report_vhost_error(p, inst, err, as_user);
    }
    api->vhost_free(vh);
    return OK;
}

/* Runs after the whole configuration is read, before `-t` exits and before
 * the first (dry-run) post_config: so `apache2 -t` and `apachectl start`
 * fail on a set of directives the library rejects (e.g. a StowageUser
 * without a StowageRoot), not only on single bad directives. Reloads are
 * validated by post_config itself. */
static int stowage_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG
        || ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) {
        return OK;
    }
    return for_each_instance(s, ptemp, validate_instance);
}

/* Frees a vhost in the process that built it (the parent, on restart and
 * stop). A child leaves it to the kernel: it reaches this cleanup only from
 * exit(), where freeing buys nothing and would tear down state (databases,
 * the gates' mapping) under threads that may still be winding down. */
static apr_status_t free_instance_vhost(void *data)
{
    stowage_instance *inst = data;
    if (inst->vhost && api && inst->built_by == getpid()) {
        api->vhost_free(inst->vhost);
    }
    inst->vhost = NULL;
    return APR_SUCCESS;
}

static int stowage_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sr;
    int count = 0;
    (void)plog;

    /* The first pass only checks the configuration (check_config did). */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }

    for (sr = s; sr; sr = sr->next) {
        stowage_server_conf *conf =
            ap_get_module_config(sr->module_config, &stowage_module);
        stowage_instance *inst = conf ? conf->inst : NULL;
        char err[ERR_BUF_LEN];
        const char *as_user;

        if (!inst || inst->defined_in != sr || inst->vhost) {
            continue;
        }
        inst->vhost = build_vhost(inst, ptemp, err, sizeof(err), &as_user);
        inst->built_by = getpid();
        if (!inst->vhost) {
            return report_vhost_error(ptemp, inst, err, as_user);
        }
        /* Registered after mod_so's unload cleanup, so it runs before the
         * library could be unloaded (cleanups run last-in first-out). */
        apr_pool_cleanup_register(pconf, inst, free_instance_vhost,
                                  apr_pool_cleanup_null);
        count++;
    }

    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "mod_stowage: libstowage %.*s (ABI %u), %d storage "
                 "instance%s configured",
                 clamp_int(api->lib_version.len),
                 api->lib_version.ptr ? api->lib_version.ptr : "",
                 api->abi_version, count, count == 1 ? "" : "s");
    return OK;
}

static void stowage_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)pchild;
    (void)s;
    if (api) {
        api->child_init();
    }
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
    request_rec *r;
    const stowage_request *req;
    apr_bucket_brigade *in;     /* body read ahead of the caller, if any */
    apr_bucket_brigade *out;    /* response bytes not yet passed on */
    apr_off_t body_read;        /* body bytes handed to the library */
    int body_eos;               /* the body has been read to its end */
    int body_error;             /* reading the body failed */
    int committed;              /* write or send_file was called */
    int passed;                 /* something went down the output filters */
    int dead;                   /* no more output: client gone, or Apache
                                 * already answered (e.g. 413) */
    const char *content_type;   /* the Content-Type the library sent */
    int length_zero;            /* it sent Content-Length: 0 */
} req_ctx;

static int64_t body_fail(req_ctx *ctx, apr_status_t rv, const char *what)
{
    request_rec *r = ctx->r;

    ctx->body_error = 1;
    r->connection->keepalive = AP_CONN_CLOSE;
    if (rv == AP_FILTER_ERROR) {
        /* An input filter already sent the error response (e.g. 413 for
         * LimitRequestBody, 400 for broken chunking): nothing more may go
         * out on this request. */
        ctx->dead = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, rv == AP_FILTER_ERROR ? 0 : rv, r,
                  "reading the request body failed (%s) after "
                  "%" APR_OFF_T_FMT " bytes", what, ctx->body_read);
    /* Timeout or mod_reqtimeout's MinRate: the library answers 408. */
    return APR_STATUS_IS_TIMEUP(rv) ? STOWAGE_BODY_TIMEOUT : STOWAGE_BODY_FAILED;
}

static int64_t op_read_body(void *vctx, uint8_t *buf, size_t len)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;
    size_t got = 0;
    int empty_reads = 0;

    if (ctx->body_error) {
        return STOWAGE_BODY_FAILED;
    }
    if (ctx->body_eos) {
        return 0;
    }
    if (!buf || len == 0) {
        return STOWAGE_BODY_FAILED;
    }
    if (len > READ_CHUNK_MAX) {
        len = READ_CHUNK_MAX;
    }

    while (got == 0) {
        if (APR_BRIGADE_EMPTY(ctx->in)) {
            apr_status_t rv = ap_get_brigade(r->input_filters, ctx->in,
                                             AP_MODE_READBYTES, APR_BLOCK_READ,
                                             (apr_off_t)len);
            if (rv != APR_SUCCESS) {
                apr_brigade_cleanup(ctx->in);
                return body_fail(ctx, rv, rv == AP_FILTER_ERROR
                                 ? "rejected by Apache" : "input error");
            }
            if (APR_BRIGADE_EMPTY(ctx->in) && ++empty_reads > 100) {
                return body_fail(ctx, APR_EGENERAL, "no data from a "
                                 "blocking read");
            }
        }

        while (!APR_BRIGADE_EMPTY(ctx->in) && got < len) {
            apr_bucket *b = APR_BRIGADE_FIRST(ctx->in);
            const char *data;
            apr_size_t n;
            apr_status_t rv;

            if (APR_BUCKET_IS_EOS(b)) {
                ctx->body_eos = 1;
                apr_brigade_cleanup(ctx->in);
                break;
            }
            if (AP_BUCKET_IS_ERROR(b)) {
                int status = ((ap_bucket_error *)b->data)->status;
                apr_brigade_cleanup(ctx->in);
                return body_fail(ctx, APR_EGENERAL,
                                 apr_psprintf(r->pool, "HTTP error %d from "
                                              "an input filter", status));
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                apr_bucket_delete(b);
                continue;
            }
            rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                apr_brigade_cleanup(ctx->in);
                return body_fail(ctx, rv, "bucket read");
            }
            if (n > len - got) {
                /* More than asked for: keep the rest for the next call. */
                apr_bucket_split(b, len - got);
                n = len - got;
            }
            memcpy(buf + got, data, n);
            got += n;
            apr_bucket_delete(b);
        }

        if (ctx->body_eos) {
            break;
        }
    }

    ctx->body_read += (apr_off_t)got;
    return (int64_t)got;
}

static void op_set_status(void *vctx, int status)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;

    if (ctx->dead) {
        return;
    }
    if (ctx->committed) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "libstowage set status %d after the body started; "
                      "ignored", status);
        return;
    }
    if (status < 200 || status > 599) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "libstowage set invalid status %d; sending 500",
                      status);
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = status;
}

static int name_is(stowage_str name, const char *want)
{
    size_t n = strlen(want);
    return name.len == n && name.ptr && strncasecmp(name.ptr, want, n) == 0;
}

static void op_add_header(void *vctx, stowage_str name, stowage_str value)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;
    const char *v;

    if (ctx->dead || !name.ptr || name.len == 0) {
        return;
    }
    if (ctx->committed) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "libstowage added header %.*s after the body started; "
                      "ignored", clamp_int(name.len), name.ptr);
        return;
    }
    v = apr_pstrmemdup(r->pool, value.ptr ? value.ptr : "", value.len);

    if (name_is(name, "Content-Type")) {
        ap_set_content_type(r, v);
        ctx->content_type = v;
    }
    else if (name_is(name, "Content-Length")) {
        apr_off_t cl;
        char *end;
        if (apr_strtoff(&cl, v, &end, 10) != APR_SUCCESS || *end || cl < 0
            || !*v) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "libstowage sent an invalid Content-Length \"%s\"; "
                          "ignored", v);
            return;
        }
        ap_set_content_length(r, cl);
        ctx->length_zero = cl == 0;
    }
    else {
        apr_table_addn(r->headers_out,
                       apr_pstrmemdup(r->pool, name.ptr, name.len), v);
    }
}

/* Swift's answers without a body carry `Content-Length: 0`, and its 204 and
 * 304 answers their Content-Type too; Apache's HTTP header filter leaves
 * them out (it drops both from 204 and 304 answers, and a zero
 * Content-Length from HEAD answers). This filter sits right below it, sees
 * the header block it wrote (the first brigade), and adds the lines the
 * library sent that are missing from it. Anything else passes unchanged. */
#define BODILESS_FILTER "STOWAGE_BODILESS"

typedef struct {
    const char *content_type;   /* NULL: add no Content-Type */
} bodiless_ctx;

static apr_status_t bodiless_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    bodiless_ctx *bc = f->ctx;
    request_rec *r = f->r;
    apr_bucket_brigade *rest = NULL;
    apr_bucket *b;
    char *flat;
    const char *head;
    apr_size_t len;

    ap_remove_output_filter(f);
    /* The header block, then (for an answer without a body) the EOS. */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_METADATA(b)) {
            rest = apr_brigade_split_ex(bb, b, NULL);
            break;
        }
    }
    if (apr_brigade_pflatten(bb, &flat, &len, r->pool) == APR_SUCCESS
        && len >= 9 && strncmp(flat, "HTTP/", 5) == 0
        && memcmp(flat + len - 4, "\r\n\r\n", 4) == 0) {
        head = apr_pstrmemdup(r->pool, flat, len);
        apr_brigade_cleanup(bb);
        apr_brigade_write(bb, NULL, NULL, head, len - 2);
        if (!ap_strcasestr(head, "\r\nContent-Length:")) {
            apr_brigade_puts(bb, NULL, NULL, "Content-Length: 0\r\n");
        }
        if (bc->content_type && !ap_strcasestr(head, "\r\nContent-Type:")) {
            apr_brigade_printf(bb, NULL, NULL, "Content-Type: %s\r\n",
                               bc->content_type);
        }
        apr_brigade_puts(bb, NULL, NULL, "\r\n");
    }
    if (rest) {
        APR_BRIGADE_CONCAT(bb, rest);
    }
    return ap_pass_brigade(f->next, bb);
}

/* Before anything went down the output filters: an answer without a body
 * gets the filter above. */
static void add_bodiless_filter(req_ctx *ctx)
{
    request_rec *r = ctx->r;
    int no_body_status = r->status == HTTP_NO_CONTENT
                         || r->status == HTTP_NOT_MODIFIED;
    bodiless_ctx *bc;

    if (ctx->dead || ctx->passed || !ctx->length_zero
        || !(no_body_status || r->header_only)) {
        return;
    }
    bc = apr_pcalloc(r->pool, sizeof(*bc));
    /* Header values never hold CR or LF (the library refuses them). */
    if (no_body_status && ctx->content_type
        && !strpbrk(ctx->content_type, "\r\n")) {
        bc->content_type = ctx->content_type;
    }
    ap_add_output_filter(BODILESS_FILTER, bc, r, r->connection);
}

/* Pass what is buffered down the output filters. */
static int pass_out(req_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_status_t rv;

    ctx->passed = 1;
    rv = ap_pass_brigade(r->output_filters, ctx->out);
    apr_brigade_cleanup(ctx->out);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        ctx->dead = 1;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                      "sending the response failed (client gone?)");
        return -1;
    }
    return 0;
}

/* Marks the response as started (status and headers are final from now on)
 * and tells whether output may still go to the client. */
static int output_open(req_ctx *ctx)
{
    ctx->committed = 1;
    if (ctx->dead || ctx->r->connection->aborted) {
        ctx->dead = 1;
        return 0;
    }
    return 1;
}

static int op_write(void *vctx, const uint8_t *buf, size_t len)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;
    apr_status_t rv;

    if (!output_open(ctx)) {
        return -1;
    }
    if (len == 0) {
        return 0;
    }
    if (!buf) {
        return -1;
    }
    /* Small writes are coalesced in the brigade; big ones are passed on
     * (ap_filter_flush) without a copy. */
    ctx->passed = 1;
    rv = ap_fwrite(r->output_filters, ctx->out, (const char *)buf, len);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        apr_brigade_cleanup(ctx->out);
        ctx->dead = 1;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                      "sending the response failed (client gone?)");
        return -1;
    }
    return 0;
}

static apr_status_t close_fd(void *data)
{
    close((int)(intptr_t)data);
    return APR_SUCCESS;
}

static int op_send_file(void *vctx, int fd, uint64_t offset, uint64_t len)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    apr_file_t *file = NULL;
    apr_int32_t flags = APR_FOPEN_READ;
    apr_bucket *before, *b;
    apr_os_file_t osfd;
    int dupfd;

    if (!output_open(ctx)) {
        return -1;
    }
    if (len == 0) {
        return 0;
    }
    if (fd < 0 || offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX
        || offset > (uint64_t)INT64_MAX - len) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "libstowage send_file: bad arguments (fd %d)", fd);
        return -1;
    }

    /* The library may close fd as soon as handle() returns, but the core
     * output filter may send the file later (write completion): our own
     * descriptor lives until the request pool goes, which is after the
     * response has been written (EOR bucket). */
    dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r,
                      "send_file: dup() failed");
        return -1;
    }
    apr_pool_cleanup_register(r->pool, (void *)(intptr_t)dupfd, close_fd,
                              apr_pool_cleanup_null);

    if (d->enable_sendfile == ENABLE_SENDFILE_ON) {
        flags |= APR_FOPEN_SENDFILE_ENABLED;
    }
    osfd = dupfd;
    if (apr_os_file_put(&file, &osfd, flags, r->pool) != APR_SUCCESS) {
        return -1;
    }

    before = APR_BRIGADE_LAST(ctx->out);
    apr_brigade_insert_file(ctx->out, file, (apr_off_t)offset,
                            (apr_off_t)len, r->pool);
    if (d->enable_mmap == ENABLE_MMAP_OFF) {
        /* Honour EnableMMAP Off, as the default handler does. */
        b = (before == APR_BRIGADE_SENTINEL(ctx->out))
            ? APR_BRIGADE_FIRST(ctx->out) : APR_BUCKET_NEXT(before);
        for (; b != APR_BRIGADE_SENTINEL(ctx->out); b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_FILE(b)) {
                apr_bucket_file_enable_mmap(b, 0);
            }
        }
    }
    return pass_out(ctx);
}

static void op_log(void *vctx, int level, stowage_str message)
{
    req_ctx *ctx = vctx;
    ap_log_rerror(LIB_MARK, map_level(level), 0, ctx->r, "%.*s",
                  clamp_int(message.len), message.ptr ? message.ptr : "");
}

static void op_set_note(void *vctx, stowage_str name, stowage_str value)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;

    if (!name.ptr || name.len == 0) {
        return;
    }
    apr_table_setn(r->notes, apr_pstrmemdup(r->pool, name.ptr, name.len),
                   apr_pstrmemdup(r->pool, value.ptr ? value.ptr : "",
                                  value.len));
}

/* A FLUSH bucket makes the core output filter write out what it holds
 * (and the chunk filter close the chunk) before the next call. */
static int op_flush(void *vctx)
{
    req_ctx *ctx = vctx;
    request_rec *r = ctx->r;

    if (!output_open(ctx)) {
        return -1;
    }
    APR_BRIGADE_INSERT_TAIL(ctx->out,
                            apr_bucket_flush_create(r->connection->bucket_alloc));
    return pass_out(ctx);
}

static const stowage_host_ops host_ops = {
    op_read_body,
    op_set_status,
    op_add_header,
    op_write,
    op_send_file,
    op_log,
    op_set_note,
    op_flush
};

static int collect_header(void *rec, const char *key, const char *value)
{
    apr_array_header_t *arr = rec;
    stowage_header *h = apr_array_push(arr);
    h->name = str_view(key);
    h->value = str_view(value);
    return 1;
}

/* The request path exactly as the client sent it (still percent-encoded):
 * r->uri and r->parsed_uri.path are decoded and normalised by Apache. */
static void raw_target(request_rec *r, stowage_str *path, stowage_str *query)
{
    const char *u = r->unparsed_uri ? r->unparsed_uri : "";
    const char *q;

    /* absolute-form (GET http://host/path): drop scheme and authority */
    if (*u != '/' && *u != '*') {
        const char *authority = strstr(u, "://");
        if (authority) {
            const char *slash = ap_strchr_c(authority + 3, '/');
            const char *qmark = ap_strchr_c(authority + 3, '?');
            if (slash && (!qmark || slash < qmark)) {
                u = slash;
            }
            else {
                u = qmark ? apr_pstrcat(r->pool, "/", qmark, NULL) : "/";
            }
        }
    }
    q = ap_strchr_c(u, '?');
    if (q) {
        path->ptr = u;
        path->len = (size_t)(q - u);
        *query = str_view(q + 1);
    }
    else {
        *path = str_view(u);
        *query = str_view("");
    }
}

/* Reads and drops, without waiting, the rest of a request body: what `bb`
 * already holds and what the input filters can give at once. Returns 1
 * when the body's end was reached (the connection may stay alive), 0 when
 * the client has not sent all of it yet, or on any error. At most about
 * DISCARD_BODY_MAX bytes are read. */
static int drop_arrived_body(request_rec *r, apr_bucket_brigade *bb)
{
    apr_off_t dropped = 0;

    for (;;) {
        apr_status_t rv;

        while (!APR_BRIGADE_EMPTY(bb)) {
            apr_bucket *b = APR_BRIGADE_FIRST(bb);
            if (APR_BUCKET_IS_EOS(b)) {
                apr_brigade_cleanup(bb);
                return 1;
            }
            if (AP_BUCKET_IS_ERROR(b)) {
                apr_brigade_cleanup(bb);
                return 0;
            }
            if (b->length == (apr_size_t)-1) {
                const char *data;
                apr_size_t n;
                if (apr_bucket_read(b, &data, &n, APR_NONBLOCK_READ)
                    != APR_SUCCESS) {
                    apr_brigade_cleanup(bb);
                    return 0;
                }
            }
            dropped += (apr_off_t)b->length;
            apr_bucket_delete(b);
        }
        if (dropped > DISCARD_BODY_MAX) {
            return 0;
        }
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(bb)) {
            apr_brigade_cleanup(bb);
            return 0;           /* EAGAIN: the rest is still on its way */
        }
    }
}

/* Leave the connection in a sane state when a response was made without
 * reading the whole request body (e.g. the library answered 401 or 413
 * right away, or Apache refused the request before the handler). Waiting
 * for the rest would hold this worker for as long as the client takes to
 * send it (a client trickling a small body kept workers for minutes), so
 * the rest is read only if it has all arrived already; otherwise the
 * connection closes after this response and nothing waits for the body
 * (ap_discard_request_body does nothing on a closing connection). */
static void settle_unread_body(request_rec *r, apr_bucket_brigade *pending,
                               int chunked, apr_off_t rest, int failed)
{
    if (r->connection->keepalive == AP_CONN_CLOSE) {
        return;
    }
    if (!failed && !r->expecting_100 && !chunked && rest <= DISCARD_BODY_MAX
        && drop_arrived_body(r, pending)) {
        return;                 /* the small rest was there: dropped */
    }
    /* The client still waits for 100-continue, or the rest is big, of
     * unknown size or not all here yet: close after this response. */
    r->connection->keepalive = AP_CONN_CLOSE;
}

static void settle_request_body(req_ctx *ctx)
{
    const stowage_request *req = ctx->req;

    if (ctx->body_eos) {
        return;
    }
    if (!req->body_chunked && req->content_length <= 0) {
        return;                 /* there was no body */
    }
    settle_unread_body(ctx->r, ctx->in, req->body_chunked,
                       req->content_length - ctx->body_read,
                       ctx->body_error);
}

/* Requests that Stowage will serve keep their path percent-encoded inside
 * Apache too (pre_translate_name returning DONE, as mod_proxy's mapping=
 * does): Apache would otherwise decode r->uri and answer some names itself
 * (404 for "%00") before the library could give Swift's answer (412). The
 * library reads r->unparsed_uri anyway; this only means that <Location>
 * sections below a Stowage location match the encoded path. Apache has
 * already normalised the path by now: "." and ".." segments are resolved
 * in r->uri (not in what the library gets), and a malformed escape ("%zz")
 * or ".." above the root is refused with 400 before any module runs. */
/* Whether the configuration merged so far binds r to one of our handlers. */
static int is_stowage_request(request_rec *r)
{
    core_dir_config *d;
    const char *handler, *err = NULL;

    if (r->main || r->proxyreq || !r->parsed_uri.path) {
        return 0;
    }
    d = ap_get_core_module_config(r->per_dir_config);
    if (!d || !d->expr_handler) {
        return 0;
    }
    handler = ap_expr_str_exec(r, d->expr_handler, &err);
    return !err && handler
        && (!strcmp(handler, HANDLER_SWIFT) || !strcmp(handler, HANDLER_DEBUG));
}

/* Marks (in r->request_config) a request bound to one of our handlers. */
static const char stowage_marker = 1;

static int stowage_pre_translate_name(request_rec *r)
{
    if (!is_stowage_request(r)) {
        return DECLINED;
    }
    ap_set_module_config(r->request_config, &stowage_module,
                         (void *)&stowage_marker);
    return DONE;
}

/* Our requests name no file: skip the directory and file walk (which would
 * stat the path and look for .htaccess files in every parent directory on
 * each request), as mod_proxy does for proxied requests. <Location>
 * sections still apply. Apache resets per_dir_config to the server defaults
 * before this hook, so the mark set while translating decides. */
static int stowage_map_to_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &stowage_module)
        ? OK : DECLINED;
}

/* Replaces stowage_marker once the handler took the request: from then on
 * settle_request_body, not the error hook below, deals with the body. */
static const char stowage_handled = 1;

/* Apache itself refused one of our requests before the handler ran (e.g.
 * `Require valid-user` answering 401): it would then read and drop the
 * whole body at the client's pace in this worker (ap_die ->
 * ap_discard_request_body) unless the connection is closing. */
static void stowage_insert_error_filter(request_rec *r)
{
    const char *te, *cl;
    apr_off_t n = 0;
    char *end;
    int chunked;

    if (r->main || ap_get_module_config(r->request_config, &stowage_module)
                   != &stowage_marker) {
        return;
    }
    te = apr_table_get(r->headers_in, "Transfer-Encoding");
    cl = apr_table_get(r->headers_in, "Content-Length");
    chunked = te != NULL;       /* Apache refuses any other coding itself */
    if (!chunked && (!cl || apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS
                     || *end || n <= 0)) {
        return;                 /* no body */
    }
    settle_unread_body(r, apr_brigade_create(r->pool,
                                             r->connection->bucket_alloc),
                       chunked, n, 0);
}

static int stowage_request_handler(request_rec *r)
{
    stowage_server_conf *conf;
    stowage_instance *inst;
    stowage_vhost *vhost;
    stowage_request req;
    req_ctx ctx;
    apr_array_header_t *headers;
    const char *cl, *te, *host;
    int which, rc;

    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, HANDLER_SWIFT)) {
        which = STOWAGE_HANDLER_SWIFT;
    }
    else if (!strcmp(r->handler, HANDLER_DEBUG)) {
        which = STOWAGE_HANDLER_DEBUG;
    }
    else if (!strcmp(r->handler, HANDLER_STATUS)) {
        which = STOWAGE_HANDLER_STATUS;
    }
    else {
        return DECLINED;
    }
    if (r->main) {
        return DECLINED;        /* subrequests are not served */
    }
    if (!api) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    conf = ap_get_module_config(r->server->module_config, &stowage_module);
    inst = conf ? conf->inst : NULL;
    vhost = inst ? inst->vhost : NULL;
    if (which != STOWAGE_HANDLER_DEBUG && !vhost) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SetHandler stowage in %s, but StowageRoot is missing "
                      "there (and in the main server)",
                      server_desc(r->pool, r->server));
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    memset(&req, 0, sizeof(req));
    req.method = str_view(r->method);
    raw_target(r, &req.uri, &req.query);
    req.scheme = str_view(ap_http_scheme(r));
    host = apr_table_get(r->headers_in, "Host");
    if (!host || !*host) {
        host = apr_psprintf(r->pool, "%s:%u", ap_get_server_name_for_url(r),
                            ap_get_server_port(r));
    }
    req.host = str_view(host);
    req.remote_user = str_view(r->user);
    if (!r->log_id) {
        /* Apache makes the id lazily (when an error-log line needs it);
         * make it now so the library and %L in the access log agree. */
        ap_run_generate_log_id(r->connection, r, &r->log_id);
    }
    req.request_id = str_view(r->log_id);

    headers = apr_array_make(r->pool,
                             apr_table_elts(r->headers_in)->nelts + 1,
                             sizeof(stowage_header));
    apr_table_do(collect_header, headers, r->headers_in, NULL);
    req.headers = (const stowage_header *)headers->elts;
    req.header_count = (size_t)headers->nelts;

    te = apr_table_get(r->headers_in, "Transfer-Encoding");
    req.body_chunked = (te && ap_find_last_token(r->pool, te, "chunked"))
                       ? 1 : 0;
    req.content_length = -1;
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (cl && !req.body_chunked) {
        apr_off_t n;
        char *end;
        if (apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end && n >= 0) {
            req.content_length = n;
        }
    }

    ap_set_module_config(r->request_config, &stowage_module,
                         (void *)&stowage_handled);
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.req = &req;
    ctx.in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx.out = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    rc = api->handle(vhost, which, &req, &host_ops, &ctx);
    add_bodiless_filter(&ctx);

    settle_request_body(&ctx);
    if (!ctx.dead && !APR_BRIGADE_EMPTY(ctx.out)) {
        pass_out(&ctx);
    }
    if (rc != STOWAGE_OK && ctx.passed && !ctx.dead
        && r->status != HTTP_INTERNAL_SERVER_ERROR) {
        /* A panic after the response had started (before it, the library
         * answers 500 itself), or STOWAGE_ERR_ABORTED (stored bytes failed
         * verification): the response broke off half-way, so make sure the
         * client cannot take it for complete (no last chunk; the connection
         * closes). */
        apr_bucket *e = ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL,
                                               r->pool,
                                               r->connection->bucket_alloc);
        APR_BRIGADE_INSERT_TAIL(ctx.out, e);
        r->connection->keepalive = AP_CONN_CLOSE;
        pass_out(&ctx);
    }
    apr_brigade_cleanup(ctx.in);
    /* The library always produced a response (or the client is gone). */
    return OK;
}

/* ------------------------------------------------------------------------ */
/* mod_status section                                                       */
/* ------------------------------------------------------------------------ */

static void status_write(void *ctx, stowage_str bytes)
{
    request_rec *r = ctx;
    if (bytes.ptr && bytes.len) {
        ap_rwrite(bytes.ptr, clamp_int(bytes.len), r);
    }
}

/* The admission gates of every storage instance, node-wide figures from
 * the library; "Key: value" lines for ?auto (AP_STATUS_SHORT). */
static int stowage_status_hook(request_rec *r, int flags)
{
    server_rec *s;
    unsigned index = 0;
    int format = (flags & AP_STATUS_SHORT) ? STOWAGE_STATUS_TEXT
                                           : STOWAGE_STATUS_HTML;

    if (!api) {
        return OK;
    }
    for (s = ap_server_conf; s; s = s->next) {
        stowage_server_conf *conf =
            ap_get_module_config(s->module_config, &stowage_module);
        if (conf && conf->inst && conf->inst->defined_in == s
            && conf->inst->vhost) {
            api->status(conf->inst->vhost, format, index++, status_write, r);
        }
    }
    return OK;
}

static void stowage_register_hooks(apr_pool_t *p)
{
    (void)p;
    APR_OPTIONAL_HOOK(ap, status_hook, stowage_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    ap_hook_pre_config(stowage_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(stowage_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(stowage_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(stowage_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_translate_name(stowage_pre_translate_name, NULL, NULL,
                               APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(stowage_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_handler(stowage_request_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* Right below the HTTP header filter (AP_FTYPE_PROTOCOL). */
    ap_register_output_filter(BODILESS_FILTER, bodiless_filter, NULL,
                              (ap_filter_type)(AP_FTYPE_PROTOCOL + 5));
    ap_hook_insert_error_filter(stowage_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA stowage_module = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config: none */
    NULL,
    create_server_conf,
    merge_server_conf,
    stowage_cmds,
    stowage_register_hooks,
    AP_MODULE_FLAG_NONE
};
