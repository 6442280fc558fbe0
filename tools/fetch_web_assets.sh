#!/usr/bin/env bash
# Fetch the JavaScript the built site needs from the npm registry into one folder, so pages render
# widgets and math with no network. Versions are pinned here; the files are not committed.
#   usage: tools/fetch_web_assets.sh DEST
set -euo pipefail

dest=${1:?usage: $0 DEST}
# ipywidgets 8.1.x pairs with @jupyter-widgets/html-manager 1.0.x.
html_manager=@jupyter-widgets/html-manager@1.0.15
requirejs=requirejs@2.3.8
mathjax=mathjax@3.2.2

stamp="$dest/.versions"
want="$html_manager $requirejs $mathjax"
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi

command -v npm >/dev/null || { echo "npm not found: install Node.js (Debian: apt-get install nodejs npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$html_manager" "$requirejs" "$mathjax" >/dev/null)
for tgz in "$work"/*.tgz; do
  name=$(basename "$tgz" .tgz)
  mkdir -p "$work/$name" && tar -xzf "$tgz" -C "$work/$name"
done

rm -rf "$dest"
mkdir -p "$dest/html-manager" "$dest/mathjax/output/chtml/fonts"
cp "$work"/jupyter-widgets-html-manager-*/package/dist/embed-amd.js "$dest/html-manager/"
# embed-amd.js asks for its icon fonts beside itself
cp "$work"/jupyter-widgets-html-manager-*/package/dist/*.{woff,woff2,ttf,eot,svg} "$dest/html-manager/" 2>/dev/null || true
cp "$work"/requirejs-*/package/require.js "$dest/require.js"
mj="$work/mathjax-3.2.2/package/es5"
cp "$mj/tex-mml-chtml.js" "$dest/mathjax/"
cp -r "$mj/input" "$dest/mathjax/"
cp -r "$mj/output/chtml/fonts/woff-v2" "$dest/mathjax/output/chtml/fonts/"
shopt -s nullglob nocaseglob
for f in "$work"/*/package/license*; do
  cp "$f" "$dest/LICENSE.$(basename "$(dirname "$(dirname "$f")")")"
done
echo "$want" > "$stamp"
echo "web assets in $dest: $want"
