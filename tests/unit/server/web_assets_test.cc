// Tests of the embedded web page (internal/server/web_assets.h): lookup by path, content types,
// that everything index.html links to is embedded (and every module those scripts import, and so
// on), and that the page needs no inline script or style (so the strict Content-Security-Policy
// keyvad serves it with cannot break it).
#include "internal/server/web_assets.h"

#include <catch2/catch.hpp>
#include <deque>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace keyva::server {
namespace {

std::string IndexHtml() {
  const WebAsset* index = FindWebAsset("/index.html");
  REQUIRE(index != nullptr);
  return std::string(index->body);
}

// The URL path that specifier (as written in an import in the module at base) refers to:
// "./x.js" and "../x.js" relative to base's folder, "/x.js" as is. Returns "" for anything else
// (a bare specifier or a full URL, which the page must not use: nothing serves them).
std::string ResolveImport(const std::string& base, const std::string& specifier) {
  std::string joined;
  if (specifier.rfind("/", 0) == 0) {
    joined = specifier;
  } else if (specifier.rfind("./", 0) == 0 || specifier.rfind("../", 0) == 0) {
    joined = base.substr(0, base.rfind('/') + 1) + specifier;
  } else {
    return "";
  }
  std::vector<std::string> segments;
  size_t start = 1;  // joined starts with "/"
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    std::string segment = joined.substr(start, slash - start);
    if (segment == "..") {
      if (segments.empty()) return "";  // above the root
      segments.pop_back();
    } else if (segment != "." && !segment.empty()) {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string path;
  for (const std::string& segment : segments) path += "/" + segment;
  return path;
}

// source without its // and /* */ comments (naively: a "//" inside a string cuts that line
// short, which cannot hide an import statement on a line of its own).
std::string WithoutComments(const std::string& source) {
  std::string out;
  for (size_t i = 0; i < source.size(); i++) {
    if (source.compare(i, 2, "//") == 0) {
      i = source.find('\n', i);
      if (i == std::string::npos) break;
    } else if (source.compare(i, 2, "/*") == 0) {
      i = source.find("*/", i + 2);
      if (i == std::string::npos) break;
      i++;
      continue;
    }
    out += source[i];
  }
  return out;
}

// The specifiers a module imports: static imports and re-exports ("import {a} from './x.js'",
// "import './x.js'", "export * from './x.js'") and dynamic ones ("import('./x.js')").
std::vector<std::string> ImportsOf(const std::string& module_source) {
  const std::string source = WithoutComments(module_source);
  static const std::regex kImport(
      R"re((?:^|[;\s])(?:import|export)\s*(?:[\w*${}\s,]*?\s*from\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\))re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), kImport);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  }
  return out;
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
  const WebAsset* js = FindWebAsset("/js/main.js");  // in a subfolder of web/
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
  CHECK(FindWebAsset("app.css") == nullptr);
  CHECK(FindWebAsset("js/main.js") == nullptr);
  CHECK(FindWebAsset("/APP.CSS") == nullptr);
  CHECK(FindWebAsset("/app.css/") == nullptr);
  CHECK(FindWebAsset("/js/") == nullptr);
  CHECK(FindWebAsset("/main.js") == nullptr);
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

TEST_CASE("ResolveImport and ImportsOf read module imports as a browser resolves them", "[web]") {
  CHECK(ResolveImport("/js/main.js", "./api.js") == "/js/api.js");
  CHECK(ResolveImport("/js/views/keys.js", "../dom.js") == "/js/dom.js");
  CHECK(ResolveImport("/js/main.js", "/app.css") == "/app.css");
  CHECK(ResolveImport("/js/main.js", "./a/./b.js") == "/js/a/b.js");
  CHECK(ResolveImport("/main.js", "../x.js").empty());
  CHECK(ResolveImport("/js/main.js", "lodash").empty());
  const std::vector<std::string> want = {"./a.js", "./b.js", "./c.js", "./d.js", "./e.js"};
  CHECK(ImportsOf("import { x, y } from './a.js';\nimport './b.js';\nexport * from \"./c.js\";\n"
                  "import def from './d.js';\nconst m = await import('./e.js');\n"
                  "const important = 1; // not an import from './f.js'\n") == want);
}

TEST_CASE("Every module reachable from index.html's scripts is embedded", "[web]") {
  const std::string html = IndexHtml();
  const std::regex script(R"re(<script\b[^>]*\bsrc="(/[^"]*)")re");
  std::deque<std::string> queue;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script);
       it != std::sregex_iterator(); ++it) {
    queue.push_back((*it)[1].str());
  }
  REQUIRE_FALSE(queue.empty());
  std::set<std::string> seen(queue.begin(), queue.end());
  while (!queue.empty()) {
    const std::string path = queue.front();
    queue.pop_front();
    const WebAsset* module = FindWebAsset(path);
    INFO("module: " << path);
    REQUIRE(module != nullptr);
    CHECK(module->content_type == "text/javascript; charset=utf-8");
    for (const std::string& specifier : ImportsOf(std::string(module->body))) {
      const std::string target = ResolveImport(path, specifier);
      INFO("imports '" << specifier << "'");
      CHECK_FALSE(target.empty());
      CHECK(FindWebAsset(target) != nullptr);
      if (!target.empty() && seen.insert(target).second) queue.push_back(target);
    }
  }
  CHECK(seen.size() >= 8);  // main.js and the views and helpers it imports
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
