# The SF repository that ships (its templates and index are installed by
# nsf/automake.mk): the committed NSF images, which nsf/check-images.sh
# compares with the sources, and the index tools.
EXTRA_DIST += \
	sf-repository/check-index.sh \
	sf-repository/images/bridge.tgz \
	sf-repository/images/firewall.tgz \
	sf-repository/images/nat.tgz \
	sf-repository/images/router.tgz \
	sf-repository/mkindex.py
