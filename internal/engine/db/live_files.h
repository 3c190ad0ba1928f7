// Reading the files a MANIFEST names: the presence and size checks on them, and the loop that
// replays a WAL's write batches.
//
// Recovery (open.cc) and the offline checker (verify.cc) both judge a data directory with these,
// so an SST or WAL that would fail DB::Open is reported by keyva verify with the same words, and a
// WAL record recovery would refuse is the one verify points at. The callers differ only in what
// they do with a finding: Open stops at the first and fails with it; verify lists every one.
//
// Thread safety: plain functions over the Env and their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "internal/engine/env.h"
#include "internal/engine/status.h"
#include "internal/engine/write_batch.h"

namespace keyva {

// Corruption "<name>: named by the MANIFEST but missing".
Status NamedButMissing(const std::string& name);

// Checks that the SST name, which the MANIFEST records as expected_size bytes (0: any size), is
// there with that size. *exists and *size tell what was found. Corruption NamedButMissing(name)
// or "<name>: size N but the MANIFEST says M (truncated|grown)"; the Env's other errors as they
// are.
Status CheckLiveSst(Env* env, const std::string& name, uint64_t expected_size, bool* exists,
                    uint64_t* size);

// What ReadWalBatches read.
struct WalReplay {
  uint64_t records = 0;      // records decoded and accepted by apply
  uint64_t valid_bytes = 0;  // where the intact records end (WalReader::valid_bytes)
  bool torn_tail = false;    // the log ends in a torn record (the caller may truncate it)
  bool bad_batch = false;    // the error returned is a record that is not a write batch
};

// Reads the WAL in file (named name, for messages) from its start and passes each record, decoded
// as a WriteBatch, to apply, in log order. Returns OK at the end of the log or at a torn tail.
// When a record does not decode or apply fails, returns that error as it is, with
// replay->bad_batch set (replay->records counts the records before it). Otherwise the reader's
// error: Corruption naming the file and the offset of a damaged record, or the file's I/O error.
Status ReadWalBatches(std::unique_ptr<SequentialFile> file, const std::string& name,
                      const std::function<Status(const WriteBatch& batch)>& apply,
                      WalReplay* replay);

}  // namespace keyva
