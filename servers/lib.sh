# Sourced by servers/*/install.sh (bash): Debian packages a test needs, installed once.
#
#   missing_debs PKG...   sets MISSING (an array) to the packages not installed
#   as_root SCRIPT        sets SUDO (an array: empty as root, else sudo) or exits, naming
#                         SCRIPT and MISSING, when neither is possible
#   apt_install PKG...    apt-get update and install (quietly, no recommends) as SUDO

missing_debs() {
    MISSING=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || MISSING+=("$p")
    done
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
        echo "$1: need root to install ${MISSING[*]} (apt-get)" >&2; exit 1
    fi
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
