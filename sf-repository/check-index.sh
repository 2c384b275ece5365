#!/bin/sh
# make check: sf-repository/index.json lists the templates that ship.
srcdir=${srcdir:-$(dirname "$0")/..}
exec /usr/bin/python3 "$srcdir/sf-repository/mkindex.py" --check "$srcdir/sf-repository"
