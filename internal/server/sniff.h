// Content-Type sniffing for stored values: the WHATWG MIME Sniffing algorithm
// (https://mimesniff.spec.whatwg.org/) exactly as Go's net/http DetectContentType implements it,
// so that keyvad answers with the same Content-Type a Go server would for the same bytes.
//
// keyvad stores each value's Content-Type; when a client sends none (or an empty one), the server
// sniffs one from the value with DetectContentType.
//
// Behaviour, in Go's order (the first match wins):
//   1. HTML tag signatures ("<!DOCTYPE HTML", "<HTML", ..., "<!--"), matched case-insensitively
//      after skipping leading whitespace (\t \n \x0c \r space) and followed by ' ' or '>';
//      then "<?xml" (also after leading whitespace) -> "text/xml; charset=utf-8".
//   2. Byte signatures anchored at offset 0 (no whitespace skipping): PDF, PostScript, the UTF-16
//      and UTF-8 byte-order marks, images, audio/video (including the MP4 "ftyp" box sniffer),
//      fonts, archives and WebAssembly.
//   3. "text/plain; charset=utf-8" when no byte is a binary data byte (0x00-0x08, 0x0B,
//      0x0E-0x1A, 0x1C-0x1F); otherwise "application/octet-stream".
//
// Only the first kSniffLen bytes of the input are considered.
//
// Thread-safety: DetectContentType is a pure function over immutable tables; call it from any
// thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace keyva::server {

// The sniffer never looks past this many leading bytes of its input.
inline constexpr std::size_t kSniffLen = 512;

// Returns the MIME type of `data`, decided from at most its first kSniffLen bytes.
// Always returns a valid MIME type: "text/plain; charset=utf-8" for text (including the empty
// input) and "application/octet-stream" when nothing more specific matches.
std::string DetectContentType(std::string_view data);

}  // namespace keyva::server
