/* Unit tests of the JSON-Schema subset checker (jsonschema.h): every
 * keyword it understands, the path of each error, the kind (invalid), and
 * the leniency on what it does not understand. */
#include <config.h>
#include "jsonschema.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* Checks 'value' against 'schema' (both JSON text): 'path' NULL means it
 * must pass, else it must fail with -EINVAL at 'path'. */
static void
expect(const char *schema, const char *value, const char *path)
{
    json_object *s = json_tokener_parse(schema);
    json_object *v = json_tokener_parse(value);
    struct corch_err err = { .path = "", .msg = "" };

    /* json-c's null is a NULL object. */
    if (!s || (!v && strcmp(value, "null")))
        fail_msg("bad test JSON: %s / %s", schema, value);
    int r = jsonschema_check(s, v, "cfg", &err);
    if (!path && r)
        fail_msg("%s against %s: refused at \"%s\": %s", value, schema,
                 err.path, err.msg);
    if (path) {
        if (r != -EINVAL)
            fail_msg("%s against %s: %d, expected -EINVAL", value, schema, r);
        if (strcmp(err.path, path))
            fail_msg("%s against %s: error at \"%s\" (%s), expected \"%s\"",
                     value, schema, err.path, err.msg, path);
        assert_int_equal(err.kind, CORCH_ERR_INVALID);
        assert_true(err.msg[0] != '\0');
    }
    json_object_put(s);
    json_object_put(v);
}

static void
test_types(void **state)
{
    (void) state;
    expect("{\"type\":\"object\"}", "{}", NULL);
    expect("{\"type\":\"object\"}", "[]", "cfg");
    expect("{\"type\":\"integer\"}", "3", NULL);
    expect("{\"type\":\"integer\"}", "3.0", NULL);
    expect("{\"type\":\"integer\"}", "3.5", "cfg");
    expect("{\"type\":\"number\"}", "3.5", NULL);
    expect("{\"type\":\"string\"}", "\"x\"", NULL);
    expect("{\"type\":\"boolean\"}", "\"true\"", "cfg");
    expect("{\"type\":\"null\"}", "null", NULL);
    expect("{\"type\":[\"string\",\"null\"]}", "null", NULL);
    expect("{\"type\":[\"string\",\"null\"]}", "1", "cfg");
    /* What it does not know, it does not hold against the value. */
    expect("{\"type\":\"uuid\"}", "1", NULL);
    expect("{\"format\":\"ipv4\"}", "\"not an address\"", NULL);
    expect("true", "[1,2]", NULL);
    expect("{}", "[1,2]", NULL);
}

static void
test_values(void **state)
{
    (void) state;
    expect("{\"const\":\"allow\"}", "\"allow\"", NULL);
    expect("{\"const\":\"allow\"}", "\"deny\"", "cfg");
    expect("{\"enum\":[\"allow\",\"deny\"]}", "\"deny\"", NULL);
    expect("{\"enum\":[\"allow\",\"deny\"]}", "\"drop\"", "cfg");
    expect("{\"minimum\":1,\"maximum\":65535}", "65535", NULL);
    expect("{\"minimum\":1,\"maximum\":65535}", "0", "cfg");
    expect("{\"minimum\":1,\"maximum\":65535}", "65536", "cfg");
    expect("{\"exclusiveMinimum\":0}", "0", "cfg");
    expect("{\"exclusiveMaximum\":10}", "9.5", NULL);
    expect("{\"exclusiveMaximum\":10}", "10", "cfg");
    expect("{\"minLength\":2,\"maxLength\":3}", "\"ab\"", NULL);
    expect("{\"minLength\":2,\"maxLength\":3}", "\"a\"", "cfg");
    expect("{\"minLength\":2,\"maxLength\":3}", "\"abcd\"", "cfg");
    expect("{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", NULL);
    expect("{\"pattern\":\"^[a-z]+$\"}", "\"ab1\"", "cfg");
    /* A pattern that is not POSIX is the template's problem: not checked. */
    expect("{\"pattern\":\"(\"}", "\"x\"", NULL);
}

static void
test_containers(void **state)
{
    (void) state;
    const char *obj = "{\"type\":\"object\",\"required\":[\"a\"],"
                      "\"properties\":{\"a\":{\"type\":\"integer\"},"
                      "\"b\":{\"type\":\"array\",\"minItems\":1,"
                      "\"maxItems\":2,\"items\":{\"type\":\"string\"}}},"
                      "\"additionalProperties\":false}";
    expect(obj, "{\"a\":1,\"b\":[\"x\"]}", NULL);
    expect(obj, "{\"b\":[\"x\"]}", "cfg.a");
    expect(obj, "{\"a\":\"1\"}", "cfg.a");
    expect(obj, "{\"a\":1,\"c\":2}", "cfg.c");
    expect(obj, "{\"a\":1,\"b\":[]}", "cfg.b");
    expect(obj, "{\"a\":1,\"b\":[\"x\",\"y\",\"z\"]}", "cfg.b");
    expect(obj, "{\"a\":1,\"b\":[\"x\",2]}", "cfg.b[1]");
    expect("{\"additionalProperties\":{\"type\":\"integer\"}}",
           "{\"x\":1,\"y\":\"2\"}", "cfg.y");
}

static void
test_combinators(void **state)
{
    (void) state;
    const char *all = "{\"allOf\":[{\"minimum\":1},{\"maximum\":9}]}";
    expect(all, "5", NULL);
    expect(all, "10", "cfg");
    const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":5}]}";
    expect(any, "\"x\"", NULL);
    expect(any, "7", NULL);
    expect(any, "1", "cfg");
    const char *one = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}";
    expect(one, "1", NULL);
    expect(one, "5.5", NULL);
    expect(one, "7", "cfg");            /* Both match. */
    /* The first alternative's error is the one reported, with its path. */
    expect("{\"anyOf\":[{\"properties\":{\"p\":{\"type\":\"integer\"}}},"
           "{\"type\":\"array\"}]}", "{\"p\":\"x\"}", "cfg.p");
}

static void
test_depth(void **state)
{
    (void) state;
    /* A schema nested deeper than the checker goes: refused, not a stack
     * overflow. */
    char schema[4096] = "", value[1024] = "";
    size_t n = 70;
    for (size_t i = 0; i < n; i++) {
        strcat(schema, "{\"items\":");
        strcat(value, "[");
    }
    strcat(schema, "{}");
    for (size_t i = 0; i < n; i++) {
        strcat(schema, "}");
        strcat(value, "]");
    }
    json_object *s = json_tokener_parse(schema);
    json_object *v = json_tokener_parse(value);
    struct corch_err err = { .path = "", .msg = "" };
    if (s && v) {               /* json-c's own depth limit may say no. */
        assert_int_equal(jsonschema_check(s, v, "cfg", &err), 0);
    }
    json_object_put(s);
    json_object_put(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_combinators),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
