// FileStore: a room's data in the original Chaton layout (docs/STORAGE.md).
//
//   DATADIR/lock                 fcntl lock shared with the original tools
//   DATADIR/data/current.dat     the live log, one post per line
//   DATADIR/data/sequence        posts ever (decimal)
//   DATADIR/data/last-post       unix time of the last post (decimal)
//   DATADIR/data/num-chatters    connected clients (decimal)
//   DATADIR/data/YYYY/MM/DD.dat  archived days (read by the archive pages)
//
// append() takes the room lock (an open-file-description lock on
// DATADIR/lock, which also excludes the original scripts' POSIX locks),
// reopens current.dat if it was replaced (an archiver renames a new one into
// place), writes the batch with one write(), fdatasyncs, then rewrites
// `sequence` and `last-post`.
//
// Thread-safety: see Store. Lifetime: none beyond the object.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/store.h"

namespace chaton {

class FileStore final : public Store {
 public:
  explicit FileStore(std::filesystem::path datadir);
  ~FileStore() override;

  Result<StoreSnapshot> open() override;
  Status append(std::span<Post> batch) override;
  void record_num_chatters(size_t n) override;

  const std::filesystem::path& datadir() const { return datadir_; }

 private:
  struct Impl;
  std::filesystem::path datadir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaton
