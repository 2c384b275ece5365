/* The SF repository: see repository.h and docs/sf-repository.md.
 *
 * The template table only grows: a deployed SF points at its template for
 * as long as it runs, so a template, once loaded, lives until
 * repository_close().  A refresh appends the templates whose id is new and
 * ignores changed documents under an id already known (a restart picks
 * them up).  The table is read under 'lock' (read side) and appended to
 * under its write side; a refresh runs under 'refresh_mutex' so that two
 * misses do not download the index twice. */
#include <config.h>
#include "repository.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corch-config.h"
#include "log.h"

LOG_MODULE(repository);

/* A verified image, remembered so that 500 SFs of one template do not hash
 * the same file 500 times; re-verified when the file changes. */
struct verified {
    char *path;                 /* Local image path. */
    char sha256[65];            /* The digest it was found to have. */
    off_t size;                 /* Its size when verified. */
    struct timespec mtime;      /* Its mtime when verified. */
};

/* Limits of the remote source (docs/sf-repository.md). */
#define REMOTE_DOC_MAX (1u << 20)          /* index.json, one template. */
#define REMOTE_IMAGE_MAX (512ull << 20)    /* One image. */
#define REMOTE_CONNECT_TIMEOUT_S 10L
#define REMOTE_DOC_TIMEOUT_S 30L
#define REMOTE_IMAGE_TIMEOUT_S 300L

struct repository {
    char *path;                 /* Local directory, or NULL. */
    char *url;                  /* Remote base URL ending in '/', or NULL. */
    char *images_dir;           /* <state.dir>/images: the download cache. */
    pthread_rwlock_t lock;      /* Protects the table below. */
    struct sf_template **templates; /* Local (sorted by file name), then
                                     * remote (in index order). */
    bool *remote;               /* Per template: came from 'url'. */
    size_t n_templates;
    pthread_mutex_t refresh_mutex; /* Serialises refreshes; protects
                                    * 'last_refresh'. */
    uint64_t last_refresh;      /* CLOCK_MONOTONIC ms of the last index
                                 * download (0: never). */
    unsigned int refresh_s;     /* Least seconds between two refreshes. */
    pthread_mutex_t mutex;      /* Protects 'verified'. */
    struct verified *verified;  /* Images checked already. */
    size_t n_verified;
    char **remote_files;        /* Index entries fetched already
                                 * (NULL-terminated, or NULL). */
};

void
sf_template_free(struct sf_template *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->capability);
    free(t->engine);
    free(t->uri);
    free(t->sha256);
    for (size_t i = 0; i < t->n_ports; i++) {
        free(t->ports[i].name);
        free(t->ports[i].tech);
    }
    free(t->ports);
    strv_free(t->dep_executables);
    strv_free(t->dep_kernel);
    json_object_put(t->subgraph);
    json_object_put(t->config_schema);
    json_object_put(t->json);
    free(t);
}

static void
sf_template_freep(struct sf_template **t)
{
    sf_template_free(*t);
}

/* Checks that 'obj' has no member other than 'allowed' (NULL-terminated). */
static int
check_members(json_object *obj, const char *const *allowed, const char *path,
              struct corch_err *err)
{
    json_object_object_foreach(obj, key, val) {
        (void) val;
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(key, allowed[i]);
        if (!ok) {
            char p[CORCH_ERR_PATH_MAX];
            snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
            return corch_err_set(err, -EINVAL, p, "%s: unknown member", p);
        }
    }
    return 0;
}

static int
get_string(json_object *obj, const char *key, bool required, const char *path,
           char **ret, struct corch_err *err)
{
    char p[CORCH_ERR_PATH_MAX];
    snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !v) {
        if (required)
            return corch_err_set(err, -EINVAL, p, "%s: missing", p);
        *ret = NULL;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)
        || !json_object_get_string_len(v))
        return corch_err_set(err, -EINVAL, p, "%s: must be a non-empty string",
                             p);
    *ret = xstrdup(json_object_get_string(v));
    return 0;
}

static int
get_uint(json_object *obj, const char *key, const char *path, uint64_t max,
         unsigned int *ret, struct corch_err *err)
{
    char p[CORCH_ERR_PATH_MAX];
    snprintf(p, sizeof p, "%s.%s", path, key);
    json_object *v;
    *ret = 0;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0
        || (uint64_t) json_object_get_int64(v) > max)
        return corch_err_set(err, -EINVAL, p,
                             "%s: must be an integer from 0 to %llu", p,
                             (unsigned long long) max);
    *ret = (unsigned int) json_object_get_int64(v);
    return 0;
}

/* A NULL-terminated copy of an array of non-empty strings. */
static int
get_strv(json_object *obj, const char *key, const char *path, char ***ret,
         struct corch_err *err)
{
    char p[CORCH_ERR_PATH_MAX];
    snprintf(p, sizeof p, "%s.%s", path, key);
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = xcalloc(1, sizeof **ret);
        return 0;
    }
    if (!json_object_is_type(v, json_type_array))
        return corch_err_set(err, -EINVAL, p, "%s: must be an array", p);
    size_t n = json_object_array_length(v);
    char **strv = xcalloc(n + 1, sizeof *strv);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string)
            || !json_object_get_string_len(s)
            || strchr(json_object_get_string(s), '/')) {
            strv_free(strv);
            return corch_err_set(err, -EINVAL, NULL,
                                 "%s[%zu]: must be a non-empty name", p, i);
        }
        strv[i] = xstrdup(json_object_get_string(s));
    }
    *ret = strv;
    return 0;
}

static bool
is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!strchr("0123456789abcdefABCDEF", s[n]))
            return false;
    return n == 64;
}

int
sf_template_from_json(json_object *obj, struct sf_template **ret,
                      struct corch_err *err)
{
    static const char *const top[] = {
        "id", "functional-capability", "engine", "uri", "sha256", "ports",
        "resources", "dependencies", "subgraph", "config_schema",
        "description", "version", NULL,
    };
    _cleanup_(sf_template_freep) struct sf_template *t = NULL;
    int error;

    if (!json_object_is_type(obj, json_type_object))
        return corch_err_set(err, -EINVAL, "", "a template is a JSON object");
    error = check_members(obj, top, "", err);
    if (error)
        return error;

    t = xcalloc(1, sizeof *t);
    if ((error = get_string(obj, "id", true, "", &t->id, err))
        || (error = get_string(obj, "functional-capability", true, "",
                               &t->capability, err))
        || (error = get_string(obj, "engine", true, "", &t->engine, err))
        || (error = get_string(obj, "uri", false, "", &t->uri, err))
        || (error = get_string(obj, "sha256", false, "", &t->sha256, err)))
        return error;
    if (!name_is_valid_id(t->id))
        return corch_err_set(err, -EINVAL, "id",
                             "id: \"%s\" must match [A-Za-z0-9_.:-]{1,64}",
                             t->id);
    for (const char *c = t->engine; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", *c))
            return corch_err_set(err, -EINVAL, "engine",
                                 "engine: \"%s\" is not an engine name",
                                 t->engine);
    if (t->sha256 && !is_hex64(t->sha256))
        return corch_err_set(err, -EINVAL, "sha256",
                             "sha256: must be 64 hex digits");

    json_object *v;
    if (json_object_object_get_ex(obj, "subgraph", &v) && v) {
        if (!json_object_is_type(v, json_type_object))
            return corch_err_set(err, -EINVAL, "subgraph",
                                 "subgraph: must be an SF-FG object");
        t->subgraph = json_object_get(v);
    }
    if (json_object_object_get_ex(obj, "config_schema", &v) && v) {
        if (!json_object_is_type(v, json_type_object))
            return corch_err_set(err, -EINVAL, "config_schema",
                                 "config_schema: must be a JSON Schema object");
        t->config_schema = json_object_get(v);
    }
    /* The dummy engine and subgraphs have no image; every other template
     * names one, with the digest that makes it safe to use. */
    if (!t->uri && !t->subgraph && strcmp(t->engine, "dummy"))
        return corch_err_set(err, -EINVAL, "uri", "uri: missing");
    if (t->uri && !t->sha256)
        return corch_err_set(err, -EINVAL, "sha256",
                             "sha256: missing (required with uri)");

    if (json_object_object_get_ex(obj, "ports", &v) && v) {
        if (!json_object_is_type(v, json_type_array))
            return corch_err_set(err, -EINVAL, "ports",
                                 "ports: must be an array");
        size_t n = json_object_array_length(v);
        t->ports = xcalloc(n, sizeof *t->ports);
        for (size_t i = 0; i < n; i++) {
            static const char *const pm[] = { "name", "technology",
                                              "description", NULL };
            char p[64];
            snprintf(p, sizeof p, "ports[%zu]", i);
            json_object *port = json_object_array_get_idx(v, i);
            t->n_ports = i + 1;         /* So that cleanup frees it. */
            if (!json_object_is_type(port, json_type_object))
                return corch_err_set(err, -EINVAL, p, "%s: must be an object",
                                     p);
            if ((error = check_members(port, pm, p, err))
                || (error = get_string(port, "name", true, p,
                                       &t->ports[i].name, err))
                || (error = get_string(port, "technology", false, p,
                                       &t->ports[i].tech, err)))
                return error;
            if (!name_is_valid_ifname(t->ports[i].name))
                return corch_err_set(err, -EINVAL, NULL,
                                     "%s.name: \"%s\" is not an interface "
                                     "name", p, t->ports[i].name);
            const char *tech = t->ports[i].tech;
            if (tech && strcmp(tech, "veth") && strcmp(tech, "internal")
                && strcmp(tech, "tap") && strcmp(tech, "vhost-user")) {
                char tp[80];
                snprintf(tp, sizeof tp, "%s.technology", p);
                return corch_err_set(err, -EINVAL, tp,
                                     "%s: \"%s\" is not one of veth, "
                                     "internal, tap, vhost-user", tp, tech);
            }
        }
    }
    if (json_object_object_get_ex(obj, "resources", &v) && v) {
        static const char *const rm[] = { "cpu_cores", "memory_mb", "disk_mb",
                                          NULL };
        if (!json_object_is_type(v, json_type_object))
            return corch_err_set(err, -EINVAL, "resources",
                                 "resources: must be an object");
        if ((error = check_members(v, rm, "resources", err))
            || (error = get_uint(v, "cpu_cores", "resources", 1024,
                                 &t->cpu_cores, err))
            || (error = get_uint(v, "memory_mb", "resources", 1u << 24,
                                 &t->memory_mb, err))
            || (error = get_uint(v, "disk_mb", "resources", 1u << 24,
                                 &t->disk_mb, err)))
            return error;
    }
    json_object *deps = NULL;
    if (json_object_object_get_ex(obj, "dependencies", &deps) && deps) {
        static const char *const dm[] = { "executables", "kernel", NULL };
        if (!json_object_is_type(deps, json_type_object))
            return corch_err_set(err, -EINVAL, "dependencies",
                                 "dependencies: must be an object");
        if ((error = check_members(deps, dm, "dependencies", err)))
            return error;
    } else {
        deps = NULL;
    }
    json_object *empty = json_object_new_object();
    error = get_strv(deps ? deps : empty, "executables", "dependencies",
                     &t->dep_executables, err);
    if (!error)
        error = get_strv(deps ? deps : empty, "kernel", "dependencies",
                         &t->dep_kernel, err);
    json_object_put(empty);
    if (error)
        return error;

    t->json = json_object_get(obj);
    *ret = TAKE_PTR(t);
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Takes 't' into the table unless its id is used already (the first
 * source wins: local before remote).  Returns whether it was taken. */
static bool
add_template(struct repository *r, struct sf_template *t, bool remote,
             const char *where)
{
    pthread_rwlock_wrlock(&r->lock);
    bool dup = false;
    for (size_t i = 0; i < r->n_templates && !dup; i++)
        dup = !strcmp(r->templates[i]->id, t->id);
    if (!dup) {
        r->templates = xrealloc(r->templates, (r->n_templates + 1)
                                              * sizeof *r->templates);
        r->remote = xrealloc(r->remote, (r->n_templates + 1)
                                        * sizeof *r->remote);
        r->templates[r->n_templates] = t;
        r->remote[r->n_templates] = remote;
        r->n_templates++;
    }
    pthread_rwlock_unlock(&r->lock);
    if (dup) {
        LOG_WARN("template %s: id \"%s\" already used; skipped", where, t->id);
        sf_template_free(t);
    }
    return !dup;
}

/* Parses and adds one template document read from 'where'. */
static void
add_template_json(struct repository *r, json_object *obj, bool remote,
                  const char *where)
{
    struct corch_err err = { .path = "", .msg = "" };
    struct sf_template *t = NULL;
    if (sf_template_from_json(obj, &t, &err) < 0) {
        LOG_WARN("template %s: %s; skipped", where, err.msg);
        return;
    }
    /* A remote template's image is under the base URL or at an http(s)
     * URL; nothing else is fetched. */
    if (remote && t->uri && strstr(t->uri, "://")
        && !repository_url_is_http(t->uri)) {
        LOG_WARN("template %s: uri \"%s\": only http and https are "
                 "allowed; skipped", where, t->uri);
        sf_template_free(t);
        return;
    }
    add_template(r, t, remote, where);
}

/* Loads <path>/templates/ *.json, skipping bad files with a warning. */
static void
load_templates(struct repository *r)
{
    _cleanup_free_ char *dir = xasprintf("%s/templates", r->path);
    DIR *d = opendir(dir);
    if (!d) {
        LOG_WARN("repository %s: %s: %s; no templates", r->path, dir,
                 strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6
            || strcmp(de->d_name + len - 5, ".json"))
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);

    size_t before = r->n_templates;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *file = xasprintf("%s/%s", dir, names[i]);
        json_object *obj = json_object_from_file(file);
        if (!obj)
            LOG_WARN("template %s: not valid JSON (%s); skipped", file,
                     json_util_get_last_err());
        else
            add_template_json(r, obj, false, file);
        json_object_put(obj);
        free(names[i]);
    }
    free(names);
    LOG_INFO("repository %s: %zu templates", r->path,
             r->n_templates - before);
}

/* --- The remote source (libcurl). --- */

bool
repository_url_is_http(const char *url)
{
    return url && (!strncasecmp(url, "http://", 7)
                   || !strncasecmp(url, "https://", 8));
}

/* Where a download goes: a file, or a growing buffer. */
struct sink {
    int fd;                     /* Write here if >= 0... */
    char *buf;                  /* ...else append here (NUL-terminated). */
    uint64_t len;               /* Bytes received. */
    uint64_t max;               /* Refuse more than this. */
    bool too_big;               /* 'max' was exceeded. */
    int write_errno;            /* write() failed with this. */
};

static size_t
sink_write(char *data, size_t size, size_t n, void *aux)
{
    struct sink *s = aux;
    size_t len = size * n;
    if (s->len + len > s->max) {
        s->too_big = true;
        return 0;
    }
    if (s->fd >= 0) {
        for (size_t done = 0; done < len;) {
            ssize_t w = write(s->fd, data + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                s->write_errno = errno;
                return 0;
            }
            done += (size_t) w;
        }
    } else {
        s->buf = xrealloc(s->buf, s->len + len + 1);
        memcpy(s->buf + s->len, data, len);
        s->buf[s->len + len] = '\0';
    }
    s->len += len;
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void
curl_init(void)
{
    curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* GETs 'url' into 'sink'.  0, or a negative errno with the reason in
 * 'why': -ENOENT (HTTP 404), -ETIMEDOUT, -EFBIG (over sink->max), -EIO
 * (any other HTTP or transport failure, TLS verification included). */
static int
http_get(const char *url, struct sink *sink, long timeout_s, char *why,
         size_t size)
{
    if (!repository_url_is_http(url)) {
        snprintf(why, size, "only http and https URLs are allowed");
        return -EPROTONOSUPPORT;
    }
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_init_code == CURLE_OK ? curl_easy_init() : NULL;
    if (!c) {
        snprintf(why, size, "libcurl failed to start");
        return -ENOMEM;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
                     CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  /* Threads: no SIGALRM. */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, REMOTE_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) sink->max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    CURLcode rc = curl_easy_perform(c);
    long http = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK)
        return 0;
    if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, size, "larger than %llu bytes",
                 (unsigned long long) sink->max);
        return -EFBIG;
    }
    if (sink->write_errno) {
        snprintf(why, size, "cannot write: %s", strerror(sink->write_errno));
        return -sink->write_errno;
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        snprintf(why, size, "HTTP status %ld", http);
        return http == 404 || http == 410 ? -ENOENT : -EIO;
    }
    snprintf(why, size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
}

/* Whether 'name' may be a file of templates/ on the server. */
static bool
is_template_file_name(const char *name)
{
    size_t len = strlen(name);
    if (name[0] == '.' || len < 6 || len > 255
        || strcmp(name + len - 5, ".json"))
        return false;
    for (const char *c = name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-", *c))
            return false;
    return true;
}

/* Downloads index.json and every template it lists that was not loaded
 * before.  Caller holds 'refresh_mutex' (or is repository_open()). */
static int
load_remote(struct repository *r)
{
    _cleanup_free_ char *url = xasprintf("%sindex.json", r->url);
    uint64_t t0 = time_ms();
    struct sink sink = { .fd = -1, .max = REMOTE_DOC_MAX };
    char why[CURL_ERROR_SIZE + 64];
    int error = http_get(url, &sink, REMOTE_DOC_TIMEOUT_S, why, sizeof why);
    if (error) {
        free(sink.buf);
        LOG_WARN("repository %s: %s", url, why);
        return error;
    }
    json_object *index = sink.buf ? json_tokener_parse(sink.buf) : NULL;
    free(sink.buf);
    json_object *list = NULL;
    if (!index || !json_object_is_type(index, json_type_object)
        || !json_object_object_get_ex(index, "templates", &list)
        || !json_object_is_type(list, json_type_array)) {
        LOG_WARN("repository %s: not an index (an object with a "
                 "\"templates\" array of file names)", url);
        json_object_put(index);
        return -EBADMSG;
    }
    size_t before = r->n_templates, n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(list, i);
        const char *name = json_object_is_type(item, json_type_string)
                           ? json_object_get_string(item) : "";
        if (!is_template_file_name(name)) {
            LOG_WARN("repository %s: templates[%zu]: \"%.64s\" is not a "
                     "template file name; skipped", url, i, name);
            continue;
        }
        bool seen = false;
        for (char **s = r->remote_files; s && *s && !seen; s++)
            seen = !strcmp(*s, name);
        if (seen)
            continue;
        _cleanup_free_ char *turl = xasprintf("%stemplates/%s", r->url, name);
        struct sink ts = { .fd = -1, .max = REMOTE_DOC_MAX };
        error = http_get(turl, &ts, REMOTE_DOC_TIMEOUT_S, why, sizeof why);
        json_object *obj = error || !ts.buf ? NULL : json_tokener_parse(ts.buf);
        free(ts.buf);
        if (error) {
            LOG_WARN("template %s: %s; skipped", turl, why);
            continue;               /* Tried again on the next refresh. */
        }
        if (!obj)
            LOG_WARN("template %s: not valid JSON; skipped", turl);
        else
            add_template_json(r, obj, true, turl);
        json_object_put(obj);
        size_t k = 0;
        while (r->remote_files && r->remote_files[k])
            k++;
        r->remote_files = xrealloc(r->remote_files,
                                   (k + 2) * sizeof *r->remote_files);
        r->remote_files[k] = xstrdup(name);
        r->remote_files[k + 1] = NULL;
    }
    json_object_put(index);
    LOG_INFO("repository %s: %zu new templates in %llu ms", r->url,
             r->n_templates - before, (unsigned long long) (time_ms() - t0));
    return (int) (r->n_templates - before);
}

int
repository_refresh(const struct repository *cr)
{
    /* Logically const: the table is a cache of the remote source. */
    struct repository *r = (struct repository *) cr;
    if (!r || !r->url)
        return 0;
    pthread_mutex_lock(&r->refresh_mutex);
    uint64_t now = time_ms();
    int n = 0;
    if (!r->last_refresh || now - r->last_refresh >= r->refresh_s * 1000ull) {
        r->last_refresh = now;
        n = load_remote(r);
    }
    pthread_mutex_unlock(&r->refresh_mutex);
    return n;
}

void
repository_set_refresh_interval(struct repository *r, unsigned int seconds)
{
    pthread_mutex_lock(&r->refresh_mutex);
    r->refresh_s = seconds;
    pthread_mutex_unlock(&r->refresh_mutex);
}

int
repository_open(const struct corch_config *cfg, struct repository **ret,
                struct corch_err *err)
{
    bool local = cfg->repository_path && *cfg->repository_path;
    bool remote = cfg->repository_url && *cfg->repository_url;
    if (!local && !remote)
        return corch_err_set(err, -EINVAL, "repository.path",
                             "repository.path and repository.url: both "
                             "empty; set one of them");
    if (remote && !repository_url_is_http(cfg->repository_url))
        return corch_err_set(err, -EINVAL, "repository.url",
                             "repository.url: \"%s\": only http:// and "
                             "https:// URLs are allowed",
                             cfg->repository_url);
    if (sodium_init() < 0)
        return corch_err_set(err, -EIO, NULL, "libsodium failed to start");

    struct repository *r = xcalloc(1, sizeof *r);
    pthread_rwlock_init(&r->lock, NULL);
    pthread_mutex_init(&r->refresh_mutex, NULL);
    pthread_mutex_init(&r->mutex, NULL);
    r->refresh_s = REPOSITORY_REFRESH_S;
    r->images_dir = xasprintf("%s/images", cfg->state_dir && *cfg->state_dir
                                           ? cfg->state_dir : ".");
    if (local) {
        r->path = xstrdup(cfg->repository_path);
        load_templates(r);
    }
    if (remote) {
        size_t len = strlen(cfg->repository_url);
        r->url = cfg->repository_url[len - 1] == '/'
                 ? xstrdup(cfg->repository_url)
                 : xasprintf("%s/", cfg->repository_url);
        /* An unreachable server is not fatal: its templates come with a
         * later refresh (a template id not found). */
        repository_refresh(r);
    }
    *ret = r;
    return 0;
}

void
repository_close(struct repository *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_templates; i++)
        sf_template_free(r->templates[i]);
    free(r->templates);
    free(r->remote);
    strv_free(r->remote_files);
    for (size_t i = 0; i < r->n_verified; i++)
        free(r->verified[i].path);
    free(r->verified);
    pthread_mutex_destroy(&r->mutex);
    pthread_mutex_destroy(&r->refresh_mutex);
    pthread_rwlock_destroy(&r->lock);
    free(r->images_dir);
    free(r->url);
    free(r->path);
    free(r);
}

size_t
repository_count(const struct repository *cr)
{
    struct repository *r = (struct repository *) cr;
    if (!r)
        return 0;
    pthread_rwlock_rdlock(&r->lock);
    size_t n = r->n_templates;
    pthread_rwlock_unlock(&r->lock);
    return n;
}

const struct sf_template *
repository_get(const struct repository *cr, size_t i)
{
    struct repository *r = (struct repository *) cr;
    if (!r)
        return NULL;
    pthread_rwlock_rdlock(&r->lock);
    const struct sf_template *t = i < r->n_templates ? r->templates[i] : NULL;
    pthread_rwlock_unlock(&r->lock);
    return t;
}

const struct sf_template *
repository_find(const struct repository *cr, const char *id)
{
    struct repository *r = (struct repository *) cr;
    const struct sf_template *t = NULL;
    if (!r || !id)
        return NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->n_templates && !t; i++)
        if (!strcmp(r->templates[i]->id, id))
            t = r->templates[i];
    pthread_rwlock_unlock(&r->lock);
    return t;
}

/* Whether 't' came from the remote source. */
static bool
is_remote_template(struct repository *r, const struct sf_template *t)
{
    bool remote = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->n_templates; i++)
        if (r->templates[i] == t)
            remote = r->remote[i];
    pthread_rwlock_unlock(&r->lock);
    return remote;
}

/* Hex SHA-256 of the file at 'fd' into 'out' (65 bytes). */
static int
hash_file(int fd, char out[65])
{
    crypto_hash_sha256_state st;
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    ssize_t n;

    crypto_hash_sha256_init(&st);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update(&st, buf, (unsigned long long) n);
    if (n < 0)
        return -errno;
    crypto_hash_sha256_final(&st, digest);
    hex_encode(digest, sizeof digest, out);
    return 0;
}

static bool
already_verified(struct repository *r, const char *path, const char *sha256,
                 const struct stat *st)
{
    bool ok = false;
    pthread_mutex_lock(&r->mutex);
    for (size_t i = 0; i < r->n_verified && !ok; i++) {
        const struct verified *v = &r->verified[i];
        ok = !strcmp(v->path, path) && !strcasecmp(v->sha256, sha256)
             && v->size == st->st_size
             && v->mtime.tv_sec == st->st_mtim.tv_sec
             && v->mtime.tv_nsec == st->st_mtim.tv_nsec;
    }
    pthread_mutex_unlock(&r->mutex);
    return ok;
}

static void
remember_verified(struct repository *r, const char *path, const char *sha256,
                  const struct stat *st)
{
    pthread_mutex_lock(&r->mutex);
    size_t i;
    for (i = 0; i < r->n_verified; i++)
        if (!strcmp(r->verified[i].path, path))
            break;
    if (i == r->n_verified) {
        r->verified = xrealloc(r->verified, (i + 1) * sizeof *r->verified);
        r->verified[i].path = xstrdup(path);
        r->n_verified++;
    }
    snprintf(r->verified[i].sha256, sizeof r->verified[i].sha256, "%s",
             sha256);
    r->verified[i].size = st->st_size;
    r->verified[i].mtime = st->st_mtim;
    pthread_mutex_unlock(&r->mutex);
}

/* Whether the relative 'uri' stays inside the repository. */
static bool
uri_stays_inside(const char *uri)
{
    size_t len = strlen(uri);
    return uri[0] != '/' && strcmp(uri, "..") && strncmp(uri, "../", 3)
           && !strstr(uri, "/../")
           && !(len >= 3 && !strcmp(uri + len - 3, "/.."));
}

/* Checks the file at 'path' against 'sha256' (skipping the hash when it
 * was verified before and has not changed).  0, -EBADMSG with the digest
 * found in 'hex', or another negative errno. */
static int
verify_file(struct repository *r, const char *path, const char *sha256,
            char hex[65])
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (already_verified(r, path, sha256, &st))
        return 0;
    int error = hash_file(fd, hex);
    if (error)
        return error;
    if (strcasecmp(hex, sha256))
        return -EBADMSG;
    remember_verified(r, path, hex, &st);
    return 0;
}

/* The image of 't' from 'url', through the cache <images_dir>/<sha256>. */
static int
fetch_remote_image(struct repository *r, const struct sf_template *t,
                   const char *url, char **ret_path, struct corch_err *err)
{
    char sha[65], hex[65] = "";
    snprintf(sha, sizeof sha, "%s", t->sha256);
    for (char *c = sha; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char) (*c - 'A' + 'a');
    _cleanup_free_ char *path = xasprintf("%s/%s", r->images_dir, sha);

    /* Reused by digest, whichever template or server it came from. */
    int error = verify_file(r, path, sha, hex);
    if (!error) {
        *ret_path = TAKE_PTR(path);
        return 0;
    }
    if (error != -ENOENT) {
        LOG_WARN("cached image %s is unusable (%s); downloading it again",
                 path, error == -EBADMSG ? "wrong digest" : strerror(-error));
        unlink(path);
    }

    error = mkdir_p(r->images_dir, 0700);
    if (error)
        return corch_err_set(err, error, NULL, "template %s: %s: %s", t->id,
                             r->images_dir, strerror(-error));
    _cleanup_free_ char *tmp = xasprintf("%s/.%s.XXXXXX", r->images_dir, sha);
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return corch_err_set(err, -errno, NULL, "template %s: %s: %s", t->id,
                             tmp, strerror(errno));
    struct sink sink = { .fd = fd, .max = REMOTE_IMAGE_MAX };
    char why[CURL_ERROR_SIZE + 64];
    uint64_t t0 = time_ms();
    error = http_get(url, &sink, REMOTE_IMAGE_TIMEOUT_S, why, sizeof why);
    if (error) {
        unlink(tmp);
        /* A 404 of the image is the node's failure, not "no such graph". */
        return corch_err_set(err, error == -ENOENT ? -EIO : error, NULL,
                             "template %s: image %s: %s", t->id, url, why);
    }
    if (lseek(fd, 0, SEEK_SET) < 0 || (error = hash_file(fd, hex)) < 0) {
        error = error ? error : -errno;
        unlink(tmp);
        return corch_err_set(err, error, NULL, "template %s: image %s: %s",
                             t->id, tmp, strerror(-error));
    }
    if (strcmp(hex, sha)) {
        unlink(tmp);
        return corch_err_set(err, -EBADMSG, NULL,
                             "template %s: image %s has sha256 %s, the "
                             "template says %s; the download was removed",
                             t->id, url, hex, sha);
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
        error = -errno;
        unlink(tmp);
        return corch_err_set(err, error, NULL, "template %s: %s: %s", t->id,
                             path, strerror(-error));
    }
    struct stat st;
    if (!fstat(fd, &st))
        remember_verified(r, path, hex, &st);
    LOG_INFO("template %s: image %s downloaded (%llu bytes, %llu ms), "
             "cached as %s", t->id, url, (unsigned long long) sink.len,
             (unsigned long long) (time_ms() - t0), path);
    *ret_path = TAKE_PTR(path);
    return 0;
}

int
repository_fetch_image(struct repository *r, const struct sf_template *t,
                       char **ret_path, struct corch_err *err)
{
    if (!t->uri)
        return corch_err_set(err, -ENOENT, NULL,
                             "template %s has no image", t->id);
    bool absolute = strstr(t->uri, "://") != NULL;
    if (absolute && !repository_url_is_http(t->uri))
        return corch_err_set(err, -EPROTONOSUPPORT, NULL,
                             "template %s: image %s: only http and https "
                             "URLs are allowed", t->id, t->uri);
    /* A path inside the repository, never outside it. */
    if (!absolute && !uri_stays_inside(t->uri))
        return corch_err_set(err, -EINVAL, NULL,
                             "template %s: uri \"%s\" leaves the repository",
                             t->id, t->uri);
    if (absolute || is_remote_template(r, t)) {
        if (!t->sha256)
            return corch_err_set(err, -EINVAL, NULL,
                                 "template %s: no sha256", t->id);
        if (absolute)
            return fetch_remote_image(r, t, t->uri, ret_path, err);
        _cleanup_free_ char *url = xasprintf("%s%s", r->url, t->uri);
        return fetch_remote_image(r, t, url, ret_path, err);
    }
    if (!r->path)
        return corch_err_set(err, -ENOENT, NULL,
                             "template %s: no local repository for image %s",
                             t->id, t->uri);

    _cleanup_free_ char *path = xasprintf("%s/%s", r->path, t->uri);
    char hex[65] = "";
    int error = verify_file(r, path, t->sha256, hex);
    if (error == -EBADMSG)
        return corch_err_set(err, -EBADMSG, NULL,
                             "template %s: image %s has sha256 %s, the "
                             "template says %s", t->id, path, hex,
                             t->sha256);
    if (error == -EINVAL)
        return corch_err_set(err, -EINVAL, NULL,
                             "template %s: image %s is not a file", t->id,
                             path);
    if (error)
        return corch_err_set(err, error, NULL, "template %s: image %s: %s",
                             t->id, path, strerror(-error));
    *ret_path = TAKE_PTR(path);
    return 0;
}
