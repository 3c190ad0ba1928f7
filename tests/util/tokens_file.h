// Tokens files for tests of --tokens-file (access_tokens.h): a token's SHA-256 as the file holds
// it, one line of the file, and writing a file.
//
// Thread-safety: pure functions (WriteFile touches only its file). Failures throw.
#pragma once

#include <string>

namespace keyva::testing {

// SHA-256 of s in hex, as sha256sum prints it.
std::string Sha256Hex(const std::string& s);

// "NAME SHA256(token) RIGHTS\n": the line that grants token the rights (space-separated).
std::string TokenLine(const std::string& name, const std::string& token, const std::string& rights);

// Replaces path's contents with text; throws std::runtime_error when it cannot.
void WriteFile(const std::string& path, const std::string& text);

}  // namespace keyva::testing
