# The quick start, the systemd unit, the sample configuration, examples.
EXTRA_DIST += \
	contrib/c-orch.conf.sample \
	contrib/c-orch.service \
	contrib/examples/passthrough.json \
	contrib/quickstart.sh
