// TLS context: see tls_context.h. Every OpenSSL failure becomes a Status
// naming the file.
#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/file.h"

namespace chaton::http {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 cipher list; TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_tls_context(const SiteConfig& site) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native,
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    return Status(Errc::invalid, "TLS cipher list: " + openssl_error());

  // The chain: every configured file, concatenated, server certificate first.
  std::string chain;
  for (const auto& file : site.tls_certificates) {
    auto pem = read_file(file);
    if (!pem) return pem.status();
    chain += *pem;
    if (!chain.empty() && chain.back() != '\n') chain += '\n';
  }
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(chain), ec);
  if (ec)
    return Status(Errc::invalid, "TLS certificates (" + site.tls_certificates.front() + "): " + ec.message());

  std::string password = site.tls_private_key_password;
  ctx->set_password_callback([password](std::size_t, ssl::context::password_purpose) { return password; },
                             ec);
  ctx->use_private_key_file(site.tls_private_key, ssl::context::pem, ec);
  if (ec) return Status(Errc::invalid, "TLS private key (" + site.tls_private_key + "): " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1)
    return Status(Errc::invalid, "TLS private key " + site.tls_private_key +
                                     " does not match the certificate: " + openssl_error());
  return ctx;
}

Status TlsProvider::reload() {
  auto ctx = make_tls_context(site_);
  if (!ctx) return ctx.status();
  current_.store(std::move(ctx.value()));
  return {};
}

}  // namespace chaton::http
