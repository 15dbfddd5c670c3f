#!/usr/bin/env bash
# Fetch Debian's stock amd64 kernel (it ships sch_netem.ko; the host kernel has no netem),
# extract it without installing anything, and cache it under .cache/vm/kernel/.
#
# Output (printed as shell assignments on stdout, for `eval "$(tests/vm/kernel.sh)"`):
#   VM_KVER      kernel release, e.g. 6.1.0-48-amd64
#   VM_VMLINUX   uncompressed ELF kernel (qemu TCG boots it directly, ~3 s to /init)
#   VM_MODDIR    directory holding lib/modules/$VM_KVER (with a modules.dep)
#
# Environment:
#   NETEM_VM_KERNEL_PKG  Debian package to use (default: what linux-image-amd64 depends on)
#   NETEM_VM_CACHE       cache root (default: <repo>/.cache/vm)
#
# The cache is reused as is once complete, so runs after the first need no network.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NETEM_VM_CACHE:-$repo/.cache/vm}
kdir=$cache/kernel
log() { echo "kernel.sh: $*" >&2; }

# A complete cache is marked by the `ready` file, written last.
if [[ -f $kdir/ready && -z ${NETEM_VM_KERNEL_PKG:-} ]]; then
    cat "$kdir/ready"
    exit 0
fi

# One fetch at a time (tiers may start in parallel on a fresh clone).
mkdir -p "$cache"
exec 9>"$cache/kernel.lock"
flock 9
if [[ -f $kdir/ready && -z ${NETEM_VM_KERNEL_PKG:-} ]]; then
    cat "$kdir/ready"
    exit 0
fi

# The meta package points at the current ABI's image package.
resolve_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=${NETEM_VM_KERNEL_PKG:-}
if [[ -z $pkg ]]; then
    pkg=$(resolve_pkg)
    if [[ -z $pkg ]]; then
        # A fresh machine may never have fetched the package lists.
        apt-get update -qq >&2 || true
        pkg=$(resolve_pkg)
    fi
    if [[ -z $pkg ]]; then
        log "cannot resolve linux-image-amd64 (apt-get update failed?)"
        exit 1
    fi
fi
if [[ -f $kdir/ready ]] && grep -qx "# pkg=$pkg" "$kdir/ready"; then
    cat "$kdir/ready"
    exit 0
fi

log "fetching $pkg"
rm -rf "$kdir"
mkdir -p "$kdir/dl"
# apt's sandbox user cannot write into root-owned dirs; downloading unsandboxed is fine here.
download() { (cd "$kdir/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); }
if ! download; then
    # Stale package lists name a kernel the mirror no longer has: refresh and resolve again.
    log "download failed; apt-get update and retry"
    apt-get update -qq >&2 || true
    [[ -n ${NETEM_VM_KERNEL_PKG:-} ]] || pkg=$(resolve_pkg)
    download
fi
deb=$(ls "$kdir"/dl/*.deb)
dpkg-deb -x "$deb" "$kdir/root"
rm -rf "$kdir/dl"

kver=$(ls "$kdir/root/lib/modules")
vmlinuz=$kdir/root/boot/vmlinuz-$kver

# extract-vmlinux: find a compressed payload by its magic and keep the first one that
# decompresses to an ELF image (the bzImage setup code comes before it).
extract() {
    local magic=$1 tool=$2 off
    for off in $(LC_ALL=C grep -aboP "$magic" "$vmlinuz" | cut -d: -f1); do
        tail -c +"$((off + 1))" "$vmlinuz" | $tool >"$kdir/vmlinux.tmp" 2>/dev/null || true
        if [[ $(head -c 4 "$kdir/vmlinux.tmp" | od -An -c | tr -d ' ') == '177ELF' ]]; then
            mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
            return 0
        fi
    done
    return 1
}
extract '\xfd7zXZ\x00' 'xz -dcq' ||
    extract '\x28\xb5\x2f\xfd' 'zstd -dcq' ||
    extract '\x1f\x8b\x08' 'gzip -dcq' || {
    log "could not extract vmlinux from $vmlinuz"
    exit 1
}
rm -f "$kdir/vmlinux.tmp"

mkdir -p "$kdir/mod/lib"
mv "$kdir/root/lib/modules" "$kdir/mod/lib/"
cp "$kdir/root/boot/config-$kver" "$kdir/config"
rm -rf "$kdir/root"
# The .deb ships no modules.dep (the postinst makes it); busybox depmod makes one.
busybox depmod -b "$kdir/mod" "$kver"

cat >"$kdir/ready" <<OUT
# pkg=$pkg
VM_KVER=$kver
VM_VMLINUX=$kdir/vmlinux
VM_MODDIR=$kdir/mod
OUT
log "cached $pkg ($kver) in $kdir"
cat "$kdir/ready"
