// keyva: the command-line client of keyvad.
//
//   keyva [--url URL] [--token TOKEN] [--insecure] COMMAND ARGS...
//     get KEY                 write the value to stdout
//     put KEY [FILE|-]        store FILE (stdin when "-" or absent)
//                             [--type TYPE] [--ttl SECONDS] [--if-match ETAG] [--if-absent]
//     del KEY                 delete the value
//     ls [PREFIX]             list keys (every page): key, size, type, modified
//     seq NAME [--by N]       add N (default 1) to a counter, print the new value
//     watch [PREFIX]          print each change to keys under PREFIX as it happens, until
//                             Ctrl-C; [--since REVISION] [--key KEY] [--json] (watch.h)
//     health                  exit 0 when keyvad answers /healthz with 200 (container checks)
//     checkpoint [NAME]       ask keyvad for an online backup in its --backup-dir
//   keyva token new NAME [--rights R,R...] [--expires TIME]
//                             make a random token (no server): print it once on stdout's first
//                             line and the tokens-file line (its SHA-256, not the token) on the
//                             second (docs/server.md, "Tokens")
//   keyva verify --data-dir DIR   check every checksum of a data directory offline (no server;
//                                 reads only; refuses while a keyvad holds the directory)
//
// --url defaults to $KEYVA_URL or http://127.0.0.1:8080; --token to $KEYVA_AUTH_TOKEN.
// Exit codes: 0 success (watch: stopped by SIGINT or SIGTERM), 1 the server refused (its message
// on stderr; watch: also 410 Gone) or verify found damage, 2 usage, 3 unreachable (watch: at the
// first connection; later it reconnects), 4 verify: the directory is in use by a running keyvad.

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/keyva/api_client.h"
#include "cmd/keyva/watch.h"
#include "internal/engine/env.h"
#include "internal/engine/verify.h"
#include "internal/server/access_tokens.h"
#include "internal/server/uri_decoding.h"

namespace {

using keyva::cli::ApiClient;
using keyva::cli::ApiError;
using keyva::cli::ApiResponse;
using keyva::cli::QueryValue;

constexpr const char* kUsage =
    "Usage: keyva [--url URL] [--token TOKEN] [--insecure] COMMAND ARGS...\n"
    "\n"
    "Commands:\n"
    "  get KEY              write the value to stdout\n"
    "  put KEY [FILE|-]     store FILE, or stdin when FILE is '-' or absent\n"
    "                       --type TYPE      Content-Type (default: sniffed by the server)\n"
    "                       --ttl SECONDS    expire after SECONDS\n"
    "                       --if-match ETAG  only replace this version\n"
    "                       --if-absent      only create\n"
    "  del KEY              delete the value\n"
    "  ls [PREFIX]          list keys: key, size, content type, modified (tab-separated)\n"
    "  seq NAME [--by N]    add N (default 1) to a counter and print the new value\n"
    "  watch [PREFIX]       print each change to keys and counters under PREFIX as it\n"
    "                       happens, one line each (\"42 put app/db 5 bytes text/plain\",\n"
    "                       \"45 delete app/db\"), until Ctrl-C; reconnects by itself\n"
    "                       --since REVISION the changes after REVISION (default: from now)\n"
    "                       --key KEY        only this key (instead of PREFIX)\n"
    "                       --json           each event's JSON object, one per line\n"
    "  health               check /healthz: exit 0 when the server is healthy\n"
    "  checkpoint [NAME]    write a consistent copy of the database to the server's\n"
    "                       --backup-dir/NAME (default NAME: checkpoint-<UTC time>)\n"
    "  token new NAME       print a new random token (shown once) and the line that grants\n"
    "                       it in keyvad's --tokens-file; needs no server\n"
    "                       --rights R,R...  read|write|delete[:kv/PREFIX|:seq/PREFIX], admin\n"
    "                                        (default: read)\n"
    "                       --expires TIME   RFC 3339 expiry, such as 2027-01-01T00:00:00Z\n"
    "  verify --data-dir DIR  check every checksum of a data directory offline (MANIFEST,\n"
    "                       every live SST block, the WALs); reads only, needs no server, and\n"
    "                       refuses while a keyvad holds the directory\n"
    "\n"
    "Options:\n"
    "  --url URL            keyvad's address (env KEYVA_URL, default http://127.0.0.1:8080)\n"
    "  --token TOKEN        bearer token sent with every request (env KEYVA_AUTH_TOKEN)\n"
    "  --insecure           with https, do not verify the server certificate\n"
    "\n"
    "Exit codes: 0 success (watch: stopped by Ctrl-C), 1 refused by the server (watch: the\n"
    "revision is no longer held; verify: damage found), 2 usage error, 3 server unreachable,\n"
    "4 verify: the directory is in use.\n";

int Usage(const std::string& problem) {
  std::cerr << "keyva: " << problem << "\n\n" << kUsage;
  return 2;
}

// Reports an HTTP error status with the server's message; returns the exit code.
int Refused(const ApiResponse& r) {
  std::cerr << "keyva: " << keyva::cli::ServerMessage(r) << " (HTTP " << r.status << ")\n";
  return 1;
}

std::string KeyPath(const std::string& prefix, const std::string& key) {
  return prefix + keyva::server::PercentEncodePath(key);
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // name without "--" -> value ("" for switches)
};

// Options that take a value; the rest are switches.
bool TakesValue(const std::string& name) {
  return name == "url" || name == "token" || name == "type" || name == "ttl" ||
         name == "if-match" || name == "by" || name == "data-dir" || name == "since" ||
         name == "key" || name == "rights" || name == "expires";
}

bool IsSwitch(const std::string& name) {
  return name == "insecure" || name == "if-absent" || name == "json";
}

bool ParseArgs(int argc, char** argv, Args* args, std::string* error) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      size_t eq = name.find('=');
      bool has_value = eq != std::string::npos;
      if (has_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (TakesValue(name)) {
        if (!has_value) {
          if (i + 1 >= argc) {
            *error = "--" + name + " needs a value";
            return false;
          }
          value = argv[++i];
        }
      } else if (!IsSwitch(name) || has_value) {
        *error = "unknown option " + a;
        return false;
      }
      args->options[name] = value;
    } else {
      args->positional.push_back(a);
    }
  }
  return true;
}

int Get(ApiClient& api, const std::string& key) {
  ApiResponse r = api.Send("GET", KeyPath("/kv/", key), "");
  if (r.status != 200) return Refused(r);
  std::fwrite(r.body.data(), 1, r.body.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int Put(ApiClient& api, const std::string& key, const std::string& file, const Args& args) {
  std::string body;
  if (file.empty() || file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "keyva: cannot read " << file << "\n";
      return 2;
    }
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto it = args.options.find("type"); it != args.options.end()) {
    headers.emplace_back("Content-Type", it->second);
  }
  if (auto it = args.options.find("if-match"); it != args.options.end()) {
    std::string etag = it->second;
    if (etag.empty() || etag.front() != '"') etag = "\"" + etag + "\"";
    headers.emplace_back("If-Match", etag);
  }
  if (args.options.count("if-absent")) headers.emplace_back("If-None-Match", "*");
  std::string target = KeyPath("/kv/", key);
  if (auto it = args.options.find("ttl"); it != args.options.end()) {
    target += "?ttl=" + QueryValue(it->second);
  }
  ApiResponse r = api.Send("PUT", target, body, headers);
  if (r.status != 200 && r.status != 201) return Refused(r);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  std::cout << (r.status == 201 ? "created " : "replaced ") << key;
  if (!j.is_discarded()) {
    std::cout << " (" << j.value("size", 0) << " bytes, " << j.value("content_type", "")
              << ", etag " << j.value("etag", "") << ")";
  }
  std::cout << "\n";
  return 0;
}

int Del(ApiClient& api, const std::string& key) {
  ApiResponse r = api.Send("DELETE", KeyPath("/kv/", key), "");
  if (r.status != 200) return Refused(r);
  return 0;
}

int Ls(ApiClient& api, const std::string& prefix) {
  std::string after;
  while (true) {
    std::string target = "/kv/?limit=1000";
    if (!prefix.empty()) target += "&prefix=" + QueryValue(prefix);
    if (!after.empty()) target += "&after=" + QueryValue(after);
    ApiResponse r = api.Send("GET", target, "");
    if (r.status != 200) return Refused(r);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("keys")) {
      std::cerr << "keyva: the server sent a listing that is not JSON\n";
      return 1;
    }
    for (const auto& k : j["keys"]) {
      std::cout << k.value("key", "") << '\t' << k.value("size", 0) << '\t'
                << k.value("content_type", "") << '\t' << k.value("modified", "") << '\n';
    }
    if (!j["next"].is_string()) break;
    after = j["next"].get<std::string>();
  }
  return 0;
}

int Seq(ApiClient& api, const std::string& name, const Args& args) {
  std::string target = KeyPath("/seq/", name);
  if (auto it = args.options.find("by"); it != args.options.end()) {
    target += "?by=" + QueryValue(it->second);
  }
  ApiResponse r = api.Send("POST", target, "");
  if (r.status != 200) return Refused(r);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("value")) {
    std::cerr << "keyva: unexpected answer: " << r.body << "\n";
    return 1;
  }
  std::cout << j["value"].get<int64_t>() << "\n";
  return 0;
}

int Health(ApiClient& api) {
  ApiResponse r = api.Send("GET", "/healthz", "");
  if (r.status != 200) return Refused(r);
  std::cout << "healthy\n";
  return 0;
}

int Checkpoint(ApiClient& api, const std::string& name) {
  std::string target = "/api/checkpoint";
  if (!name.empty()) target += "?name=" + QueryValue(name);
  ApiResponse r = api.Send("POST", target, "");
  if (r.status != 201) return Refused(r);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("path")) {
    std::cerr << "keyva: unexpected answer: " << r.body << "\n";
    return 1;
  }
  std::cout << j["path"].get<std::string>() << "\n";
  return 0;
}

// keyva watch: the options checked here (exit 2), the rest in watch.cc.
int WatchCommand(ApiClient& api, const std::vector<std::string>& rest, const Args& args) {
  keyva::cli::WatchOptions options;
  if (rest.size() > 1) return Usage("watch takes at most one PREFIX");
  if (!rest.empty()) options.prefix = rest[0];
  if (auto it = args.options.find("key"); it != args.options.end()) {
    if (!rest.empty()) return Usage("watch takes a PREFIX or --key KEY, not both");
    if (it->second.empty()) return Usage("--key needs a key");
    options.key = it->second;
  }
  if (auto it = args.options.find("since"); it != args.options.end()) {
    const std::string& v = it->second;
    uint64_t since = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), since);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
      return Usage("--since needs a revision (a whole number), got '" + v + "'");
    }
    options.since = since;
  }
  options.json = args.options.count("json") > 0;
  return keyva::cli::Watch(api, options, std::cout, std::cerr);
}

// keyva verify: an offline check of a data directory. Holds a shared lock on the directory's LOCK
// file while it reads (keyva::LockDataDirShared), so a keyvad (which takes an exclusive one)
// cannot start meanwhile, and a running one is detected. Opens nothing for writing.
int Verify(const std::string& dir) {
  keyva::Env* env = keyva::Env::Default();
  std::unique_ptr<keyva::FileLock> lock;
  keyva::Status s = keyva::LockDataDirShared(env, dir, &lock);
  if (s.IsBusy()) {
    std::cerr << "keyva: " << dir
              << " is in use (locked by a running keyvad); stop it first, or verify a copy\n";
    return 4;
  }
  if (!s.ok()) {
    std::cerr << "keyva: cannot lock " << s.message() << "\n";
    return 1;
  }
  keyva::VerifyReport report;
  s = keyva::VerifyDataDir(env, dir, &report);
  lock.reset();
  if (!s.ok()) {
    std::cerr << "keyva: " << s.ToString() << "\n";
    return 1;
  }
  std::cout << "verifying " << dir << "\n" << report.Summary();
  return report.ok() ? 0 : 1;
}

// keyva token new NAME: a fresh token and its tokens-file line, checked by the server's own
// parser so the line is one keyvad accepts.
int TokenNew(const std::string& name, const Args& args) {
  std::string rights = args.options.count("rights") ? args.options.at("rights") : "read";
  for (char& c : rights) {
    if (c == ',') c = ' ';
  }
  const std::string expires = args.options.count("expires") ? args.options.at("expires") : "";
  for (const std::string* part : {&name, static_cast<const std::string*>(&rights), &expires}) {
    if (part->find_first_of("\r\n") != std::string::npos) {
      return Usage("token new: the name, rights and expiry must be on one line");
    }
  }
  if (name.find_first_of(" \t") != std::string::npos) {
    return Usage("token new: the name must be letters, digits, '.', '_' or '-'");
  }
  std::string line = name + " ";
  std::string token;
  try {
    token = keyva::server::NewRandomToken();
  } catch (const std::exception& e) {
    std::cerr << "keyva: " << e.what() << "\n";
    return 1;
  }
  line += keyva::server::HexDigest(keyva::server::Sha256(token)) + " " + rights;
  if (!expires.empty()) line += " expires=" + expires;
  std::string error;
  if (!keyva::server::TokenSet::Parse(line, &error)) {
    return Usage("token new: " + error.substr(error.find(": ") + 2));
  }
  std::cout << token << "\n" << line << "\n";
  std::cerr << "keyva: the first line is the token, shown only now: keep it secret. Add the "
               "second line to keyvad's --tokens-file, then send keyvad SIGHUP.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
                    std::string(argv[1]) == "help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!ParseArgs(argc, argv, &args, &error)) return Usage(error);
  if (args.positional.empty()) return Usage("no command given");
  const std::string cmd = args.positional[0];
  const std::vector<std::string> rest(args.positional.begin() + 1, args.positional.end());
  if (cmd == "verify") {
    auto it = args.options.find("data-dir");
    if (!rest.empty() || it == args.options.end() || it->second.empty()) {
      return Usage("verify needs --data-dir DIR (and nothing else)");
    }
    return Verify(it->second);
  }
  if (cmd == "token") {
    if (rest.size() != 2 || rest[0] != "new") return Usage("usage: token new NAME [--rights ...]");
    return TokenNew(rest[1], args);
  }

  auto env = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  std::string url =
      args.options.count("url") ? args.options["url"] : env("KEYVA_URL", "http://127.0.0.1:8080");
  std::string token =
      args.options.count("token") ? args.options["token"] : env("KEYVA_AUTH_TOKEN", "");
  try {
    ApiClient api(url, token, args.options.count("insecure") > 0);
    if (cmd == "get" && rest.size() == 1) return Get(api, rest[0]);
    if (cmd == "put" && (rest.size() == 1 || rest.size() == 2)) {
      return Put(api, rest[0], rest.size() == 2 ? rest[1] : "-", args);
    }
    if (cmd == "del" && rest.size() == 1) return Del(api, rest[0]);
    if (cmd == "ls" && rest.size() <= 1) return Ls(api, rest.empty() ? "" : rest[0]);
    if (cmd == "seq" && rest.size() == 1) return Seq(api, rest[0], args);
    if (cmd == "health" && rest.empty()) return Health(api);
    if (cmd == "watch") return WatchCommand(api, rest, args);
    if (cmd == "checkpoint" && rest.size() <= 1)
      return Checkpoint(api, rest.empty() ? "" : rest[0]);
    return Usage("bad command or arguments: " + cmd);
  } catch (const ApiError& e) {
    std::cerr << "keyva: " << e.what() << "\n";
    return 3;
  }
}
