// Reading what a client sent: the query string, a form-encoded or JSON
// body. Decoding is Boost.URL's and Boost.JSON's; this only maps their
// results to a flat name -> value list and a clear error message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/exchange.h"
#include "util/block_cache.h"
#include "util/result.h"

namespace chaton::http {

class Params {
 public:
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // Room for `n` more fields, so that adding them allocates once.
  void reserve(size_t n) { items_.reserve(items_.size() + n); }
  // The first value given for `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // In the loop's block cache (util/block_cache.h): a long poll's query is
  // parsed into one for each round trip.
  using Items =
      std::vector<std::pair<std::string, std::string>, CachedAllocator<std::pair<std::string, std::string>>>;
  const Items& items() const { return items_; }

 private:
  Items items_;
};

struct Target {
  std::string path;  // percent-decoded
  Params query;
};

// The request target in origin form ("/path?query").
Result<Target> parse_target(std::string_view target);

// Form fields of a POST: application/x-www-form-urlencoded ('+' is a
// space), or a JSON object whose string/number/bool members become fields.
// Fields in the query string count too, after the body's.
Result<Params> parse_form(const Request& req, const Params& query);

}  // namespace chaton::http
