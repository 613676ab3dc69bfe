#!/usr/bin/env bash
# System packages for the Slurm backend's test (tests/test_benchmark.py starts a one-node cluster):
# Debian's slurm-wlm and munge. Needs root and apt; does nothing when they are already installed.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install_slurm.sh: slurm-wlm and munge are missing and this is not root on Debian: install them by hand" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
