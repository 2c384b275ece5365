# Benchmarks print figures and never fail on one (test/run-all.sh runs
# them).  Built by plain "make" so that the e2e scripts find them.
noinst_PROGRAMS += test/bench/bench-parse
test_bench_bench_parse_SOURCES = test/bench/bench-parse.c
test_bench_bench_parse_LDADD = orchestrator/liborch.a $(CORCH_LIBS)

# The SF-FG / NF-FG validator CLI used by test/e2e/05-schema-agreement.sh.
noinst_PROGRAMS += test/unit/sffg-validate
test_unit_sffg_validate_SOURCES = test/unit/sffg-validate.c
test_unit_sffg_validate_LDADD = orchestrator/liborch.a $(CORCH_LIBS)
