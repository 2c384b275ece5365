/* sffg-validate: runs SF-FG (or, with --nffg, NF-FG) files through the
 * daemon's own validator, for the schema-agreement test and for people
 * writing graphs by hand.
 *
 *   sffg-validate [--nffg] [--normalise] FILE...
 *
 * Prints one line per file: "FILE<TAB>ok" or "FILE<TAB>error<TAB>PATH<TAB>
 * MESSAGE".  With --normalise, prints the normalised SF-FG of valid files.
 * Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "nffg.h"

static char *
read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NULL;
    do {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = xrealloc(buf, cap);
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    *ret_len = len;
    return buf;
}

int
main(int argc, char *argv[])
{
    bool nffg = false, normalise = false;
    int status = 0, i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--nffg"))
            nffg = true;
        else if (!strcmp(argv[i], "--normalise"))
            normalise = true;
        else {
            fprintf(stderr, "usage: %s [--nffg] [--normalise] FILE...\n",
                    argv[0]);
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, "usage: %s [--nffg] [--normalise] FILE...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        size_t len;
        _cleanup_free_ char *text = read_file(argv[i], &len);
        int r;

        if (!text) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        if (nffg) {
            enum json_tokener_error jerr;
            json_object *root = json_tokener_parse_verbose(text, &jerr);
            if (!root) {
                r = corch_err_set(&err, -EINVAL, "", "invalid JSON: %s",
                                  json_tokener_error_desc(jerr));
            } else {
                r = nffg_to_graph(root, "nffg", NULL, &g, &err);
                json_object_put(root);
            }
        } else
            r = graph_parse(text, len, 0, NULL, &g, &err);
        if (r < 0) {
            printf("%s\terror\t%s\t%s\n", argv[i], err.path, err.msg);
            status = 1;
            continue;
        }
        printf("%s\tok\n", argv[i]);
        if (normalise) {
            json_object *j = graph_to_json(g);
            puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY
                                                | JSON_C_TO_STRING_NOSLASHESCAPE));
            json_object_put(j);
        }
        graph_free(g);
    }
    return status;
}
