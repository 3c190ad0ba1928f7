// Helpers for tests that run keyvad with --tokens-file: the file's lines (SHA-256 digests of
// tokens) and the credentials a client presents (Basic auth).
//
// Thread-safety: pure functions (WriteFile writes the file it is given).
#pragma once

#include <string>

namespace keyva::testing {

// SHA-256 of s in hex, as sha256sum prints it (the second field of a tokens file line).
std::string Sha256Hex(const std::string& s);

// One line of a tokens file: "NAME SHA256(token) RIGHTS\n".
std::string TokenLine(const std::string& name, const std::string& token, const std::string& rights);

// Replaces the file at path with text; throws when it cannot.
void WriteFile(const std::string& path, const std::string& text);

// Standard base64 with padding.
std::string Base64(const std::string& in);

// The Authorization header value of Basic auth: "Basic " + base64(user:password).
std::string BasicAuth(const std::string& user, const std::string& password);

}  // namespace keyva::testing
