# cmocka unit tests (make check).  End-to-end tests and benchmarks need root
# and real parts (OVS, namespaces): test/run-all.sh runs them.
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
	test/valgrind.supp

