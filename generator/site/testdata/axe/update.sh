#!/bin/sh
# Vendors axe-core's minified script for the browser test (generator/site/browser_test.go),
# from npm, with its licences. The version is pinned here and in browser_test.go (axeVersion,
# axeSHA256, checked by TestAxeVendored) and README.md: change them together, run this (it
# prints the new SHA-256), then go test ./generator/site.
set -eu
VERSION=4.14.1
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf "axe-core-$VERSION.tgz")
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/LICENSE-3RD-PARTY.txt" .
sha256sum axe.min.js
