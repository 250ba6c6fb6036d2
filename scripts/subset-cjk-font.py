#!/usr/bin/env python3
"""Makes reference-data/fonts/WenQuanYiMicroHei-GB2312.ttf, the font of certificate and archive PDFs.

Source: wqy-microhei.ttc 0.2.0-beta (WenQuanYi Micro Hei, Apache-2.0 or GPL-3+ with font exception; we use it
under Apache-2.0), as shipped by Debian's `fonts-wqy-microhei` package. Kept: every character of GB 2312 (6,763
hanzi plus its symbols), printable ASCII, Latin-1, general punctuation, CJK symbols and punctuation, half- and
full-width forms; no hinting, no layout features (PDF text is drawn glyph by glyph). Glyph data is padded to
even lengths: @pdf-lib/fontkit's subsetter writes a short `loca` table for small subsets and would otherwise
corrupt glyphs that follow an odd-length one. Needs fontTools (`apt-get install fonttools`):

    python3 scripts/subset-cjk-font.py /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
"""
import sys
from fontTools import subset
from fontTools.ttLib import TTFont

src = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'
out = sys.argv[2] if len(sys.argv) > 2 else 'reference-data/fonts/WenQuanYiMicroHei-GB2312.ttf'

chars = set()
for b1 in range(0xA1, 0xF8):
    for b2 in range(0xA1, 0xFF):
        try:
            chars.add(bytes([b1, b2]).decode('gb2312'))
        except UnicodeDecodeError:
            pass
for lo, hi in [(0x20, 0x7F), (0xA0, 0x100), (0x2000, 0x2070), (0x3000, 0x3040), (0xFF00, 0xFFF0)]:
    chars.update(chr(c) for c in range(lo, hi))

font = TTFont(src, fontNumber=0)
options = subset.Options()
options.layout_features = []
options.hinting = False
options.name_IDs = ['*']
options.notdef_outline = True
sub = subset.Subsetter(options)
sub.populate(unicodes=[ord(c) for c in chars])
sub.subset(font)
font['glyf'].padding = 2
font.save(out)
print(f'{out}: {len(chars)} characters requested, {len(font.getGlyphOrder())} glyphs')
