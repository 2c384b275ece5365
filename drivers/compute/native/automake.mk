# The native engine: NSF packages run in network namespaces.
orchestrator_liborch_a_SOURCES += \
	drivers/compute/native/compute-native.c drivers/compute/native/compute-native.h
