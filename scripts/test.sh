#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian 12 machine: installs the system
# tools the tests use as oracles (rpm, rpmbuild, createrepo_c, dnf, libsolv)
# when any is missing, the npm dependencies when absent, then vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(createrepo-c rpm dnf python3-solv python3-rpm zstd xz-utils gpg)
if [ -f test/helpers/APT_PACKAGES.txt ]; then
  while read -r p; do [ -n "$p" ] && packages+=("$p"); done < test/helpers/APT_PACKAGES.txt
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
[ -d node_modules ] || npm ci
exec npx vitest run "$@"
