# Benchmarks print figures and never fail on one ("make check-bench", or
# test/run-all.sh bench, runs them).  Built by plain "make" so that the
# e2e scripts find them.  Each script is one benchmark; a compiled one
# without a script of its name runs on its own.
EXTRA_DIST += \
	test/bench/bench-bus.sh \
	test/bench/bench-many-sfs.sh \
	test/bench/bench-native.sh \
	test/bench/bench-ovs-10k.sh \
	test/bench/bench-ovs-deploy.sh \
	test/bench/bench-ovs-iperf.sh \
	test/bench/bench-ovs.sh \
	test/bench/bench-repository.sh \
	test/bench/bench-rest.sh

noinst_PROGRAMS += test/bench/bench-parse
test_bench_bench_parse_SOURCES = test/bench/bench-parse.c
test_bench_bench_parse_LDADD = orchestrator/liborch.a $(CORCH_LIBS)

# The SF-FG / NF-FG validator CLI used by test/e2e/05-schema-agreement.sh.
noinst_PROGRAMS += test/unit/sffg-validate
test_unit_sffg_validate_SOURCES = test/unit/sffg-validate.c
test_unit_sffg_validate_LDADD = orchestrator/liborch.a $(CORCH_LIBS)
