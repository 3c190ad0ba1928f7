// Feed records and expiry-index keys in the engine, and reading the durable feed; see
// change_feed.h.
#include "internal/server/change_feed.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace keyva::server {
namespace {

void AppendBigEndian64(std::string* dst, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::string_view ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kPut:
      return "put";
    case ChangeType::kDelete:
      return "delete";
    case ChangeType::kExpire:
      return "expire";
    case ChangeType::kCounter:
      return "counter";
  }
  return "unknown";
}

void AppendSseFrame(const ChangeEvent& e, std::string* out) {
  out->append("id: ").append(std::to_string(e.revision));
  out->append("\nevent: ").append(ChangeTypeName(e.type));
  out->append("\ndata: ").append(e.json).append("\n\n");
}

std::string FeedKey(uint64_t revision) {
  std::string k;
  k.reserve(9);
  k.push_back(kFeedKeyPrefix);
  AppendBigEndian64(&k, revision);
  return k;
}

bool ParseFeedKey(std::string_view engine_key, uint64_t* revision) {
  if (engine_key.size() != 9 || engine_key[0] != kFeedKeyPrefix) return false;
  *revision = ReadBigEndian64(engine_key.data() + 1);
  return true;
}

std::string EncodeFeedRecord(const ChangeEvent& event) {
  std::string out;
  out.reserve(5 + event.key.size() + event.json.size());
  out.push_back(static_cast<char>(event.type));
  const auto n = static_cast<uint32_t>(event.key.size());
  for (int i = 0; i < 4; i++) out.push_back(static_cast<char>(n >> (8 * i)));
  out.append(event.key);
  out.append(event.json);
  return out;
}

bool DecodeFeedRecord(uint64_t revision, std::string_view bytes, int64_t time_us,
                      ChangeEvent* event) {
  if (bytes.size() < 5) return false;
  const auto type = static_cast<uint8_t>(bytes[0]);
  if (type < static_cast<uint8_t>(ChangeType::kPut) ||
      type > static_cast<uint8_t>(ChangeType::kCounter)) {
    return false;
  }
  uint32_t n = 0;
  for (int i = 0; i < 4; i++) n |= uint32_t{static_cast<uint8_t>(bytes[1 + i])} << (8 * i);
  if (bytes.size() - 5 < n) return false;
  event->revision = revision;
  event->type = static_cast<ChangeType>(type);
  event->key.assign(bytes.substr(5, n));
  event->json.assign(bytes.substr(5 + n));
  event->time_us = time_us;
  return !event->json.empty();
}

std::string ExpiryKey(int64_t expires_us, std::string_view key) {
  std::string k;
  k.reserve(9 + key.size());
  k.push_back(kExpiryKeyPrefix);
  AppendBigEndian64(&k, static_cast<uint64_t>(expires_us));
  k.append(key);
  return k;
}

bool ParseExpiryKey(std::string_view engine_key, int64_t* expires_us, std::string_view* key) {
  if (engine_key.size() < 10 || engine_key[0] != kExpiryKeyPrefix) return false;
  *expires_us = static_cast<int64_t>(ReadBigEndian64(engine_key.data() + 1));
  *key = engine_key.substr(9);
  return true;
}

FeedPage ReadFeed(DB* db, uint64_t after, const WatchFilter& filter, size_t max_events,
                  size_t max_scanned) {
  FeedPage page;
  page.cursor = after;
  // Read before the iterator is made, so the iterator sees at least every event up to it.
  const uint64_t published = db->PublishedSequence();
  if (after >= published) {
    page.complete = true;
    return page;
  }
  ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<DBIterator> it = db->NewIterator(read);
  size_t scanned = 0;
  for (it->Seek(FeedKey(after + 1)); it->Valid(); it->Next()) {
    uint64_t revision;
    if (!ParseFeedKey(it->key(), &revision)) break;  // past the feed's key range
    ChangeEvent event;
    if (!DecodeFeedRecord(revision, it->value(), it->meta().modified_us, &event)) {
      page.status = Status::Corruption("feed record " + std::to_string(revision) + " is malformed");
      return page;
    }
    page.cursor = revision;
    if (filter.Matches(event)) page.events.push_back(std::move(event));
    if (page.events.size() >= max_events || ++scanned >= max_scanned) {
      page.status = it->status();
      return page;
    }
  }
  page.status = it->status();
  if (!page.status.ok()) return page;
  page.cursor = std::max(page.cursor, published);
  page.complete = true;
  return page;
}

}  // namespace keyva::server
