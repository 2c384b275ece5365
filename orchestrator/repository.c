/* The SF repository: see repository.h.  Only the local source exists yet;
 * a remote repository (repository.url) is refused with -EOPNOTSUPP. */
#include <config.h>
#include "repository.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
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

struct repository {
    char *path;                 /* Local directory. */
    struct sf_template **templates; /* Sorted by file name. */
    size_t n_templates;
    pthread_mutex_t mutex;      /* Protects 'verified'. */
    struct verified *verified;  /* Images checked already. */
    size_t n_verified;
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

    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *file = xasprintf("%s/%s", dir, names[i]);
        json_object *obj = json_object_from_file(file);
        struct corch_err err = { .path = "", .msg = "" };
        struct sf_template *t = NULL;
        if (!obj)
            LOG_WARN("template %s: not valid JSON (%s); skipped", file,
                     json_util_get_last_err());
        else if (sf_template_from_json(obj, &t, &err) < 0)
            LOG_WARN("template %s: %s; skipped", file, err.msg);
        else if (repository_find(r, t->id)) {
            LOG_WARN("template %s: id \"%s\" already used; skipped", file,
                     t->id);
            sf_template_free(t);
            t = NULL;
        }
        json_object_put(obj);
        if (t) {
            r->templates = xrealloc(r->templates, (r->n_templates + 1)
                                                  * sizeof *r->templates);
            r->templates[r->n_templates++] = t;
        }
        free(names[i]);
    }
    free(names);
    LOG_INFO("repository %s: %zu templates", r->path, r->n_templates);
}

int
repository_open(const struct corch_config *cfg, struct repository **ret,
                struct corch_err *err)
{
    if (cfg->repository_url && *cfg->repository_url)
        return corch_err_set(err, -EOPNOTSUPP, "repository.url",
                             "repository.url: remote repositories are not "
                             "supported yet; use repository.path");
    if (!cfg->repository_path || !*cfg->repository_path)
        return corch_err_set(err, -EINVAL, "repository.path",
                             "repository.path: empty");
    if (sodium_init() < 0)
        return corch_err_set(err, -EIO, NULL, "libsodium failed to start");

    struct repository *r = xcalloc(1, sizeof *r);
    r->path = xstrdup(cfg->repository_path);
    pthread_mutex_init(&r->mutex, NULL);
    load_templates(r);
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
    for (size_t i = 0; i < r->n_verified; i++)
        free(r->verified[i].path);
    free(r->verified);
    pthread_mutex_destroy(&r->mutex);
    free(r->path);
    free(r);
}

size_t
repository_count(const struct repository *r)
{
    return r ? r->n_templates : 0;
}

const struct sf_template *
repository_get(const struct repository *r, size_t i)
{
    return r && i < r->n_templates ? r->templates[i] : NULL;
}

const struct sf_template *
repository_find(const struct repository *r, const char *id)
{
    for (size_t i = 0; r && id && i < r->n_templates; i++)
        if (!strcmp(r->templates[i]->id, id))
            return r->templates[i];
    return NULL;
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

int
repository_fetch_image(struct repository *r, const struct sf_template *t,
                       char **ret_path, struct corch_err *err)
{
    if (!t->uri)
        return corch_err_set(err, -ENOENT, NULL,
                             "template %s has no image", t->id);
    if (strstr(t->uri, "://"))
        return corch_err_set(err, -EOPNOTSUPP, NULL,
                             "template %s: image %s: remote images are not "
                             "supported yet", t->id, t->uri);
    /* A path inside the repository, never outside it. */
    if (t->uri[0] == '/' || !strcmp(t->uri, "..") || !strncmp(t->uri, "../", 3)
        || strstr(t->uri, "/../") || (strlen(t->uri) >= 3
            && !strcmp(t->uri + strlen(t->uri) - 3, "/..")))
        return corch_err_set(err, -EINVAL, NULL,
                             "template %s: uri \"%s\" leaves the repository",
                             t->id, t->uri);

    _cleanup_free_ char *path = xasprintf("%s/%s", r->path, t->uri);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return corch_err_set(err, -errno, NULL, "template %s: image %s: %s",
                             t->id, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return corch_err_set(err, -EINVAL, NULL,
                             "template %s: image %s is not a file", t->id,
                             path);
    if (!already_verified(r, path, t->sha256, &st)) {
        char hex[65];
        int error = hash_file(fd, hex);
        if (error)
            return corch_err_set(err, error, NULL,
                                 "template %s: image %s: %s", t->id, path,
                                 strerror(-error));
        if (strcasecmp(hex, t->sha256))
            return corch_err_set(err, -EBADMSG, NULL,
                                 "template %s: image %s has sha256 %s, the "
                                 "template says %s", t->id, path, hex,
                                 t->sha256);
        remember_verified(r, path, hex, &st);
    }
    *ret_path = TAKE_PTR(path);
    return 0;
}
