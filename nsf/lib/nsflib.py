"""Shared helpers of the NSF scripts (packed into every NSF that uses them).

Script interface (docs/native-engine.md): a script runs inside the SF's
network namespace as

    <script> RUN_DIR CONFIG PORT...

Config text is parsed as JSON and every value is checked here before it
names anything; programs are run with argument lists, never through a
shell.  A bad config exits 2 with "config.<field>: <reason>" on stderr.
"""

import ipaddress
import json
import os
import socket
import subprocess
import sys


class ConfigError(Exception):
    def __init__(self, path, msg):
        super().__init__(f"{path}: {msg}")


def die(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)


def args():
    """(run_dir, config_path, ports) from argv."""
    if len(sys.argv) < 3:
        die(f"usage: {sys.argv[0]} RUN_DIR CONFIG PORT...", 2)
    return sys.argv[1], sys.argv[2], sys.argv[3:]


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        die(f"config: cannot read {path}: {e}", 2)
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        die("config: must be a JSON object", 2)
    return cfg


def check_keys(obj, allowed, path):
    if not isinstance(obj, dict):
        raise ConfigError(path, "must be an object")
    for k in obj:
        if k not in allowed:
            raise ConfigError(f"{path}.{k}", "unknown member")


def get(obj, key, path, kind, required=False, default=None):
    if key not in obj or obj[key] is None:
        if required:
            raise ConfigError(f"{path}.{key}", "missing")
        return default
    v = obj[key]
    # bool is an int in Python: never accept one for the other.
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise ConfigError(f"{path}.{key}", "must be an integer")
    if kind is not int and not isinstance(v, kind):
        raise ConfigError(f"{path}.{key}", f"must be a {kind.__name__}")
    return v


def cidr(v, path, host=True):
    """An address with a prefix length ("10.0.0.1/24").  host=False wants a
    network ("10.0.0.0/24"); the host bits must then be zero."""
    if not isinstance(v, str) or "/" not in v:
        raise ConfigError(path, "must be an address/prefix string")
    try:
        if host:
            return ipaddress.ip_interface(v)
        return ipaddress.ip_network(v, strict=True)
    except ValueError as e:
        raise ConfigError(path, f"not a valid CIDR: {e}")


def address(v, path):
    if not isinstance(v, str):
        raise ConfigError(path, "must be an IP address string")
    try:
        return ipaddress.ip_address(v)
    except ValueError as e:
        raise ConfigError(path, f"not a valid IP address: {e}")


def tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    die(f"{name}: not installed")


def run(argv, check=True):
    """Runs argv (a list: no shell); dies with its stderr if it fails."""
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    if check and r.returncode != 0:
        die(f"{' '.join(argv)}: {r.stderr.strip() or 'exit %d' % r.returncode}")
    return r


def ip(*a, check=True):
    return run([tool("ip"), *a], check=check)


def ip_batch(commands):
    """Runs several ip commands (lists of words, checked values only) in
    one ip process: each process costs milliseconds, an SF start is
    counted in them."""
    for c in commands:
        for w in c:
            if not w or any(ch.isspace() or ch in "\"'\\#" for ch in w):
                die(f"ip_batch: refusing word {w!r}")
    text = "".join(" ".join(c) + "\n" for c in commands)
    r = subprocess.run([tool("ip"), "-batch", "-"], input=text,
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f"ip -batch: {r.stderr.strip() or 'exit %d' % r.returncode}")


def link_exists(name):
    """Whether device 'name' exists in this namespace (not /sys, which
    shows the namespace that mounted it)."""
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


def nft_load(run_dir, text, name="ruleset.nft"):
    """Writes the ruleset to a file (kept for the operator) and loads it
    atomically with nft -f."""
    path = os.path.join(run_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    run([tool("nft"), "-f", path])


def sysctl(key, value, check=True):
    """Writes /proc/sys/<key with dots as slashes>.  Inside the SF's
    namespace, net.* keys are the namespace's own."""
    path = "/proc/sys/" + key.replace(".", "/")
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as e:
        if check:
            die(f"sysctl {key}={value}: {e}")


def no_ipv6():
    """L2 functions and IPv4-only ones stay silent (no router
    solicitations or DAD into the graph)."""
    for scope in ("default", "all"):
        sysctl(f"net.ipv6.conf.{scope}.disable_ipv6", 1, check=False)


def config_or_die(fn, cfg):
    try:
        return fn(cfg)
    except ConfigError as e:
        die(str(e), 2)
