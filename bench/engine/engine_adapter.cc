// The registry of engines compiled into the bench (see engine_adapter.h).
#include "bench/engine/engine_adapter.h"

namespace keyva::bench {

std::vector<std::string> AvailableEngines() {
  std::vector<std::string> names = {"keyva"};
#ifdef KEYVA_BENCH_HAVE_ROCKSDB
  names.push_back("rocksdb");
#endif
#ifdef KEYVA_BENCH_HAVE_LEVELDB
  names.push_back("leveldb");
#endif
#ifdef KEYVA_BENCH_HAVE_LMDB
  names.push_back("lmdb");
#endif
  return names;
}

std::unique_ptr<EngineAdapter> NewAdapter(const std::string& name) {
  if (name == "keyva") return NewKeyvaAdapter();
#ifdef KEYVA_BENCH_HAVE_ROCKSDB
  if (name == "rocksdb") return NewRocksDbAdapter();
#endif
#ifdef KEYVA_BENCH_HAVE_LEVELDB
  if (name == "leveldb") return NewLevelDbAdapter();
#endif
#ifdef KEYVA_BENCH_HAVE_LMDB
  if (name == "lmdb") return NewLmdbAdapter();
#endif
  return nullptr;
}

}  // namespace keyva::bench
