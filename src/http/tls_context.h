// TLS: building the server's OpenSSL context from the configuration
// (site.tls_certificates, tls_private_key, tls_private_key_password).
//
// Defaults are modern: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers
// for 1.2, no compression, no renegotiation. TlsProvider holds the current
// context; reload() (on SIGHUP) builds a new one from the files and swaps it
// in, so new connections use the new certificate while connections already
// open keep the context they started with.
//
// Thread-safety: TlsProvider::current() and reload() from any thread.
#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "config/config.h"
#include "util/result.h"

namespace chaton::http {

Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const SiteConfig& site);

class TlsProvider {
 public:
  explicit TlsProvider(SiteConfig site) : site_(std::move(site)) {}
  bool enabled() const { return !site_.tls_certificates.empty(); }
  Status reload();
  std::shared_ptr<boost::asio::ssl::context> current() const { return current_.load(); }

 private:
  SiteConfig site_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> current_;
};

}  // namespace chaton::http
