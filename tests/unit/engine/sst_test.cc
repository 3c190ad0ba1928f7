// Tests for the SST stack: compression (compression.h), the format pieces (sst_format.h),
// SstBuilder and SstReader. Files live in a FaultEnv; corruption tests tamper with them through
// ReadRaw/WriteRaw.
#include <lz4.h>
#include <zstd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/block.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/compression.h"
#include "internal/engine/table/sst_builder.h"
#include "internal/engine/table/sst_format.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/testing/fault_env.h"
#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

const char* CompressionName(CompressionType t) {
  switch (t) {
    case CompressionType::kNone:
      return "none";
    case CompressionType::kLz4:
      return "lz4";
    case CompressionType::kZstd:
      return "zstd";
  }
  return "?";
}

constexpr CompressionType kAllCompressions[] = {CompressionType::kNone, CompressionType::kLz4,
                                                CompressionType::kZstd};

// "user000042": present user keys are even, odd ones are absent.
std::string UserKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%06d", i);
  return buf;
}

using Model = std::map<std::string, std::string, InternalKeyLess>;

// `count` entries over even user keys, 1-3 versions each (sequence numbers 300/200/100, the
// oldest of three a deletion). Values are compressible text, or random bytes.
Model MakeEntries(size_t count, std::mt19937_64& rng, bool compressible = true) {
  Model model;
  for (int i = 0; model.size() < count; i++) {
    const int versions = 1 + static_cast<int>(rng() % 3);
    for (int v = 0; v < versions && model.size() < count; v++) {
      const SequenceNumber seq = 300 - 100 * v;
      const ValueType type = v == 2 ? ValueType::kDeletion : ValueType::kValue;
      std::string value;
      if (type == ValueType::kValue) {
        const size_t len = rng() % 80;
        if (compressible) {
          std::string unit = "value of " + UserKey(2 * i) + " at " + std::to_string(seq) + "; ";
          while (value.size() < len) value += unit;
          value.resize(len);
        } else {
          value.resize(len);
          for (char& c : value) c = static_cast<char>(rng());
        }
      }
      model[MakeInternalKey(UserKey(2 * i), seq, type)] = value;
    }
  }
  return model;
}

SstOptions MakeOptions(CompressionType compression, size_t block_size = 4096, int bloom_bits = 10) {
  SstOptions o;
  o.compression = compression;
  o.block_size = block_size;
  o.bloom_bits_per_key = bloom_bits;
  return o;
}

// Writes model into a new file; checks the builder's bookkeeping against the file written.
void BuildSst(FaultEnv* env, const std::string& name, const SstOptions& options,
              const Model& model) {
  const size_t slash = name.rfind('/');
  REQUIRE(env->CreateDir(slash == std::string::npos ? "." : name.substr(0, slash)).ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env->NewWritableFile(name, &file).ok());
  SstBuilder builder(options, file.get());
  for (const auto& [k, v] : model) builder.Add(k, v);
  CHECK(builder.NumEntries() == model.size());
  REQUIRE(builder.Finish().ok());
  REQUIRE(file->Close().ok());
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(name, &size).ok());
  CHECK(builder.FileSize() == size);
  CHECK(builder.smallest_key() == (model.empty() ? "" : model.begin()->first));
  CHECK(builder.largest_key() == (model.empty() ? "" : model.rbegin()->first));
}

Status OpenSst(FaultEnv* env, const std::string& name, uint64_t number, BlockCache* cache,
               std::shared_ptr<SstReader>* reader) {
  uint64_t size = 0;
  Status s = env->GetFileSize(name, &size);
  std::unique_ptr<RandomAccessFile> file;
  if (s.ok()) s = env->NewRandomAccessFile(name, &file);
  if (s.ok()) s = SstReader::Open(std::move(file), size, number, name, cache, reader);
  return s;
}

std::shared_ptr<SstReader> MustOpen(FaultEnv* env, const std::string& name, BlockCache* cache,
                                    uint64_t number = 1) {
  std::shared_ptr<SstReader> reader;
  Status s = OpenSst(env, name, number, cache, &reader);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return reader;
}

// The number in the largest user key of a non-empty model made by MakeEntries.
int MaxUserKeyNumber(const Model& model) {
  return std::stoi(std::string(ExtractUserKey(model.rbegin()->first).substr(4)));
}

// What Get must answer, from the model.
struct Expected {
  bool found = false;
  std::string key, value;
};
Expected ModelGet(const Model& model, const std::string& lookup) {
  Expected e;
  auto it = model.lower_bound(lookup);
  if (it != model.end() && ExtractUserKey(it->first) == ExtractUserKey(lookup)) {
    e = {true, it->first, it->second};
  }
  return e;
}

void CheckGet(const SstReader& reader, const Model& model, const std::string& user_key,
              SequenceNumber snapshot) {
  const std::string lookup = MakeInternalKey(user_key, snapshot, kValueTypeForSeek);
  bool found = true;
  std::string key, value;
  Status s = reader.Get(lookup, true, &found, &key, &value);
  REQUIRE(s.ok());
  const Expected e = ModelGet(model, lookup);
  INFO("Get " << user_key << " @" << snapshot);
  REQUIRE(found == e.found);
  if (found) {
    REQUIRE(key == e.key);
    REQUIRE(value == e.value);
  }
}

// Scans the whole file; REQUIREs exactly the model.
void CheckScan(const SstReader& reader, const Model& model) {
  auto it = reader.NewIterator(true);
  auto expected = model.begin();
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected, ++n) {
    REQUIRE(expected != model.end());
    if (it->key() != expected->first || it->value() != expected->second) FAIL("entry " << n);
  }
  REQUIRE(it->status().ok());
  REQUIRE(expected == model.end());
}

}  // namespace

TEST_CASE("sst: files of 1, few and 50,000 entries under each compression", "[sst]") {
  const uint64_t seed = test::PrintedTestSeed("sst round trip");
  // The large file never below its scale-1 size; KEYVA_TEST_SCALE > 1 grows it.
  for (size_t count : {size_t{1}, size_t{7}, test::Scaled<size_t>(50000, 50000)}) {
    for (CompressionType compression : kAllCompressions) {
      INFO(count << " entries, " << CompressionName(compression));
      std::mt19937_64 rng(seed + count);
      const Model model = MakeEntries(count, rng);
      FaultEnv env;
      BuildSst(&env, "db/000001.sst", MakeOptions(compression), model);
      BlockCache cache(64 << 20);
      auto reader = MustOpen(&env, "db/000001.sst", &cache);
      CHECK(reader->has_filter());
      // The index and filter blocks are paid for out of the cache while the reader is open.
      CHECK(reader->IndexAndFilterBytes() > 0);
      CHECK(cache.PinnedUsage() == reader->IndexAndFilterBytes());
      CheckScan(*reader, model);
      {
        auto second = MustOpen(&env, "db/000001.sst", &cache);
        CHECK(cache.PinnedUsage() == 2 * reader->IndexAndFilterBytes());
      }
      CHECK(cache.PinnedUsage() == reader->IndexAndFilterBytes());

      // Seek to sampled entries, and between versions / user keys.
      auto it = reader->NewIterator(true);
      const size_t stride = std::max<size_t>(1, model.size() / 2000);
      size_t index = 0;
      for (auto e = model.begin(); e != model.end(); ++e, ++index) {
        if (index % stride != 0) continue;
        it->Seek(e->first);
        REQUIRE(it->Valid());
        REQUIRE(it->key() == e->first);
        REQUIRE(it->value() == e->second);
        ParsedInternalKey parsed;
        REQUIRE(ParseInternalKey(e->first, &parsed));
        const std::string between =
            MakeInternalKey(parsed.user_key, parsed.sequence - 1, kValueTypeForSeek);
        it->Seek(between);
        auto next = model.lower_bound(between);
        REQUIRE(it->Valid() == (next != model.end()));
        if (it->Valid()) REQUIRE(it->key() == next->first);
      }
      it->Seek(MakeInternalKey("", kMaxSequenceNumber, kValueTypeForSeek));
      REQUIRE(it->Valid());
      CHECK(it->key() == model.begin()->first);
      it->Seek(MakeInternalKey("zzz", kMaxSequenceNumber, kValueTypeForSeek));
      CHECK_FALSE(it->Valid());
      CHECK(it->status().ok());

      // Get: newest, older snapshots (between versions, below all), absent keys.
      const int max_user = MaxUserKeyNumber(model);
      const int key_stride = std::max(1, max_user / 1000);
      for (int i = 0; i <= max_user + 2; i += key_stride) {
        const std::string user = UserKey(i);
        for (SequenceNumber snapshot :
             {kMaxSequenceNumber, SequenceNumber{300}, SequenceNumber{250}, SequenceNumber{150},
              SequenceNumber{100}, SequenceNumber{99}}) {
          CheckGet(*reader, model, user, snapshot);
        }
      }
      CheckGet(*reader, model, "", kMaxSequenceNumber);
      CheckGet(*reader, model, "a", kMaxSequenceNumber);
      CheckGet(*reader, model, "zzzz", kMaxSequenceNumber);
      CHECK(reader->VerifyChecksums().ok());
    }
  }
}

TEST_CASE("sst: Get sees older versions by snapshot", "[sst]") {
  Model model;
  model[MakeInternalKey("apple", 50, ValueType::kValue)] = "a50";
  model[MakeInternalKey("key", 40, ValueType::kValue)] = "v40";
  model[MakeInternalKey("key", 30, ValueType::kDeletion)] = "";
  model[MakeInternalKey("key", 20, ValueType::kValue)] = "v20";
  model[MakeInternalKey("zebra", 10, ValueType::kValue)] = "z10";
  FaultEnv env;
  // block_size 1: every entry its own block, so versions of "key" span blocks.
  BuildSst(&env, "t.sst", MakeOptions(CompressionType::kLz4, 1), model);
  auto reader = MustOpen(&env, "t.sst", nullptr);
  struct Case {
    SequenceNumber snapshot;
    bool found;
    SequenceNumber seq;
    ValueType type;
  };
  for (const Case& c :
       {Case{100, true, 40, ValueType::kValue}, Case{40, true, 40, ValueType::kValue},
        Case{39, true, 30, ValueType::kDeletion}, Case{25, true, 20, ValueType::kValue},
        Case{20, true, 20, ValueType::kValue}, Case{19, false, 0, ValueType::kValue}}) {
    INFO("snapshot " << c.snapshot);
    bool found;
    std::string key, value;
    REQUIRE(
        reader
            ->Get(MakeInternalKey("key", c.snapshot, kValueTypeForSeek), true, &found, &key, &value)
            .ok());
    REQUIRE(found == c.found);
    if (found) {
      CHECK(key == MakeInternalKey("key", c.seq, c.type));
      CHECK(value == model[key]);
    }
  }
  bool found;
  std::string key, value;
  CHECK(reader->Get("short", true, &found, &key, &value).IsInvalidArgument());
}

TEST_CASE("sst: an empty file and a file without a filter", "[sst]") {
  FaultEnv env;
  BuildSst(&env, "empty.sst", MakeOptions(CompressionType::kLz4), Model());
  auto reader = MustOpen(&env, "empty.sst", nullptr);
  auto it = reader->NewIterator(true);
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
  bool found = true;
  std::string key, value;
  CHECK(reader->Get(MakeInternalKey("x", 1, kValueTypeForSeek), true, &found, &key, &value).ok());
  CHECK_FALSE(found);
  CHECK(reader->VerifyChecksums().ok());

  std::mt19937_64 rng(1);
  const Model model = MakeEntries(500, rng);
  BuildSst(&env, "nofilter.sst", MakeOptions(CompressionType::kZstd, 4096, 0), model);
  reader = MustOpen(&env, "nofilter.sst", nullptr);
  CHECK_FALSE(reader->has_filter());
  CHECK(reader->KeyMayMatch("anything"));
  CheckScan(*reader, model);
  CheckGet(*reader, model, UserKey(10), kMaxSequenceNumber);
  CheckGet(*reader, model, UserKey(11), kMaxSequenceNumber);
}

TEST_CASE("sst: values larger than a block, and long keys", "[sst]") {
  std::mt19937_64 rng(7);
  Model model;
  for (int i = 0; i < 40; i++) {
    std::string value(rng() % 3 == 0 ? 100000 + rng() % 50000 : rng() % 100, 'v');
    for (size_t j = 0; j < value.size(); j += 7) value[j] = static_cast<char>(rng());
    std::string user = UserKey(i) + std::string(rng() % 2000, 'k');
    model[MakeInternalKey(user, 5, ValueType::kValue)] = value;
  }
  for (CompressionType compression : kAllCompressions) {
    INFO(CompressionName(compression));
    FaultEnv env;
    BuildSst(&env, "big.sst", MakeOptions(compression, 1024), model);
    auto reader = MustOpen(&env, "big.sst", nullptr);
    CheckScan(*reader, model);
    for (const auto& [k, v] : model) CheckGet(*reader, model, std::string(ExtractUserKey(k)), 9);
  }
}

TEST_CASE("sst: the file matches the documented layout byte by byte", "[sst]") {
  std::mt19937_64 rng(3);
  for (CompressionType compression : kAllCompressions) {
    for (bool compressible : {true, false}) {
      INFO(CompressionName(compression) << (compressible ? " compressible" : " random"));
      const Model model = MakeEntries(3000, rng, compressible);
      FaultEnv env;
      BuildSst(&env, "f.sst", MakeOptions(compression, 2048), model);
      std::string file;
      REQUIRE(env.ReadRaw("f.sst", &file).ok());
      const size_t n = file.size();

      // Footer: 40 bytes of handles + zero padding, fixed32 1, then "keyva_ss".
      REQUIRE(n >= 52);
      CHECK(file.substr(n - 8) == "keyva_ss");
      CHECK(DecodeFixed32(file.data() + n - 12) == 1);
      std::string_view handles(file.data() + n - 52, 40);
      uint64_t filter_offset, filter_size, index_offset, index_size;
      REQUIRE(GetVarint64(&handles, &filter_offset));
      REQUIRE(GetVarint64(&handles, &filter_size));
      REQUIRE(GetVarint64(&handles, &index_offset));
      REQUIRE(GetVarint64(&handles, &index_size));
      CHECK(handles.find_first_not_of('\0') == std::string_view::npos);
      CHECK(index_offset + index_size + 5 == n - 52);
      CHECK(filter_offset + filter_size + 5 == index_offset);

      // Each block: stored bytes, type byte, fixed32 checksum of both. Returns the raw block.
      auto read_block = [&](uint64_t offset, uint64_t size) {
        std::string_view stored(file.data() + offset, size);
        const char type = file[offset + size];
        CHECK(DecodeFixed32(file.data() + offset + size + 1) ==
              Checksum32(std::string(stored) + type));
        std::string raw;
        if (type == 0) {
          raw = std::string(stored);
        } else if (type == 1) {
          uint32_t raw_size;
          std::string_view in = stored;
          REQUIRE(GetVarint32(&in, &raw_size));
          raw.resize(raw_size);
          REQUIRE(LZ4_decompress_safe(in.data(), raw.data(), static_cast<int>(in.size()),
                                      static_cast<int>(raw_size)) == static_cast<int>(raw_size));
        } else {
          REQUIRE(type == 2);
          raw.resize(ZSTD_getFrameContentSize(stored.data(), stored.size()));
          REQUIRE(ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size()) ==
                  raw.size());
        }
        if (type != 0) {
          CHECK(type == static_cast<char>(compression));
          CHECK(size <= raw.size() - raw.size() / 8);  // saved at least 1/8
        } else if (compression != CompressionType::kNone) {
          // Stored raw only because compressing would not have saved 1/8.
          std::string recompressed;
          if (CompressBlock(compression, raw, &recompressed)) {
            CHECK_FALSE(ShouldStoreCompressed(raw.size(), recompressed.size()));
          }
        }
        return std::make_pair(raw, type);
      };

      // Filter: raw, k = 7 in the last byte.
      auto [filter, filter_type] = read_block(filter_offset, filter_size);
      CHECK(filter_type == 0);
      CHECK(filter.back() == 7);

      // Index: one entry per data block; the data blocks tile [0, filter_offset).
      std::shared_ptr<const Block> index;
      REQUIRE(Block::Create(read_block(index_offset, index_size).first, &index).ok());
      auto index_it = NewBlockIterator(index);
      uint64_t expected_offset = 0;
      int blocks = 0, compressed_blocks = 0;
      auto entry = model.begin();
      for (index_it->SeekToFirst(); index_it->Valid(); index_it->Next(), blocks++) {
        std::string_view handle = index_it->value();
        uint64_t offset, size;
        REQUIRE(GetVarint64(&handle, &offset));
        REQUIRE(GetVarint64(&handle, &size));
        CHECK(handle.empty());
        CHECK(offset == expected_offset);
        expected_offset = offset + size + 5;
        auto [raw, type] = read_block(offset, size);
        compressed_blocks += type != 0;
        std::shared_ptr<const Block> data;
        REQUIRE(Block::Create(raw, &data).ok());
        auto data_it = NewBlockIterator(data);
        std::string last;
        uint32_t in_block = 0;
        for (data_it->SeekToFirst(); data_it->Valid(); data_it->Next(), ++entry, ++in_block) {
          REQUIRE(entry != model.end());
          REQUIRE(data_it->key() == entry->first);
          REQUIRE(data_it->value() == entry->second);
          last = std::string(data_it->key());
        }
        CHECK(in_block > 0);
        CHECK(data->NumRestarts() == (in_block + 15) / 16);  // restart_interval 16
        // The separator is >= the block's last key and < the next block's first key.
        CHECK(CompareInternalKeys(index_it->key(), last) >= 0);
        if (entry != model.end()) CHECK(CompareInternalKeys(index_it->key(), entry->first) < 0);
      }
      CHECK(entry == model.end());
      CHECK(expected_offset == filter_offset);
      CHECK(blocks > 10);
      if (compression == CompressionType::kNone) {
        CHECK(compressed_blocks == 0);
      } else if (compressible) {
        CHECK(compressed_blocks == blocks);
      } else {
        CHECK(compressed_blocks < blocks);  // random values: most blocks do not pay
      }
    }
  }
}

TEST_CASE("sst: compression shrinks compressible files", "[sst]") {
  std::mt19937_64 rng(11);
  const Model model = MakeEntries(5000, rng);
  uint64_t sizes[3];
  for (CompressionType compression : kAllCompressions) {
    FaultEnv env;
    BuildSst(&env, "c.sst", MakeOptions(compression), model);
    REQUIRE(env.GetFileSize("c.sst", &sizes[static_cast<int>(compression)]).ok());
  }
  INFO("none " << sizes[0] << " lz4 " << sizes[1] << " zstd " << sizes[2]);
  CHECK(sizes[1] < sizes[0] * 7 / 8);
  CHECK(sizes[2] < sizes[0] * 7 / 8);
}

TEST_CASE("sst: the bloom filter avoids block reads for absent keys", "[sst]") {
  std::mt19937_64 rng(5);
  const Model model = MakeEntries(6000, rng);
  const int max_user = MaxUserKeyNumber(model);  // present user keys are even, absent ones odd
  for (int bits : {10, 0}) {
    INFO("bloom bits " << bits);
    FaultEnv env;
    BuildSst(&env, "b.sst", MakeOptions(CompressionType::kLz4, 4096, bits), model);
    auto reader = MustOpen(&env, "b.sst", nullptr);  // no cache: every block read hits the file
    for (const auto& [k, v] : model) REQUIRE(reader->KeyMayMatch(ExtractUserKey(k)));
    const uint64_t before = env.OperationCount();
    int queries = 0;
    for (int i = 1; i < max_user; i += 2) {
      const std::string user = UserKey(i);
      bool found = true;
      std::string key, value;
      REQUIRE(reader
                  ->Get(MakeInternalKey(user, kMaxSequenceNumber, kValueTypeForSeek), true, &found,
                        &key, &value)
                  .ok());
      REQUIRE_FALSE(found);
      queries++;
    }
    const uint64_t reads = env.OperationCount() - before;
    INFO(queries << " absent keys inside the key range caused " << reads << " reads");
    REQUIRE(queries > 1000);
    if (bits > 0) {
      CHECK(reads <= static_cast<uint64_t>(queries) * 3 / 100);
    } else {
      CHECK(reads == static_cast<uint64_t>(queries));
    }
  }
}

TEST_CASE("sst: block cache hits, misses and fill_cache", "[sst]") {
  std::mt19937_64 rng(9);
  const Model model = MakeEntries(3000, rng);
  FaultEnv env;
  BuildSst(&env, "000007.sst", MakeOptions(CompressionType::kZstd, 1024), model);
  BlockCache cache(16 << 20);
  auto reader = MustOpen(&env, "000007.sst", &cache, 7);
  CHECK(cache.NumEntries() == 0);  // index and filter live in the reader

  auto get = [&](const std::string& user, bool fill) {
    bool found;
    std::string key, value;
    REQUIRE(reader
                ->Get(MakeInternalKey(user, kMaxSequenceNumber, kValueTypeForSeek), fill, &found,
                      &key, &value)
                .ok());
    REQUIRE(found);
  };
  // A block read from disk is cached the second time it is read (BlockCache::Admit).
  get(UserKey(0), true);
  CHECK(cache.Misses() == 1);
  CHECK(cache.Hits() == 0);
  CHECK(cache.NumEntries() == 0);
  get(UserKey(0), true);
  CHECK(cache.Misses() == 2);
  CHECK(cache.NumEntries() == 1);
  get(UserKey(0), true);
  get(UserKey(0), false);  // cached blocks are used without fill_cache too
  CHECK(cache.Hits() == 2);
  CHECK(cache.Misses() == 2);

  // fill_cache=false: a block read from disk is neither inserted nor remembered for admission.
  const std::string far_key = std::string(ExtractUserKey(model.rbegin()->first));
  get(far_key, false);
  CHECK(cache.Misses() == 3);
  CHECK(cache.NumEntries() == 1);
  get(far_key, false);
  CHECK(cache.Misses() == 4);
  CHECK(cache.NumEntries() == 1);
  get(far_key, true);  // its first touch with fill_cache
  CHECK(cache.NumEntries() == 1);

  // A compaction-style scan leaves the cache alone; normal scans fill it with every block, from
  // the second one on.
  auto scan = [&](bool fill) {
    auto it = reader->NewIterator(fill);
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    REQUIRE(it->status().ok());
    REQUIRE(n == model.size());
  };
  scan(false);
  CHECK(cache.NumEntries() == 1);
  scan(true);
  scan(true);
  const size_t blocks = cache.NumEntries();
  CHECK(blocks > 20);
  const uint64_t ops = env.OperationCount();
  const uint64_t hits = cache.Hits();
  scan(true);
  CHECK(env.OperationCount() == ops);  // served from the cache: no file reads
  CHECK(cache.Hits() == hits + blocks);

  // A second reader of another file number does not share blocks; EraseFile drops ours.
  auto other = MustOpen(&env, "000007.sst", &cache, 8);
  for (int i = 0; i < 2; i++) {
    bool found;
    std::string key, value;
    REQUIRE(other
                ->Get(MakeInternalKey(UserKey(0), kMaxSequenceNumber, kValueTypeForSeek), true,
                      &found, &key, &value)
                .ok());
  }
  CHECK(cache.NumEntries() == blocks + 1);
  cache.EraseFile(7);
  CHECK(cache.NumEntries() == 1);
}

TEST_CASE("sst: iterators keep their reader alive", "[sst]") {
  std::mt19937_64 rng(2);
  const Model model = MakeEntries(2000, rng);
  FaultEnv env;
  BuildSst(&env, "a.sst", MakeOptions(CompressionType::kLz4, 512), model);
  auto reader = MustOpen(&env, "a.sst", nullptr);
  auto it = reader->NewIterator(false);
  reader.reset();
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
  CHECK(it->status().ok());
  CHECK(n == model.size());
}

TEST_CASE("sst: concurrent Gets and scans on one reader", "[sst]") {
  std::mt19937_64 rng(4);
  const Model model = MakeEntries(4000, rng);
  FaultEnv env;
  BuildSst(&env, "m.sst", MakeOptions(CompressionType::kLz4, 1024), model);
  BlockCache cache(32 << 10);  // small: forces evictions while threads read
  auto reader = MustOpen(&env, "m.sst", &cache);
  std::vector<std::pair<std::string, std::string>> entries(model.begin(), model.end());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 r(t);
      for (int i = 0; i < 1500; i++) {
        const auto& [k, v] = entries[r() % entries.size()];
        bool found;
        std::string key, value;
        Status s = reader->Get(k, t % 2 == 0, &found, &key, &value);
        if (!s.ok() || !found || key != k || value != v) wrong++;
      }
      auto it = reader->NewIterator(t % 2 == 1);
      size_t n = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
      if (n != entries.size() || !it->status().ok()) wrong++;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(cache.Usage() <= cache.Capacity());
}

namespace {

// Flips every byte of a small SST in turn (XOR with a random non-zero mask), then opens it, runs
// Gets and a full scan. Each outcome must be exactly the right data or a Corruption status, and
// every flipped byte must be noticed by something (all bytes are covered by a checksum or a
// layout check).
void CorruptionSweep(CompressionType compression) {
  const uint64_t seed = test::PrintedTestSeed("sst corruption sweep");
  std::mt19937_64 rng(seed);
  // A few blocks, several KB: 240 entries (up to 3 versions per user key), 512-byte blocks.
  const Model model = MakeEntries(240, rng);
  FaultEnv env;
  const std::string name = "db/000042.sst";
  BuildSst(&env, name, MakeOptions(compression, 512), model);
  std::string good;
  REQUIRE(env.ReadRaw(name, &good).ok());
  std::printf("corruption sweep (%s): %zu-byte file\n", CompressionName(compression), good.size());
  REQUIRE(good.size() > 3000);

  // Every query with its right answer: present, absent, and older-snapshot lookups.
  std::vector<std::pair<std::string, Expected>> queries;
  const int max_user = MaxUserKeyNumber(model);
  for (int i = 0; i <= max_user + 1; i++) {
    for (SequenceNumber snapshot : {kMaxSequenceNumber, SequenceNumber{250}}) {
      if (i % 2 == 1 && snapshot != kMaxSequenceNumber) continue;
      std::string lookup = MakeInternalKey(UserKey(i), snapshot, kValueTypeForSeek);
      queries.emplace_back(lookup, ModelGet(model, lookup));
    }
  }
  // Per flipped byte a random sample of the queries: 24 at scale 1 and below (fewer would weaken
  // the sweep), all of them at scale >= 4.
  const size_t per_flip = std::min(queries.size(), test::Scaled<size_t>(24, 24));

  int rejected_at_open = 0, detected_later = 0;
  for (size_t pos = 0; pos < good.size(); pos++) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 + rng() % 255));
    REQUIRE(env.WriteRaw(name, bad).ok());
    BlockCache cache(1 << 20);
    std::shared_ptr<SstReader> reader;
    Status s = OpenSst(&env, name, 42, &cache, &reader);
    std::string problem;  // first wrong outcome, if any
    bool corruption_seen = false;
    if (!s.ok()) {
      if (!s.IsCorruption() || s.message().find(name) == std::string::npos) {
        problem = "open: " + s.ToString();
      }
      rejected_at_open++;
      corruption_seen = true;
    } else {
      for (size_t q = 0; q < per_flip && problem.empty(); q++) {
        const auto& [lookup, expected] =
            queries[per_flip == queries.size() ? q : rng() % queries.size()];
        bool found = false;
        std::string key, value;
        s = reader->Get(lookup, true, &found, &key, &value);
        if (!s.ok()) {
          if (!s.IsCorruption()) problem = "get: " + s.ToString();
          corruption_seen = true;
        } else if (found != expected.found ||
                   (found && (key != expected.key || value != expected.value))) {
          problem = "get returned wrong data for " + std::string(ExtractUserKey(lookup));
        }
      }
      auto it = reader->NewIterator(true);
      auto e = model.begin();
      for (it->SeekToFirst(); it->Valid() && problem.empty(); it->Next(), ++e) {
        if (e == model.end() || it->key() != e->first || it->value() != e->second) {
          problem = "scan returned wrong data";
        }
      }
      if (problem.empty()) {
        if (!it->status().ok()) {
          if (!it->status().IsCorruption()) problem = "scan: " + it->status().ToString();
          corruption_seen = true;
        } else if (e != model.end()) {
          problem = "scan ended early without an error";
        }
      }
      if (corruption_seen) detected_later++;
    }
    if (problem.empty() && !corruption_seen) problem = "damage went unnoticed";
    if (!problem.empty()) FAIL("byte " << pos << " of " << good.size() << ": " << problem);
  }
  std::printf("corruption sweep (%s): %d rejected at open, %d detected on read\n",
              CompressionName(compression), rejected_at_open, detected_later);
  CHECK(rejected_at_open > 0);
  CHECK(detected_later > 0);
}

}  // namespace

TEST_CASE("sst: every flipped byte gives the right data or Corruption (lz4)", "[sst]") {
  CorruptionSweep(CompressionType::kLz4);
}

TEST_CASE("sst: every flipped byte gives the right data or Corruption (zstd)", "[sst]") {
  CorruptionSweep(CompressionType::kZstd);
}

TEST_CASE("sst: truncated files and bad footers are Corruption naming the file", "[sst]") {
  std::mt19937_64 rng(6);
  const Model model = MakeEntries(300, rng);
  FaultEnv env;
  const std::string name = "dir/000009.sst";
  BuildSst(&env, name, MakeOptions(CompressionType::kLz4, 512), model);
  std::string good;
  REQUIRE(env.ReadRaw(name, &good).ok());
  for (size_t len = 0; len < good.size(); len++) {
    REQUIRE(env.WriteRaw(name, good.substr(0, len)).ok());
    std::shared_ptr<SstReader> reader;
    Status s = OpenSst(&env, name, 9, nullptr, &reader);
    if (!s.IsCorruption() || s.message().find(name) == std::string::npos) {
      FAIL("length " << len << ": " << s.ToString());
    }
  }
  auto open_with = [&](const std::string& contents) {
    REQUIRE(env.WriteRaw(name, contents).ok());
    std::shared_ptr<SstReader> reader;
    return OpenSst(&env, name, 9, nullptr, &reader);
  };
  std::string bad = good;
  bad[bad.size() - 1] = 'X';
  Status s = open_with(bad);
  CHECK(s.IsCorruption());
  CHECK(s.message() == name + ": not an SST file (bad magic number)");
  bad = good;
  bad[bad.size() - 12] = 2;
  s = open_with(bad);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("version 2") != std::string::npos);
  CHECK(open_with(good).ok());
}

TEST_CASE("sst: VerifyChecksums finds a damaged data block the open did not read", "[sst]") {
  std::mt19937_64 rng(8);
  const Model model = MakeEntries(1000, rng);
  FaultEnv env;
  BuildSst(&env, "v.sst", MakeOptions(CompressionType::kLz4, 1024), model);
  auto reader = MustOpen(&env, "v.sst", nullptr);
  CHECK(reader->VerifyChecksums().ok());
  std::string contents;
  REQUIRE(env.ReadRaw("v.sst", &contents).ok());
  contents[100] ^= 0x10;  // inside the first data block
  REQUIRE(env.WriteRaw("v.sst", contents).ok());
  reader = MustOpen(&env, "v.sst", nullptr);
  Status s = reader->VerifyChecksums();
  CHECK(s.IsCorruption());
  CHECK(s.message().find("v.sst: block checksum mismatch") == 0);
  // The iterator stops at the damaged block and stays stopped.
  auto it = reader->NewIterator(true);
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  CHECK(it->status().IsCorruption());
  it->Seek(model.rbegin()->first);
  CHECK_FALSE(it->Valid());
  CHECK(it->status().IsCorruption());
}

TEST_CASE("sst: builder errors are sticky", "[sst]") {
  FaultEnv env;
  REQUIRE(env.CreateDir(".").ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.NewWritableFile("o.sst", &file).ok());
  {
    SstBuilder builder(MakeOptions(CompressionType::kLz4), file.get());
    builder.Add(MakeInternalKey("b", 5, ValueType::kValue), "1");
    builder.Add(MakeInternalKey("b", 5, ValueType::kValue), "dup");
    CHECK(builder.status().IsInvalidArgument());
    builder.Add(MakeInternalKey("c", 5, ValueType::kValue), "later");
    CHECK(builder.NumEntries() == 1);
    CHECK(builder.Finish().IsInvalidArgument());
  }
  {
    SstBuilder builder(MakeOptions(CompressionType::kLz4), file.get());
    builder.Add(MakeInternalKey("b", 5, ValueType::kValue), "1");
    builder.Add(MakeInternalKey("a", 9, ValueType::kValue), "out of order");
    CHECK(builder.status().IsInvalidArgument());
  }
  {
    SstBuilder builder(MakeOptions(CompressionType::kLz4), file.get());
    builder.Add("short", "no trailer");
    CHECK(builder.status().IsInvalidArgument());
  }
  // A write error during a block flush is returned by Finish, and nothing more is written.
  REQUIRE(env.NewWritableFile("w.sst", &file).ok());
  SstBuilder builder(MakeOptions(CompressionType::kNone, 256), file.get());
  env.FailOperation(1, /*sticky=*/false);
  std::mt19937_64 rng(1);
  for (const auto& [k, v] : MakeEntries(200, rng)) builder.Add(k, v);
  CHECK(builder.status().IsIOError());
  const uint64_t size = file->Size();
  CHECK(builder.Finish().IsIOError());
  CHECK(file->Size() == size);

  SstBuilder abandoned(MakeOptions(CompressionType::kNone), file.get());
  abandoned.Add(MakeInternalKey("a", 1, ValueType::kValue), "x");
  abandoned.Abandon();
  CHECK(file->Size() == size);
}

TEST_CASE("sst: block handles, footer and ReadBlock reject bad input", "[sst]") {
  BlockHandle h{123456789, 4321};
  std::string enc;
  h.EncodeTo(&enc);
  std::string_view in(enc);
  BlockHandle decoded;
  REQUIRE(decoded.DecodeFrom(&in).ok());
  CHECK(decoded.offset == h.offset);
  CHECK(decoded.size == h.size);
  std::string_view truncated(enc.data(), enc.size() - 1);
  CHECK(decoded.DecodeFrom(&truncated).IsCorruption());
  // A varint longer than its shortest form decodes to the same number but is not a handle the
  // builder writes: it is what a damaged last byte of a footer varint followed by zero padding
  // looks like, so it must be Corruption.
  // Offset 185 in three bytes instead of two, then size 0.
  std::string_view padded_in("\xb9\x81\x00\x00", 4);
  CHECK(decoded.DecodeFrom(&padded_in).IsCorruption());
  std::string_view shortest_in("\xb9\x01\x00", 3);
  REQUIRE(decoded.DecodeFrom(&shortest_in).ok());
  CHECK(decoded.offset == 185);

  Footer footer;
  footer.filter_handle = {~0ull, ~0ull};  // the widest varints still fit the padding
  footer.index_handle = {~0ull - 1, ~0ull - 2};
  std::string fenc;
  footer.EncodeTo(&fenc);
  REQUIRE(fenc.size() == kFooterLength);
  Footer back;
  REQUIRE(back.DecodeFrom(fenc).ok());
  CHECK(back.filter_handle.offset == ~0ull);
  CHECK(back.index_handle.size == ~0ull - 2);
  CHECK(back.DecodeFrom(std::string_view(fenc).substr(1)).IsCorruption());

  // ReadBlock against a handle past the end, with too little room for the trailer, etc.
  FaultEnv env;
  REQUIRE(env.CreateDir(".").ok());
  std::unique_ptr<WritableFile> w;
  REQUIRE(env.NewWritableFile("r", &w).ok());
  const std::string payload = "hello block";
  char trailer[kBlockTrailerSize];
  EncodeBlockTrailer(payload, CompressionType::kNone, trailer);
  REQUIRE(w->Append(payload).ok());
  REQUIRE(w->Append(std::string_view(trailer, kBlockTrailerSize)).ok());
  std::unique_ptr<RandomAccessFile> r;
  REQUIRE(env.NewRandomAccessFile("r", &r).ok());
  const uint64_t end = payload.size() + kBlockTrailerSize;
  BlockContents contents;
  REQUIRE(ReadBlock(*r, end, {0, payload.size()}, &contents).ok());
  CHECK(contents.view() == payload);
  CHECK(ReadBlock(*r, end, {0, payload.size() + 1}, &contents).IsCorruption());
  CHECK(ReadBlock(*r, end, {1, payload.size()}, &contents).IsCorruption());
  CHECK(ReadBlock(*r, end, {~0ull, 10}, &contents).IsCorruption());
  CHECK(ReadBlock(*r, end, {10, ~0ull}, &contents).IsCorruption());
  CHECK(ReadBlock(*r, end + 100, {0, payload.size() + 50}, &contents).IsCorruption());  // short
  CHECK(ReadBlock(*r, end, {0, payload.size() - 1}, &contents).IsCorruption());         // checksum
  // A correct checksum over an unknown compression type is still rejected.
  std::string odd = payload;
  char odd_trailer[kBlockTrailerSize];
  EncodeBlockTrailer(odd, static_cast<CompressionType>(9), odd_trailer);
  REQUIRE(env.WriteRaw("odd", odd + std::string(odd_trailer, kBlockTrailerSize)).ok());
  REQUIRE(env.NewRandomAccessFile("odd", &r).ok());
  Status s = ReadBlock(*r, end, {0, payload.size()}, &contents);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("unknown block compression type 9") == 0);
}

TEST_CASE("sst: compression round trips and survives hostile input", "[sst][compression]") {
  std::mt19937_64 rng(test::PrintedTestSeed("compression"));
  std::string text;
  while (text.size() < 100000) text += "the quick brown fox " + std::to_string(rng() % 1000) + " ";
  std::string random(5000, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  for (CompressionType type : {CompressionType::kLz4, CompressionType::kZstd}) {
    INFO(CompressionName(type));
    for (const std::string& input : {std::string(), std::string("a"), text, random}) {
      std::string compressed, back;
      REQUIRE(CompressBlock(type, input, &compressed));
      REQUIRE(UncompressBlock(type, compressed, &back).ok());
      CHECK(back == input);
    }
    std::string compressed;
    REQUIRE(CompressBlock(type, text, &compressed));
    CHECK(ShouldStoreCompressed(text.size(), compressed.size()));
    REQUIRE(CompressBlock(type, random, &compressed));
    CHECK_FALSE(ShouldStoreCompressed(random.size(), compressed.size()));

    // Truncations and byte damage: Corruption or (rarely) some output, never a crash.
    REQUIRE(CompressBlock(type, text.substr(0, 3000), &compressed));
    for (size_t len = 0; len < compressed.size(); len += 1 + len / 50) {
      std::string out;
      Status s = UncompressBlock(type, std::string_view(compressed).substr(0, len), &out);
      CHECK(s.IsCorruption());
    }
    for (int i = 0; i < 2000; i++) {
      std::string bad = compressed;
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      std::string out;
      Status s = UncompressBlock(type, bad, &out);
      CHECK((s.ok() || s.IsCorruption()));
      CHECK(out.size() <= kMaxUncompressedBlockSize);
    }
  }
  // Claimed sizes beyond the cap are refused before allocating.
  std::string lz4_huge;
  PutVarint32(&lz4_huge, 0xffffffffu);
  lz4_huge += "xxxx";
  std::string out;
  CHECK(UncompressBlock(CompressionType::kLz4, lz4_huge, &out).IsCorruption());
  std::string big(kMaxUncompressedBlockSize + 1, '\0');
  std::string zstd_big(ZSTD_compressBound(big.size()), '\0');
  zstd_big.resize(ZSTD_compress(zstd_big.data(), zstd_big.size(), big.data(), big.size(), 1));
  big.clear();
  big.shrink_to_fit();
  Status s = UncompressBlock(CompressionType::kZstd, zstd_big, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("exceeds the limit") != std::string::npos);
  CHECK(UncompressBlock(CompressionType::kZstd, "not a frame", &out).IsCorruption());
  CHECK(UncompressBlock(CompressionType::kNone, "x", &out).IsCorruption());
  CHECK(UncompressBlock(static_cast<CompressionType>(7), "x", &out).IsCorruption());
  CHECK_FALSE(CompressBlock(CompressionType::kNone, "abc", &out));
}

}  // namespace keyva
