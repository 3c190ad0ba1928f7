// The signature table and the three special sniffers (HTML tags, MP4 "ftyp" box, plain text)
// behind DetectContentType. The table is plain data checked at compile time (see
// TableIsWellFormed); its order is Go's net/http sniffSignatures order and is significant: the
// first matching signature wins.
#include "internal/server/sniff.h"

#include <array>
#include <cstdint>
#include <iterator>

namespace keyva::server {
namespace {

using namespace std::string_view_literals;

enum class SigKind {
  kHtml,    // `pattern` is an upper-case tag opening: matched after leading whitespace, letters
            // case-insensitively, and must be followed by a tag-terminating byte (' ' or '>').
  kExact,   // `pattern` is a prefix of the data (no whitespace skipping).
  kMasked,  // (data[i] & mask[i]) == pattern[i] for every i < pattern.size(); after leading
            // whitespace only when `skip_ws` is set.
  kMp4,     // The MP4 sniffer (MatchesMp4); pattern/mask unused.
  kText,    // The plain-text sniffer (MatchesText); pattern/mask unused. Must be last.
};

struct Signature {
  SigKind kind;
  std::string_view pattern;
  std::string_view mask;  // kMasked only; same length as pattern.
  bool skip_ws;           // kMasked only.
  std::string_view content_type;
};

constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kFallbackType = "application/octet-stream";

constexpr Signature Html(std::string_view tag) {
  return {SigKind::kHtml, tag, {}, false, kHtmlType};
}
constexpr Signature Exact(std::string_view pattern, std::string_view type) {
  return {SigKind::kExact, pattern, {}, false, type};
}
constexpr Signature Masked(std::string_view pattern, std::string_view mask, std::string_view type,
                           bool skip_ws = false) {
  return {SigKind::kMasked, pattern, mask, skip_ws, type};
}

// Embedded OpenType (EOT): bytes 34..35 are "LP", the 34 bytes before them are ignored.
constexpr std::size_t kEotLen = 36;
constexpr std::array<char, kEotLen> kEotPattern = [] {
  std::array<char, kEotLen> a{};
  a[34] = 'L';
  a[35] = 'P';
  return a;
}();
constexpr std::array<char, kEotLen> kEotMask = [] {
  std::array<char, kEotLen> a{};
  a[34] = '\xFF';
  a[35] = '\xFF';
  return a;
}();

// An IFF/RIFF form header ("FORM" or "RIFF", a 4-byte size that is ignored, a 4-byte form type).
constexpr std::string_view kFormHeaderMask = "\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF"sv;

// Note on the literals: a hex escape swallows every hex digit after it, so a pattern whose text
// continues with [0-9A-Fa-f] after "\x.." is split into two adjacent literals (a merged escape
// would shorten the pattern, which TableIsWellFormed catches for masked signatures).
constexpr Signature kSignatures[] = {
    Html("<!DOCTYPE HTML"),
    Html("<HTML"),
    Html("<HEAD"),
    Html("<SCRIPT"),
    Html("<IFRAME"),
    Html("<H1"),
    Html("<DIV"),
    Html("<FONT"),
    Html("<TABLE"),
    Html("<A"),
    Html("<STYLE"),
    Html("<TITLE"),
    Html("<B"),
    Html("<BODY"),
    Html("<BR"),
    Html("<P"),
    Html("<!--"),
    Masked("<?xml"sv, "\xFF\xFF\xFF\xFF\xFF"sv, "text/xml; charset=utf-8", /*skip_ws=*/true),
    Exact("%PDF-"sv, "application/pdf"),
    Exact("%!PS-Adobe-"sv, "application/postscript"),

    // Byte-order marks. The masks are 4 bytes long, so a BOM needs at least 4 bytes of data.
    Masked("\xFE\xFF\x00\x00"sv, "\xFF\xFF\x00\x00"sv, "text/plain; charset=utf-16be"),
    Masked("\xFF\xFE\x00\x00"sv, "\xFF\xFF\x00\x00"sv, "text/plain; charset=utf-16le"),
    Masked("\xEF\xBB\xBF\x00"sv, "\xFF\xFF\xFF\x00"sv, "text/plain; charset=utf-8"),

    // Images.
    Exact("\x00\x00\x01\x00"sv, "image/x-icon"),  // Windows icon.
    Exact("\x00\x00\x02\x00"sv, "image/x-icon"),  // Windows cursor.
    Exact("BM"sv, "image/bmp"),
    Exact("GIF87a"sv, "image/gif"),
    Exact("GIF89a"sv, "image/gif"),
    Masked("RIFF\x00\x00\x00\x00WEBPVP"sv,
           "\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF"sv, "image/webp"),
    Exact("\x89PNG\x0D\x0A\x1A\x0A"sv, "image/png"),
    Exact("\xFF\xD8\xFF"sv, "image/jpeg"),

    // Audio and video.
    Masked(".snd"sv, "\xFF\xFF\xFF\xFF"sv, "audio/basic"),
    Masked("FORM\x00\x00\x00\x00"
           "AIFF"sv,
           kFormHeaderMask, "audio/aiff"),
    Masked("ID3"sv, "\xFF\xFF\xFF"sv, "audio/mpeg"),
    Masked("OggS\x00"sv, "\xFF\xFF\xFF\xFF\xFF"sv, "application/ogg"),
    Masked("MThd\x00\x00\x00\x06"sv, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"sv, "audio/midi"),
    Masked("RIFF\x00\x00\x00\x00"
           "AVI "sv,
           kFormHeaderMask, "video/avi"),
    Masked("RIFF\x00\x00\x00\x00WAVE"sv, kFormHeaderMask, "audio/wave"),
    {SigKind::kMp4, {}, {}, false, "video/mp4"},
    Exact("\x1A\x45\xDF\xA3"sv, "video/webm"),

    // Fonts.
    Masked(std::string_view(kEotPattern.data(), kEotPattern.size()),
           std::string_view(kEotMask.data(), kEotMask.size()), "application/vnd.ms-fontobject"),
    Exact("\x00\x01\x00\x00"sv, "font/ttf"),
    Exact("OTTO"sv, "font/otf"),
    Exact("ttcf"sv, "font/collection"),
    Exact("wOFF"sv, "font/woff"),
    Exact("wOF2"sv, "font/woff2"),

    // Archives. RAR uses RAR Labs' signatures (v1.5-v4.0, then v5+), as Go does.
    Exact("\x1F\x8B\x08"sv, "application/x-gzip"),
    Exact("PK\x03\x04"sv, "application/zip"),
    Exact("Rar!\x1A\x07\x00"sv, "application/x-rar-compressed"),
    Exact("Rar!\x1A\x07\x01\x00"sv, "application/x-rar-compressed"),

    Exact("\x00\x61\x73\x6D"sv, "application/wasm"),  // "\0asm"

    {SigKind::kText, {}, {}, false, kTextType},
};

constexpr unsigned char Byte(char c) { return static_cast<unsigned char>(c); }

// Compile-time checks on the table: masks as long as their patterns, patterns that can match
// their own mask, upper-case HTML tags, and the text sniffer last.
constexpr bool TableIsWellFormed() {
  for (const Signature& sig : kSignatures) {
    if (sig.content_type.empty()) return false;
    switch (sig.kind) {
      case SigKind::kHtml:
        if (sig.pattern.empty()) return false;
        for (char c : sig.pattern) {
          if (c >= 'a' && c <= 'z') return false;
        }
        break;
      case SigKind::kExact:
        if (sig.pattern.empty()) return false;
        break;
      case SigKind::kMasked:
        if (sig.pattern.empty() || sig.mask.size() != sig.pattern.size()) return false;
        for (std::size_t i = 0; i < sig.pattern.size(); ++i) {
          if ((Byte(sig.pattern[i]) & Byte(sig.mask[i])) != Byte(sig.pattern[i])) return false;
        }
        break;
      case SigKind::kMp4:
      case SigKind::kText:
        break;
    }
  }
  return std::size(kSignatures) > 0 &&
         kSignatures[std::size(kSignatures) - 1].kind == SigKind::kText;
}
static_assert(TableIsWellFormed(), "malformed sniff signature table");

// Whitespace bytes (0xWS in the spec).
constexpr bool IsWhitespace(unsigned char b) {
  return b == '\t' || b == '\n' || b == '\x0c' || b == '\r' || b == ' ';
}

// Tag-terminating bytes (0xTT in the spec).
constexpr bool IsTagTerminator(unsigned char b) { return b == ' ' || b == '>'; }

// Binary data bytes (spec section 5): their presence rules out plain text.
constexpr bool IsBinaryDataByte(unsigned char b) {
  return b <= 0x08 || b == 0x0B || (b >= 0x0E && b <= 0x1A) || (b >= 0x1C && b <= 0x1F);
}

bool MatchesExact(std::string_view data, std::string_view pattern) {
  return data.substr(0, pattern.size()) == pattern;
}

bool MatchesMasked(std::string_view data, std::string_view pattern, std::string_view mask) {
  if (data.size() < pattern.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if ((Byte(data[i]) & Byte(mask[i])) != Byte(pattern[i])) return false;
  }
  return true;
}

// `data` starts at the first non-whitespace byte. Letters of `tag` are upper case; the data byte
// is folded to upper case (& 0xDF) only where the tag has a letter.
bool MatchesHtml(std::string_view data, std::string_view tag) {
  if (data.size() < tag.size() + 1) return false;
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const unsigned char want = Byte(tag[i]);
    unsigned char got = Byte(data[i]);
    if (want >= 'A' && want <= 'Z') got &= 0xDF;
    if (got != want) return false;
  }
  return IsTagTerminator(Byte(data[tag.size()]));
}

// https://mimesniff.spec.whatwg.org/#signature-for-mp4: a big-endian box size (a multiple of 4,
// no larger than the data), "ftyp", the major brand at 8, the minor version at 12 (skipped), then
// compatible brands; any brand starting with "mp4" matches.
bool MatchesMp4(std::string_view data) {
  if (data.size() < 12) return false;
  const std::size_t box_size = (std::size_t{Byte(data[0])} << 24) |
                               (std::size_t{Byte(data[1])} << 16) |
                               (std::size_t{Byte(data[2])} << 8) | std::size_t{Byte(data[3])};
  if (box_size % 4 != 0 || data.size() < box_size) return false;
  if (data.substr(4, 4) != "ftyp"sv) return false;
  // box_size % 4 == 0 and st % 4 == 0, so st + 4 <= box_size <= data.size() inside the loop.
  for (std::size_t st = 8; st < box_size; st += 4) {
    if (st == 12) continue;  // Minor version of the major brand.
    if (data.substr(st, 3) == "mp4"sv) return true;
  }
  return false;
}

bool MatchesText(std::string_view data) {
  for (char c : data) {
    if (IsBinaryDataByte(Byte(c))) return false;
  }
  return true;
}

bool Matches(const Signature& sig, std::string_view data, std::size_t first_non_ws) {
  switch (sig.kind) {
    case SigKind::kHtml:
      return MatchesHtml(data.substr(first_non_ws), sig.pattern);
    case SigKind::kExact:
      return MatchesExact(data, sig.pattern);
    case SigKind::kMasked:
      return MatchesMasked(sig.skip_ws ? data.substr(first_non_ws) : data, sig.pattern, sig.mask);
    case SigKind::kMp4:
      return MatchesMp4(data);
    case SigKind::kText:
      return MatchesText(data.substr(first_non_ws));
  }
  return false;
}

}  // namespace

std::string DetectContentType(std::string_view data) {
  data = data.substr(0, kSniffLen);
  std::size_t first_non_ws = 0;
  while (first_non_ws < data.size() && IsWhitespace(Byte(data[first_non_ws]))) ++first_non_ws;
  for (const Signature& sig : kSignatures) {
    if (Matches(sig, data, first_non_ws)) return std::string(sig.content_type);
  }
  return std::string(kFallbackType);
}

}  // namespace keyva::server
