#include "stats.h"

#include <algorithm>
#include <cmath>

#include "common.h"

namespace chaton::bench {

Percentiles percentiles(std::vector<uint32_t> us) {
  Percentiles p;
  p.n = us.size();
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, i == 0 ? 0 : i - 1)] / 1000.0;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = us.back() / 1000.0;
  double sum = 0;
  for (auto v : us) sum += v;
  p.mean = sum / static_cast<double>(us.size()) / 1000.0;
  return p;
}

std::string ms(double v) { return fmt("%.2f ms", v); }

std::string latency_cell(const Percentiles& p) {
  if (p.n == 0) return "none";
  return fmt("%.2f / %.2f / %.2f / %.2f ms", p.p50, p.p90, p.p99, p.max);
}

}  // namespace chaton::bench
