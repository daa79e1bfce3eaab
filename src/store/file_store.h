// FileStore: a room's data in the original Chaton layout (docs/STORAGE.md).
//
//   DATADIR/lock                 fcntl lock shared with the original tools
//   DATADIR/data/current.dat     the live log, one post per line
//   DATADIR/data/sequence        posts ever (decimal)
//   DATADIR/data/last-post       unix time of the last post (decimal)
//   DATADIR/data/num-chatters    connected clients (decimal)
//   DATADIR/data/YYYY/MM/DD.dat  archived days (read by the archive pages)
//   DATADIR/data/YYYY/MM/DD.cnt  their post counts
//   DATADIR/data/moderated       bumped by each moderation (decimal)
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

  // Archives (docs/STORAGE.md, "Archiving"): see store/file_archive.h.
  // archive() works with or without open() (the `chaton archive` command runs
  // it alone), under the same lock as append().
  Result<std::vector<Post>> read_day(Date day) override;
  std::vector<DayCount> days_in_month(int year, int month) override;
  std::vector<std::pair<int, int>> months() override;
  Result<ArchiveReport> archive(Date today) override;

  // Moderation: store/file_moderation.cpp. Works with or without open()
  // (`chaton moderate` runs it alone), under the room lock.
  Result<ModerationReport> remove_posts(const PostSelector& selector) override;
  std::string change_stamp() override;
  // Not when the last append failed (until one succeeds), nor when a file
  // cannot be created in DATADIR/data (one is written and removed).
  Status writable() override;

  const std::filesystem::path& datadir() const { return datadir_; }

 private:
  struct Impl;
  std::filesystem::path datadir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaton
