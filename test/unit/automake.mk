# One cmocka program per module.
check_PROGRAMS += test/unit/test-config
TESTS += test/unit/test-config
test_unit_test_config_SOURCES = test/unit/test-config.c
test_unit_test_config_CFLAGS = $(TEST_CFLAGS)
test_unit_test_config_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-graph
TESTS += test/unit/test-graph
test_unit_test_graph_SOURCES = test/unit/test-graph.c
test_unit_test_graph_CFLAGS = $(TEST_CFLAGS)
test_unit_test_graph_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-nffg
TESTS += test/unit/test-nffg
test_unit_test_nffg_SOURCES = test/unit/test-nffg.c
test_unit_test_nffg_CFLAGS = $(TEST_CFLAGS)
test_unit_test_nffg_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-nsf-image
TESTS += test/unit/test-nsf-image
test_unit_test_nsf_image_SOURCES = test/unit/test-nsf-image.c
test_unit_test_nsf_image_CFLAGS = $(TEST_CFLAGS)
test_unit_test_nsf_image_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-store
TESTS += test/unit/test-store
test_unit_test_store_SOURCES = test/unit/test-store.c
test_unit_test_store_CFLAGS = $(TEST_CFLAGS)
test_unit_test_store_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-security
TESTS += test/unit/test-security
test_unit_test_security_SOURCES = test/unit/test-security.c
test_unit_test_security_CFLAGS = $(TEST_CFLAGS)
test_unit_test_security_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-nrm
TESTS += test/unit/test-nrm
test_unit_test_nrm_SOURCES = test/unit/test-nrm.c
test_unit_test_nrm_CFLAGS = $(TEST_CFLAGS)
test_unit_test_nrm_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-netmgr
TESTS += test/unit/test-netmgr
test_unit_test_netmgr_SOURCES = test/unit/test-netmgr.c
test_unit_test_netmgr_CFLAGS = $(TEST_CFLAGS)
test_unit_test_netmgr_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-resolver
TESTS += test/unit/test-resolver
test_unit_test_resolver_SOURCES = test/unit/test-resolver.c
test_unit_test_resolver_CFLAGS = $(TEST_CFLAGS)
test_unit_test_resolver_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-repository
TESTS += test/unit/test-repository
test_unit_test_repository_SOURCES = test/unit/test-repository.c
test_unit_test_repository_CFLAGS = $(TEST_CFLAGS)
test_unit_test_repository_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-jsonschema
TESTS += test/unit/test-jsonschema
test_unit_test_jsonschema_SOURCES = test/unit/test-jsonschema.c
test_unit_test_jsonschema_CFLAGS = $(TEST_CFLAGS)
test_unit_test_jsonschema_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-rest
TESTS += test/unit/test-rest
test_unit_test_rest_SOURCES = test/unit/test-rest.c
test_unit_test_rest_CFLAGS = $(TEST_CFLAGS)
test_unit_test_rest_LDADD = $(TEST_LDADD)
# nrm_graph_put is wrapped (SSSD style) to fail with a chosen errno and
# kind: the REST layer must answer by the kind alone.
test_unit_test_rest_LDFLAGS = -Wl,--wrap=nrm_graph_put

check_PROGRAMS += test/unit/test-bus
TESTS += test/unit/test-bus
test_unit_test_bus_SOURCES = test/unit/test-bus.c
test_unit_test_bus_CFLAGS = $(TEST_CFLAGS)
test_unit_test_bus_LDADD = $(TEST_LDADD)

check_PROGRAMS += test/unit/test-proc
TESTS += test/unit/test-proc
test_unit_test_proc_SOURCES = test/unit/test-proc.c
test_unit_test_proc_CFLAGS = $(TEST_CFLAGS)
test_unit_test_proc_LDADD = $(TEST_LDADD)

