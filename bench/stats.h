// Latency figures: percentiles of a list of microsecond samples, and how
// the report writes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chaton::bench {

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // ms
};

Percentiles percentiles(std::vector<uint32_t> us);

// "p50 / p90 / p99 / max ms", or "none".
std::string latency_cell(const Percentiles& p);
std::string ms(double v);

}  // namespace chaton::bench
