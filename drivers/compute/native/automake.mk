# The native engine: NSF packages run in network namespaces.
COMPUTE_DRIVERS += native
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

# Launch-overhead benchmark (test/bench/bench-native.sh runs it).
noinst_PROGRAMS += test/bench/bench-native
test_bench_bench_native_SOURCES = test/bench/bench-native.c
test_bench_bench_native_LDADD = orchestrator/liborch.a $(CORCH_LIBS)
