/* libFuzzer harness: whatever bytes a client sends as a graph body, the
 * parsers (SF-FG and NF-FG) return a graph or a clean error, never crash,
 * never leak, and an accepted graph survives a serialisation round trip.
 * The string rule (util.h: every string valid UTF-8 without NUL) holds for
 * every document either parser accepts and for everything they write.
 * Built and run by test/e2e/06-fuzz.sh with clang -fsanitize=fuzzer. */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "graph.h"
#include "log.h"
#include "nffg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted document has no invalid UTF-8 and no NUL anywhere in its
 * strings (json-c alone would have let both through). */
static void
check_strings_ok(const uint8_t *data, size_t size)
{
    assert(json_text_check((const char *) data, size, NULL) == 0);
}

/* What c-orch writes back obeys the rule too. */
static void
check_output(json_object *j)
{
    const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
    assert(utf8_check(s, strlen(s), NULL) == 0);
    assert(json_text_check(s, strlen(s), NULL) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct graph_limits limits = { 64, 256, 64 };
    struct corch_err err;
    struct graph *g = NULL;

    log_set_level(LOG_LEVEL_ERR);
    memset(&err, 0, sizeof err);
    if (graph_parse((const char *) data, size, 32, &limits, &g, &err) == 0) {
        check_strings_ok(data, size);
        json_object *j = graph_to_json(g);
        check_output(j);
        struct graph *g2 = NULL;
        int r = graph_from_json(j, &limits, &g2, &err);
        assert(r == 0);
        json_object_put(j);
        j = nffg_from_graph(g);
        check_output(j);
        json_object_put(j);
        graph_free(g2);
        graph_free(g);
    } else {
        assert(err.msg[0] != '\0');
        assert(utf8_check(err.msg, strlen(err.msg), NULL) == 0);
        assert(utf8_check(err.path, strlen(err.path), NULL) == 0);
    }

    /* The same bytes through the compatibility API's parser. */
    memset(&err, 0, sizeof err);
    g = NULL;
    if (nffg_parse((const char *) data, size, 32, "fuzz", &limits, &g,
                   &err) == 0) {
        check_strings_ok(data, size);
        graph_free(g);
    } else {
        assert(err.msg[0] != '\0');
        assert(utf8_check(err.path, strlen(err.path), NULL) == 0);
    }
    return 0;
}
