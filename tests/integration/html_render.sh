#!/usr/bin/env bash
# Renders the HTML reports with headless Chromium and checks the screenshots are real pages.
# Usage: html_render.sh TEST_RPT_HTML_BINARY ARTIFACT_DIR. Exit 77 (skip) without chromium.
set -euo pipefail
bin=$1
art=$2
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "html_render: chromium is not installed (Debian package chromium); skipping"
  exit 77
fi
mkdir -p "$art"
"$bin" --render "$art" >/dev/null

# A second, independent parse: Python's HTML parser, with every non-void element closed in
# order (the unit test already parses the same files as XML with GMarkup).
python3 - "$art"/report-*.html <<'EOF'
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source",
        "track", "wbr"}

class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.errors.append("a <script> element")
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        if tag == "script":
            self.errors.append("a <script> element")
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
                               f" at {self.getpos()}")
        else:
            self.stack.pop()

for path in sys.argv[1:]:
    c = Check()
    c.feed(open(path, encoding="utf-8").read())
    c.close()
    if c.stack:
        c.errors.append(f"unclosed: {c.stack}")
    if c.errors:
        sys.exit(f"{path}: " + "; ".join(c.errors[:5]))
EOF

shoot() { # name width height
  local name=$1 w=$2 h=$3 profile
  profile=$(mktemp -d)
  # No network of any kind: the page must render from the file alone.
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$art/report-$name.png" \
    --window-size="$w,$h" "file://$art/report-$name.html" >"$art/chromium-$name.log" 2>&1 || {
    rc=$?
    rm -rf "$profile"
    echo "html_render: chromium failed ($rc) on report-$name.html:" >&2
    tail -20 "$art/chromium-$name.log" >&2
    exit 1
  }
  rm -rf "$profile"
}

shoot failing 1280 2400
shoot passing 1280 2400
shoot busy 1280 6000
shoot hostile 1280 2400

# Read the PNGs with nothing but the standard library: size, distinct colours in the top part,
# and the banner's colour (red for the failing run, amber for the passing run's warning).
python3 - "$art" <<'EOF'
import struct, sys, zlib, os

def rows(path, max_rows):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, w = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    if depth != 8 or ctype not in (2, 6):
        sys.exit(f"{path}: unexpected PNG format depth={depth} colour type={ctype}")
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    # Distinct filtered scanlines over the whole image: a blank page has one or two.
    distinct_lines = len({raw[i * (stride + 1):(i + 1) * (stride + 1)] for i in range(h)})
    out, prev = [], bytearray(stride)
    for y in range(min(h, max_rows)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, distinct_lines, out

art = sys.argv[1]
expect = {"failing": (220, 38, 38), "passing": (180, 83, 9), "busy": (220, 38, 38),
          "hostile": (220, 38, 38)}
for name, banner in expect.items():
    path = os.path.join(art, f"report-{name}.png")
    size = os.path.getsize(path)
    w, h, lines, top = rows(path, 400)
    colours = {px for row in top for px in row}
    # The verdict block is the banner's left part: find its colour there.
    banner_hits = sum(1 for row in top[:200] for px in row[:200] if px == banner)
    print(f"{name}: {w}x{h}, {size // 1024} KB, {lines} distinct lines, "
          f"{len(colours)} colours in the top 400 rows, {banner_hits} banner pixels")
    if w < 1000 or h < 2000:
        sys.exit(f"{path}: {w}x{h} is smaller than the window")
    if size < 40 * 1024:
        sys.exit(f"{path}: {size} bytes: too small for a rendered report")
    if lines < 200 or len(colours) < 50:
        sys.exit(f"{path}: looks blank ({lines} distinct lines, {len(colours)} colours)")
    if banner_hits < 1000:
        sys.exit(f"{path}: the verdict banner is not {banner}")
EOF
echo "html_render: screenshots in $art"
