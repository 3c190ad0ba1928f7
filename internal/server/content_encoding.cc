// Accept-Encoding negotiation and gzip / Brotli coding of responses; see content_encoding.h.
#include "internal/server/content_encoding.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <memory>
#include <stdexcept>

#include "internal/server/entity_tag.h"
#include "internal/server/header_text.h"

namespace keyva::server {
namespace {

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths. nullopt when malformed.
std::optional<int> ParseQValue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int whole = v[0] - '0';
  int thousandths = 0;
  if (v.size() > 1) {
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    int scale = 100;
    for (char c : v.substr(2)) {
      if (c < '0' || c > '9') return std::nullopt;
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
  }
  int q = whole * 1000 + thousandths;
  if (q > 1000) return std::nullopt;
  return q;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The weights (thousandths; -1: not listed) of the codings keyvad cares about.
struct Weights {
  int br = -1, gzip = -1, identity = -1, any = -1;
};

std::optional<Weights> ParseAcceptEncoding(std::string_view header) {
  Weights w;
  while (true) {
    size_t comma = header.find(',');
    std::string_view element = TrimOws(header.substr(0, comma));
    if (!element.empty()) {  // empty list elements are allowed (RFC 9110 §5.6.1)
      size_t semi = element.find(';');
      std::string coding = AsciiLower(TrimOws(element.substr(0, semi)));
      if (coding.empty() || !std::all_of(coding.begin(), coding.end(), IsTokenChar)) {
        return std::nullopt;
      }
      int q = 1000;
      std::string_view params =
          semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
      while (semi != std::string_view::npos) {
        semi = params.find(';');
        std::string_view param = TrimOws(params.substr(0, semi));
        if (semi != std::string_view::npos) params.remove_prefix(semi + 1);
        size_t eq = param.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        if (AsciiLower(TrimOws(param.substr(0, eq))) != "q") continue;  // other parameters: ignored
        std::optional<int> parsed = ParseQValue(TrimOws(param.substr(eq + 1)));
        if (!parsed) return std::nullopt;
        q = *parsed;
      }
      int* slot = nullptr;
      if (coding == "br") slot = &w.br;
      if (coding == "gzip" || coding == "x-gzip") slot = &w.gzip;
      if (coding == "identity") slot = &w.identity;
      if (coding == "*") slot = &w.any;
      if (slot != nullptr) *slot = std::max(*slot, q);
    }
    if (comma == std::string_view::npos) return w;
    header.remove_prefix(comma + 1);
  }
}

// The media type of a Content-Type, lower-cased, without parameters.
std::string MediaType(std::string_view content_type) {
  return AsciiLower(TrimOws(content_type.substr(0, content_type.find(';'))));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Gzip(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
  std::string out(deflateBound(&zs, bytes.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());  // values are far below 4 GiB
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  out.resize(zs.total_out);
  return out;
}

std::string Brotli(std::string_view bytes) {
  size_t size = BrotliEncoderMaxCompressedSize(bytes.size());
  if (size == 0) throw std::runtime_error("brotli: input too large");
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(kBrotliQuality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                             bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data()))) {
    throw std::runtime_error("brotli: BrotliEncoderCompress failed");
  }
  out.resize(size);
  return out;
}

bool Gunzip(std::string_view bytes, size_t max_size, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return false;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::array<char, 64 << 10> chunk;
  out->clear();
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return false;
    out->append(chunk.data(), chunk.size() - zs.avail_out);
    if (out->size() > max_size) return false;
    if (rc == Z_STREAM_END) return zs.avail_in == 0;          // nothing may follow the stream
    if (zs.avail_in == 0 && zs.avail_out != 0) return false;  // truncated
  }
}

bool Unbrotli(std::string_view bytes, size_t max_size, std::string* out) {
  std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return false;
  size_t avail_in = bytes.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(bytes.data());
  std::array<uint8_t, 64 << 10> chunk;
  out->clear();
  while (true) {
    size_t avail_out = chunk.size();
    uint8_t* next_out = chunk.data();
    BrotliDecoderResult rc = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in,
                                                           &avail_out, &next_out, nullptr);
    out->append(reinterpret_cast<const char*>(chunk.data()), chunk.size() - avail_out);
    if (out->size() > max_size) return false;
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) return avail_in == 0;
    if (rc != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) return false;  // error or truncated
  }
}

// Appends token to the response's Vary unless it is listed already (or Vary is *).
void AddVary(Response* res, std::string_view token) {
  auto it = res->find(http::field::vary);
  if (it == res->end()) {
    res->set(http::field::vary, token);
    return;
  }
  std::string_view list = it->value();
  std::string_view rest = list;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = TrimOws(rest.substr(0, comma));
    if (item == "*" || boost::beast::iequals(item, token)) return;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  res->set(http::field::vary, std::string(list) + ", " + std::string(token));
}

// A 304: the coded ETag when the tag the client revalidates is that of the coding it still gets.
void EncodeNotModified(const EncodingPlan& plan, Response* res) {
  AddVary(res, "Accept-Encoding");
  auto etag = res->find(http::field::etag);
  if (etag == res->end() || plan.coding == ContentCoding::kIdentity || plan.range) return;
  EtagCondition cond;
  if (!ParseEtagCondition(plan.if_none_match, &cond)) return;
  const std::string_view name = ContentCodingName(plan.coding);
  for (const EtagCondition::Tag& tag : cond.tags) {
    if (EtagCoding(tag.opaque) != name) continue;
    EtagCondition one;
    one.tags.push_back(tag);
    if (MatchesWeak(one, etag->value())) {
      res->set(http::field::etag, EncodedEtag(etag->value(), name));
      return;
    }
  }
}

}  // namespace

std::string_view ContentCodingName(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip:
      return "gzip";
    case ContentCoding::kBrotli:
      return "br";
    default:
      return "identity";
  }
}

ContentCoding NegotiateContentCoding(std::optional<std::string_view> accept_encoding) {
  if (!accept_encoding) return ContentCoding::kIdentity;
  std::optional<Weights> w = ParseAcceptEncoding(*accept_encoding);
  if (!w) return ContentCoding::kIdentity;
  const int br = w->br >= 0 ? w->br : std::max(w->any, 0);
  const int gzip = w->gzip >= 0 ? w->gzip : std::max(w->any, 0);
  const int best = std::max(br, gzip);
  if (best == 0) return ContentCoding::kIdentity;
  if (w->identity > best) return ContentCoding::kIdentity;
  return br >= gzip ? ContentCoding::kBrotli : ContentCoding::kGzip;
}

bool IsCompressibleType(std::string_view content_type) {
  const std::string media = MediaType(content_type);
  const size_t slash = media.find('/');
  if (slash == std::string::npos) return false;
  const std::string_view type = std::string_view(media).substr(0, slash);
  const std::string_view sub = std::string_view(media).substr(slash + 1);
  if (EndsWith(sub, "+json") || EndsWith(sub, "+xml") || EndsWith(sub, "+yaml")) return true;
  if (type == "text") return sub != "event-stream";
  static constexpr std::string_view kApplication[] = {
      "json", "javascript", "x-javascript", "ecmascript", "xml",  "x-ndjson",
      "yaml", "x-yaml",     "toml",         "graphql",    "wasm", "vnd.ms-fontobject",
  };
  if (type == "application") {
    return std::find(std::begin(kApplication), std::end(kApplication), sub) !=
           std::end(kApplication);
  }
  if (type == "font") return sub == "ttf" || sub == "otf";
  return false;
}

std::string Compress(ContentCoding coding, std::string_view bytes) {
  switch (coding) {
    case ContentCoding::kGzip:
      return Gzip(bytes);
    case ContentCoding::kBrotli:
      return Brotli(bytes);
    default:
      return std::string(bytes);
  }
}

bool Decompress(ContentCoding coding, std::string_view bytes, size_t max_size, std::string* out) {
  switch (coding) {
    case ContentCoding::kGzip:
      return Gunzip(bytes, max_size, out);
    case ContentCoding::kBrotli:
      return Unbrotli(bytes, max_size, out);
    default:
      if (bytes.size() > max_size) return false;
      out->assign(bytes);
      return true;
  }
}

EncodingPlan PlanEncoding(const Request& req, uint64_t min_size) {
  EncodingPlan plan;
  plan.min_size = min_size;
  auto ae = req.find(http::field::accept_encoding);
  plan.coding = NegotiateContentCoding(
      ae == req.end() ? std::nullopt : std::optional<std::string_view>(ae->value()));
  plan.range = req.find(http::field::range) != req.end();
  plan.if_none_match = std::string(req[http::field::if_none_match]);
  return plan;
}

void EncodeResponse(const EncodingPlan& plan, ResponseMemory* memory, std::string_view share_key,
                    Response* res) {
  if (plan.min_size == 0) return;
  if (res->find(http::field::content_encoding) != res->end() ||
      res->find(http::field::content_range) != res->end()) {
    return;
  }
  if (res->result() == http::status::not_modified) {
    // A stored value's 304 (it has an ETag): its 200 may have been coded.
    if (res->find(http::field::etag) != res->end()) EncodeNotModified(plan, res);
    return;
  }
  if (res->result() != http::status::ok) return;
  if (!IsCompressibleType((*res)[http::field::content_type])) return;
  const std::string_view body = res->body().view();
  if (body.size() < plan.min_size) return;
  AddVary(res, "Accept-Encoding");
  if (plan.coding == ContentCoding::kIdentity || plan.range) return;

  const std::string_view name = ContentCodingName(plan.coding);
  auto etag_field = res->find(http::field::etag);
  const std::string etag =
      etag_field == res->end() ? std::string() : EncodedEtag(etag_field->value(), name);
  const bool charged = !share_key.empty() && !etag.empty();
  std::shared_ptr<const std::string> coded;
  if (charged) coded = memory->Find(share_key, etag);  // another response coded it already
  if (!coded) {
    std::string out;
    try {
      out = Compress(plan.coding, body);
    } catch (const std::exception& e) {
      spdlog::warn("sending a response uncompressed: {}", e.what());
      return;
    }
    if (out.size() >= body.size()) return;  // no gain: identity
    coded = charged ? memory->Share(share_key, etag, std::move(out))
                    : std::make_shared<const std::string>(std::move(out));
    if (!coded) return;  // --response-memory has no room for the coded copy: identity
  }
  res->set(http::field::content_encoding, name);
  if (!etag.empty()) res->set(http::field::etag, etag);
  res->body() = Payload(std::move(coded));
  res->prepare_payload();
}

}  // namespace keyva::server
