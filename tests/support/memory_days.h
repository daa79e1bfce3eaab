// MemoryDays: a search::DaySource held in memory, for the search tests;
// counts the days it was asked for (`reads`).
#pragma once

#include <map>
#include <vector>

#include "messages/post.h"
#include "search/search.h"
#include "util/civil_time.h"

namespace chaton::testing {

class MemoryDays final : public search::DaySource {
 public:
  void add(Post p) { days_[utc_from_seconds(p.sec).date].push_back(std::move(p)); }
  std::vector<Date> days() override {
    std::vector<Date> out;
    for (auto it = days_.rbegin(); it != days_.rend(); ++it) out.push_back(it->first);
    return out;
  }
  std::vector<Post> posts(Date day) override {
    ++reads;
    auto it = days_.find(day);
    return it == days_.end() ? std::vector<Post>{} : it->second;
  }
  int reads = 0;

 private:
  std::map<Date, std::vector<Post>> days_;
};

}  // namespace chaton::testing
