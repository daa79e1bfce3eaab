// Htpasswd: see htpasswd.h.
#include "access/htpasswd.h"

#include <sys/stat.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <openssl/evp.h>

#include <cstring>
#include <mutex>

#include "store/file_io.h"
#include "util/file.h"
#include "util/text.h"

namespace chaton {

namespace {

constexpr auto kRecheckInterval = std::chrono::seconds(1);
constexpr size_t kBcryptSaltBytes = 16;  // what apr_bcrypt_encode requires
constexpr size_t kBcryptHashMax = 64;    // "$2y$10$" + 53 characters, with room to spare

void init_apr() {
  static std::once_flag once;
  std::call_once(once, [] { apr_initialize(); });
}

bool password_matches(std::string_view password, const std::string& hash) {
  init_apr();
  std::string pw(password);  // apr wants NUL-terminated strings
  return apr_password_validate(pw.c_str(), hash.c_str()) == APR_SUCCESS;
}

// The decoy of a file without users (everyone is refused anyway): bcrypt
// of a random password, made once.
const std::string& empty_file_decoy() {
  static const std::string hash = [] {
    init_apr();
    unsigned char salt[kBcryptSaltBytes] = {};
    apr_generate_random_bytes(salt, sizeof salt);
    char out[kBcryptHashMax] = {};
    uint64_t word;
    std::memcpy(&word, salt, sizeof word);
    std::string pw = "decoy-" + to_hex(word, 16);
    apr_bcrypt_encode(pw.c_str(), kBcryptCost, salt, sizeof salt, out, sizeof out);
    return std::string(out);
  }();
  return hash;
}

Result<std::string> bcrypt_hash(std::string_view password) {
  init_apr();
  unsigned char salt[kBcryptSaltBytes];
  if (apr_generate_random_bytes(salt, sizeof salt) != APR_SUCCESS)
    return Status(Errc::io, "no random bytes for a password salt");
  char out[kBcryptHashMax] = {};
  std::string pw(password);
  if (apr_bcrypt_encode(pw.c_str(), kBcryptCost, salt, sizeof salt, out, sizeof out) != APR_SUCCESS)
    return Status(Errc::io, "bcrypt failed");
  return std::string(out);
}

}  // namespace

std::unordered_map<std::string, std::string> parse_htpasswd(std::string_view content) {
  std::unordered_map<std::string, std::string> users;
  while (!content.empty()) {
    size_t eol = content.find('\n');
    std::string_view line = content.substr(0, eol);
    content = eol == std::string_view::npos ? std::string_view() : content.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    // apr's own files may carry extra fields after the hash (user:hash:comment).
    std::string_view hash = line.substr(colon + 1);
    if (size_t extra = hash.find(':'); extra != std::string_view::npos) hash = hash.substr(0, extra);
    users.try_emplace(std::string(line.substr(0, colon)), std::string(hash));
  }
  return users;
}

std::string hash_scheme(std::string_view hash) {
  if (hash.starts_with("{SHA}")) return "{SHA}";
  if (!hash.starts_with('$')) return "crypt";
  size_t id_end = hash.find('$', 1);
  if (id_end == std::string_view::npos) return "crypt";
  std::string_view id = hash.substr(1, id_end - 1);
  std::string_view rest = hash.substr(id_end + 1);
  size_t param_end = rest.find('$');
  std::string_view param = rest.substr(0, param_end);
  bool keep_param = param_end != std::string_view::npos &&
                    ((id.size() == 2 && id[0] == '2') ||                           // bcrypt cost
                     ((id == "5" || id == "6") && param.starts_with("rounds=")));  // SHA-crypt rounds
  std::string out = "$" + std::string(id) + "$";
  if (keep_param) out += std::string(param) + "$";
  return out;
}

std::string Htpasswd::decoy_scheme() {
  std::lock_guard lock(mu_);
  refresh_locked(false);
  return hash_scheme(decoy_.empty() ? empty_file_decoy() : decoy_);
}

std::string Htpasswd::choose_decoy_locked() const {
  // Per scheme (with cost): how many users, and the first user's name in
  // byte order, so that a tie is broken the same way every time.
  struct Count {
    size_t users = 0;
    const std::string* first = nullptr;
  };
  std::unordered_map<std::string, Count> schemes;
  for (const auto& [user, hash] : users_) {
    Count& c = schemes[hash_scheme(hash)];
    ++c.users;
    if (!c.first || user < *c.first) c.first = &user;
  }
  const std::string* best_scheme = nullptr;
  const Count* best = nullptr;
  for (const auto& [scheme, c] : schemes) {
    if (!best || c.users > best->users || (c.users == best->users && scheme < *best_scheme)) {
      best_scheme = &scheme;
      best = &c;
    }
  }
  return best ? users_.at(*best->first) : std::string();
}

size_t Htpasswd::DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

Htpasswd::Htpasswd(std::filesystem::path file, const Clock& clock) : file_(std::move(file)), clock_(clock) {}

Htpasswd::Digest Htpasswd::digest(std::string_view user, std::string_view password) {
  Digest d{};
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, user.data(), user.size());
  EVP_DigestUpdate(ctx, "", 1);
  EVP_DigestUpdate(ctx, password.data(), password.size());
  EVP_DigestFinal_ex(ctx, d.data(), &len);
  EVP_MD_CTX_free(ctx);
  return d;
}

void Htpasswd::refresh_locked(bool force) {
  SysTime now = clock_.now();
  if (!force && ever_checked_ && now - checked_ < kRecheckInterval) return;
  ever_checked_ = true;
  checked_ = now;
  FileId id;
  struct stat st {};
  if (::stat(file_.c_str(), &st) == 0) {
    id.exists = true;
    id.size = static_cast<uintmax_t>(st.st_size);
    id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    id.inode = st.st_ino;
  }
  if (id == loaded_ && !users_.empty()) return;
  loaded_ = id;
  // A file that is missing or cannot be read has no users: every login fails.
  users_ = {};
  if (id.exists)
    if (auto content = read_file(file_)) users_ = parse_htpasswd(*content);
  decoy_ = choose_decoy_locked();
  // Entries stay valid only while they match the user's current hash
  // (hash_of_locked), so the cache needs no clearing here.
}

std::string Htpasswd::hash_of_locked(std::string_view user) const {
  auto it = users_.find(std::string(user));
  return it == users_.end() ? std::string() : it->second;
}

bool Htpasswd::known(std::string_view user, std::string_view password) {
  std::string hash, decoy;
  return check_cache(user, digest(user, password), hash, decoy);
}

bool Htpasswd::check_cache(std::string_view user, const Digest& d, std::string& hash, std::string& decoy) {
  std::lock_guard lock(mu_);
  refresh_locked(false);
  hash = hash_of_locked(user);
  if (hash.empty()) decoy = decoy_;
  auto it = verified_.find(d);
  return it != verified_.end() && !hash.empty() && hash == it->second;
}

Htpasswd::Verdict Htpasswd::verify(std::string_view user, std::string_view password) {
  Digest d = digest(user, password);
  std::string hash;   // the user's hash now, empty for an unknown user
  std::string decoy;  // then this is checked instead
  if (check_cache(user, d, hash, decoy)) return Verdict::allowed;
  // The slow part runs outside the lock. An unknown user is refused
  // whatever the decoy check says; it only takes the same time.
  if (hash.empty()) {
    (void)password_matches(password, decoy.empty() ? empty_file_decoy() : decoy);
    return Verdict::denied;
  }
  if (!password_matches(password, hash)) return Verdict::denied;
  std::lock_guard lock(mu_);
  if (verified_.size() >= kMaxVerifiedCredentials) verified_.clear();
  verified_[d] = hash;
  return Verdict::allowed;
}

Status Htpasswd::change_password(std::string_view user, std::string_view old_password,
                                 std::string_view new_password) {
  if (new_password.size() < kMinPasswordLength)
    return Status(Errc::invalid, "the new password must have at least " + std::to_string(kMinPasswordLength) +
                                     " characters");
  if (new_password.size() > kMaxPasswordLength) return Status(Errc::invalid, "the new password is too long");
  if (new_password.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos)
    return Status(Errc::invalid, "the new password may not contain line breaks or NUL");

  fileio::Fd lock_fd;
  if (Status st = fileio::open_lock_file(file_.string() + ".lock", lock_fd); !st) return st;
  fileio::LockGuard guard(lock_fd.get());
  if (!guard.locked()) return Status(Errc::io, "cannot lock " + file_.string() + ".lock");

  // Re-read under the lock, so a concurrent change is never lost.
  auto content = read_file(file_);
  if (!content) return Status(Errc::io, content.status().message());
  auto users = parse_htpasswd(*content);
  auto it = users.find(std::string(user));
  if (it == users.end() || !password_matches(old_password, it->second))
    return Status(Errc::forbidden, "the user name or the current password is wrong");

  auto hash = bcrypt_hash(new_password);
  if (!hash) return hash.status();

  // Rewrite only the user's line; comments, order and other users stay.
  std::string out;
  out.reserve(content->size() + hash->size());
  std::string_view rest = *content;
  bool replaced = false;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol == std::string_view::npos ? rest.size() : eol + 1);
    rest.remove_prefix(line.size());
    std::string_view body = line;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    if (!replaced && body.size() > user.size() && body.starts_with(user) && body[user.size()] == ':') {
      out.append(user).append(":").append(*hash).append("\n");
      replaced = true;
    } else {
      out.append(line);
      if (eol == std::string_view::npos) out += '\n';
    }
  }

  struct stat st {};
  mode_t mode = ::stat(file_.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0640;
  if (Status st = fileio::replace_file(file_, out, fileio::Sync::yes, mode); !st) return st;

  std::lock_guard lock(mu_);
  refresh_locked(true);
  return Status::ok();
}

}  // namespace chaton
