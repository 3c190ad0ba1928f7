// Integration tests of HTTPS (--tls-cert/--tls-key) with a self-signed certificate made here.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

// Writes a fresh self-signed P-256 certificate for "localhost" and its key as PEM files.
void MakeSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  FILE* f = std::fopen(cert_path.c_str(), "w");
  REQUIRE(f != nullptr);
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  REQUIRE(f != nullptr);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

}  // namespace

TEST_CASE("with --tls-cert and --tls-key keyvad serves HTTPS only") {
  TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  MakeSelfSignedCert(cert, key);
  KeyvadProcess keyvad({.args = {"--tls-cert=" + cert, "--tls-key=" + key}});
  HttpTestClient c(keyvad.port(), /*tls=*/true);
  CHECK(c.Put("/kv/secret", "over tls", "text/plain").status == 201);
  HttpReply r = c.Get("/kv/secret");
  CHECK(r.status == 200);
  CHECK(r.body == "over tls");
  CHECK(c.Get("/healthz").status == 200);
  CHECK(c.requests_on_connection() == 3);

  // Plain HTTP on the TLS port gets no HTTP answer.
  std::string raw = RawExchange(keyvad.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(StatusOf(raw) == 0);
  CHECK(keyvad.Stop(SIGTERM) == 0);
}

TEST_CASE("unreadable TLS material stops keyvad at startup") {
  TempDir dir;
  std::string out;
  int code = RunProgram(
      KEYVAD_PATH,
      {"--addr=127.0.0.1:0", "--data-dir=" + dir.path() + "/data",
       "--tls-cert=" + dir.path() + "/missing.pem", "--tls-key=" + dir.path() + "/missing.key"},
      &out);
  CHECK(code == 1);
  CHECK(out.find("TLS") != std::string::npos);
  code = RunProgram(KEYVAD_PATH, {"--tls-cert=" + dir.path() + "/only-cert.pem"}, &out);
  CHECK(code == 2);
}

}  // namespace keyva::testing
