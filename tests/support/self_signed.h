// A self-signed certificate for tests that speak TLS over loopback.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include <boost/asio/ssl/context.hpp>

namespace chaton::testing {

// A self-signed certificate for 127.0.0.1 (subjectAltName IP), written as
// PEM files: cert.pem and key.pem in `dir`. False when OpenSSL fails.
inline bool write_self_signed(const std::filesystem::path& dir) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) return false;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return false;
  std::FILE* c = std::fopen((dir / "cert.pem").c_str(), "w");
  std::FILE* k = std::fopen((dir / "key.pem").c_str(), "w");
  bool ok = c && k && PEM_write_X509(c, cert.get()) &&
            PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  if (c) std::fclose(c);
  if (k) std::fclose(k);
  return ok;
}

// A server's TLS context with a fresh self-signed certificate written to
// `dir`; null when OpenSSL fails.
inline std::shared_ptr<boost::asio::ssl::context> self_signed_server_context(
    const std::filesystem::path& dir) {
  if (!write_self_signed(dir)) return nullptr;
  auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  tls->use_certificate_chain_file((dir / "cert.pem").string());
  tls->use_private_key_file((dir / "key.pem").string(), boost::asio::ssl::context::pem);
  return tls;
}

}  // namespace chaton::testing
