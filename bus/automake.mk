# The bus: the node/nrm glue of the publisher (in the core library, so that
# node.c and bus.c themselves stay testable without an nrm), the broker and
# the subscriber tool.
orchestrator_liborch_a_SOURCES += orchestrator/node-nrm.c
# bus.c and the tools call libzmq itself (zmq_poll on an eventfd next to
# the sockets, non-blocking sends, Z85), not only czmq.
CORCH_LIBS += -lzmq

sbin_PROGRAMS += bus/c-orch-broker
bus_c_orch_broker_SOURCES = bus/broker.c
bus_c_orch_broker_LDADD = $(CZMQ_LIBS) -lzmq

bin_PROGRAMS += bus/c-orch-sub
bus_c_orch_sub_SOURCES = bus/sub.c
bus_c_orch_sub_LDADD = $(CZMQ_LIBS) -lzmq $(JSONC_LIBS)
