// Flag and environment parsing for keyvad; see config.h.
#include "internal/server/config.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <thread>
#include <vector>

#include "internal/server/cors.h"

namespace keyva::server {
namespace {

// A setter returns an empty string on success, else what is wrong with the value.
using Setter = std::function<std::string(ServerConfig*, std::string_view)>;

struct FlagSpec {
  const char* name;  // without the leading "--"
  const char* value_name;
  const char* default_text;
  const char* help;
  bool is_bool;
  Setter set;
};

std::string EnvName(std::string_view flag) {
  std::string env = "KEYVA_";
  for (char c : flag) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return env;
}

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

Setter SizeSetter(uint64_t ServerConfig::*field, uint64_t min, uint64_t max) {
  return [=](ServerConfig* c, std::string_view v) -> std::string {
    uint64_t n;
    if (!ParseSize(v, &n)) return "expected a size such as 4096, 64KiB or 16MiB";
    if (n < min || n > max) {
      return "must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes";
    }
    c->*field = n;
    return {};
  };
}

Setter CountSetter(uint64_t ServerConfig::*field, uint64_t min, uint64_t max) {
  return [=](ServerConfig* c, std::string_view v) -> std::string {
    uint64_t n;
    if (!ParseUint(v, &n) || n < min || n > max) {
      return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    }
    c->*field = n;
    return {};
  };
}

Setter DurationSetter(std::chrono::milliseconds ServerConfig::*field) {
  return [=](ServerConfig* c, std::string_view v) -> std::string {
    std::chrono::milliseconds d;
    if (!ParseDuration(v, &d) || d.count() <= 0) {
      return "expected a positive duration such as 500ms, 10s, 2m or 1h";
    }
    c->*field = d;
    return {};
  };
}

Setter StringSetter(std::string ServerConfig::*field, bool allow_empty) {
  return [=](ServerConfig* c, std::string_view v) -> std::string {
    if (!allow_empty && v.empty()) return "must not be empty";
    c->*field = std::string(v);
    return {};
  };
}

bool ParseBool(std::string_view v, bool* out) {
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (s == "1" || s == "true" || s == "yes" || s == "on") {
    *out = true;
  } else if (s == "0" || s == "false" || s == "no" || s == "off") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> flags = {
      {"addr", "HOST:PORT", "127.0.0.1:8080",
       "address to listen on; loopback only by default, :8080 or 0.0.0.0:8080 for every "
       "interface; port 0 picks a free port",
       false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         if (!SplitHostPort(v, &c->host, &c->port)) {
           return "expected HOST:PORT, [IPv6]:PORT or :PORT";
         }
         c->addr = std::string(v);
         return {};
       }},
      {"data-dir", "DIR", "./data", "directory of the database (created when missing)", false,
       StringSetter(&ServerConfig::data_dir, false)},
      {"sync", "always|none", "always",
       "always: fsync the WAL before acknowledging a write (one fsync per group of writes); "
       "none: leave it to the OS (survives a process crash, not power loss)",
       false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         if (v == "always") {
           c->sync = SyncMode::kAlways;
         } else if (v == "none") {
           c->sync = SyncMode::kNone;
         } else {
           return "expected 'always' or 'none'";
         }
         return {};
       }},
      {"cache-size", "SIZE", "64MiB", "block cache capacity", false,
       SizeSetter(&ServerConfig::cache_size, 0, uint64_t{1} << 40)},
      {"memtable-size", "SIZE", "4MiB", "memtable bytes before it is flushed to an SST", false,
       SizeSetter(&ServerConfig::memtable_size, 64u << 10, uint64_t{1} << 32)},
      {"max-value-size", "SIZE", "16MiB", "largest request body (value) accepted; larger: 413",
       false, SizeSetter(&ServerConfig::max_value_size, 1, keyva::kMaxValueSize)},
      {"max-key-size", "BYTES", "1024", "longest key (after percent-decoding); longer: 414", false,
       SizeSetter(&ServerConfig::max_key_size, 1, keyva::kMaxKeySize - 1)},
      {"max-header-size", "SIZE", "16KiB", "largest request line + headers accepted; larger: 431",
       false, SizeSetter(&ServerConfig::max_header_size, 1024, 1u << 20)},
      {"threads", "N", "number of cores", "I/O threads running the HTTP sessions", false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         uint64_t n;
         if (!ParseUint(v, &n) || n < 1 || n > 1024)
           return "expected a whole number from 1 to 1024";
         c->threads = static_cast<int>(n);
         return {};
       }},
      {"queue-capacity", "N", "4096",
       "requests waiting for the storage thread before new ones get 503", false,
       CountSetter(&ServerConfig::queue_capacity, 1, 1u << 20)},
      {"auth-token", "TOKEN", "none", "when set, writes need 'Authorization: Bearer TOKEN'", false,
       StringSetter(&ServerConfig::auth_token, true)},
      {"tokens-file", "FILE", "none",
       "named tokens with read/write/delete/admin rights over key prefixes (docs/server.md); "
       "re-read on SIGHUP",
       false, StringSetter(&ServerConfig::tokens_file, true)},
      {"auth-reads", "", "off",
       "reads (values, listings, counters, watches, stats, metrics) need a token with the right "
       "too",
       true,
       [](ServerConfig* c, std::string_view v) -> std::string {
         return ParseBool(v, &c->auth_reads) ? "" : "expected true or false";
       }},
      {"audit-log", "FILE", "the log",
       "append one line per write and delete (token, method, key, ETag) to FILE; without it "
       "they go to the log when tokens are configured",
       false, StringSetter(&ServerConfig::audit_log, true)},
      {"cors-origins", "ORIGINS", "none",
       "'*' or a comma-separated list of origins (https://app.example.com,http://localhost:3000) "
       "whose pages may call the API from a browser (CORS); unset: no CORS headers",
       false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         std::string error;
         if (!CorsPolicy::Parse(v, &error)) return error;
         c->cors_origins = std::string(v);
         return {};
       }},
      {"tls-cert", "FILE", "none", "PEM certificate chain; with --tls-key, serve HTTPS only", false,
       StringSetter(&ServerConfig::tls_cert, true)},
      {"tls-key", "FILE", "none", "PEM private key for --tls-cert", false,
       StringSetter(&ServerConfig::tls_key, true)},
      {"log-level", "LEVEL", "info", "trace, debug, info, warn, error or off", false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* l : kLevels) {
           if (v == l) {
             c->log_level = std::string(v);
             return {};
           }
         }
         return "expected trace, debug, info, warn, error or off";
       }},
      {"access-log", "", "off", "log one line per request", true,
       [](ServerConfig* c, std::string_view v) -> std::string {
         return ParseBool(v, &c->access_log) ? "" : "expected true or false";
       }},
      {"port-file", "FILE", "none", "write the listening port to FILE once listening", false,
       StringSetter(&ServerConfig::port_file, true)},
      {"backup-dir", "DIR", "none",
       "POST /api/checkpoint?name=NAME writes a consistent copy of the database to DIR/NAME "
       "(NAME: letters, digits, '.', '_', '-'); unset: the route is disabled",
       false, StringSetter(&ServerConfig::backup_dir, true)},
      {"response-memory", "SIZE", "256MiB",
       "value bytes that responses in flight may hold (a value sent to many clients at once "
       "counts once); a GET that would exceed it gets 503",
       false, SizeSetter(&ServerConfig::response_memory, 1u << 20, uint64_t{1} << 40)},
      {"compress-min-size", "SIZE", "1KiB",
       "responses at least this large with a compressible type (text, JSON, XML, ...) are sent "
       "gzip or br coded to clients that accept it; 0: never compress",
       false, SizeSetter(&ServerConfig::compress_min_size, 0, uint64_t{1} << 40)},
      {"min-send-rate", "SIZE", "4KiB",
       "bytes per second a client must read a response at (each 64 KiB within 10 s plus that "
       "rate), or it is cut off; 0: each piece gets --body-timeout instead",
       false, SizeSetter(&ServerConfig::min_send_rate, 0, uint64_t{1} << 30)},
      {"header-timeout", "DURATION", "10s", "time allowed to send a request's headers", false,
       DurationSetter(&ServerConfig::header_timeout)},
      {"body-timeout", "DURATION", "60s", "time allowed to send a request's body", false,
       DurationSetter(&ServerConfig::body_timeout)},
      {"idle-timeout", "DURATION", "60s", "keep-alive connections idle longer are closed", false,
       DurationSetter(&ServerConfig::idle_timeout)},
      {"watch-retention", "N,DURATION", "1000000,24h",
       "how much of the change feed (GET /watch) is kept: the last N revisions and/or nothing "
       "older than DURATION (either part alone also works); older 'since' values get 410",
       false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         return ParseWatchRetention(v, &c->watch_retention_revisions, &c->watch_retention_age)
                    ? ""
                    : "expected N revisions, a duration such as 24h, or both as N,DURATION";
       }},
      {"watch-heartbeat", "DURATION", "15s",
       "a watch stream with nothing to send gets a comment line this often (keeps proxies from "
       "closing it)",
       false, DurationSetter(&ServerConfig::watch_heartbeat)},
      {"watch-stall-timeout", "DURATION", "30s",
       "a watcher whose connection takes nothing for this long is sent a final 'lagging' event "
       "(if it has room) and closed; it resumes with Last-Event-ID",
       false, DurationSetter(&ServerConfig::watch_stall_timeout)},
      {"max-watchers", "N", "10000", "watch streams and long polls open at once; more get 503",
       false, CountSetter(&ServerConfig::max_watchers, 1, 1u << 20)},
      {"cache-quota", "PREFIX=SIZE", "none",
       "the values under key PREFIX are a build cache holding at most SIZE bytes (keys + "
       "values); the least recently used are evicted to make room, a larger entry gets 413. "
       "Repeatable, or PREFIX=SIZE,PREFIX=SIZE; prefixes must not overlap",
       false,
       [](ServerConfig* c, std::string_view v) -> std::string {
         std::string error;
         return ParseCacheQuotas(v, &c->cache_quotas, &error) ? "" : error;
       }},
      {"shutdown-timeout", "DURATION", "10s",
       "on SIGINT/SIGTERM, time given to in-flight requests before connections are cut", false,
       DurationSetter(&ServerConfig::shutdown_timeout)},
      {"stats-interval", "DURATION", "10s",
       "how often /api/stats/history (the web page's dashboard) samples the server; it keeps "
       "the last 15 minutes",
       false, DurationSetter(&ServerConfig::stats_interval)},
  };
  return flags;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& f : Flags()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

}  // namespace

bool ParseSize(std::string_view text, uint64_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
  uint64_t n;
  if (!ParseUint(text.substr(0, digits), &n)) return false;
  std::string unit(text.substr(digits));
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  uint64_t mult;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kib") {
    mult = uint64_t{1} << 10;
  } else if (unit == "m" || unit == "mib") {
    mult = uint64_t{1} << 20;
  } else if (unit == "g" || unit == "gib") {
    mult = uint64_t{1} << 30;
  } else if (unit == "kb") {
    mult = 1000;
  } else if (unit == "mb") {
    mult = 1000 * 1000;
  } else if (unit == "gb") {
    mult = 1000 * 1000 * 1000;
  } else {
    return false;
  }
  if (n > std::numeric_limits<uint64_t>::max() / mult) return false;
  *bytes = n * mult;
  return true;
}

bool ParseDuration(std::string_view text, std::chrono::milliseconds* duration) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
  uint64_t n;
  if (!ParseUint(text.substr(0, digits), &n)) return false;
  std::string_view unit = text.substr(digits);
  uint64_t mult;
  if (unit == "ms") {
    mult = 1;
  } else if (unit.empty() || unit == "s") {
    mult = 1000;
  } else if (unit == "m") {
    mult = 60'000;
  } else if (unit == "h") {
    mult = 3'600'000;
  } else {
    return false;
  }
  constexpr uint64_t kMax = uint64_t{1} << 40;  // ~35 years: plenty, and no overflow below
  if (n > kMax / mult) return false;
  *duration = std::chrono::milliseconds(static_cast<int64_t>(n * mult));
  return true;
}

bool ParseWatchRetention(std::string_view text, uint64_t* revisions,
                         std::chrono::milliseconds* age) {
  uint64_t n = 0;
  std::chrono::milliseconds d{0};
  bool have_n = false, have_d = false;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return false;  // a trailing comma
    if (!have_n && ParseUint(part, &n) && n > 0) {
      have_n = true;
    } else if (!have_d && !part.empty() && (part.back() < '0' || part.back() > '9') &&
               ParseDuration(part, &d) && d.count() > 0) {
      have_d = true;
    } else {
      return false;
    }
  }
  if (!have_n && !have_d) return false;
  *revisions = have_n ? n : 0;
  *age = have_d ? d : std::chrono::milliseconds(0);
  return true;
}

bool ParseCacheQuotas(std::string_view text, std::vector<CacheQuotaSpec>* specs,
                      std::string* error) {
  while (true) {
    const size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    const size_t eq = part.rfind('=');
    CacheQuotaSpec spec;
    if (eq == std::string_view::npos || eq == 0) {
      *error = "expected PREFIX=SIZE such as bazel/=10GiB (several separated by commas)";
      return false;
    }
    spec.prefix = std::string(part.substr(0, eq));
    if (!ParseSize(part.substr(eq + 1), &spec.limit) || spec.limit == 0) {
      *error =
          "the quota of '" + spec.prefix + "' must be a size of at least 1 byte, such as 10GiB";
      return false;
    }
    specs->push_back(std::move(spec));
    if (comma == std::string_view::npos) return true;
    text = text.substr(comma + 1);
  }
}

bool SplitHostPort(std::string_view addr, std::string* host, uint16_t* port) {
  std::string_view h, p;
  if (!addr.empty() && addr.front() == '[') {
    size_t close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return false;
    }
    h = addr.substr(1, close - 1);
    p = addr.substr(close + 2);
    if (h.empty()) return false;
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = addr.substr(0, colon);
    p = addr.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  uint64_t n;
  if (!ParseUint(p, &n) || n > 65535) return false;
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = static_cast<uint16_t>(n);
  return true;
}

ConfigParseResult ParseConfig(int argc, const char* const* argv, const EnvLookup& getenv,
                              ServerConfig* config) {
  ConfigParseResult result;
  auto fail = [&](std::string message) {
    result.action = ConfigParseResult::Action::kError;
    result.message = std::move(message);
    return result;
  };
  {
    unsigned cores = std::thread::hardware_concurrency();
    config->threads = cores == 0 ? 1 : static_cast<int>(cores);
  }

  // Environment first, so flags override it.
  for (const FlagSpec& f : Flags()) {
    std::string env = EnvName(f.name);
    const char* v = getenv ? getenv(env.c_str()) : nullptr;
    if (v == nullptr) continue;
    std::string err = f.set(config, v);
    if (!err.empty()) return fail(env + "='" + v + "': " + err);
  }

  bool cache_quota_flag_seen = false;  // the first --cache-quota replaces KEYVA_CACHE_QUOTA
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      result.action = ConfigParseResult::Action::kHelp;
      return result;
    }
    if (arg.substr(0, 2) != "--") return fail("unexpected argument '" + std::string(arg) + "'");
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const FlagSpec* f = FindFlag(name);
    if (f == nullptr) return fail("unknown flag --" + std::string(name) + " (see --help)");
    if (!has_value) {
      if (f->is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return fail("flag --" + std::string(name) + " needs a value");
      }
    }
    if (name == "cache-quota" && !cache_quota_flag_seen) {
      cache_quota_flag_seen = true;
      config->cache_quotas.clear();
    }
    std::string err = f->set(config, value);
    if (!err.empty()) {
      return fail("--" + std::string(name) + "='" + std::string(value) + "': " + err);
    }
  }

  // A testing hook, never a flag: tests set it to make requests throw on purpose.
  if (const char* v = getenv ? getenv("KEYVA_FAULT_INJECTION") : nullptr) {
    if (!ParseBool(v, &config->fault_injection)) {
      return fail(std::string("KEYVA_FAULT_INJECTION='") + v + "': expected true or false");
    }
  }

  if (std::string err = CheckCacheQuotaSpecs(config->cache_quotas); !err.empty()) {
    return fail("--cache-quota: " + err);
  }
  if (config->tls_cert.empty() != config->tls_key.empty()) {
    return fail("--tls-cert and --tls-key must be given together");
  }
  return result;
}

std::string UsageText() {
  std::string out =
      "keyvad: an HTTP key-value server backed by an LSM-tree engine.\n\n"
      "Usage: keyvad [--flag=VALUE | --flag VALUE]...\n\n"
      "Every flag falls back to an environment variable (shown), then to its default.\n"
      "Sizes take a unit (4096, 64KiB, 16MiB, 1GiB; KB/MB/GB are powers of 1000);\n"
      "durations take ms, s, m or h (a bare number is seconds).\n\n";
  for (const FlagSpec& f : Flags()) {
    out.append("  --").append(f.name);
    if (!f.is_bool) out.append("=").append(f.value_name);
    out.append("\n      ").append(f.help);
    out.append("\n      env ").append(EnvName(f.name));
    out.append(", default: ").append(f.default_text).append("\n");
  }
  out += "  --help\n      print this text and exit\n";
  return out;
}

}  // namespace keyva::server
