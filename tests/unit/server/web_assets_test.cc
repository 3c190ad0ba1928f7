// Tests of the embedded web page (internal/server/web_assets.h): lookup by path, content types,
// that everything index.html links to is embedded, and that the page needs no inline script or
// style (so the strict Content-Security-Policy keyvad serves it with cannot break it).
#include "internal/server/web_assets.h"

#include <catch2/catch.hpp>
#include <regex>
#include <string>

namespace keyva::server {
namespace {

std::string IndexHtml() {
  const WebAsset* index = FindWebAsset("/index.html");
  REQUIRE(index != nullptr);
  return std::string(index->body);
}

TEST_CASE("FindWebAsset serves index.html at / and /index.html", "[web]") {
  const WebAsset* root = FindWebAsset("/");
  const WebAsset* index = FindWebAsset("/index.html");
  REQUIRE(root != nullptr);
  REQUIRE(root == index);
  CHECK(root->content_type == "text/html; charset=utf-8");
  CHECK(root->body.substr(0, 15) == "<!doctype html>");
}

TEST_CASE("FindWebAsset gives each file the content type of its extension", "[web]") {
  const WebAsset* js = FindWebAsset("/app.js");
  const WebAsset* css = FindWebAsset("/app.css");
  const WebAsset* icon = FindWebAsset("/favicon.svg");
  REQUIRE(js != nullptr);
  REQUIRE(css != nullptr);
  REQUIRE(icon != nullptr);
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(css->content_type == "text/css; charset=utf-8");
  CHECK(icon->content_type == "image/svg+xml");
  CHECK_FALSE(js->body.empty());
  CHECK_FALSE(css->body.empty());
}

TEST_CASE("FindWebAsset matches paths exactly", "[web]") {
  CHECK(FindWebAsset("") == nullptr);
  CHECK(FindWebAsset("/nope.js") == nullptr);
  CHECK(FindWebAsset("app.js") == nullptr);
  CHECK(FindWebAsset("/APP.JS") == nullptr);
  CHECK(FindWebAsset("/app.js/") == nullptr);
  CHECK(FindWebAsset("/index.html?x=1") == nullptr);
  CHECK(FindWebAsset("/CMakeLists.txt") == nullptr);  // the build file is not part of the page
  CHECK(FindWebAsset("/kv/") == nullptr);
}

TEST_CASE("Everything index.html links to is embedded", "[web]") {
  const std::string html = IndexHtml();
  const std::regex link(R"re((?:src|href)="(/[^"]*)")re");
  int links = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator();
       ++it) {
    const std::string path = (*it)[1].str();
    INFO("linked from index.html: " << path);
    CHECK(FindWebAsset(path) != nullptr);
    links++;
  }
  CHECK(links >= 3);  // the script, the stylesheet, the icon
}

TEST_CASE("index.html has no inline script, style or event handler", "[web]") {
  const std::string html = IndexHtml();
  // Every <script> element loads a file.
  const std::regex script_tag(R"re(<script\b[^>]*>)re", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script_tag);
       it != std::sregex_iterator(); ++it) {
    INFO((*it).str());
    CHECK((*it).str().find(" src=") != std::string::npos);
  }
  CHECK(html.find("<style") == std::string::npos);
  CHECK_FALSE(std::regex_search(html, std::regex(R"re(\sstyle\s*=)re", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"re(\son[a-z]+\s*=)re", std::regex::icase)));
  CHECK(html.find("javascript:") == std::string::npos);
}

}  // namespace
}  // namespace keyva::server
