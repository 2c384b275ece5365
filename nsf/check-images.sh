#!/bin/sh
# make check: the committed NSF images and template digests match the
# sources in nsf/ (the packing is reproducible).
srcdir=${srcdir:-$(dirname "$0")/..}
exec /usr/bin/python3 "$srcdir/nsf/mkimages.py" --check "$srcdir/sf-repository"
