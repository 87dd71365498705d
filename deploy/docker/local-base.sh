#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim-bookworm from Debian's packages, for machines that reach
# Debian's mirrors and PyPI but no container registry. Needs root, debootstrap and podman.
#   deploy/docker/local-base.sh [IMAGE]   (default localhost/python:3.11-slim-bookworm)
set -euo pipefail
image=${1:-localhost/python:3.11-slim-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$root" "$mirror"
# A TLS-intercepting egress proxy's CA (as on this project's machines) must be trusted inside too.
for ca in /usr/local/share/ca-certificates/*.crt; do
  [ -e "$ca" ] && cp "$ca" "$root/usr/local/share/ca-certificates/"
done
chroot "$root" update-ca-certificates >/dev/null
ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
# As Debian's own images do: apt leaves no package caches behind in the layers built on this one.
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  - "$image"
