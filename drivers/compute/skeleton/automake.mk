# The skeleton compute driver is compiled into a library that nothing links
# (and it is not registered), so that it keeps up with the contract.
noinst_LIBRARIES += drivers/compute/skeleton/libcompute-skeleton.a
drivers_compute_skeleton_libcompute_skeleton_a_SOURCES = \
	drivers/compute/skeleton/compute-skeleton.c \
	drivers/compute/skeleton/compute-skeleton.h
