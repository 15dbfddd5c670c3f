#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine (idempotent):
# qemu (the real-kernel tier: the host kernel has no netem), busybox-static (the VM's
# userland), iproute2 and ping (pods are network namespaces), and rustfmt/clippy.
set -euo pipefail

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
command -v tc >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v curl >/dev/null || need+=(curl)
command -v cpio >/dev/null || need+=(cpio)
if ((${#need[@]})); then
  echo "setup: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if command -v rustup >/dev/null; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
fi
if ! command -v kubectl >/dev/null; then
  echo "setup: note: kubectl is not installed; the kubectl tests will fail (NETEM_TEST_STRICT=1)"
fi
