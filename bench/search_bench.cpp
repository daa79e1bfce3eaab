// chaton_search_bench: how long a search takes over a large room, scanning
// (the days read one by one, as without an index) and through the search
// index (search/search_index.h), for the same queries in one run; and that
// both give the same results. See docs/BENCHMARKS.md, "Search".
//
//   chaton_search_bench [--posts N] [--days D] [--dir PATH] [--runs R]
//                       [--scan-runs S] [--keep]
//
// It writes a room of N generated posts (nicknames and texts in English,
// French, German, Greek, Russian and Japanese; a few planted rare words)
// spread over D days straight into the store's files, in the format of
// docs/STORAGE.md: one YYYY/MM/DD.dat and .cnt per day, the last day in
// current.dat, and `sequence`. Then it times each query R times through
// the index (a refresh, then the search, as the server does it) and S
// times scanning, and prints median and p90 in milliseconds, with the time
// to build the index from nothing and to load it from its file.
//
// With --pg URL (a database of its own: its tables are created), the same
// posts go into PostgreSQL instead (postgres/pg_store.h, each day appended
// in batches), and the same queries are timed scanning (a Room over the
// PgStore, its days read one by one) and through the database's index
// (postgres/pg_search.h: a refresh, then the search).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "endpoints/page_data.h"
#include "messages/line_codec.h"
#include "postgres/pg_search.h"
#include "postgres/pg_store.h"
#include "postgres/schema.h"
#include "rooms/room.h"
#include "search/search.h"
#include "search/search_index.h"
#include "store/file_store.h"
#include "util/civil_time.h"
#include "util/clock.h"
#include "util/text.h"

namespace fs = std::filesystem;
using namespace chaton;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  uint64_t posts = 1'000'000;
  int days = 1000;
  fs::path dir;
  int runs = 21;
  int scan_runs = 3;
  bool keep = false;
  std::string pg;  // a PostgreSQL URL: the room goes there
};

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// ---- the generated room

class Generator {
 public:
  Generator() {
    const char* en[] = {"the",     "and",    "server",  "restart", "chat",   "room",    "today",  "what",
                        "about",   "lisp",   "scheme",  "gauche",  "macro",  "compile", "error",  "works",
                        "thanks",  "hello",  "anyone",  "release", "bug",    "patch",   "fixed",  "tomorrow",
                        "meeting", "coffee", "weekend", "build",   "test",   "linux",   "kernel", "memory",
                        "network", "search", "index",   "fast",    "slow",   "maybe",   "really", "think",
                        "know",    "good",   "night",   "morning", "people", "question"};
    const char* fr[] = {"école", "déjà", "très", "ça", "où", "français", "été", "réunion", "demain", "merci"};
    const char* de[] = {"straße", "Ärger", "über", "schön", "Grüße", "Mädchen", "Übung", "natürlich"};
    const char* el[] = {"Αθήνα", "λόγος", "σοφία", "καλημέρα", "ευχαριστώ", "ΣΟΦΙΑ", "θάλασσα"};
    const char* ru[] = {"привет", "спасибо", "сервер", "ПРИВЕТ", "завтра", "хорошо"};
    const char* ja[] = {"東京", "こんにちは", "ありがとう", "検索",   "サーバー", "日本語", "今日",  "明日",
                        "会議", "コーヒー",   "エラー",     "再起動", "です",     "ます",   "ですね"};
    for (auto* w : en) common_.emplace_back(w);
    for (auto* w : fr) common_.emplace_back(w);
    for (auto* w : de) common_.emplace_back(w);
    for (auto* w : el) common_.emplace_back(w);
    for (auto* w : ru) common_.emplace_back(w);
    for (auto* w : ja) japanese_.emplace_back(w);
    // Many rarer words, made of syllables.
    const char* syl[] = {"ka",  "ri",  "to", "mon", "zel", "qua", "vor",
                         "pli", "dus", "ne", "ga",  "shi", "bro", "tek"};
    std::mt19937 g(5);
    for (int i = 0; i < 20000; ++i) {
      std::string w;
      int n = std::uniform_int_distribution<int>(2, 4)(g);
      for (int j = 0; j < n; ++j) w += syl[std::uniform_int_distribution<int>(0, 13)(g)];
      rare_.push_back(w);
    }
    for (int i = 0; i < 300; ++i) nicks_.push_back("user" + std::to_string(i));
    for (const char* n : {"shiro", "Kazuki", "たろう", "さくら", "Σωκράτης", "Ådne", "Zoë", "Дмитрий"})
      nicks_.emplace_back(n);
  }

  std::string nick() { return nicks_[pick(nicks_.size())]; }

  // Post number `i` of the room (0-based).
  std::string text(uint64_t i) {
    std::string s;
    bool japanese = pick(10) == 0;
    int n = 3 + static_cast<int>(pick(12));
    for (int k = 0; k < n; ++k) {
      if (japanese) {
        s += japanese_[zipf(japanese_.size())];
        continue;
      }
      if (k) s += ' ';
      if (pick(6) == 0)
        s += rare_[zipf(rare_.size())];
      else
        s += common_[zipf(common_.size())];
    }
    // Planted: a word 20 posts have, and one only one post has.
    if (i % 50'000 == 7) s += " zephyrine";
    if (i == 123'457) s += " quokkalicious";
    return s;
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  // Roughly Zipf: small indexes much more often.
  size_t zipf(size_t n) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return std::min(n - 1, static_cast<size_t>(std::pow(static_cast<double>(n), u * u)) - 1);
  }

  std::mt19937_64 rng_{42};
  std::vector<std::string> common_, japanese_, rare_, nicks_;
};

// What folding every nickname and text of the room costs (search::fold_case,
// as a scan, the index and the database's fold do it), measured while the
// room is generated: the thread's CPU time (so that other work on the
// machine counts less), for the posts whose nickname and text are pure
// ASCII and for the others.
struct FoldCost {
  uint64_t bytes[2] = {0, 0}, posts[2] = {0, 0};  // [0] pure ASCII, [1] the others
  double ms[2] = {0, 0};
  uint64_t sink = 0;  // keeps the folds from being optimized away
};
FoldCost fold_cost;

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Generates the room's posts, handing on each day's (oldest first) with
// the first second of that day; returns the first second of the last
// (live) day.
int64_t generate_room(const Options& o, const std::function<void(int64_t start, std::vector<Post>&)>& day) {
  Generator gen;
  const int64_t day0 = seconds_from_date(Date{2022, 1, 1});
  const uint64_t per_day = o.posts / static_cast<uint64_t>(o.days);
  uint64_t i = 0;
  int64_t live_day = 0;
  for (int d = 0; d < o.days; ++d) {
    int64_t start = day0 + int64_t{d} * 86400;
    uint64_t count = d + 1 == o.days ? o.posts - i : per_day;
    std::vector<Post> posts;
    for (uint64_t k = 0; k < count; ++k, ++i) {
      Post p;
      p.nick = gen.nick();
      p.sec = start + static_cast<int64_t>(k * 86000 / count);
      p.usec = static_cast<int64_t>(k % 1000);
      p.text = gen.text(i);
      p.ip = "192.0.2." + std::to_string(k % 250);
      posts.push_back(std::move(p));
    }
    for (int k = 0; k < 2; ++k) {
      double t = thread_cpu_ms();
      for (const Post& p : posts) {
        if ((is_ascii(p.nick) && is_ascii(p.text)) != (k == 0)) continue;
        fold_cost.sink += search::fold_case(p.nick).size() + search::fold_case(p.text).size();
        fold_cost.bytes[k] += p.nick.size() + p.text.size();
        ++fold_cost.posts[k];
      }
      fold_cost.ms[k] += thread_cpu_ms() - t;
    }
    day(start, posts);
    live_day = start;
  }
  return live_day;
}

// Writes the room's files; returns the first second of the last (live) day.
int64_t write_room(const Options& o) {
  fs::path data = o.dir / "data";
  fs::create_directories(data);
  fs::create_directories(o.dir / "logs");
  const int64_t last_day = seconds_from_date(Date{2022, 1, 1}) + int64_t{o.days - 1} * 86400;
  int64_t live_day = generate_room(o, [&](int64_t start, std::vector<Post>& posts) {
    Date date = utc_from_seconds(start).date;
    uint64_t count = posts.size();
    std::string lines;
    for (const Post& p : posts) {
      lines += encode_line(p);
      lines += '\n';
    }
    if (start == last_day) {
      std::ofstream(data / "current.dat", std::ios::binary) << lines;
    } else {
      char ym[16];
      std::snprintf(ym, sizeof ym, "%04d/%02d", date.year, date.month);
      fs::create_directories(data / ym);
      char name[8];
      std::snprintf(name, sizeof name, "%02d", date.day);
      std::ofstream(data / ym / (std::string(name) + ".dat"), std::ios::binary) << lines;
      std::ofstream(data / ym / (std::string(name) + ".cnt")) << count;
    }
  });
  std::ofstream(data / "sequence") << o.posts;
  std::ofstream(o.dir / "lock") << "lockfile\n";
  return live_day;
}

// Puts the room into the database at o.pg (its schema created); returns
// the first second of the last day.
int64_t fill_database(const Options& o) {
  postgres::PgConnection db(o.pg);
  if (auto m = postgres::migrate(db); !m) {
    std::cerr << "cannot create the schema: " << m.status().message() << "\n";
    std::exit(1);
  }
  ManualClock clock{from_seconds(0)};
  postgres::PgStore store(o.pg, "bench", "bench", clock);
  if (auto r = store.open(); !r) {
    std::cerr << "cannot open the room: " << r.status().message() << "\n";
    std::exit(1);
  }
  int64_t live_day = generate_room(o, [&](int64_t, std::vector<Post>& posts) {
    for (size_t i = 0; i < posts.size(); i += 2000) {
      std::span<Post> batch(posts.data() + i, std::min<size_t>(2000, posts.size() - i));
      if (Status st = store.append(batch); !st) {
        std::cerr << "cannot append: " << st.message() << "\n";
        std::exit(1);
      }
    }
  });
  if (!db.exec("VACUUM ANALYZE chaton_posts")) std::cerr << "(VACUUM ANALYZE failed)\n";
  return live_day;
}

bool same(const search::Results& a, const search::Results& b) {
  if (a.has_more != b.has_more || a.hits.size() != b.hits.size()) return false;
  for (size_t i = 0; i < a.hits.size(); ++i)
    if (a.hits[i].day != b.hits[i].day || a.hits[i].post.sec != b.hits[i].post.sec ||
        a.hits[i].post.usec != b.hits[i].post.usec || a.hits[i].post.text != b.hits[i].post.text)
      return false;
  return true;
}

// The page's hits and a hash (FNV-1a) of their times and texts.
std::string digest(const search::Results& r) {
  uint64_t h = kFnv1aOffset;
  for (const search::Hit& hit : r.hits) {
    h = fnv1a64(std::to_string(hit.post.sec) + "." + std::to_string(hit.post.usec) + " ", h);
    h = fnv1a64(hit.post.text, h);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu%s %016llx", r.hits.size(), r.has_more ? "+" : "",
                static_cast<unsigned long long>(h));
  return buf;
}

int usage() {
  std::cerr << "usage: chaton_search_bench [--posts N] [--days D] [--dir PATH] [--runs R] [--scan-runs S] "
               "[--keep] [--pg URL]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--keep") {
      o.keep = true;
      continue;
    }
    if (!(v = value())) return usage();
    if (a == "--posts")
      o.posts = std::strtoull(v, nullptr, 10);
    else if (a == "--days")
      o.days = std::atoi(v);
    else if (a == "--dir")
      o.dir = v;
    else if (a == "--runs")
      o.runs = std::atoi(v);
    else if (a == "--scan-runs")
      o.scan_runs = std::atoi(v);
    else if (a == "--pg")
      o.pg = v;
    else
      return usage();
  }
  if (o.days < 1 || o.posts < static_cast<uint64_t>(o.days) || o.runs < 1 || o.scan_runs < 1) return usage();
  if (o.dir.empty())
    o.dir = fs::temp_directory_path() / ("chaton-search-bench-" + std::to_string(::getpid()));
  fs::remove_all(o.dir);

  auto t = Steady::now();
  fs::create_directories(o.dir / "logs");
  int64_t live_day = o.pg.empty() ? write_room(o) : fill_database(o);
  std::printf("room: %llu posts over %d days in %s (written in %.1f s)\n",
              static_cast<unsigned long long>(o.posts), o.days, o.pg.empty() ? o.dir.c_str() : "PostgreSQL",
              ms_since(t) / 1000);
  for (int k = 0; k < 2; ++k) {
    double mib = static_cast<double>(fold_cost.bytes[k]) / 1048576.0;
    std::printf("fold (CPU time): %s: %llu posts, %.1f MiB of nicknames and texts, in %.1f ms: %.0f MiB/s\n",
                k == 0 ? "pure ASCII" : "not pure ASCII", static_cast<unsigned long long>(fold_cost.posts[k]), mib,
                fold_cost.ms[k], mib / (fold_cost.ms[k] / 1000));
  }

  ManualClock clock{from_seconds(live_day + 3600)};
  RoomSettings settings;
  settings.config.slug = "bench";
  settings.config.data_dir = o.dir.string();
  std::unique_ptr<Store> store;
  if (o.pg.empty())
    store = std::make_unique<FileStore>(o.dir);
  else
    store = std::make_unique<postgres::PgStore>(o.pg, "bench", "bench", clock);
  Room room(settings, std::move(store), clock);
  std::vector<std::string> warnings;
  if (Status st = room.open(&warnings); !st) {
    std::cerr << "cannot open the room: " << st.message() << "\n";
    return 1;
  }

  std::unique_ptr<search::RoomIndex> index;
  if (!o.pg.empty()) {
    index = std::make_unique<postgres::PgSearchIndex>(o.pg, "bench");
    t = Steady::now();
    if (Status st = index->refresh(); !st) {
      std::cerr << "cannot reach the database's index: " << st.message() << "\n";
      return 1;
    }
    std::printf("index: the database's; first refresh (finds the room) in %.1f ms\n", ms_since(t));
  } else {
    t = Steady::now();
    {
      search::SearchIndex fresh(o.dir);
      if (Status st = fresh.rebuild(); !st) {
        std::cerr << "cannot build the index: " << st.message() << "\n";
        return 1;
      }
      double built = ms_since(t);
      auto stats = fresh.stats();
      std::printf(
          "index: built in %.2f s; %zu blocks, %llu posts, file %.1f MiB (%.1f MiB per million posts)\n",
          built / 1000, stats.blocks, static_cast<unsigned long long>(stats.posts),
          static_cast<double>(stats.file_bytes) / 1048576.0,
          static_cast<double>(stats.file_bytes) / 1048576.0 * 1e6 / static_cast<double>(stats.posts));
    }
    index = std::make_unique<search::SearchIndex>(o.dir);  // as a server starts: read from its file
    t = Steady::now();
    if (Status st = index->refresh(); !st) {
      std::cerr << "cannot load the index: " << st.message() << "\n";
      return 1;
    }
    std::printf("index: loaded from its file and checked against the files in %.1f ms\n", ms_since(t));
  }
  {
    std::vector<double> ms;
    for (int r = 0; r < o.runs; ++r) {
      auto s = Steady::now();
      if (Status st = index->refresh(); !st) return 1;
      ms.push_back(ms_since(s));
    }
    std::printf(o.pg.empty()
                    ? "index: a refresh with nothing new (the part of every search that looks at the "
                      "files): median %.2f ms\n\n"
                    : "index: a refresh with nothing new (every post folded already): median %.2f ms\n\n",
                percentile(ms, 0.5));
  }

  struct Q {
    const char* what;
    const char* q;
    size_t page;
  };
  const std::vector<Q> queries = {
      {"rare word (20 posts)", "zephyrine", 1},
      {"unique word (1 post)", "quokkalicious", 1},
      {"common word", "server", 1},
      {"common word, page 5", "coffee", 5},
      {"two common words", "server restart", 1},
      {"three words, phrase", "gauche \"lisp macro\"", 1},
      {"generated rare word", "zelvorqua", 1},
      {"Japanese", "検索", 1},
      {"Japanese, two terms", "サーバー 再起動", 1},
      {"Greek capitals, a prefix", "ΣΟΦ", 1},
      {"nickname", "Σωκράτης", 1},
      {"no hit", "xylophonist", 1},
      {"short term (no trigram)", "zq", 1},
  };
  std::printf(
      "| query | terms | page hits | scan median ms | indexed median ms | indexed p90 ms | same results |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::vector<double> all_indexed, all_scan;
  std::vector<std::string> digests;
  bool all_same = true;
  for (const Q& q : queries) {
    search::Query query = search::parse_query(q.q);
    std::vector<double> scan_ms, index_ms;
    search::Results scanned, indexed;
    for (int r = 0; r < o.scan_runs; ++r) {
      auto s = Steady::now();
      endpoints::RoomDays days(room);
      scanned = search::find(days, query, q.page);
      scan_ms.push_back(ms_since(s));
    }
    for (int r = 0; r < o.runs; ++r) {
      auto s = Steady::now();
      endpoints::RoomDays exact(room);
      search::StopFlag stop{false};
      if (Status st = index->refresh(&stop); !st) {
        std::cerr << "refresh: " << st.message() << "\n";
        return 1;
      }
      auto days = index->narrow(query, exact);
      indexed = search::find(*days, query, q.page);
      index_ms.push_back(ms_since(s));
    }
    bool ok = same(scanned, indexed);
    all_same = all_same && ok;
    all_indexed.push_back(percentile(index_ms, 0.5));
    all_scan.push_back(percentile(scan_ms, 0.5));
    digests.push_back(std::string(q.q) + ": " + digest(indexed));
    std::printf("| %s | `%s` | %zu%s | %.0f | %.2f | %.2f | %s |\n", q.what, q.q, indexed.hits.size(),
                indexed.has_more ? "+" : "", percentile(scan_ms, 0.5), percentile(index_ms, 0.5),
                percentile(index_ms, 0.9), ok ? "yes" : "NO");
  }
  std::printf("\nmedian over the queries: scan %.0f ms, indexed %.2f ms\n", percentile(all_scan, 0.5),
              percentile(all_indexed, 0.5));
  // To compare the results of two builds (another fold, say) over the same room.
  std::printf("\nresults (hits on the page, and a hash of their times):\n");
  for (const std::string& d : digests) std::printf("  %s\n", d.c_str());
  room.close();
  if (!o.keep) fs::remove_all(o.dir);
  if (!all_same) {
    std::cerr << "the indexed results differ from the scan's\n";
    return 1;
  }
  return 0;
}
