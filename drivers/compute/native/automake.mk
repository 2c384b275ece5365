# The native engine: NSF packages run in network namespaces.
orchestrator_liborch_a_SOURCES += \
	drivers/compute/native/compute-native.c drivers/compute/native/compute-native.h

# Its test drives the hooks with real namespaces, veths and packets (root;
# skipped otherwise).
if HAVE_CMOCKA
check_PROGRAMS += test/unit/test-native
TESTS += test/unit/test-native
test_unit_test_native_SOURCES = test/unit/test-native.c
test_unit_test_native_CFLAGS = $(TEST_CFLAGS)
test_unit_test_native_LDADD = $(TEST_LDADD)
endif
