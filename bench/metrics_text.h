// Reading Chaton's /metrics (Prometheus' text format) in the load program.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace chaton::bench {

// The sum of every series of the metric `name` ("name{labels} value" or
// "name value" lines); 0 when it has none. Comment lines and other metrics,
// including those whose name starts with `name`, are skipped.
inline int64_t metric_sum(std::string_view text, std::string_view name) {
  int64_t sum = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name) || line.size() == name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    std::string value(line.substr(line.rfind(' ') + 1));
    sum += static_cast<int64_t>(std::strtod(value.c_str(), nullptr));
  }
  return sum;
}

}  // namespace chaton::bench
