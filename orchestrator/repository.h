/* The SF repository: the templates of the functions this node can run
 * (schemas/template.schema.json) and their images.
 *
 * Templates come from a local directory (repository.path: templates/NAME.json
 * and the image files they name) or from a remote repository over HTTP(S)
 * (repository.url, the same layout served by any static web server; an
 * index.json lists the template files).  Images from a remote repository
 * are cached in <state.dir>/images by digest and always verified. */
#ifndef CORCH_REPOSITORY_H
#define CORCH_REPOSITORY_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct corch_config;

struct sf_template_port {
    char *name;                 /* Device name inside the SF ("eth0"). */
    char *tech;                 /* "veth", "internal", "tap", "vhost-user";
                                 * NULL: the engine's default. */
};

struct sf_template {
    char *id;                   /* Unique in the repository. */
    char *capability;           /* Functional capability ("firewall"). */
    char *engine;               /* "native", "docker", "kvm", "dpdk". */
    char *uri;                  /* Image: path inside the repository or URL;
                                 * NULL for a subgraph template. */
    char *sha256;               /* Image digest, 64 hex digits. */
    struct sf_template_port *ports;
    size_t n_ports;
    unsigned int cpu_cores;     /* Cores needed (0: shares a core). */
    unsigned int memory_mb;     /* Memory needed. */
    unsigned int disk_mb;       /* Disk needed. */
    char **dep_executables;     /* Native: programs that must be on PATH
                                 * (NULL-terminated). */
    char **dep_kernel;          /* Native: kernel features (e.g.
                                 * "nf_tables"), NULL-terminated. */
    json_object *subgraph;      /* An SF-FG ({"sffg":...}) or NULL. */
    json_object *config_schema; /* JSON Schema of the SF's config, or NULL. */
    json_object *json;          /* The template as read (owned). */
};

struct repository;

/* Opens the repository described by 'cfg' and loads its templates.  A
 * template that fails validation is skipped with a warning naming the file
 * and the field. */
int repository_open(const struct corch_config *, struct repository **ret,
                    struct corch_err *err);
void repository_close(struct repository *);     /* Accepts NULL. */

size_t repository_count(const struct repository *);
const struct sf_template *repository_get(const struct repository *, size_t i);
const struct sf_template *repository_find(const struct repository *,
                                          const char *id);

/* Parses one template document; the path in 'err' names the field. */
int sf_template_from_json(json_object *, struct sf_template **ret,
                          struct corch_err *err);
void sf_template_free(struct sf_template *);

/* Makes the image of 't' available as a local file (downloading and
 * verifying it if remote) and returns its path (caller frees). */
int repository_fetch_image(struct repository *, const struct sf_template *t,
                           char **ret_path, struct corch_err *err);

/* --- The remote source (docs/sf-repository.md). ---
 *
 * Both repository.path and repository.url may be set: the local templates
 * load first, then those of the index; an id already loaded keeps its
 * first definition (local wins).  An image whose template came from the
 * remote source, or whose uri is an http(s) URL, is downloaded into
 * <state.dir>/images/<sha256> (a temporary file renamed once verified),
 * reused by digest, and refused (-EBADMSG, the download removed) when its
 * digest is not the template's.  Only http and https are fetched, TLS
 * peers are verified against the system CA bundle; a document may have
 * 1 MiB, an image 512 MiB; connect timeout 10 s, 30 s per document, 300 s
 * per image. */

/* Least seconds between two downloads of the index (refreshes). */
#define REPOSITORY_REFRESH_S 30

/* Whether 'url' starts with http:// or https://. */
bool repository_url_is_http(const char *url);

/* Downloads the index again and loads the templates it lists that were
 * not loaded yet, unless the last download is less than the refresh
 * interval old.  Templates already loaded stay as they are (deployed SFs
 * point at them).  Returns the number of templates added, or a negative
 * errno (the server's failure, logged).  A no-op (0) without
 * repository.url.  Thread-safe; the resolver calls it when a template id
 * or a capability is not found. */
int repository_refresh(const struct repository *);

/* Sets the refresh interval (seconds; 0: every miss refreshes). */
void repository_set_refresh_interval(struct repository *,
                                     unsigned int seconds);

#endif
