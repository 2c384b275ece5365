/* libFuzzer harness: whatever bytes a client sends as a graph body, the
 * parsers (SF-FG and NF-FG) return a graph or a clean error, never crash,
 * never leak, and an accepted graph survives a serialisation round trip.
 * Built and run by test/e2e/06-fuzz.sh with clang -fsanitize=fuzzer. */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "graph.h"
#include "log.h"
#include "nffg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct graph_limits limits = { 64, 256, 64 };
    struct corch_err err;
    struct graph *g = NULL;

    log_set_level(LOG_LEVEL_ERR);
    memset(&err, 0, sizeof err);
    if (graph_parse((const char *) data, size, 32, &limits, &g, &err) == 0) {
        json_object *j = graph_to_json(g);
        struct graph *g2 = NULL;
        int r = graph_from_json(j, &limits, &g2, &err);
        assert(r == 0);
        json_object_put(j);
        j = nffg_from_graph(g);
        json_object_put(j);
        graph_free(g2);
        graph_free(g);
    } else {
        assert(err.msg[0] != '\0');
    }

    /* The same bytes through the compatibility API's parser. */
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *root = json_tokener_parse_ex(tok, (const char *) data,
                                              (int) (size > 65536 ? 65536 : size));
    if (root && json_tokener_get_error(tok) == json_tokener_success) {
        memset(&err, 0, sizeof err);
        g = NULL;
        if (nffg_to_graph(root, "fuzz", &limits, &g, &err) == 0)
            graph_free(g);
        else
            assert(err.msg[0] != '\0');
    }
    json_object_put(root);
    json_tokener_free(tok);
    return 0;
}
