// Helpers for the archive and data-check tests: a fresh data directory per
// test, posts at chosen UTC times, and a snapshot of a directory tree (kind,
// content, link target, inode of every entry) to prove that a second run
// changes nothing.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "messages/line_codec.h"
#include "messages/post.h"
#include "support/files.h"
#include "support/posts.h"
#include "support/temp_dir.h"
#include "util/civil_time.h"

namespace chaton::archive_test {

namespace fs = std::filesystem;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

// Seconds of `d` at hh:mm:ss UTC.
inline int64_t at(Date d, int hour, int minute = 0, int second = 0) {
  return seconds_from_date(d) + hour * 3600 + minute * 60 + second;
}

// A post by `nick` at `sec` from 192.0.2.7, its microseconds taken from
// `sec` so that posts in different seconds have different entry ids.
inline Post post_at(int64_t sec, std::string text, std::string nick = "alice") {
  return testing::make_post(std::move(nick), sec, 1000 + sec % 1000, std::move(text), "192.0.2.7");
}

// `n` posts on day `d`, spread over the day, texts "<tag> 0", "<tag> 1", ...
inline std::vector<Post> posts_on(Date d, int n, const std::string& tag) {
  std::vector<Post> out;
  for (int i = 0; i < n; ++i)
    out.push_back(post_at(at(d, 0) + 60 + i * (86000 / (n + 1)), tag + " " + std::to_string(i)));
  return out;
}

inline std::string lines_of(const std::vector<Post>& posts) {
  std::string s;
  for (const Post& p : posts) s += encode_line(p) + "\n";
  return s;
}

inline std::vector<std::string> texts_of(const std::vector<Post>& posts) {
  std::vector<std::string> t;
  for (const Post& p : posts) t.push_back(p.text);
  return t;
}

inline std::vector<std::string> texts_in(const fs::path& file) {
  return texts_of(parse_log(read_text(file)).posts);
}

// Every entry under a directory: kind, content or link target, inode.
// Compare two with snapshot_diff().
struct EntryState {
  std::string kind;
  std::string content;
  ino_t inode = 0;
};

inline std::map<std::string, EntryState> snapshot(const fs::path& dir) {
  std::map<std::string, EntryState> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EntryState s;
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    s.inode = st.st_ino;
    if (e.is_symlink()) {
      s.kind = "link";
      s.content = fs::read_symlink(e.path()).string();
    } else if (e.is_directory()) {
      s.kind = "dir";
    } else {
      s.kind = "file";
      s.content = read_text(e.path());
    }
    out[fs::relative(e.path(), dir).string()] = s;
  }
  return out;
}

// Whether an entry's inode matters: the logs (.dat) and links must not be
// replaced at all; small bookkeeping files may be rewritten with the same
// content.
inline bool inode_matters(const std::string& name, const EntryState& s) {
  return s.kind == "link" || name.ends_with(".dat");
}

// The entries that differ between two snapshots, one per line; empty when
// they are the same.
inline std::string snapshot_diff(const std::map<std::string, EntryState>& before,
                                 const std::map<std::string, EntryState>& after) {
  std::string out;
  for (const auto& [name, state] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      out += "removed " + name + "\n";
      continue;
    }
    const EntryState& now = it->second;
    bool same = now.kind == state.kind && now.content == state.content &&
                (!inode_matters(name, state) || now.inode == state.inode);
    if (!same) out += "changed " + name + " (" + state.kind + " -> " + now.kind + ")\n";
  }
  for (const auto& [name, state] : after)
    if (!before.contains(name)) out += "added " + name + "\n";
  return out;
}

}  // namespace chaton::archive_test
