// Tests for DetectContentType: one case per signature of the table (a positive match and, where it
// matters, a near miss), the whitespace and case rules of the HTML/XML signatures, the MP4 box-size
// rules, the binary-byte table of the text sniffer, the 512-byte window, and the order in which
// overlapping signatures win. Expected values are those of Go's net/http DetectContentType.
#include "internal/server/sniff.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include "tests/util/test_util.h"

namespace keyva::server {
namespace {

using namespace std::string_literals;

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kXml = "text/xml; charset=utf-8";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kOctet = "application/octet-stream";

// An ISO BMFF "ftyp" box header: the big-endian box size followed by "ftyp".
std::string FtypHeader(uint32_t box_size) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(box_size >> shift));
  return s + "ftyp";
}

// The RIFF header with a size field made of text bytes, so that a near miss falls to the text
// sniffer rather than to the binary fallback.
const std::string kRiffTextSize = "RIFF$abc";

}  // namespace

TEST_CASE("sniff: empty input is text", "[sniff]") { CHECK(DetectContentType("") == kText); }

TEST_CASE("sniff: binary input is application/octet-stream", "[sniff]") {
  CHECK(DetectContentType("\x01\x02\x03") == kOctet);
  CHECK(DetectContentType("\x00"s) == kOctet);
}

TEST_CASE("sniff: plain text, including UTF-8 and whitespace-only input", "[sniff]") {
  CHECK(DetectContentType("This is not HTML. It has \xE2\x98\x83 though.") == kText);
  CHECK(DetectContentType(" \t\r\n\x0c") == kText);
  CHECK(DetectContentType("{\"json\": true}") == kText);
  CHECK(DetectContentType("\xFF\xFF\xFF") == kText);  // High bytes are not binary data bytes.
}

TEST_CASE("sniff: every HTML tag signature", "[sniff]") {
  const char* tags[] = {"<!DOCTYPE HTML",
                        "<HTML",
                        "<HEAD",
                        "<SCRIPT",
                        "<IFRAME",
                        "<H1",
                        "<DIV",
                        "<FONT",
                        "<TABLE",
                        "<A",
                        "<STYLE",
                        "<TITLE",
                        "<B",
                        "<BODY",
                        "<BR",
                        "<P",
                        "<!--"};
  for (std::string tag : tags) {
    DYNAMIC_SECTION(tag) {
      CHECK(DetectContentType(tag + ">") == kHtml);
      CHECK(DetectContentType(tag + " x") == kHtml);
      std::string lower = tag;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      CHECK(DetectContentType(lower + ">") == kHtml);
      // The tag must be followed by a tag-terminating byte: not another character, not the end.
      CHECK(DetectContentType(tag + "x") == kText);
      CHECK(DetectContentType(tag + "\t") == kText);
      CHECK(DetectContentType(tag) == kText);
    }
  }
}

TEST_CASE("sniff: HTML documents", "[sniff]") {
  CHECK(DetectContentType("<HtMl><bOdY>blah blah blah</body></html>") == kHtml);
  CHECK(DetectContentType("<HTML></HTML>") == kHtml);
  CHECK(DetectContentType("<!doctype html>\n<html lang=en>") == kHtml);
  CHECK(DetectContentType("<!-- comment --><p>x</p>") == kHtml);
  CHECK(DetectContentType("<br/>") == kText);             // '/' is not a tag terminator.
  CHECK(DetectContentType("<abbr>x</abbr>") == kText);    // "<A" followed by 'b'.
  CHECK(DetectContentType("<h2>title</h2>") == kText);    // Only <H1> is a signature.
  CHECK(DetectContentType("<!DOCTYPE  HTML>") == kText);  // The inner space is literal.
}

TEST_CASE("sniff: leading whitespace before HTML is skipped", "[sniff]") {
  CHECK(DetectContentType("   <!DOCTYPE HTML>...") == kHtml);
  CHECK(DetectContentType("\r\n<html>...") == kHtml);
  CHECK(DetectContentType("\t\x0c \n<body>") == kHtml);
  // Only \t \n \x0c \r and space are whitespace; a vertical tab is a binary data byte.
  CHECK(DetectContentType("\x0b<html>") == kOctet);
  CHECK(DetectContentType("x<html>") == kText);
  CHECK(DetectContentType("\xC2\xA0<html>") == kText);  // U+00A0 is not whitespace here.
}

TEST_CASE("sniff: HTML matching is case-insensitive for letters only", "[sniff]") {
  CHECK(DetectContentType("<hTmL>") == kHtml);
  CHECK(DetectContentType("<ScRiPt>") == kHtml);
  CHECK(DetectContentType("<h1>") == kHtml);
  // A folded byte must equal the upper-case letter; 0xC8 & 0xDF == 0xC8, not 'H'.
  CHECK(DetectContentType("<\xC8TML>") == kText);
}

TEST_CASE("sniff: XML", "[sniff]") {
  CHECK(DetectContentType("<?xml version=\"1.0\"?><a/>") == kXml);
  CHECK(DetectContentType("\n<?xml!") == kXml);  // Whitespace skipped, no terminator needed.
  CHECK(DetectContentType("<?xml") == kXml);
  CHECK(DetectContentType("<?XML version=\"1.0\"?>") == kText);  // Case-sensitive.
  CHECK(DetectContentType("<?xm") == kText);
}

TEST_CASE("sniff: PDF", "[sniff]") {
  CHECK(DetectContentType("%PDF-1.7\n%\xE2\xE3\xCF\xD3") == "application/pdf");
  CHECK(DetectContentType("%PDF-") == "application/pdf");
  CHECK(DetectContentType(" %PDF-1.7") == kText);  // No whitespace skipping for binary types.
  CHECK(DetectContentType("%PDF") == kText);
}

TEST_CASE("sniff: PostScript", "[sniff]") {
  CHECK(DetectContentType("%!PS-Adobe-3.0\n") == "application/postscript");
  CHECK(DetectContentType("%!PS-3.0") == kText);
}

TEST_CASE("sniff: UTF-16BE byte-order mark", "[sniff]") {
  CHECK(DetectContentType("\xFE\xFF\x00h\x00i"s) == "text/plain; charset=utf-16be");
  CHECK(DetectContentType("\xFE\xFF\x12\x34") == "text/plain; charset=utf-16be");
  // The mask is four bytes long: a bare two-byte BOM does not match.
  CHECK(DetectContentType("\xFE\xFF") == kText);
  CHECK(DetectContentType("\xFE\xFF\x00"s) == kOctet);
}

TEST_CASE("sniff: UTF-16LE byte-order mark", "[sniff]") {
  CHECK(DetectContentType("\xFF\xFEh\x00i\x00"s) == "text/plain; charset=utf-16le");
  CHECK(DetectContentType("\xFF\xFE") == kText);
}

TEST_CASE("sniff: UTF-8 byte-order mark", "[sniff]") {
  CHECK(DetectContentType("\xEF\xBB\xBFhello") == kText);
  // The BOM decides before the text sniffer: a binary byte right after it is masked out.
  CHECK(DetectContentType("\xEF\xBB\xBF\x01") == kText);
  CHECK(DetectContentType("\xEF\xBB\x01\x01") == kOctet);
  // Whitespace skipping does not skip a BOM, so the HTML signatures do not see the tag.
  CHECK(DetectContentType("\xEF\xBB\xBF<html>") == kText);
}

TEST_CASE("sniff: Windows icon and cursor", "[sniff]") {
  CHECK(DetectContentType("\x00\x00\x01\x00"s) == "image/x-icon");
  CHECK(DetectContentType("\x00\x00\x02\x00\x01\x00"s) == "image/x-icon");
  CHECK(DetectContentType("\x00\x00\x03\x00"s) == kOctet);
}

TEST_CASE("sniff: BMP", "[sniff]") {
  CHECK(DetectContentType("BM\x36\x00\x0c\x00"s) == "image/bmp");
  CHECK(DetectContentType("BMW is a car") == "image/bmp");  // Go's quirk: "BM" is enough.
  CHECK(DetectContentType("bm") == kText);
}

TEST_CASE("sniff: GIF", "[sniff]") {
  CHECK(DetectContentType("GIF87a") == "image/gif");
  CHECK(DetectContentType("GIF89a\x01\x00\x01\x00"s) == "image/gif");
  CHECK(DetectContentType("GIF88a") == kText);
  CHECK(DetectContentType("GIF8") == kText);
}

TEST_CASE("sniff: WebP", "[sniff]") {
  CHECK(DetectContentType("RIFF\x00\x00\x00\x00WEBPVP"s) == "image/webp");
  CHECK(DetectContentType("RIFF\x24\x1f\x00\x00WEBPVP8 "s) == "image/webp");
  CHECK(DetectContentType(kRiffTextSize + "WEBPVP8L") == "image/webp");  // Size is ignored.
  CHECK(DetectContentType(kRiffTextSize + "WEBPXX") == kText);
  CHECK(DetectContentType(kRiffTextSize + "WEBPV") == kText);  // 13 bytes: too short.
}

TEST_CASE("sniff: PNG", "[sniff]") {
  CHECK(DetectContentType("\x89PNG\x0D\x0A\x1A\x0A") == "image/png");
  // A 1x1 RGBA image as the original keyva examples upload: signature then the IHDR chunk.
  const std::string png =
      "\x89PNG\r\n\x1a\n"
      "\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
      "\x00\x00\x00\x0dIDAT\x78\x9c\x63\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4"
      "\x00\x00\x00\x00IEND\xae\x42\x60\x82"s;
  CHECK(DetectContentType(png) == "image/png");
  CHECK(DetectContentType(png.substr(0, 7)) == kOctet);  // Truncated signature.
  CHECK(DetectContentType("\x89PNG\r\n\x1a\x0b") == kOctet);
}

TEST_CASE("sniff: JPEG", "[sniff]") {
  CHECK(DetectContentType("\xFF\xD8\xFF") == "image/jpeg");
  CHECK(DetectContentType("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"s) == "image/jpeg");
  CHECK(DetectContentType("\xFF\xD8") == kText);  // Neither byte is a binary data byte.
}

TEST_CASE("sniff: basic audio (.snd)", "[sniff]") {
  CHECK(DetectContentType(".snd\x00\x00\x00\x18"s) == "audio/basic");
  CHECK(DetectContentType(".snd") == "audio/basic");
  CHECK(DetectContentType(".SND") == kText);
}

TEST_CASE("sniff: AIFF", "[sniff]") {
  CHECK(DetectContentType(
            "FORM\x00\x00\x00\x00"
            "AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x57\x55\x00\x10\x40\x0d\xf3\x34"s) ==
        "audio/aiff");
  CHECK(DetectContentType("FORM$abcAIFF") == "audio/aiff");
  CHECK(DetectContentType("FORM$abcAIFC") == kText);
}

TEST_CASE("sniff: MP3 with an ID3 tag", "[sniff]") {
  CHECK(DetectContentType("ID3\x03\x00\x00\x00\x00\x0f"s) == "audio/mpeg");
  CHECK(DetectContentType("ID3") == "audio/mpeg");
  CHECK(DetectContentType("ID3 is a tag format") == "audio/mpeg");
  CHECK(DetectContentType("id3") == kText);
}

TEST_CASE("sniff: Ogg", "[sniff]") {
  CHECK(DetectContentType("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46\x00\x00"s) ==
        "application/ogg");
  CHECK(DetectContentType("owow\x00"s) == kOctet);
  CHECK(DetectContentType("oooS\x00"s) == kOctet);
  CHECK(DetectContentType("oggS\x00"s) == kOctet);
  CHECK(DetectContentType("OggS") == kText);  // The NUL is part of the signature.
}

TEST_CASE("sniff: MIDI", "[sniff]") {
  CHECK(DetectContentType("MThd\x00\x00\x00\x06\x00\x01"s) == "audio/midi");
  CHECK(DetectContentType("MThd\x00\x00\x00\x07\x00\x01"s) == kOctet);
  CHECK(DetectContentType("MThd\x00\x00\x00"s) == kOctet);
}

TEST_CASE("sniff: AVI", "[sniff]") {
  CHECK(DetectContentType("RIFF,O\n\x00"
                          "AVI LIST\xC3\x80"s) == "video/avi");
  CHECK(DetectContentType("RIFF,\n\x00\x00"
                          "AVI LIST\xC3\x80"s) == "video/avi");
  CHECK(DetectContentType(kRiffTextSize + "AVIX") == kText);
}

TEST_CASE("sniff: WAVE", "[sniff]") {
  CHECK(DetectContentType("RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06"s) == "audio/wave");
  CHECK(DetectContentType("RIFF,\x00\x00\x00WAVEfmt \x12\x00\x00\x00\x06"s) == "audio/wave");
  CHECK(DetectContentType(kRiffTextSize + "WAVE") == "audio/wave");
  CHECK(DetectContentType(kRiffTextSize + "wave") == kText);
}

TEST_CASE("sniff: MP4", "[sniff]") {
  CHECK(DetectContentType("\x00\x00\x00\x18"
                          "ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat"s) == "video/mp4");
  // The smallest match: a 12-byte box whose major brand starts with "mp4".
  CHECK(DetectContentType(FtypHeader(12) + "mp41") == "video/mp4");
  // "mp4" as a compatible brand after another major brand.
  CHECK(DetectContentType(FtypHeader(24) + "isom\x00\x00\x02\x00"s + "avc1mp41") == "video/mp4");
  // Any brand starting with "mp4" counts; "MP4" does not.
  CHECK(DetectContentType(FtypHeader(12) + "mp4X") == "video/mp4");
  CHECK(DetectContentType(FtypHeader(12) + "MP41") == kOctet);
  // Not an ftyp box.
  CHECK(DetectContentType("\x00\x00\x00\x0c"
                          "ftyPmp41"s) == kOctet);
}

TEST_CASE("sniff: MP4 box-size edge cases", "[sniff]") {
  SECTION("fewer than 12 bytes never match") {
    CHECK(DetectContentType(FtypHeader(8) + "mp4") == kOctet);
  }
  SECTION("the minor version at offset 12 is skipped") {
    CHECK(DetectContentType(FtypHeader(16) + "isom" + "mp41") == kOctet);
    CHECK(DetectContentType(FtypHeader(20) + "isom" + "mp41" + "mp42") == "video/mp4");
  }
  SECTION("brands past the box size are not examined") {
    CHECK(DetectContentType(FtypHeader(8) + "mp41") == kOctet);
    CHECK(DetectContentType(FtypHeader(16) + "isom\x00\x00\x00\x00"s + "mp41") == kOctet);
  }
  SECTION("a box size that is not a multiple of 4 never matches") {
    CHECK(DetectContentType(FtypHeader(13) + "mp41" + "mp41") == kOctet);
    CHECK(DetectContentType(FtypHeader(22) + "mp41" + "mp41" + "mp41" + "mp41") == kOctet);
  }
  SECTION("a box larger than the data never matches") {
    CHECK(DetectContentType(FtypHeader(16) + "mp41" + "\x00\x00\x00"s) == kOctet);
    CHECK(DetectContentType(FtypHeader(16) + "mp41" + "\x00\x00\x00\x00"s) == "video/mp4");
  }
  SECTION("a zero box size never matches") {
    CHECK(DetectContentType(FtypHeader(0) + "mp41" + "mp41") == kOctet);
  }
  SECTION("a box larger than the 512-byte window never matches") {
    std::string data = FtypHeader(516) + "mp41";
    data.resize(600, '\0');
    CHECK(DetectContentType(data) == kOctet);
    std::string fits = FtypHeader(508) + "mp41";
    fits.resize(600, '\0');
    CHECK(DetectContentType(fits) == "video/mp4");
    // A size of 512 is 00 00 02 00, the cursor signature, which comes first in Go's order.
    std::string cursor = FtypHeader(512) + "mp41";
    cursor.resize(600, '\0');
    CHECK(DetectContentType(cursor) == "image/x-icon");
  }
  SECTION("a huge box size does not overflow") {
    // 0xFFFFFFFC and the rest are no binary data bytes, so this falls through to text.
    CHECK(DetectContentType(FtypHeader(0xFFFFFFFCu) + "mp41" + "mp41") == kText);
  }
}

TEST_CASE("sniff: WebM", "[sniff]") {
  CHECK(DetectContentType("\x1A\x45\xDF\xA3\x01\x00\x00\x00"s) == "video/webm");
  CHECK(DetectContentType("\x1A\x45\xDF\xA4"s) == kOctet);
}

TEST_CASE("sniff: Embedded OpenType font", "[sniff]") {
  std::string eot(34, '\0');
  eot[0] = '\x4a';  // EOTSize and friends: any bytes.
  eot[8] = '\x02';
  CHECK(DetectContentType(eot + "LP\x00\x00"s) == "application/vnd.ms-fontobject");
  // Go's quirk: the first 34 bytes are ignored, so text with "LP" at offset 34 is an EOT.
  CHECK(DetectContentType(std::string(34, 'a') + "LP") == "application/vnd.ms-fontobject");
  CHECK(DetectContentType(std::string(33, 'a') + "LP") == kText);
  CHECK(DetectContentType(std::string(34, 'a') + "L") == kText);
  CHECK(DetectContentType(std::string(34, 'a') + "lp") == kText);
}

TEST_CASE("sniff: TrueType font", "[sniff]") {
  CHECK(DetectContentType("\x00\x01\x00\x00\x00\x17\x01\x00\x00\x04\x01\x60\x4f"s) == "font/ttf");
  CHECK(DetectContentType("\x00\x01\x00\x00\x00\x0e\x00\x80\x00\x03\x00\x60\x46"s) == "font/ttf");
  CHECK(DetectContentType("\x00\x01\x00\x01"s) == kOctet);
}

TEST_CASE("sniff: OpenType font", "[sniff]") {
  CHECK(DetectContentType("OTTO\x00\x0e\x00\x80\x00\x03\x00\x60\x42\x41\x53\x45"s) == "font/otf");
  CHECK(DetectContentType("OTTO") == "font/otf");
  CHECK(DetectContentType("OTT") == kText);
}

TEST_CASE("sniff: TrueType collection", "[sniff]") {
  CHECK(DetectContentType("ttcf\x00\x01\x00\x00"s) == "font/collection");
  CHECK(DetectContentType("TTCF\x00\x01\x00\x00"s) == kOctet);
}

TEST_CASE("sniff: WOFF", "[sniff]") {
  CHECK(DetectContentType("wOFF\x00\x01\x00\x00\x00\x00\x30\x54\x00\x0d\x00\x00"s) == "font/woff");
  CHECK(DetectContentType("woff\x00\x01\x00\x00"s) == kOctet);
}

TEST_CASE("sniff: WOFF2", "[sniff]") {
  CHECK(DetectContentType("wOF2\x00\x01\x00\x00\x00"s) == "font/woff2");
  CHECK(DetectContentType("wOF3\x00\x01\x00\x00\x00"s) == kOctet);
}

TEST_CASE("sniff: gzip", "[sniff]") {
  CHECK(DetectContentType("\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03"s) == "application/x-gzip");
  CHECK(DetectContentType("\x1F\x8B\x07"s) == kOctet);
}

TEST_CASE("sniff: zip", "[sniff]") {
  CHECK(DetectContentType("PK\x03\x04\x14\x00\x00\x00\x08\x00"s) == "application/zip");
  CHECK(DetectContentType("PK\x05\x06\x00\x00"s) == kOctet);  // Empty-archive record: no match.
}

TEST_CASE("sniff: RAR", "[sniff]") {
  CHECK(DetectContentType("Rar!\x1A\x07\x00"s) == "application/x-rar-compressed");
  CHECK(DetectContentType("Rar!\x1A\x07\x01\x00"s) == "application/x-rar-compressed");
  CHECK(DetectContentType("Rar \x1A\x07\x00"s) == kOctet);
  CHECK(DetectContentType("Rar \x1A\x07\x01\x00"s) == kOctet);
  CHECK(DetectContentType("Rar!\x1A\x07\x02\x00"s) == kOctet);
}

TEST_CASE("sniff: WebAssembly", "[sniff]") {
  CHECK(DetectContentType("\x00\x61\x73\x6d\x01\x00\x00\x00"s) == "application/wasm");
  CHECK(DetectContentType("\x00"
                          "ASM\x01\x00"s) == kOctet);
}

TEST_CASE("sniff: the binary data bytes of the text sniffer", "[sniff]") {
  for (int b = 0; b < 256; ++b) {
    const bool binary =
        b <= 0x08 || b == 0x0B || (b >= 0x0E && b <= 0x1A) || (b >= 0x1C && b <= 0x1F);
    const std::string data = "ok "s + static_cast<char>(b) + " ok";
    INFO("byte " << b);
    CHECK(DetectContentType(data) == (binary ? kOctet : kText));
  }
}

TEST_CASE("sniff: only the first 512 bytes count", "[sniff]") {
  CHECK(kSniffLen == 512);
  std::string data(700, 'a');
  data[600] = '\x00';
  CHECK(DetectContentType(data) == kText);
  data[512] = '\x01';
  CHECK(DetectContentType(data) == kText);
  data[511] = '\x01';
  CHECK(DetectContentType(data) == kOctet);

  // A tag that ends right at the window still counts; one byte later its terminator is cut off.
  CHECK(DetectContentType(std::string(506, ' ') + "<html>") == kHtml);
  CHECK(DetectContentType(std::string(507, ' ') + "<html>") == kText);
}

TEST_CASE("sniff: order decides between overlapping signatures", "[sniff]") {
  // HTML comes before the byte signatures, so an HTML page is never anything else.
  CHECK(DetectContentType("<p>%PDF-</p>") == kHtml);
  // The icon signature comes before the EOT one.
  std::string ico_with_lp = "\x00\x00\x01\x00"s + std::string(30, '\0') + "LP";
  CHECK(DetectContentType(ico_with_lp) == "image/x-icon");
  // The UTF-8 BOM comes before the binary signatures it could hide.
  CHECK(DetectContentType("\xEF\xBB\xBF\x00\x61\x73\x6d"s) == kText);
}

TEST_CASE("sniff: random inputs always get a known type and ignore bytes past 512", "[sniff]") {
  const uint64_t seed = keyva::test::PrintedTestSeed("sniff random test");
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);

  const std::set<std::string> known = {kHtml,
                                       kXml,
                                       kText,
                                       kOctet,
                                       "application/pdf",
                                       "application/postscript",
                                       "text/plain; charset=utf-16be",
                                       "text/plain; charset=utf-16le",
                                       "image/x-icon",
                                       "image/bmp",
                                       "image/gif",
                                       "image/webp",
                                       "image/png",
                                       "image/jpeg",
                                       "audio/basic",
                                       "audio/aiff",
                                       "audio/mpeg",
                                       "application/ogg",
                                       "audio/midi",
                                       "video/avi",
                                       "audio/wave",
                                       "video/mp4",
                                       "video/webm",
                                       "application/vnd.ms-fontobject",
                                       "font/ttf",
                                       "font/otf",
                                       "font/collection",
                                       "font/woff",
                                       "font/woff2",
                                       "application/x-gzip",
                                       "application/zip",
                                       "application/x-rar-compressed",
                                       "application/wasm"};
  // Seeds that make short random data hit signatures now and then.
  const std::string prefixes[] = {"",
                                  " <html>",
                                  "\x00\x00\x00\x10"
                                  "ftypmp41"s,
                                  "RIFF",
                                  "\xEF\xBB\xBF",
                                  "<?xml"};
  for (int i = 0; i < 2000; ++i) {
    std::string data = prefixes[rng() % std::size(prefixes)];
    const std::size_t len = rng() % 800;
    const bool texty = rng() % 2 == 0;
    for (std::size_t j = 0; j < len; ++j) {
      data.push_back(texty ? static_cast<char>(' ' + rng() % 95) : static_cast<char>(rng()));
    }
    const std::string type = DetectContentType(data);
    INFO("input length " << data.size());
    CHECK(known.count(type) == 1);
    CHECK(type == DetectContentType(std::string_view(data).substr(0, kSniffLen)));
  }
}

}  // namespace keyva::server
