#!/usr/bin/python3
"""Packs each native service function (nsf/<name>/) into a reproducible
tgz: the same sources give the same bytes, so the sha256 committed in
sf-repository/templates/<name>-native.json stays right.

    mkimages.py --out DIR [NAME...]      write DIR/<name>.tgz
    mkimages.py --check REPO [NAME...]   compare with REPO/images and the
                                         templates' sha256 (exit 1 if not)
    mkimages.py --update REPO [NAME...]  rewrite REPO/images/<name>.tgz and
                                         the sha256 of the templates

A package holds the files of nsf/<name>/ at its top level plus
nsf/lib/nsflib.py when a script imports it.  Symlinks are stored as
regular copies (the engine refuses symlinked scripts); every member is
owned by 0:0, dated 0, mode 0755 if executable else 0644; gzip carries no
name and no time.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.realpath(__file__))
NAMES = ["bridge", "firewall", "nat", "router"]


def members(name):
    src = os.path.join(HERE, name)
    files = {}
    for f in sorted(os.listdir(src)):
        p = os.path.join(src, f)
        if f.startswith(".") or not os.path.isfile(p):
            continue
        files[f] = p
    uses_lib = any(b"import nsflib" in open(p, "rb").read()
                   for p in files.values())
    if uses_lib:
        files["nsflib.py"] = os.path.join(HERE, "lib", "nsflib.py")
    if "manifest.json" not in files or "start" not in files:
        sys.exit(f"nsf/{name}: needs manifest.json and start")
    return sorted(files.items())


def pack(name):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for arc, path in members(name):
            data = open(path, "rb").read()
            ti = tarfile.TarInfo(arc)
            ti.size = len(data)
            ti.mtime = 0
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            t.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0,
                       compresslevel=9) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def template_path(repo, name):
    return os.path.join(repo, "templates", f"{name}-native.json")


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out")
    g.add_argument("--check")
    g.add_argument("--update")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    bad = 0
    for name in a.names or NAMES:
        blob = pack(name)
        digest = hashlib.sha256(blob).hexdigest()
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            tmp = os.path.join(a.out, f".{name}.tgz.tmp")
            with open(tmp, "wb") as f:
                f.write(blob)
            os.replace(tmp, os.path.join(a.out, f"{name}.tgz"))
        elif a.check:
            img = os.path.join(a.check, "images", f"{name}.tgz")
            have = hashlib.sha256(open(img, "rb").read()).hexdigest() \
                if os.path.exists(img) else "(missing)"
            tmpl = json.load(open(template_path(a.check, name)))
            if have != digest or tmpl.get("sha256") != digest:
                print(f"{name}: sources {digest}, image {have}, template "
                      f"{tmpl.get('sha256')}: run nsf/mkimages.py --update "
                      f"sf-repository", file=sys.stderr)
                bad = 1
            else:
                print(f"{name}: {digest} ok")
        else:
            os.makedirs(os.path.join(a.update, "images"), exist_ok=True)
            with open(os.path.join(a.update, "images", f"{name}.tgz"),
                      "wb") as f:
                f.write(blob)
            tp = template_path(a.update, name)
            tmpl = json.load(open(tp))
            tmpl["sha256"] = digest
            with open(tp, "w") as f:
                json.dump(tmpl, f, indent=2)
                f.write("\n")
            print(f"{name}: {digest}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
