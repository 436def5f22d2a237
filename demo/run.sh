#!/bin/bash
# The README's main job. Today: libcgd on the real cgroupfs (the daemon, a demo container and the
# CLI come with the daemon's issue). Needs root; removes everything it makes.
set -eu
build=${1:-build}
if [ "$(id -u)" != 0 ]; then
        echo "demo: run as root (it creates a scratch cgroup)" >&2
        exit 1
fi
exec "$build/demo/cgd-libdemo"
