// Fuzz target: MANIFEST recovery (VersionSet::Recover: the WAL framing, VersionEdit decoding and
// applying every edit) on an arbitrary MANIFEST, and VersionEdit::DecodeFrom on the raw input.
// Invariants: no crash or sanitizer report; a failure is Corruption (or NotFound for nothing);
// a recovered version passes or fails CheckInvariants without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal/engine/db/version_edit.h"
#include "internal/engine/db/version_set.h"
#include "internal/engine/testing/fault_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  {
    keyva::VersionEdit edit;
    if (edit.DecodeFrom(input).ok()) {
      std::string again;
      edit.EncodeTo(&again);
      keyva::VersionEdit edit2;
      if (!edit2.DecodeFrom(again).ok()) abort();  // what it encodes, it decodes
    }
  }
  keyva::FaultEnv env;
  if (!env.CreateDir("/db").ok()) abort();
  if (!env.WriteRaw("/db/CURRENT", "MANIFEST-000003\n").ok()) abort();
  if (!env.WriteRaw("/db/MANIFEST-000003", input).ok()) abort();
  keyva::VersionSet versions(&env, "/db");
  keyva::Status s = versions.Recover();
  if (s.ok()) {
    (void)versions.current()->CheckInvariants();
    std::set<uint64_t> live;
    versions.AddLiveFiles(&live);
  } else if (!s.IsCorruption() && !s.IsNotFound()) {
    abort();
  }
  return 0;
}
