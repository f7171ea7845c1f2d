#!/usr/bin/env bash
# Refreshes the GraphiQL playground files that the API server embeds
# (crates/api/assets/playground/) from the npm registry, at pinned versions and checksums.
# Run it from anywhere: `clients/vendor-playground.sh`. Needs npm, tar and sha256sum.
#
# GraphiQL 3.8.3 is the last release that ships a UMD build (graphiql.min.js and
# graphiql.min.css); it runs on the UMD production builds of React and ReactDOM 18.3.1.
# To move to other versions, change the versions below and the matching constants in
# crates/api/src/http/assets.rs, run this script with EMPTY checksums once to print the new ones,
# and review what it prints before pinning them.
set -euo pipefail

GRAPHIQL_VERSION=3.8.3
REACT_VERSION=18.3.1

# sha256 of the tarballs as the registry serves them (`npm pack` of the same version is
# byte-identical every time).
GRAPHIQL_SHA256=1cadb1c2ca0dc51ea71fb4bb2680e6185e83fe400c9a62ca5fb9dfb922472bbd
REACT_SHA256=8d9bed01a672e7eaf387942d781ad47c6a43089a30a0306060f9fd5ac7870347
REACT_DOM_SHA256=031d4427a99f2f3f6cac18bbbf308594a67e4f47d10f4896fdec446505b040e0

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/crates/api/assets/playground"
assets_rs="$root/crates/api/src/http/assets.rs"

# The server builds the URLs (and their year-long cache lifetime) from its own version
# constants, so both must name the same versions.
grep -q "GRAPHIQL_VERSION: &str = \"$GRAPHIQL_VERSION\"" "$assets_rs" ||
    { echo "error: GRAPHIQL_VERSION in $assets_rs is not $GRAPHIQL_VERSION" >&2; exit 1; }
grep -q "REACT_VERSION: &str = \"$REACT_VERSION\"" "$assets_rs" ||
    { echo "error: REACT_VERSION in $assets_rs is not $REACT_VERSION" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# fetch NAME VERSION SHA256: the package's tarball, checked, unpacked into ./NAME/.
fetch() {
    local name=$1 version=$2 sha256=$3 tarball
    tarball=$(npm pack --silent "$name@$version")
    local actual
    actual=$(sha256sum "$tarball" | cut -d' ' -f1)
    if [ -z "$sha256" ]; then
        echo "$name@$version: sha256 $actual (not checked: pin it in $0)" >&2
    elif [ "$actual" != "$sha256" ]; then
        echo "error: $name@$version: sha256 $actual, expected $sha256" >&2
        exit 1
    fi
    mkdir "$name"
    tar -xzf "$tarball" -C "$name" --strip-components=1
}

# copy SRC DEST: the file without its trailing `sourceMappingURL` comment, since the source
# maps are not shipped (a browser's developer tools would ask for them in vain).
copy() {
    mkdir -p "$(dirname "$2")"
    sed -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$1" > "$2"
}

fetch graphiql "$GRAPHIQL_VERSION" "$GRAPHIQL_SHA256"
fetch react "$REACT_VERSION" "$REACT_SHA256"
fetch react-dom "$REACT_VERSION" "$REACT_DOM_SHA256"

rm -rf "$dest/graphiql" "$dest/react" "$dest/react-dom"
copy graphiql/graphiql.min.js "$dest/graphiql/graphiql.min.js"
copy graphiql/graphiql.min.css "$dest/graphiql/graphiql.min.css"
cp graphiql/LICENSE "$dest/graphiql/LICENSE"
copy react/umd/react.production.min.js "$dest/react/react.production.min.js"
cp react/LICENSE "$dest/react/LICENSE"
copy react-dom/umd/react-dom.production.min.js "$dest/react-dom/react-dom.production.min.js"
cp react-dom/LICENSE "$dest/react-dom/LICENSE"

echo "vendored graphiql $GRAPHIQL_VERSION, react and react-dom $REACT_VERSION into $dest"
