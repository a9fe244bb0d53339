#!/usr/bin/env bash
# guest-images.sh — build Platform's ready Linux guest from Debian's own packages.
#
# Produces, in ${PLATFORM_CACHE_DIR:-$HOME/.cache/platform}/images/ (outside the source tree: ~100 MB of
# build output has no place in git):
#   vmlinuz            the Debian kernel as shipped (bzImage, boot protocol "HdrS")
#   vmlinux            the same kernel as an uncompressed ELF, taken out of the bzImage; it carries the PVH
#                      entry note (Xen ELF note 18, XEN_ELFNOTE_PHYS32_ENTRY) that a PVH loader starts from
#   initramfs.cpio.gz  busybox, the virtio/ext4 modules (Debian builds them as modules) and our /init
#                      (scripts/guest-init/init; its header documents the kernel command line contract)
#   rootfs.ext4        a small ext4 disk (busybox and /etc/platform-disk-marker), made without loop mounts
#   config             the kernel's build configuration (Debian's boot/System.map is only a placeholder that
#                      points to the -dbg package, so it is not copied)
#   manifest.txt       key=value: package versions, kernel release, PVH entry, sha256 and size of each file
#
# Packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` in a scratch folder: nothing is
# installed into the host except missing host tools (e2fsprogs, cpio, kmod, ...). A second run with nothing
# changed (same candidate kernel, same script and init) returns at once. Tests, benchmarks and the dashboard's
# sample VM all call this script.
set -euo pipefail

usage() {
    cat <<EOF
Usage: scripts/guest-images.sh [--cache-dir DIR] [--force] [--help]

Builds a Linux guest (Debian kernel, busybox initramfs, ext4 disk) from Debian packages into
DIR/images/ (default DIR: \${PLATFORM_CACHE_DIR:-\$HOME/.cache/platform}).

  --cache-dir DIR   cache folder (images/ and downloaded debs/ go under it)
  --force           rebuild even if the images are up to date
  --help            this text
EOF
}

log() { echo "guest-images: $*"; }
die() { echo "guest-images: ERROR: $*" >&2; exit 1; }

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
INIT_SRC=$(dirname "$SCRIPT")/guest-init/init

CACHE=${PLATFORM_CACHE_DIR:-$HOME/.cache/platform}
FORCE=
while [[ $# -gt 0 ]]; do
    case $1 in
        --cache-dir) [[ $# -ge 2 ]] || die "--cache-dir needs a folder"; CACHE=$2; shift 2 ;;
        --cache-dir=*) CACHE=${1#*=}; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

KERNEL_META=linux-image-amd64      # metapackage: depends on the current linux-image-<abi>-amd64
BUSYBOX_PKG=busybox-static         # static, so the initramfs needs no libc
ROOTFS_SIZE=64M
OUTPUTS=(vmlinuz vmlinux initramfs.cpio.gz rootfs.ext4 config)

# Modules for the initramfs, loaded in this order; each one's dependencies (from modules.dep) are added and
# loaded before it. A trailing '?' marks a module whose absence is only a warning.
MODULES=(
    crc32c_generic     # ext4 and jbd2 soft-depend on crypto "crc32c" (metadata_csum); generic = no SSE4.2 needed
    virtio_pci         # + virtio, virtio_ring, virtio_pci_modern_dev, virtio_pci_legacy_dev
    'virtio_mmio?'     # virtio devices without PCI, found through ACPI (Debian sets no VIRTIO_MMIO_CMDLINE_DEVICES,
                       # so virtio_mmio.device= on the command line does not work)
    virtio_blk
    virtio_net         # + net_failover, failover
    virtio_rng
    virtio_input
    'virtio_console?'
    ext4               # + jbd2, mbcache, crc16
    'bochs?'           # DRM_BOCHS (bochs/std VGA framebuffer) + drm helpers, ~0.5 MB gzipped
)

umask 022
[[ -f $INIT_SRC ]] || die "missing $INIT_SRC (the guest's /init; it lives next to this script)"
mkdir -p "$CACHE/images" "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)
IMAGES=$CACHE/images
MANIFEST=$IMAGES/manifest.txt

# One build at a time per cache folder: parallel test runs may all call this script.
exec 9>"$CACHE/.guest-images.lock"
flock -n 9 || { log "waiting for another run that is building in $CACHE"; flock 9; }

manifest_get() { sed -n "s/^$1=//p" "$MANIFEST" 2>/dev/null | head -n1; }

# The recipe is this script plus /init: editing either must rebuild the images.
RECIPE=$(cat "$SCRIPT" "$INIT_SRC" | sha256sum | cut -d' ' -f1)

candidate_version() {   # candidate_version PKG -> apt's candidate version, empty if none
    LC_ALL=C apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '^(none)$' || true
}

# ---------------------------------------------------------------------------------------------------------------
# Fast path: nothing to do if every output exists, the manifest was written by this recipe and names the kernel
# apt offers now. apt's candidate can only change when its package lists change, so while no list is newer than
# the manifest even `apt-cache policy` is skipped.
up_to_date() {
    [[ -z $FORCE && -f $MANIFEST ]] || return 1
    local f
    for f in "${OUTPUTS[@]}"; do [[ -s $IMAGES/$f ]] || return 1; done
    [[ $(manifest_get recipe_sha256) == "$RECIPE" ]] || return 1
    if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -newer "$MANIFEST" 2>/dev/null | head -n1) ]]; then
        return 0
    fi
    local cand
    cand=$(candidate_version "$KERNEL_META")
    if [[ -z $cand ]]; then
        log "apt offers no $KERNEL_META now; keeping the images built from $(manifest_get kernel_meta_version)"
        return 0
    fi
    [[ $cand == "$(manifest_get kernel_meta_version)" ]] || return 1
    touch "$MANIFEST"   # lists changed but the kernel did not: skip apt-cache next time
}
if up_to_date; then
    log "guest images up to date in $IMAGES"
    exit 0
fi

START=$SECONDS
[[ $(dpkg --print-architecture) == amd64 ]] || die "this host is $(dpkg --print-architecture); the guest is amd64 and needs an amd64 host (apt-get download of amd64 packages)"

# ---------------------------------------------------------------------------------------------------------------
# Host tools. Only missing ones are installed; `apt-get update` only when an install is needed and the package
# lists are missing or older than a week.
lists_fresh() { [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -7 2>/dev/null | head -n1) ]]; }

TOOL_PKGS=(e2fsprogs cpio kmod xz-utils zstd gzip binutils util-linux)
missing=()
for p in "${TOOL_PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $EUID -eq 0 ]] || die "missing host tools: ${missing[*]} — run: sudo apt-get install ${missing[*]}"
    log "installing host tools: ${missing[*]}"
    if ! lists_fresh; then
        log "apt-get update (package lists missing or older than 7 days)"
        apt-get update -q >/dev/null || die "apt-get update failed — check /etc/apt/sources.list and the network"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed — try it by hand to see why"
fi

WORK=$(mktemp -d "$CACHE/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Earlier runs that were killed may have left scratch folders; we hold the lock, so none is in use.
find "$CACHE" -maxdepth 1 -name '.work.*' ! -path "$WORK" -exec rm -rf {} + 2>/dev/null || true

# ---------------------------------------------------------------------------------------------------------------
# Packages: resolve versions, download into $CACHE/debs (kept, so --force does not download again), verify.

UPDATED_LISTS=
apt_update_once() {   # a 404 or a missing candidate usually means stale lists: refresh them once, as root
    [[ -z $UPDATED_LISTS && $EUID -eq 0 ]] || return 1
    UPDATED_LISTS=1
    log "apt-get update (refreshing package lists)"
    apt-get update -q >/dev/null
}

need_candidate() {    # need_candidate PKG -> sets CANDIDATE to apt's candidate version, or dies
    CANDIDATE=$(candidate_version "$1")
    if [[ -z $CANDIDATE ]] && apt_update_once; then CANDIDATE=$(candidate_version "$1"); fi
    [[ -n $CANDIDATE ]] || die "apt offers no package $1 — run 'apt-get update' and check that /etc/apt/sources.list has Debian bookworm main"
}

# fetch PKG VERSION -> sets FETCHED to the path of the verified .deb
fetch() {
    local pkg=$1 ver=$2 want deb got dl out
    # apt-cache may list the same version from several sources; their SHA256 fields are equal.
    want=$(apt-cache show "$pkg=$ver" 2>/dev/null | sed -n 's/^SHA256: //p' | sort -u)
    [[ -n $want ]] || die "apt-cache show $pkg=$ver has no SHA256 field — run 'apt-get update' and retry"
    [[ $(wc -l <<<"$want") -eq 1 ]] || die "apt lists disagree on the SHA256 of $pkg $ver — run 'apt-get update' and retry"

    deb=$CACHE/debs/${pkg}_${ver//:/%3a}_amd64.deb
    if [[ -f $deb ]] && [[ $(sha256sum "$deb" | cut -d' ' -f1) == "$want" ]]; then
        log "using cached $pkg $ver"
        FETCHED=$deb; return
    fi

    log "downloading $pkg $ver"
    dl=$(mktemp -d "$WORK/dl.XXXXXX")
    # As root, apt drops to user _apt for downloads, which cannot write into our 0700 scratch folder.
    local opts=(-q); [[ $EUID -eq 0 ]] && opts+=(-o APT::Sandbox::User=root)
    if ! out=$(cd "$dl" && apt-get download "${opts[@]}" "$pkg=$ver" 2>&1); then
        if apt_update_once; then
            out=$(cd "$dl" && apt-get download "${opts[@]}" "$pkg=$ver" 2>&1) || true
        fi
    fi
    local got_deb
    got_deb=$(find "$dl" -maxdepth 1 -name '*.deb' | head -n1)
    [[ -n $got_deb ]] || die "cannot download $pkg $ver:
$out
Try: apt-get update && apt-get download $pkg=$ver   (and check the mirror in /etc/apt/sources.list)"

    # apt already checked it against the signed lists; check again here so a bad cache or mirror fails loudly.
    got=$(sha256sum "$got_deb" | cut -d' ' -f1)
    [[ $got == "$want" ]] || die "SHA256 mismatch for $pkg $ver: file $got, apt-cache show says $want — run 'apt-get update' and retry"
    rm -f "$CACHE/debs/${pkg}_"*.deb      # keep only the newest version of each package
    mv "$got_deb" "$deb"
    FETCHED=$deb
}

need_candidate "$KERNEL_META"; META_VER=$CANDIDATE
# linux-image-amd64 only depends on the real package, e.g. "linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
dep=$(apt-cache show "$KERNEL_META=$META_VER" | sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' \
      | sed 's/^ *//' | grep -E '^linux-image-[0-9]' | head -n1 || true)
KERNEL_PKG=${dep%% *}
[[ -n $KERNEL_PKG ]] || die "cannot find the real kernel package in the Depends of $KERNEL_META $META_VER (got: '$dep')"
if [[ $dep =~ \(=\ ([^\)]+)\) ]]; then
    KERNEL_VER=${BASH_REMATCH[1]}
else
    need_candidate "$KERNEL_PKG"; KERNEL_VER=$CANDIDATE
fi
need_candidate "$BUSYBOX_PKG"; BUSYBOX_VER=$CANDIDATE
log "kernel: $KERNEL_META $META_VER -> $KERNEL_PKG $KERNEL_VER; $BUSYBOX_PKG $BUSYBOX_VER"

fetch "$KERNEL_PKG" "$KERNEL_VER"; KERNEL_DEB=$FETCHED
fetch "$BUSYBOX_PKG" "$BUSYBOX_VER"; BUSYBOX_DEB=$FETCHED

log "unpacking (dpkg-deb -x, into $WORK)"
dpkg-deb -x "$KERNEL_DEB" "$WORK/kernel"
dpkg-deb -x "$BUSYBOX_DEB" "$WORK/busybox"

KVER=$(basename "$(find "$WORK/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")
[[ -n $KVER && -f $WORK/kernel/boot/vmlinuz-$KVER ]] || die "$KERNEL_PKG has no boot/vmlinuz matching lib/modules/$KVER"
BUSYBOX=$WORK/busybox/bin/busybox
[[ -x $BUSYBOX ]] || die "$BUSYBOX_PKG has no bin/busybox"
log "kernel release $KVER"

OUT=$WORK/out
mkdir -p "$OUT"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$WORK/kernel/boot/config-$KVER" "$OUT/config"

# ---------------------------------------------------------------------------------------------------------------
# vmlinux: the bzImage's payload is the compressed, stripped vmlinux ELF (plus relocation data), followed by its
# uncompressed size as 4 little-endian bytes. The boot header (protocol >= 2.08) says exactly where it is:
# payload_offset (0x248) and payload_length (0x24c), counted from the protected-mode code, which starts after
# the setup sectors ((setup_sects at 0x1f1, 0 meaning 4) + 1) * 512. Like the kernel's scripts/extract-vmlinux we
# recognise the compressor by its magic bytes; if the header lacks those fields we scan for the magic instead.

u8()  { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }
hexat() { od -An -tx1 -j "$2" -N"$3" "$1" | tr -d ' \n'; }

decompress() {   # decompress IN OUT: by the magic at the start of IN; trailing bytes after the stream are fine
    local magic
    magic=$(hexat "$1" 0 6)
    case $magic in
        fd377a585a00*) xz -dc --single-stream <"$1" >"$2" ;;
        28b52ffd*)     zstd -dcq <"$1" >"$2" ;;
        1f8b08*)       gzip -dc <"$1" >"$2" ;;
        5d0000*)       xz -dc --format=lzma <"$1" >"$2" ;;
        425a68*)       bzip2 -dc <"$1" >"$2" ;;
        *) return 2 ;;
    esac
}

magic_name() {
    case $(hexat "$1" 0 6) in
        fd377a585a00*) echo xz ;; 28b52ffd*) echo zstd ;; 1f8b08*) echo gzip ;;
        5d0000*) echo lzma ;; 425a68*) echo bzip2 ;; *) echo "unknown format" ;;
    esac
}

is_elf() { [[ -s $1 && $(hexat "$1" 0 4) == 7f454c46 ]] && readelf -h "$1" >/dev/null 2>&1; }

extract_vmlinux() {
    local img=$1 out=$2 pay=$WORK/payload
    [[ $(hexat "$img" $((0x202)) 4) == 48647253 ]] || die "vmlinuz is not a bzImage (no HdrS at 0x202)"
    if (( $(u16 "$img" $((0x206))) >= 0x208 )); then
        local sects off len start want
        sects=$(u8 "$img" $((0x1f1))); (( sects )) || sects=4
        off=$(u32 "$img" $((0x248))); len=$(u32 "$img" $((0x24c)))
        start=$(( (sects + 1) * 512 + off ))
        dd if="$img" of="$pay" bs=1M iflag=skip_bytes,count_bytes skip="$start" count="$len" status=none
        log "vmlinux: payload at byte $start, $len bytes, $(magic_name "$pay")"
        decompress "$pay" "$out" 2>/dev/null || true
        want=$(u32 "$pay" $((len - 4)))
        if is_elf "$out"; then
            [[ $(stat -c %s "$out") -eq $want ]] || die "vmlinux: decompressed $(stat -c %s "$out") bytes, the bzImage says $want"
            return 0
        fi
        log "vmlinux: header payload did not decompress to an ELF; scanning for compressed data"
    fi
    # Fallback, as scripts/extract-vmlinux: try every offset where a known magic occurs.
    local magic pos
    for magic in '\xfd\x37\x7a\x58\x5a\x00' '\x28\xb5\x2f\xfd' '\x1f\x8b\x08' '\x5d\x00\x00'; do
        for pos in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1 || true); do
            tail -c +$((pos + 1)) "$img" >"$pay"
            decompress "$pay" "$out" 2>/dev/null || true
            is_elf "$out" && return 0
        done
    done
    die "vmlinux: found no compressed ELF in vmlinuz"
}

log "extracting vmlinux from vmlinuz"
extract_vmlinux "$OUT/vmlinuz" "$OUT/vmlinux"

# The decompressed data is the ELF followed by relocation tables for the bzImage's self-relocation; cut it at the
# end of the ELF (objcopy writes the section header table last) so vmlinux is a clean ELF file.
elf_end=$(( $(u64 "$OUT/vmlinux" $((0x28))) + $(u16 "$OUT/vmlinux" $((0x3a))) * $(u16 "$OUT/vmlinux" $((0x3c))) ))
while read -r type off _ _ filesz _; do
    [[ $type == LOAD || $type == NOTE ]] && (( off + filesz > elf_end )) && elf_end=$((off + filesz))
done < <(readelf -lW "$OUT/vmlinux")
(( elf_end <= $(stat -c %s "$OUT/vmlinux") )) || die "vmlinux: ELF claims $elf_end bytes, file is shorter"
truncate -s "$elf_end" "$OUT/vmlinux"
is_elf "$OUT/vmlinux" || die "vmlinux: not a valid ELF after trimming"

# PVH: Xen ELF note type 18 (XEN_ELFNOTE_PHYS32_ENTRY) holds the 32-bit physical entry point.
# `readelf -nW` prints "Xen 0x00000008 Unknown note type: (0x00000012) description data: 50 08 00 01 ..." (the
# data on the same line); the value is little-endian, 4 or 8 bytes, and the entry is a 32-bit address.
PVH_ENTRY=$(readelf -nW "$OUT/vmlinux" | awk '
    $1 == "Xen" && /\(0x00000012\)/ && /description data:/ {
        sub(/.*description data: */, ""); n = split($0, b, " ")
        v = ""; for (i = (n > 4 ? 4 : n); i >= 1; i--) v = v b[i]
        print "0x" v; exit }')
[[ -n $PVH_ENTRY ]] || die "vmlinux has no Xen ELF note 18 (XEN_ELFNOTE_PHYS32_ENTRY): $KERNEL_PKG was not built with CONFIG_PVH=y"
log "vmlinux: ELF, $elf_end bytes, PVH entry $PVH_ENTRY"

# ---------------------------------------------------------------------------------------------------------------
# Modules: read the package's modules.dep (Debian's postinst normally runs depmod; we run it on the unpacked tree,
# which writes only there), add each wanted module's dependencies first, decompress (busybox insmod cannot load
# .ko.xz/.ko.zst), and write /etc/modules.order for /init.

MODROOT=$WORK/kernel/lib/modules/$KVER
[[ -s $MODROOT/modules.dep ]] || depmod -b "$WORK/kernel" "$KVER" || die "depmod failed on $KERNEL_PKG"

modname() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }   # file path -> module name (kernel style)

declare -A MODPATH DEPS BUILTIN
while IFS= read -r line; do
    path=${line%%:*}; b=${path##*/}; b=${b%%.ko*}; name=${b//-/_}
    MODPATH[$name]=$path
    deps=
    for d in ${line#*:}; do b=${d##*/}; b=${b%%.ko*}; deps+=" ${b//-/_}"; done
    DEPS[$name]=$deps
done <"$MODROOT/modules.dep"
if [[ -f $MODROOT/modules.builtin ]]; then
    while IFS= read -r path; do BUILTIN[$(modname "$path")]=1; done <"$MODROOT/modules.builtin"
fi

declare -A SEEN
ORDER=()
visit() {        # depth-first, dependencies before dependents
    local n=$1 d
    [[ -n ${SEEN[$n]:-} ]] && return 0
    SEEN[$n]=1
    for d in ${DEPS[$n]}; do visit "$d"; done
    ORDER+=("$n")
}
for want in "${MODULES[@]}"; do
    name=${want%\?}
    if [[ -n ${MODPATH[$name]:-} ]]; then
        visit "$name"
    elif [[ -n ${BUILTIN[$name]:-} ]]; then
        log "module $name is built into the kernel"
    elif [[ $want == *\? ]]; then
        log "warning: optional module $name is not in $KERNEL_PKG; skipped"
    else
        die "module $name is neither a module nor built into $KERNEL_PKG $KERNEL_VER"
    fi
done

INITRD=$WORK/initramfs
mkdir -p "$INITRD"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,run,root,etc,"lib/modules/$KVER"}
: >"$INITRD/etc/modules.order"
for name in "${ORDER[@]}"; do
    src=$MODROOT/${MODPATH[$name]}
    rel=${MODPATH[$name]%.ko*}.ko
    dst=$INITRD/lib/modules/$KVER/$rel
    mkdir -p "$(dirname "$dst")"
    case $src in
        *.ko.xz)  xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -dcq "$src" >"$dst" ;;
        *.ko.gz)  gzip -dc "$src" >"$dst" ;;
        *)        cp "$src" "$dst" ;;
    esac
    echo "$name /lib/modules/$KVER/$rel" >>"$INITRD/etc/modules.order"
done
log "initramfs modules (${#ORDER[@]}): ${ORDER[*]}"
# A modules.dep for just these lets `modprobe` work inside the guest too.
depmod -b "$INITRD" "$KVER" 2>/dev/null || log "warning: depmod on the initramfs failed; modprobe will not work in the guest"

# busybox and one symlink per applet (its own list, so nothing needs installing at boot).
install_busybox() {   # install_busybox ROOTDIR
    local root=$1 applet
    install -m 0755 "$BUSYBOX" "$root/bin/busybox"
    while read -r applet; do
        [[ $applet == linuxrc ]] && continue    # an initrd-era name at /, not wanted
        [[ -e $root/$applet || -L $root/$applet ]] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -s /bin/busybox "$root/$applet"
    done < <("$BUSYBOX" --list-full)
}
install_busybox "$INITRD"
install -m 0755 "$INIT_SRC" "$INITRD/init"
printf 'kernel=%s\nkernel_package=%s %s\nbusybox=%s\n' "$KVER" "$KERNEL_PKG" "$KERNEL_VER" "$BUSYBOX_VER" >"$INITRD/etc/platform-release"
# The kernel opens /dev/console before running /init; without the node early output is lost until /init has
# mounted devtmpfs. Device nodes need root to create; /init copes without.
if [[ $EUID -eq 0 ]]; then
    mknod -m 600 "$INITRD/dev/console" c 5 1
    mknod -m 666 "$INITRD/dev/null" c 1 3
fi

log "writing initramfs.cpio.gz (cpio newc, gzip)"
(cd "$INITRD" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
    | gzip -9n >"$OUT/initramfs.cpio.gz"

# ---------------------------------------------------------------------------------------------------------------
# rootfs.ext4: mkfs.ext4 -d copies a staged folder into the new file system, so no loop mount (and no root
# privilege for mounting) is needed.
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,etc,root}
install_busybox "$ROOTFS"
printf 'platform-disk-marker v1\n' >"$ROOTFS/etc/platform-disk-marker"
cat >"$ROOTFS/README" <<EOF
Platform guest disk, made by scripts/guest-images.sh from $BUSYBOX_PKG $BUSYBOX_VER.
/etc/platform-disk-marker lets a test check that this disk was mounted.
EOF
log "writing rootfs.ext4 ($ROOTFS_SIZE, mkfs.ext4 -d)"
truncate -s "$ROOTFS_SIZE" "$OUT/rootfs.ext4"
mkfs.ext4 -q -F -L platform-root -E root_owner=0:0 -d "$ROOTFS" "$OUT/rootfs.ext4" \
    || die "mkfs.ext4 -d failed (needs e2fsprogs >= 1.43)"

# ---------------------------------------------------------------------------------------------------------------
# Manifest, then move everything into place. Each rename is atomic; the manifest goes first out and last in, so
# a run cut short leaves no manifest and the next run rebuilds.
{
    echo "# Platform guest images, written by scripts/guest-images.sh; key=value"
    echo "recipe_sha256=$RECIPE"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel_meta_package=$KERNEL_META"
    echo "kernel_meta_version=$META_VER"
    echo "kernel_package=$KERNEL_PKG"
    echo "kernel_package_version=$KERNEL_VER"
    echo "kernel_package_sha256=$(sha256sum "$KERNEL_DEB" | cut -d' ' -f1)"
    echo "kernel_release=$KVER"
    echo "busybox_package=$BUSYBOX_PKG"
    echo "busybox_package_version=$BUSYBOX_VER"
    echo "busybox_package_sha256=$(sha256sum "$BUSYBOX_DEB" | cut -d' ' -f1)"
    echo "pvh_entry=$PVH_ENTRY"
    echo "initramfs_modules=${ORDER[*]}"
    for f in "${OUTPUTS[@]}"; do
        echo "$f.size=$(stat -c %s "$OUT/$f")"
        echo "$f.sha256=$(sha256sum "$OUT/$f" | cut -d' ' -f1)"
    done
} >"$OUT/manifest.txt"

rm -f "$MANIFEST"
for f in "${OUTPUTS[@]}"; do mv -f "$OUT/$f" "$IMAGES/$f"; done
mv -f "$OUT/manifest.txt" "$MANIFEST"

for f in "${OUTPUTS[@]}" manifest.txt; do
    log "$(printf '%-18s %10s bytes' "$f" "$(stat -c %s "$IMAGES/$f")")"
done
log "built in $((SECONDS - START)) s"
log "images in $IMAGES"
