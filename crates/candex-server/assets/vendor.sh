#!/usr/bin/env bash
# Vendors the GraphQL explorer's third-party browser files (GraphiQL and React) into
# crates/candex-server/assets/vendor/, from the npm registry at the pinned versions below.
# The files are committed, so building candex needs no network; the server embeds them
# (src/http/assets.rs) and serves them from its own origin, never from a CDN.
#
#   bash crates/candex-server/assets/vendor.sh          # fetch and copy, rewrite SHA256SUMS
#   bash crates/candex-server/assets/vendor.sh --check  # verify the committed files
#
# To upgrade: change a version, run without --check, test the explorer (the browser test in
# crates/candex-server/tests/browser.rs), commit the files and SHA256SUMS together.
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=3.8.3   # the last GraphiQL with a UMD build (4.x and later are ES modules only)
REACT=18.3.1     # the last React with UMD builds; GraphiQL 3 supports React 16-18

if [ "${1:-}" = "--check" ]; then
  (cd vendor && sha256sum --quiet -c SHA256SUMS) && echo "vendored assets match SHA256SUMS"
  exit
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  printf '{"name":"candex-explorer-vendor","private":true}\n' > package.json
  npm install --silent --no-audit --no-fund --ignore-scripts --save-exact \
    "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"
)
m="$work/node_modules"
rm -rf vendor
mkdir -p vendor
cp "$m/react/umd/react.production.min.js" vendor/
cp "$m/react-dom/umd/react-dom.production.min.js" vendor/
cp "$m/graphiql/graphiql.min.js" "$m/graphiql/graphiql.min.css" vendor/
# The bundles' source-map comments point at files we do not ship.
sed -i -e '/^\/\/# sourceMappingURL=/d' vendor/graphiql.min.js
sed -i -e 's#/\*\# sourceMappingURL=[^*]*\*/##' vendor/graphiql.min.css
cp "$m/react/LICENSE" vendor/LICENSE.react
cp "$m/graphiql/LICENSE" vendor/LICENSE.graphiql
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > vendor/VERSIONS
(cd vendor && sha256sum react.production.min.js react-dom.production.min.js graphiql.min.js graphiql.min.css LICENSE.react LICENSE.graphiql VERSIONS > SHA256SUMS)
echo "vendored: $(tr '\n' ' ' < vendor/VERSIONS)"
