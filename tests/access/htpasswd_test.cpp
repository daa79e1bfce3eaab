// Tests for private rooms' user files (docs/PROTOCOL.md, "Private rooms"):
// every common htpasswd hash (made by Apache's htpasswd and openssl passwd) is
// accepted, wrong passwords and unknown users are not, the verified-credentials
// cache follows the file, and change_password writes a bcrypt hash atomically,
// keeping the other lines.
#include "access/htpasswd.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/files.h"
#include "support/temp_dir.h"
#include "util/clock.h"

namespace chaton {
namespace {

using namespace std::chrono_literals;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

// Each of these users' password is "pässword 1" (alice*, made by
// `htpasswd -nb -m/-B/-s`) or given beside the line (openssl passwd -5/-6).
constexpr std::string_view kFile =
    "# a comment line\n"
    "alice-md5:$apr1$REqOlh2C$XU84s3dGm/OqWr6YrQBcc/\n"
    "alice-bcrypt:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n"
    "alice-sha1:{SHA}wBFJYYjnh5eS5Eft5JORpd7Gkko=\n"
    "\n"
    "carol:$6$IRdhMS6JygzTPl7v$s2ZjmlzYa3vTyKppPG18lgsD1Lm7ixi9mAEJs04nv1yoNowWT/bt8VtyxZ1GFZ6ZnqMQz3gBPzKB/"
    "ruyOVagn0\n"
    "dave:$5$t76Xd.tWbk59anW9$OTinmYmdzEPzTUQeM1tgbToVXxrokQ8J7Jj0w0ki5H2\n";
constexpr std::string_view kAlicePassword = "pässword 1";

class HtpasswdTest : public ::testing::Test {
 protected:
  HtpasswdTest() : file_(dir_.path() / "room.htpasswd") { write_text(file_, kFile); }
  TempDir dir_{"htpasswd-"};
  std::filesystem::path file_;
  ManualClock clock_;
};

TEST(ParseHtpasswd, SkipsCommentsBlankAndBrokenLines) {
  auto users = parse_htpasswd("# x\n\nno-colon\n:nouser\nbob:hash:comment\r\nann:h2");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users["bob"], "hash");
  EXPECT_EQ(users["ann"], "h2");
}

TEST_F(HtpasswdTest, AcceptsEveryCommonHash) {
  Htpasswd h(file_, clock_);
  EXPECT_EQ(h.verify("alice-md5", kAlicePassword), Htpasswd::Verdict::allowed);
  EXPECT_EQ(h.verify("alice-bcrypt", kAlicePassword), Htpasswd::Verdict::allowed);
  EXPECT_EQ(h.verify("alice-sha1", kAlicePassword), Htpasswd::Verdict::allowed);
  EXPECT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::allowed);  // SHA-512 crypt
  EXPECT_EQ(h.verify("dave", "dave pw"), Htpasswd::Verdict::allowed);    // SHA-256 crypt
}

TEST_F(HtpasswdTest, RefusesWrongPasswordsAndUnknownUsers) {
  Htpasswd h(file_, clock_);
  EXPECT_EQ(h.verify("alice-md5", "pässword 2"), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("alice-bcrypt", ""), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("carol", "dave pw"), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("nobody", "carol pw"), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("", ""), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("# a comment line", ""), Htpasswd::Verdict::denied);
}

// An unknown user is checked against a decoy hash of the scheme and cost
// most of the file's users have, so that it costs what a wrong password
// for a real user costs (no timing tells which names exist).
TEST_F(HtpasswdTest, TheDecoyForUnknownUsersHasTheSchemeAndCostOfMostUsers) {
  write_text(file_,
             "a:$apr1$REqOlh2C$XU84s3dGm/OqWr6YrQBcc/\n"
             "b:$apr1$REqOlh2C$XU84s3dGm/OqWr6YrQBcc/\n"
             "c:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n"
             "d:$apr1$REqOlh2C$XU84s3dGm/OqWr6YrQBcc/\n");
  Htpasswd h(file_, clock_);
  EXPECT_EQ(h.decoy_scheme(), "$apr1$");
  // The decoy is never a way in, even with a real user's password.
  EXPECT_EQ(h.verify("nobody", kAlicePassword), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("a", kAlicePassword), Htpasswd::Verdict::allowed);

  // Cost counts as part of the scheme; the choice follows an edited file.
  write_text(file_,
             "c:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n"
             "e:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n"
             "a:$apr1$REqOlh2C$XU84s3dGm/OqWr6YrQBcc/\n"
             "x:$6$rounds=6000$IRdhMS6JygzTPl7v$s2ZjmlzYa3vTyKppPG18lgsD1Lm7ixi9mAEJs04nv1yoNowWT/"
             "bt8VtyxZ1GFZ6ZnqMQz3gBPzKB/ruyOVagn0\n");
  clock_.advance(2s);
  EXPECT_EQ(h.decoy_scheme(), "$2y$05$");
  EXPECT_EQ(h.verify("nobody", kAlicePassword), Htpasswd::Verdict::denied);

  write_text(file_,
             "x:$6$rounds=6000$IRdhMS6JygzTPl7v$s2ZjmlzYa3vTyKppPG18lgsD1Lm7ixi9mAEJs04nv1yoNowWT/"
             "bt8VtyxZ1GFZ6ZnqMQz3gBPzKB/ruyOVagn0\n"
             "y:$6$rounds=6000$IRdhMS6JygzTPl7v$s2ZjmlzYa3vTyKppPG18lgsD1Lm7ixi9mAEJs04nv1yoNowWT/"
             "bt8VtyxZ1GFZ6ZnqMQz3gBPzKB/ruyOVagn0\n"
             "alice-sha1:{SHA}wBFJYYjnh5eS5Eft5JORpd7Gkko=\n");
  clock_.advance(2s);
  EXPECT_EQ(h.decoy_scheme(), "$6$rounds=6000$");

  // A tie is broken the same way every time.
  Htpasswd mixed(file_, clock_);
  write_text(file_, kFile);
  clock_.advance(2s);
  EXPECT_EQ(mixed.decoy_scheme(), Htpasswd(file_, clock_).decoy_scheme());
  EXPECT_EQ(mixed.decoy_scheme(), "$2y$05$");
}

TEST_F(HtpasswdTest, AMissingFileDeniesEveryone) {
  Htpasswd h(dir_.path() / "absent", clock_);
  EXPECT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::denied);
}

TEST_F(HtpasswdTest, KnownAnswersFromTheCacheOnlyAfterAVerify) {
  Htpasswd h(file_, clock_);
  EXPECT_FALSE(h.known("carol", "carol pw"));
  ASSERT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::allowed);
  EXPECT_TRUE(h.known("carol", "carol pw"));
  EXPECT_FALSE(h.known("carol", "carol pw "));
  EXPECT_FALSE(h.known("dave", "carol pw"));
}

TEST_F(HtpasswdTest, AnEditedFileIsSeenAfterTheRecheckInterval) {
  Htpasswd h(file_, clock_);
  ASSERT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::allowed);
  // The operator removes carol.
  write_text(file_, "dave:$5$t76Xd.tWbk59anW9$OTinmYmdzEPzTUQeM1tgbToVXxrokQ8J7Jj0w0ki5H2\n");
  clock_.advance(2s);
  EXPECT_FALSE(h.known("carol", "carol pw"));
  EXPECT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("dave", "dave pw"), Htpasswd::Verdict::allowed);
}

TEST_F(HtpasswdTest, ChangePasswordWritesBcryptAndKeepsTheRest) {
  chmod(file_.c_str(), 0640);
  Htpasswd h(file_, clock_);
  ASSERT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::allowed);
  Status st = h.change_password("carol", "carol pw", "a new secret");
  ASSERT_TRUE(st) << st.message();

  // The old password no longer works, at once (no cache hit survives).
  EXPECT_FALSE(h.known("carol", "carol pw"));
  EXPECT_EQ(h.verify("carol", "carol pw"), Htpasswd::Verdict::denied);
  EXPECT_EQ(h.verify("carol", "a new secret"), Htpasswd::Verdict::allowed);

  std::string after = read_text(file_);
  auto users = parse_htpasswd(after);
  EXPECT_TRUE(users["carol"].starts_with("$2y$10$")) << users["carol"];
  // Every other line is byte for byte what it was, in the same order.
  std::string expected(kFile);
  size_t at = expected.find("carol:");
  size_t eol = expected.find('\n', at);
  expected.replace(at, eol - at, "carol:" + users["carol"]);
  EXPECT_EQ(after, expected);
  struct stat st_after {};
  ASSERT_EQ(stat(file_.c_str(), &st_after), 0);
  EXPECT_EQ(st_after.st_mode & 0777, 0640u);

  // Another reader of the same file (a second server) agrees.
  Htpasswd other(file_, clock_);
  EXPECT_EQ(other.verify("carol", "a new secret"), Htpasswd::Verdict::allowed);
}

TEST_F(HtpasswdTest, ChangePasswordRefusesWrongOldPasswordAndWeakNewOnes) {
  Htpasswd h(file_, clock_);
  EXPECT_EQ(h.change_password("carol", "wrong", "a new secret").code(), Errc::forbidden);
  EXPECT_EQ(h.change_password("nobody", "x", "a new secret").code(), Errc::forbidden);
  EXPECT_EQ(h.change_password("carol", "carol pw", "short").code(), Errc::invalid);
  EXPECT_EQ(h.change_password("carol", "carol pw", std::string("line\nbreak!")).code(), Errc::invalid);
  EXPECT_EQ(h.change_password("carol", "carol pw", std::string(kMaxPasswordLength + 1, 'x')).code(),
            Errc::invalid);
  EXPECT_EQ(read_text(file_), kFile);
}

TEST_F(HtpasswdTest, ConcurrentChangesOfTwoUsersAreBothKept) {
  Htpasswd a(file_, clock_);
  Htpasswd b(file_, clock_);
  std::thread t1([&] { EXPECT_TRUE(a.change_password("carol", "carol pw", "carol's new one")); });
  std::thread t2([&] { EXPECT_TRUE(b.change_password("dave", "dave pw", "dave's new one")); });
  t1.join();
  t2.join();
  Htpasswd check(file_, clock_);
  EXPECT_EQ(check.verify("carol", "carol's new one"), Htpasswd::Verdict::allowed);
  EXPECT_EQ(check.verify("dave", "dave's new one"), Htpasswd::Verdict::allowed);
  EXPECT_EQ(check.verify("alice-md5", kAlicePassword), Htpasswd::Verdict::allowed);
}

}  // namespace
}  // namespace chaton
