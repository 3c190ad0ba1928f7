// Flag and environment parsing of keyvad (config.h).
#include "internal/server/config.h"

#include <catch2/catch.hpp>
#include <map>
#include <vector>

namespace keyva::server {
namespace {

ConfigParseResult Parse(std::vector<const char*> args, std::map<std::string, std::string> env,
                        ServerConfig* config) {
  args.insert(args.begin(), "keyvad");
  return ParseConfig(
      static_cast<int>(args.size()), args.data(),
      [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      config);
}

}  // namespace

TEST_CASE("ParseSize reads units") {
  uint64_t n = 0;
  CHECK((ParseSize("4096", &n) && n == 4096));
  CHECK((ParseSize("16MiB", &n) && n == 16u << 20));
  CHECK((ParseSize("16mib", &n) && n == 16u << 20));
  CHECK((ParseSize("64KiB", &n) && n == 64u << 10));
  CHECK((ParseSize("512K", &n) && n == 512u << 10));
  CHECK((ParseSize("1GiB", &n) && n == 1u << 30));
  CHECK((ParseSize("10MB", &n) && n == 10'000'000));
  CHECK((ParseSize("7B", &n) && n == 7));
  n = 99;
  for (const char* bad :
       {"", "MiB", "1.5MiB", "-1", "12XB", "1 MiB", "99999999999999999999", "17179869184GiB"}) {
    INFO(bad);
    CHECK_FALSE(ParseSize(bad, &n));
  }
  CHECK(n == 99);
}

TEST_CASE("ParseDuration reads ms, s, m and h") {
  std::chrono::milliseconds d{};
  CHECK((ParseDuration("500ms", &d) && d.count() == 500));
  CHECK((ParseDuration("10s", &d) && d.count() == 10'000));
  CHECK((ParseDuration("10", &d) && d.count() == 10'000));
  CHECK((ParseDuration("2m", &d) && d.count() == 120'000));
  CHECK((ParseDuration("24h", &d) && d.count() == 86'400'000));
  for (const char* bad : {"", "s", "1d", "1.5s", "-1s"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad, &d));
  }
}

TEST_CASE("ParseWatchRetention reads revisions, an age, or both") {
  uint64_t n = 7;
  std::chrono::milliseconds age{7};
  CHECK((ParseWatchRetention("1000000,24h", &n, &age) && n == 1'000'000 &&
         age.count() == 86'400'000));
  CHECK((ParseWatchRetention("90m,500", &n, &age) && n == 500 && age.count() == 5'400'000));
  CHECK((ParseWatchRetention("100", &n, &age) && n == 100 && age.count() == 0));
  CHECK((ParseWatchRetention("10s", &n, &age) && n == 0 && age.count() == 10'000));
  for (const char* bad : {"", ",", "0", "0s", "5,6", "1h,2h", "100,", ",100", "x", "-1"}) {
    INFO(bad);
    CHECK_FALSE(ParseWatchRetention(bad, &n, &age));
  }
  ServerConfig c;
  CHECK(c.watch_retention_revisions == 1'000'000);
  CHECK(c.watch_retention_age == std::chrono::hours(24));
}

TEST_CASE("SplitHostPort accepts IPv4, names, bracketed IPv6 and :port") {
  std::string host;
  uint16_t port = 0;
  CHECK((SplitHostPort("127.0.0.1:8080", &host, &port) && host == "127.0.0.1" && port == 8080));
  CHECK((SplitHostPort("localhost:0", &host, &port) && host == "localhost" && port == 0));
  CHECK((SplitHostPort("[::1]:9", &host, &port) && host == "::1" && port == 9));
  CHECK((SplitHostPort(":80", &host, &port) && host == "0.0.0.0" && port == 80));
  for (const char* bad : {"", "host", "host:", "host:65536", "::1:80", "[::1]", "[]:80", "h:x"}) {
    INFO(bad);
    CHECK_FALSE(SplitHostPort(bad, &host, &port));
  }
}

TEST_CASE("defaults, environment fallbacks and flag precedence") {
  ServerConfig c;
  REQUIRE(Parse({}, {}, &c).action == ConfigParseResult::Action::kRun);
  CHECK(c.addr == "127.0.0.1:8080");
  CHECK(c.data_dir == "./data");
  CHECK(c.sync == SyncMode::kAlways);
  CHECK(c.max_value_size == 16u << 20);
  CHECK(c.memtable_size == 4u << 20);
  CHECK(c.cache_size == 64u << 20);
  CHECK(c.max_key_size == 1024);
  CHECK(c.queue_capacity == 4096);
  CHECK(c.threads >= 1);
  CHECK(c.auth_token.empty());
  CHECK_FALSE(c.tls());

  ServerConfig e;
  REQUIRE(Parse({},
                {{"KEYVA_ADDR", "127.0.0.1:9"},
                 {"KEYVA_DATA_DIR", "/d"},
                 {"KEYVA_SYNC", "none"},
                 {"KEYVA_MAX_VALUE_SIZE", "1KiB"},
                 {"KEYVA_ACCESS_LOG", "true"},
                 {"KEYVA_AUTH_TOKEN", "t"}},
                &e)
              .action == ConfigParseResult::Action::kRun);
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 9);
  CHECK(e.data_dir == "/d");
  CHECK(e.sync == SyncMode::kNone);
  CHECK(e.max_value_size == 1024);
  CHECK(e.access_log);
  CHECK(e.auth_token == "t");

  ServerConfig f;
  REQUIRE(Parse({"--data-dir", "/flag", "--sync=always", "--access-log", "--threads=3"},
                {{"KEYVA_DATA_DIR", "/env"}, {"KEYVA_SYNC", "none"}}, &f)
              .action == ConfigParseResult::Action::kRun);
  CHECK(f.data_dir == "/flag");
  CHECK(f.sync == SyncMode::kAlways);
  CHECK(f.access_log);
  CHECK(f.threads == 3);
}

TEST_CASE("bad values are errors that name the flag or variable") {
  struct Case {
    std::vector<const char*> args;
    std::map<std::string, std::string> env;
    const char* mentions;
  };
  for (const Case& bad : std::vector<Case>{
           {{"--sync=often"}, {}, "--sync"},
           {{"--max-key-size=0"}, {}, "--max-key-size"},
           {{"--max-key-size=100000"}, {}, "--max-key-size"},
           {{"--queue-capacity=0"}, {}, "--queue-capacity"},
           {{"--threads=many"}, {}, "--threads"},
           {{"--header-timeout=0s"}, {}, "--header-timeout"},
           {{"--unknown"}, {}, "--unknown"},
           {{"--addr"}, {}, "--addr"},
           {{"--access-log=maybe"}, {}, "--access-log"},
           {{"--tls-cert=a.pem"}, {}, "--tls-key"},
           {{"positional"}, {}, "positional"},
           {{}, {{"KEYVA_CACHE_SIZE", "big"}}, "KEYVA_CACHE_SIZE"},
       }) {
    ServerConfig c;
    ConfigParseResult r = Parse(bad.args, bad.env, &c);
    INFO(r.message);
    CHECK(r.action == ConfigParseResult::Action::kError);
    CHECK(r.message.find(bad.mentions) != std::string::npos);
  }
  ServerConfig c;
  CHECK(Parse({"--sync=bad", "--help"}, {}, &c).action == ConfigParseResult::Action::kError);
  CHECK(Parse({"--help"}, {}, &c).action == ConfigParseResult::Action::kHelp);
}

TEST_CASE("the usage text names every flag, its variable and default") {
  std::string usage = UsageText();
  for (const char* s :
       {"--addr",         "KEYVA_ADDR",   "--data-dir",       "KEYVA_DATA_DIR",   "--sync",
        "KEYVA_SYNC",     "--cache-size", "--memtable-size",  "--max-value-size", "default: 16MiB",
        "--max-key-size", "--threads",    "--queue-capacity", "--auth-token",     "--tls-cert",
        "--tls-key",      "--log-level",  "--access-log",     "--port-file",      "--help"}) {
    INFO(s);
    CHECK(usage.find(s) != std::string::npos);
  }
}

TEST_CASE(
    "cache quotas: --cache-quota is repeatable, takes comma lists, replaces the env, refuses "
    "overlaps") {
  ServerConfig c;
  REQUIRE(
      Parse({"--cache-quota", "bazel/=10GiB", "--cache-quota=gradle/=1MB,a=b=5"}, {}, &c).action ==
      ConfigParseResult::Action::kRun);
  REQUIRE(c.cache_quotas.size() == 3);
  CHECK(c.cache_quotas[0].prefix == "bazel/");
  CHECK(c.cache_quotas[0].limit == uint64_t{10} << 30);
  CHECK(c.cache_quotas[1].prefix == "gradle/");
  CHECK(c.cache_quotas[1].limit == 1'000'000);
  CHECK(c.cache_quotas[2].prefix == "a=b");  // the size follows the last '='
  CHECK(c.cache_quotas[2].limit == 5);

  ServerConfig e;
  REQUIRE(Parse({}, {{"KEYVA_CACHE_QUOTA", "x/=1KiB,y/=2KiB"}}, &e).action ==
          ConfigParseResult::Action::kRun);
  CHECK(e.cache_quotas.size() == 2);
  ServerConfig f;
  REQUIRE(Parse({"--cache-quota=z/=3"}, {{"KEYVA_CACHE_QUOTA", "x/=1KiB"}}, &f).action ==
          ConfigParseResult::Action::kRun);
  REQUIRE(f.cache_quotas.size() == 1);
  CHECK(f.cache_quotas[0].prefix == "z/");

  for (const char* bad : {"bazel/", "=10GiB", "bazel/=", "bazel/=0", "bazel/=ten", "a/=1,"}) {
    ServerConfig b;
    ConfigParseResult r = Parse({"--cache-quota", bad}, {}, &b);
    CHECK(r.action == ConfigParseResult::Action::kError);
    CHECK(r.message.find("--cache-quota") != std::string::npos);
  }
  ServerConfig o;
  ConfigParseResult r = Parse({"--cache-quota=ci/=1MiB", "--cache-quota=ci/bazel/=1MiB"}, {}, &o);
  CHECK(r.action == ConfigParseResult::Action::kError);
  CHECK(r.message.find("'ci/' and 'ci/bazel/' overlap") != std::string::npos);
  ServerConfig d;
  CHECK(Parse({"--cache-quota=ci/=1MiB,ci/=2MiB"}, {}, &d).action ==
        ConfigParseResult::Action::kError);
}

}  // namespace keyva::server
