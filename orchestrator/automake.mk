# The core of the daemon, built as a convenience library so that the unit
# tests link the very same objects as c-orch.
noinst_LIBRARIES += orchestrator/liborch.a
orchestrator_liborch_a_SOURCES = \
	orchestrator/log.c orchestrator/log.h \
	orchestrator/util.c orchestrator/util.h \
	orchestrator/corch-config.c orchestrator/corch-config.h \
	orchestrator/flow.c orchestrator/flow.h \
	orchestrator/graph.c orchestrator/graph.h \
	orchestrator/graph-parse.c orchestrator/graph-json.c \
	orchestrator/nffg.c orchestrator/nffg.h \
	orchestrator/store.c orchestrator/store.h \
	orchestrator/security.c orchestrator/security.h \
	orchestrator/repository.c orchestrator/repository.h \
	orchestrator/nsf-image.c orchestrator/nsf-image.h \
	orchestrator/jsonschema.c orchestrator/jsonschema.h \
	orchestrator/resolver.c orchestrator/resolver.h \
	orchestrator/scheduler.c orchestrator/scheduler.h \
	orchestrator/vswitch.c orchestrator/vswitch.h \
	orchestrator/compute.c orchestrator/compute.h \
	orchestrator/netmgr.c orchestrator/netmgr.h \
	orchestrator/netmgr-split.c \
	orchestrator/nrm.c orchestrator/nrm.h \
	orchestrator/nrm-deploy.c orchestrator/nrm-deploy.h \
	orchestrator/node.c orchestrator/node.h \
	orchestrator/bus.c orchestrator/bus.h \
	orchestrator/rest.c orchestrator/rest.h orchestrator/rest-private.h \
	orchestrator/rest-graphs.c orchestrator/rest-node.c \
	orchestrator/rest-users.c orchestrator/rest-nffg.c \
	orchestrator/proc.c orchestrator/proc.h \
	orchestrator/netlink.c orchestrator/netlink.h

sbin_PROGRAMS += orchestrator/c-orch
orchestrator_c_orch_SOURCES = orchestrator/main.c
orchestrator_c_orch_LDADD = orchestrator/liborch.a $(CORCH_LIBS)
