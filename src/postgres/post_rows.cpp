// See post_rows.h.
#include "postgres/post_rows.h"

namespace chaton::postgres {

std::vector<Post> posts_of(const PgResult& r, bool with_seq) {
  std::vector<Post> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    Post p;
    if (with_seq) p.seq = static_cast<uint64_t>(r.int64(i, 0));
    p.sec = r.int64(i, 1);
    p.usec = r.int64(i, 2);
    p.nick = std::string(r.text(i, 3));
    p.text = std::string(r.text(i, 4));
    if (!r.is_null(i, 5)) p.ip = std::string(r.text(i, 5));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace chaton::postgres
