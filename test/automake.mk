# cmocka unit tests (make check).  End-to-end tests and benchmarks need root
# and real parts (OVS, namespaces): "make check-e2e", "make check-bench"
# run them, as test/run-all.sh (the CI entry) does.
if HAVE_CMOCKA
TEST_LDADD = orchestrator/liborch.a $(CORCH_LIBS) $(CURL_LIBS) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
include test/unit/automake.mk
endif
include test/bench/automake.mk
include test/e2e/automake.mk
include test/data/automake.mk

EXTRA_DIST += \
	test/check-dist-files.sh \
	test/fuzz/fuzz-graph.c \
	test/run-all.sh \
	test/lsan.supp \
	test/valgrind.supp

# The stages of test/run-all.sh beyond "make check", on this build dir:
# the end-to-end tests (root, real OVS and namespaces; CI runs them on a
# build configured with --enable-sanitizers), the unit tests under
# valgrind (CI: the optimised build) and the benchmarks (figures only).
# Each ends with run-all.sh's "N passed, N failed, N skipped" line; pick
# tests with E2E_TESTS / BENCHES, e.g. make check-e2e E2E_TESTS='3*'.
check-e2e: all
	SAN_BUILD_DIR='$(abs_top_builddir)' bash $(srcdir)/test/run-all.sh e2e
check-valgrind: all $(check_PROGRAMS)
	OPT_BUILD_DIR='$(abs_top_builddir)' bash $(srcdir)/test/run-all.sh valgrind
check-bench: all
	OPT_BUILD_DIR='$(abs_top_builddir)' bash $(srcdir)/test/run-all.sh bench
.PHONY: check-e2e check-valgrind check-bench
