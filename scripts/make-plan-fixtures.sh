#!/bin/sh
# Makes the .docx and .pdf fixtures of Tests/Fixtures/plans/ from a text plan with LibreOffice, once;
# the outputs are committed, so the tests need only pdftotext (poppler-utils), not LibreOffice.
# Usage: scripts/make-plan-fixtures.sh   (needs soffice: apt-get install libreoffice-writer-nogui)
set -eu
cd "$(dirname "$0")/../Tests/Fixtures/plans"
source=004_ed3c0ee86e96e319.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$source" "$work/plan.txt"
# The text filter with UTF-8 reads the file as it is: one paragraph per line.
soffice --headless --infilter="Text (encoded):UTF8,LF,Liberation Serif,vi" --convert-to docx:"MS Word 2007 XML" --outdir "$work" "$work/plan.txt" >/dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/plan.docx" >/dev/null
mkdir -p formats
cp "$work/plan.docx" formats/004_ed3c0ee86e96e319.docx
cp "$work/plan.pdf" formats/004_ed3c0ee86e96e319.pdf
echo "wrote formats/004_ed3c0ee86e96e319.docx and .pdf"
