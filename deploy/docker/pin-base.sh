#!/usr/bin/env bash
# Pins the Dockerfile's base image to the digest its tag names today.
#
#   deploy/docker/pin-base.sh                               # the tag already in the Dockerfile
#   deploy/docker/pin-base.sh python:3.11.14-slim-bookworm  # move to another tag
#
# Asks the registry with whichever of these is installed: docker buildx imagetools, crane,
# skopeo. Commit the result: a build then pulls exactly that image, whatever the tag moves to.
set -euo pipefail
cd "$(dirname "$0")/../.."

current=$(sed -n 's/^ARG BASE=\([^@]*\)@.*/\1/p' Dockerfile)
tag=${1:-$current}
[ -n "$tag" ] || { echo "no ARG BASE=<image>@<digest> line in Dockerfile" >&2; exit 1; }

if docker buildx version >/dev/null 2>&1; then
  digest=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
elif command -v crane >/dev/null 2>&1; then
  digest=$(crane digest "$tag")
elif command -v skopeo >/dev/null 2>&1; then
  digest=$(skopeo inspect --format '{{.Digest}}' "docker://$tag")
else
  echo "need docker buildx, crane or skopeo to ask the registry for $tag's digest" >&2
  exit 1
fi
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "unexpected digest: $digest" >&2; exit 1; }
sed -i "s|^ARG BASE=.*|ARG BASE=$tag@$digest|" Dockerfile
echo "Dockerfile: BASE=$tag@$digest"
