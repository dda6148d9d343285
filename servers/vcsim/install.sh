#!/usr/bin/env bash
# vcsim (VMware's vSphere simulator) for the vSphere tests, built from Debian's govmomi
# SOURCE package with Debian's Go in GOPATH mode: no Go module proxy, only the Debian archive.
# (The -dev package lacks vcsim/main.go, hence the source package.) Also makes a CA and a
# 2048-bit server certificate for 127.0.0.1/localhost signed by it: vcsim's built-in
# certificate has a 1024-bit key that OpenSSL 3 refuses, and the tests verify TLS.
#
# Idempotent and cached in ${WM_CACHE:-$HOME/.cache/winged-monkey}/vcsim:
#   bin/vcsim                   the simulator
#   certs/ca.pem                the CA the tests trust (ca_bundle)
#   certs/server.pem, .key      vcsim's certificate (-tlscert/-tlskey)
#   certs/other-ca.pem          an unrelated CA, for the "wrong CA" test
# A second run only checks these. Timings go to stderr. Needs root or sudo only when
# Debian packages are missing.
set -euo pipefail
START=$EPOCHREALTIME
CACHE=${WM_CACHE:-$HOME/.cache/winged-monkey}/vcsim
SOURCE_PACKAGE=golang-github-vmware-govmomi
BIN=$CACHE/bin/vcsim
CERTS=$CACHE/certs
log() { echo "servers/vcsim/install.sh: $*" >&2; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }

mkdir -p "$CACHE"
exec 9>"$CACHE.lock"
flock 9  # two concurrent runs (CI jobs, a developer and the tests) build once

if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else SUDO=(); fi
need_root() {
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        log "need root (or sudo) for: $*"; exit 1
    fi
}

# --- the binary ---------------------------------------------------------------------------
if [ -x "$BIN" ] && "$BIN" -h >/dev/null 2>&1; then
    log "vcsim cached at $BIN"
else
    T=$EPOCHREALTIME
    packages=(golang-go golang-github-google-uuid-dev dpkg-dev openssl ca-certificates)
    missing=()
    need_update=0
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    export DEBIAN_FRONTEND=noninteractive
    # `apt-get source` needs deb-src lines; a fresh Debian 12 has none. Add our own file
    # (only the Sources indexes of bookworm main) rather than editing the system's sources.
    src_list=/etc/apt/sources.list.d/winged-monkey-deb-src.sources
    if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        need_root "writing $src_list"
        log "enabling Debian source indexes in $src_list"
        printf '%s\n' \
            '# Added by winged-monkey servers/vcsim/install.sh: vcsim is built from Debian source.' \
            'Types: deb-src' \
            'URIs: http://deb.debian.org/debian' \
            'Suites: bookworm' \
            'Components: main' \
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
            | "${SUDO[@]}" tee "$src_list" >/dev/null
        need_update=1
    fi
    [ ${#missing[@]} -gt 0 ] && need_update=1
    if [ "$need_update" -eq 1 ]; then
        need_root "apt-get ${missing[*]}"
        "${SUDO[@]}" apt-get update -qq
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    log "Debian packages ready in $(elapsed "$T")"

    T=$EPOCHREALTIME
    work=$(mktemp -d "${TMPDIR:-/tmp}/wm-vcsim-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    fetch() { (cd "$work" && apt-get source -qq "$SOURCE_PACKAGE" >/dev/null 2>"$work/source.log"); }
    if ! fetch; then  # stale source indexes (the deb-src file predates the last update)
        need_root "apt-get update"
        "${SUDO[@]}" apt-get update -qq
        fetch || { cat "$work/source.log" >&2; log "apt-get source $SOURCE_PACKAGE failed"; exit 1; }
    fi
    tree=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name "$SOURCE_PACKAGE-*" | head -n1)
    version=$(basename "$tree"); version=${version#"$SOURCE_PACKAGE"-}
    mkdir -p "$work/gopath/src/github.com/vmware"
    mv "$tree" "$work/gopath/src/github.com/vmware/govmomi"
    log "source $SOURCE_PACKAGE $version fetched in $(elapsed "$T")"

    T=$EPOCHREALTIME
    mkdir -p "$CACHE/bin"
    (
        cd "$work/gopath/src/github.com/vmware/govmomi"
        GOPATH="$work/gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS= \
            GOCACHE="$work/gocache" CGO_ENABLED=0 \
            go build -o "$BIN.new" ./vcsim
    )
    mv "$BIN.new" "$BIN"
    echo "$version" >"$CACHE/VERSION"
    log "vcsim $version built in $(elapsed "$T") -> $BIN"
fi

# --- the certificates ---------------------------------------------------------------------
if [ -s "$CERTS/ca.pem" ] && [ -s "$CERTS/server.pem" ] && [ -s "$CERTS/server.key" ] \
    && [ -s "$CERTS/other-ca.pem" ] \
    && openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server.pem" >/dev/null 2>&1 \
    && openssl x509 -checkend 86400 -noout -in "$CERTS/server.pem" >/dev/null; then
    log "certificates cached in $CERTS"
else
    T=$EPOCHREALTIME
    rm -rf "$CERTS.new"; mkdir -p "$CERTS.new"; chmod 700 "$CERTS.new"
    (
        cd "$CERTS.new"
        for ca in ca other-ca; do
            openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
                -subj "/CN=winged-monkey test $ca" \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
                -keyout "$ca.key" -out "$ca.pem" 2>/dev/null
        done
        openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
            -keyout server.key -out server.csr 2>/dev/null
        printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
            'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' \
            'subjectAltName=IP:127.0.0.1,DNS:localhost' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
            -days 825 -extfile server.ext -out server.pem 2>/dev/null
        rm -f server.csr server.ext ca.srl other-ca.key
        openssl verify -CAfile ca.pem server.pem >/dev/null
    )
    rm -rf "$CERTS"; mv "$CERTS.new" "$CERTS"
    log "CA and 2048-bit server certificate made in $(elapsed "$T") -> $CERTS"
fi
log "ready in $(elapsed "$START")"
