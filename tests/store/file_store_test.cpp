// Tests for FileStore: reading an original data directory, appending
// durably under the room lock, living beside the original tools (external
// sequence updates, an archiver renaming current.dat) and failing cleanly.
#include "store/file_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "messages/line_codec.h"
#include "support/files.h"
#include "support/posts.h"
#include "support/temp_dir.h"

namespace chaton {
namespace {

using testing::inode;
using testing::make_post;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

namespace fs = std::filesystem;

bool any_contains(const std::vector<std::string>& v, std::string_view needle) {
  for (const std::string& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

// Lines in the format the original Gauche scripts wrote.
constexpr std::string_view kOriginalLog =
    "(\"shiro\" (1732450000 123456) \"hello\\nworld\" \"127.0.0.1\")\n"
    "(\"\\\"quoted\\\"\" (1732450001 5) \"back\\\\slash\\ttab\\x01;ctl\" \"::1\")\n"
    "this line is garbage\n"
    "(\"名前\" (1732450002 0) \"日本語 😀\")\n"
    "(\"torn\" (1732450003 7) \"the writer di";

class FileStoreTest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_.path() / "data"; }
  fs::path current() const { return data() / "current.dat"; }

  StoreSnapshot open_ok(FileStore& store) {
    auto r = store.open();
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(r).value() : StoreSnapshot{};
  }

  void append_ok(FileStore& store, std::vector<Post>& batch) {
    Status st = store.append(batch);
    ASSERT_TRUE(st.is_ok()) << st.message();
  }

  TempDir dir_;
};

TEST_F(FileStoreTest, OpensAnEmptyRoomAndCreatesTheLayout) {
  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);
  EXPECT_TRUE(snap.recent.empty());
  EXPECT_EQ(snap.sequence, 0u);
  EXPECT_EQ(snap.last_post, 0);
  EXPECT_TRUE(snap.warnings.empty());
  EXPECT_TRUE(fs::is_directory(data()));
  EXPECT_TRUE(fs::is_directory(dir_.path() / "logs"));
  EXPECT_EQ(read_text(dir_.path() / "lock"), "lockfile\n");
}

TEST_F(FileStoreTest, KeepsAnExistingLockFile) {
  write_text(dir_.path() / "lock", "original\n");
  FileStore store(dir_.path());
  open_ok(store);
  EXPECT_EQ(read_text(dir_.path() / "lock"), "original\n");
}

TEST_F(FileStoreTest, ReadsAnOriginalDataDirectory) {
  write_text(current(), kOriginalLog);
  write_text(data() / "sequence", "120\n");
  write_text(data() / "last-post", "1732450003");
  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);

  ASSERT_EQ(snap.recent.size(), 3u);
  EXPECT_EQ(snap.recent[0].nick, "shiro");
  EXPECT_EQ(snap.recent[0].usec, 123456);
  EXPECT_EQ(snap.recent[0].text, "hello\nworld");
  EXPECT_EQ(snap.recent[0].ip, "127.0.0.1");
  EXPECT_EQ(snap.recent[1].nick, "\"quoted\"");
  EXPECT_EQ(snap.recent[1].text,
            "back\\slash\ttab\x01"
            "ctl");
  EXPECT_EQ(snap.recent[2].nick, "名前");
  EXPECT_EQ(snap.recent[2].text, "日本語 😀");
  EXPECT_FALSE(snap.recent[2].ip.has_value());
  EXPECT_EQ(snap.recent[0].seq, 118u);
  EXPECT_EQ(snap.recent[1].seq, 119u);
  EXPECT_EQ(snap.recent[2].seq, 120u);
  EXPECT_EQ(snap.sequence, 120u);
  EXPECT_EQ(snap.last_post, 1732450003);

  EXPECT_TRUE(any_contains(snap.warnings, "current.dat:3:")) << ::testing::PrintToString(snap.warnings);
  EXPECT_TRUE(any_contains(snap.warnings, "current.dat:5:")) << ::testing::PrintToString(snap.warnings);
  EXPECT_TRUE(any_contains(snap.warnings, "newline"));
  EXPECT_EQ(snap.warnings.size(), 3u);
}

TEST_F(FileStoreTest, RepairsATornTailSoTheNextAppendIsReadable) {
  write_text(current(), kOriginalLog);
  write_text(data() / "sequence", "4");
  {
    FileStore store(dir_.path());
    open_ok(store);
    EXPECT_EQ(read_text(current()), std::string(kOriginalLog) + "\n");
    std::vector<Post> batch = {make_post("after", 1732450100, 0, "first after the crash")};
    append_ok(store, batch);
    EXPECT_EQ(batch[0].seq, 5u);
  }
  ParsedLog log = parse_log(read_text(current()));
  ASSERT_EQ(log.posts.size(), 4u);
  EXPECT_EQ(log.posts.back().text, "first after the crash");
  ASSERT_EQ(log.bad.size(), 2u);  // the garbage line and the torn line, nothing else
  EXPECT_EQ(log.bad[0].line_number, 3u);
  EXPECT_EQ(log.bad[1].line_number, 5u);
  EXPECT_FALSE(log.torn_tail);
}

TEST_F(FileStoreTest, ATornTailThatParsesIsKept) {
  write_text(current(), "(\"a\" (10 0) \"one\")\n(\"b\" (11 0) \"two\")");
  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);
  ASSERT_EQ(snap.recent.size(), 2u);
  EXPECT_EQ(snap.recent[1].text, "two");
  EXPECT_EQ(read_text(current()).back(), '\n');
  EXPECT_TRUE(any_contains(snap.warnings, "newline"));
}

TEST_F(FileStoreTest, SequenceNeverBelowThePostCount) {
  write_text(current(), "(\"a\" (10 0) \"one\")\n(\"b\" (11 0) \"two\")\n");
  write_text(data() / "sequence", "1");
  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);
  EXPECT_EQ(snap.sequence, 2u);
  EXPECT_EQ(snap.recent[0].seq, 1u);
  EXPECT_EQ(snap.recent[1].seq, 2u);
  EXPECT_FALSE(snap.warnings.empty());
  // No last-post file: the newest post's time.
  EXPECT_EQ(snap.last_post, 11);
}

TEST_F(FileStoreTest, MissingOrGarbageSequenceFallsBackToTheCount) {
  write_text(current(), "(\"a\" (10 0) \"one\")\n(\"b\" (11 0) \"two\")\n");
  {
    FileStore store(dir_.path());
    StoreSnapshot snap = open_ok(store);
    EXPECT_EQ(snap.sequence, 2u);
    EXPECT_TRUE(any_contains(snap.warnings, "sequence"));
  }
  write_text(data() / "sequence", "lots");
  write_text(data() / "last-post", "soon");
  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);
  EXPECT_EQ(snap.sequence, 2u);
  EXPECT_TRUE(any_contains(snap.warnings, "sequence"));
  EXPECT_EQ(snap.last_post, 11);
}

TEST_F(FileStoreTest, AppendThenReopenGivesTheSamePosts) {
  std::vector<Post> written;
  {
    FileStore store(dir_.path());
    open_ok(store);
    std::vector<Post> b1 = {make_post("a", 1732450000, 0, "one\nline two"),
                            make_post("b\"q", 1732450001, 0, "back\\slash\t\x01", std::nullopt)};
    append_ok(store, b1);
    EXPECT_EQ(b1[0].seq, 1u);
    EXPECT_EQ(b1[1].seq, 2u);
    std::vector<Post> b2 = {make_post("名前", 1732450002, 0, "日本語 😀")};
    append_ok(store, b2);
    EXPECT_EQ(b2[0].seq, 3u);
    written = b1;
    written.push_back(b2[0]);
  }
  EXPECT_EQ(read_text(data() / "sequence"), "3");
  EXPECT_EQ(read_text(data() / "last-post"), "1732450002");

  FileStore store(dir_.path());
  StoreSnapshot snap = open_ok(store);
  EXPECT_EQ(snap.recent, written);
  EXPECT_EQ(snap.sequence, 3u);
  EXPECT_EQ(snap.last_post, 1732450002);
  EXPECT_TRUE(snap.warnings.empty()) << ::testing::PrintToString(snap.warnings);
}

TEST_F(FileStoreTest, EmptyBatchDoesNothing) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> none;
  EXPECT_TRUE(store.append(none).is_ok());
  EXPECT_FALSE(fs::exists(data() / "sequence"));
}

TEST_F(FileStoreTest, AppendBeforeOpenIsRefused) {
  FileStore store(dir_.path());
  std::vector<Post> batch = {make_post("a", 1, 0, "x")};
  EXPECT_FALSE(store.append(batch).is_ok());
}

TEST_F(FileStoreTest, RespectsASequenceAdvancedByAnotherWriter) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  EXPECT_EQ(b1[0].seq, 1u);

  write_text(data() / "sequence", "500\n");  // an original poster script ran
  std::vector<Post> b2 = {make_post("b", 101, 0, "two"), make_post("c", 102, 0, "three")};
  append_ok(store, b2);
  EXPECT_EQ(b2[0].seq, 501u);
  EXPECT_EQ(b2[1].seq, 502u);
  EXPECT_EQ(read_text(data() / "sequence"), "502");

  write_text(data() / "sequence", "7");  // a stale value never moves us back
  std::vector<Post> b3 = {make_post("d", 103, 0, "four")};
  append_ok(store, b3);
  EXPECT_EQ(b3[0].seq, 503u);
}

// `sequence` and `last-post` are written over in place after each batch,
// not replaced by a new file: freeing the old file's blocks (a rename over
// it) costs a third of a millisecond per batch on a disk mounted with
// `discard` (docs/STORAGE.md, "Locking"). A longer value left by another
// writer is cut to the new one.
TEST_F(FileStoreTest, BookkeepingIsWrittenOverInPlace) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  const ino_t sequence_inode = inode(data() / "sequence");

  write_text(data() / "last-post", "99\n\n\n\n\n\n\n\n\n\n\n");  // longer than what comes next
  const ino_t last_post_inode = inode(data() / "last-post");
  std::vector<Post> b2 = {make_post("b", 101, 0, "two")};
  append_ok(store, b2);
  EXPECT_EQ(inode(data() / "sequence"), sequence_inode);
  EXPECT_EQ(inode(data() / "last-post"), last_post_inode);
  EXPECT_EQ(read_text(data() / "sequence"), "2");
  EXPECT_EQ(read_text(data() / "last-post"), "101");
}

// A backup made with hard links shares the files' inodes: writing over
// them in place would change the backup too. Such a file is replaced.
TEST_F(FileStoreTest, BookkeepingWithAnotherNameIsReplacedNotWrittenOver) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  const fs::path backup = dir_.path() / "sequence.backup";
  fs::create_hard_link(data() / "sequence", backup);
  std::vector<Post> b2 = {make_post("b", 101, 0, "two")};
  append_ok(store, b2);
  EXPECT_EQ(read_text(data() / "sequence"), "2");
  EXPECT_EQ(read_text(backup), "1");
}

TEST_F(FileStoreTest, FollowsACurrentDatRenamedIntoPlace) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "before archiving")};
  append_ok(store, b1);

  // What the archiver does: keep the old file as .bak, rename a new one in.
  fs::create_hard_link(current(), data() / "current.dat.bak");
  std::string kept = encode_line(b1[0]) + "\n";
  write_text(data() / "current.dat.tmp", kept);
  fs::rename(data() / "current.dat.tmp", current());

  std::vector<Post> b2 = {make_post("b", 101, 0, "after archiving")};
  append_ok(store, b2);
  EXPECT_EQ(read_text(current()), kept + encode_line(b2[0]) + "\n");
  EXPECT_EQ(read_text(data() / "current.dat.bak"), kept);
}

TEST_F(FileStoreTest, RecreatesAMissingCurrentDat) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  fs::remove(current());
  std::vector<Post> b2 = {make_post("b", 101, 0, "two")};
  append_ok(store, b2);
  EXPECT_EQ(read_text(current()), encode_line(b2[0]) + "\n");
  EXPECT_EQ(b2[0].seq, 2u);
}

TEST_F(FileStoreTest, AddsAMissingNewlineLeftByAnotherWriter) {
  FileStore store(dir_.path());
  open_ok(store);
  {
    std::ofstream out(current(), std::ios::binary | std::ios::app);
    out << "(\"other\" (5 0) \"no newline\")";
  }
  std::vector<Post> batch = {make_post("a", 100, 0, "mine")};
  append_ok(store, batch);
  ParsedLog log = parse_log(read_text(current()));
  ASSERT_EQ(log.posts.size(), 2u);
  EXPECT_EQ(log.posts[1].text, "mine");
  EXPECT_TRUE(log.bad.empty());
}

// The poster hears a reason without a path; the log gets the details.
TEST_F(FileStoreTest, UnopenableCurrentDatIsReportedAndStoresNothing) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  fs::remove(current());
  fs::create_directory(current());  // not a file we can append to
  std::vector<Post> b2 = {make_post("b", 101, 0, "two")};
  ::testing::internal::CaptureStderr();
  Status st = store.append(b2);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(st.code(), Errc::unavailable);
  EXPECT_EQ(st.message(), "the server cannot store posts right now (storage error); try again later");
  EXPECT_NE(err.find("current.dat"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(b2[0].seq, 0u);
  EXPECT_EQ(read_text(data() / "sequence"), "1");
}

// A write that fails half-way (here: the file size limit, as on a full
// disk) leaves the file exactly as it was, and a later append works.
TEST_F(FileStoreTest, FailedWriteIsRolledBack) {
  FileStore store(dir_.path());
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
  append_ok(store, b1);
  const std::string before = read_text(current());

  std::vector<Post> big;
  for (int i = 0; i < 50; ++i) big.push_back(make_post("big", 200 + i, 0, std::string(100, 'x')));

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = before.size() + 500;  // part of the batch fits, not all
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  ::testing::internal::CaptureStderr();
  Status st = store.append(big);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);
  std::string err = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(st.code(), Errc::unavailable);
  EXPECT_EQ(st.message(), "the server cannot store posts right now (disk full); try again later");
  EXPECT_NE(err.find("current.dat"), std::string::npos) << err;
  EXPECT_EQ(read_text(current()), before);
  EXPECT_EQ(big[0].seq, 0u);
  EXPECT_EQ(read_text(data() / "sequence"), "1");

  std::vector<Post> b2 = {make_post("b", 300, 0, "two")};
  append_ok(store, b2);
  EXPECT_EQ(b2[0].seq, 2u);
  EXPECT_EQ(read_text(current()), before + encode_line(b2[0]) + "\n");
}

// GET /healthz (docs/DEPLOY.md, "Monitoring").
TEST_F(FileStoreTest, IsWritableUntilAnAppendFailsAndAgainOnceOneSucceeds) {
  FileStore store(dir_.path());
  open_ok(store);
  EXPECT_TRUE(store.writable());
  EXPECT_FALSE(fs::exists(data() / ".writable"));  // the probe is removed
  fs::remove(current());
  fs::create_directory(current());
  std::vector<Post> lost = {make_post("a", 100, 0, "lost")};
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(store.append(lost));
  ::testing::internal::GetCapturedStderr();
  Status st = store.writable();
  EXPECT_FALSE(st);
  EXPECT_NE(st.message().find("the last append failed"), std::string::npos) << st.message();
  fs::remove(current());
  std::vector<Post> kept = {make_post("a", 101, 0, "kept")};
  append_ok(store, kept);
  EXPECT_TRUE(store.writable());
}

TEST_F(FileStoreTest, IsNotWritableWhenNoFileCanBeCreatedInItsDataDirectory) {
  FileStore store(dir_.path());
  open_ok(store);
  fs::rename(data(), dir_.path() / "data.away");
  std::ofstream(data()) << "a file, not a directory\n";
  Status st = store.writable();
  EXPECT_FALSE(st);
  EXPECT_NE(st.message().find("cannot create a file in"), std::string::npos) << st.message();
}

TEST_F(FileStoreTest, MeasuresTheSyncOfEachAppend) {
  FileStore store(dir_.path());
  auto syncs = std::make_shared<metrics::Histogram>();
  store.measure_syncs(syncs);
  open_ok(store);
  std::vector<Post> b1 = {make_post("a", 100, 0, "one"), make_post("b", 101, 0, "two")};
  std::vector<Post> b2 = {make_post("a", 102, 0, "three")};
  append_ok(store, b1);
  append_ok(store, b2);
  EXPECT_EQ(syncs->count(), 2u);  // one fdatasync per batch
}

TEST_F(FileStoreTest, BookkeepingFailureIsNotFatalButIsReported) {
  FileStore store(dir_.path());
  open_ok(store);
  fs::create_directory(data() / "last-post");  // cannot be renamed over
  std::vector<Post> batch = {make_post("a", 100, 0, "one")};
  ::testing::internal::CaptureStderr();
  Status st = store.append(batch);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(batch[0].seq, 1u);
  EXPECT_NE(err.find("last-post"), std::string::npos) << err;
  EXPECT_EQ(read_text(data() / "sequence"), "1");
  EXPECT_EQ(parse_log(read_text(current())).posts.size(), 1u);
  // No stray temporary files are left behind.
  for (const auto& e : fs::directory_iterator(data()))
    EXPECT_FALSE(e.path().string().ends_with(".tmp")) << e.path();
}

// The post is stored before `sequence` is rewritten: when that rewrite
// fails the post is still acknowledged, keeps its number after a restart,
// and the next post follows it.
TEST_F(FileStoreTest, AFailedSequenceRewriteLosesNoAcknowledgedPost) {
  {
    FileStore store(dir_.path());
    open_ok(store);
    std::vector<Post> b1 = {make_post("a", 100, 0, "one")};
    append_ok(store, b1);
    fs::remove(data() / "sequence");
    fs::create_directory(data() / "sequence");  // cannot be renamed over
    std::vector<Post> b2 = {make_post("b", 101, 0, "two"), make_post("c", 102, 0, "three")};
    ::testing::internal::CaptureStderr();
    Status st = store.append(b2);
    std::string err = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(st.is_ok()) << st.message();
    EXPECT_EQ(b2[1].seq, 3u);
    EXPECT_NE(err.find("sequence"), std::string::npos) << err;
  }
  fs::remove(data() / "sequence");  // as after a crash before the rewrite
  FileStore again(dir_.path());
  StoreSnapshot snap = open_ok(again);
  EXPECT_EQ(snap.sequence, 3u);
  ASSERT_EQ(snap.recent.size(), 3u);
  EXPECT_EQ(snap.recent[2].text, "three");
  EXPECT_EQ(snap.recent[2].seq, 3u);
  std::vector<Post> b3 = {make_post("d", 103, 0, "four")};
  append_ok(again, b3);
  EXPECT_EQ(b3[0].seq, 4u);
  EXPECT_EQ(read_text(data() / "sequence"), "4");
}

TEST_F(FileStoreTest, WaitsForAClassicPosixLockHeldByTheOriginalTools) {
  FileStore store(dir_.path());
  open_ok(store);
  int fd = ::open((dir_.path() / "lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  ASSERT_EQ(::fcntl(fd, F_SETLK, &fl), 0);  // what a Gauche script takes

  std::atomic<bool> done{false};
  std::vector<Post> batch = {make_post("a", 100, 0, "one")};
  std::thread writer([&] {
    EXPECT_TRUE(store.append(batch).is_ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load());
  EXPECT_FALSE(fs::exists(current()) && fs::file_size(current()) > 0);
  fl.l_type = F_UNLCK;
  ::fcntl(fd, F_SETLK, &fl);
  writer.join();
  ::close(fd);
  EXPECT_TRUE(done.load());
  EXPECT_EQ(batch[0].seq, 1u);
}

TEST_F(FileStoreTest, TwoStoresOnOneDirectoryDoNotInterleave) {
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 3;
  FileStore s1(dir_.path()), s2(dir_.path());
  open_ok(s1);
  open_ok(s2);
  std::vector<uint64_t> seqs1, seqs2;
  auto run = [&](FileStore& store, const std::string& nick, std::vector<uint64_t>& seqs) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<Post> batch;
      for (int i = 0; i < kPerBatch; ++i)
        batch.push_back(make_post(nick, 1000 + b, 0, std::string(200, static_cast<char>('a' + i))));
      ASSERT_TRUE(store.append(batch).is_ok());
      for (const Post& p : batch) seqs.push_back(p.seq);
    }
  };
  std::thread t1(run, std::ref(s1), "one", std::ref(seqs1));
  std::thread t2(run, std::ref(s2), "two", std::ref(seqs2));
  t1.join();
  t2.join();

  constexpr size_t kTotal = 2 * kBatches * kPerBatch;
  ParsedLog log = parse_log(read_text(current()));
  EXPECT_EQ(log.posts.size(), kTotal);
  EXPECT_TRUE(log.bad.empty());
  std::set<uint64_t> all(seqs1.begin(), seqs1.end());
  all.insert(seqs2.begin(), seqs2.end());
  EXPECT_EQ(all.size(), kTotal);
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), kTotal);
  EXPECT_EQ(read_text(data() / "sequence"), std::to_string(kTotal));
}

TEST_F(FileStoreTest, RecordsTheNumberOfChatters) {
  FileStore store(dir_.path());
  open_ok(store);
  store.record_num_chatters(3);
  EXPECT_EQ(read_text(data() / "num-chatters"), "3");
  store.record_num_chatters(0);
  EXPECT_EQ(read_text(data() / "num-chatters"), "0");
}

TEST_F(FileStoreTest, OpenFailsCleanlyWhenTheDirectoryCannotBeCreated) {
  write_text(dir_.path() / "file", "not a directory");
  FileStore store(dir_.path() / "file");
  auto r = store.open();
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::io);
}

}  // namespace
}  // namespace chaton
