#!/usr/bin/env bash
# Build the paper with latexmk in a scratch folder, then move the PDF into place atomically.
#   bash workflow/scripts/latex.sh paper/ntk.tex results/paper/ntk.pdf
set -euo pipefail
tex=$1 out=$2
build=$(dirname "$out")/build
mkdir -p "$build"
root=$(pwd)
# paper/ holds the sources; results/ the generated figures, numbers and scorecard.
export TEXINPUTS="$root/paper:$root/results:$root/results/paper:${TEXINPUTS:-}"
export BIBINPUTS="$root/paper:${BIBINPUTS:-}"
latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error \
  -outdir="$build" "$tex"
cp "$build/$(basename "${tex%.tex}").pdf" "$out.tmp"
mv "$out.tmp" "$out"
