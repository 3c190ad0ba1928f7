// Content encoding: gzip and Brotli compression of responses, negotiated with Accept-Encoding.
//
// Which coding (NegotiateContentCoding, RFC 9110 §12.5.3): the Accept-Encoding header lists
// codings with optional q-values (`br;q=1, gzip;q=0.8, *;q=0`, case-insensitive, `x-gzip` is
// gzip). A coding's weight is its own entry's q, else the `*` entry's, else 0; q=0 refuses it.
// keyvad has `br` and `gzip` and picks the acceptable one with the higher weight, `br` on a tie;
// identity wins only when listed with a higher weight than both. No header, an empty one, or a
// malformed one (a bad q-value, an empty coding) means identity: RFC 9110 lets a server disregard
// the field, and refusing a read over an optional header would only break clients. Identity is
// also sent when the client refuses it too (`identity;q=0, *;q=0`) and nothing else is
// acceptable: no 406.
//
// What (EncodeResponse): a response to GET or HEAD (HEAD reports what GET would: the coded
// Content-Length, Content-Encoding and ETag) with status 200, a Content-Type that
// IsCompressibleType accepts and a body of at least the configured minimum size
// (--compress-min-size; 0 turns compression off). Such a response always gets
// `Vary: Accept-Encoding`, coded or not; a response that could never be coded gets none. Never
// coded: a request with a Range header (none is served now; a future 206 path is skipped
// too: a response with Content-Range or Content-Encoding is left alone), other statuses,
// other types (already-compressed ones are not on the list), a coded body that is no smaller.
// Watch streams and long polls (served by the session itself) are never coded.
//
// ETags: a coded representation's ETag is the stored one with "-gzip" or "-br" inside the quotes
// (EncodedEtag, entity_tag.h), so caches tell encodings apart; If-Match and If-None-Match
// accept either form for the same stored value. A 304 carries the coded ETag when the tag the
// client sent was that coding's and the client still accepts it; else the stored one.
//
// Cost: the compression runs on the I/O thread that sends the response (the router's responder
// for GET and HEAD runs there: reads never go through the storage thread), at a fast level
// (kGzipLevel, kBrotliQuality). A coded copy of a value of at least
// ResponseMemory::kShareMinBytes is charged to --response-memory like the value itself and
// shared with the other responses in flight for the same key, ETag and coding (they reuse it
// instead of compressing again); when the budget has no room for it, the value is sent as
// identity instead.
//
// Thread-safety: pure functions (ResponseMemory is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "internal/server/http_response.h"
#include "internal/server/response_memory.h"

namespace keyva::server {

enum class ContentCoding { kIdentity, kGzip, kBrotli };

// zlib level 5: within a few percent of the default level 6's output on text and JSON, and
// faster; Brotli quality 4: smaller than gzip 6 and about as fast as gzip 5 (a 16 MiB value
// takes well under a second on one core either way).
inline constexpr int kGzipLevel = 5;
inline constexpr int kBrotliQuality = 4;

// "identity", "gzip", "br": the Content-Encoding token (and the ETag suffix).
std::string_view ContentCodingName(ContentCoding coding);

// The coding to send for the request's Accept-Encoding value (nullopt: no header).
ContentCoding NegotiateContentCoding(std::optional<std::string_view> accept_encoding);

// The types worth compressing, matched on the media type (parameters ignored, any case):
// text/* (but text/event-stream), application/json, javascript, ecmascript, xml, x-ndjson,
// yaml, x-yaml, toml, graphql, wasm, every type with a +json, +xml or +yaml suffix (image/svg+xml,
// application/ld+json, ...), and the uncompressed fonts (font/ttf, font/otf,
// application/vnd.ms-fontobject). Everything else is not: images, audio, video, archives,
// font/woff*, application/octet-stream, application/pdf.
bool IsCompressibleType(std::string_view content_type);

// bytes in coding (gzip: RFC 1952 at kGzipLevel; br: RFC 7932 at kBrotliQuality). identity:
// the bytes. Throws std::runtime_error when the library fails (out of memory).
std::string Compress(ContentCoding coding, std::string_view bytes);

// The inverse (for tests and clients): false when bytes are not a valid stream of coding or
// decode to more than max_size bytes.
bool Decompress(ContentCoding coding, std::string_view bytes, size_t max_size, std::string* out);

// What EncodeResponse needs from the request, taken before the request is handed on.
struct EncodingPlan {
  uint64_t min_size = 0;                            // 0: compression off
  ContentCoding coding = ContentCoding::kIdentity;  // the client's choice among keyvad's codings
  bool range = false;                               // the request has a Range header: never coded
  std::string if_none_match;                        // for the ETag of a 304
};
EncodingPlan PlanEncoding(const Request& req, uint64_t min_size);

// Codes res (a response to the planned GET or HEAD, body still present) when it qualifies, and
// sets Vary, Content-Encoding, the coded ETag and Content-Length. share_key (the stored key of
// a /kv value, or empty for other responses, which are not charged) names the body in memory.
void EncodeResponse(const EncodingPlan& plan, ResponseMemory* memory, std::string_view share_key,
                    Response* res);

}  // namespace keyva::server
