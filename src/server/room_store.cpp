// open_room_store: see room_store.h.
#include "server/room_store.h"

#include "postgres/pg_search.h"
#include "postgres/pg_store.h"
#include "postgres/schema.h"
#include "store/file_store.h"

namespace chaton::server {

Result<std::string> prepare_store(const StoreConfig& store) {
  if (store.url.empty()) return std::string("posts in each room's data directory");
  if (Status st = postgres::check_url(store.url); !st) return Status(st.code(), "store.url " + st.message());
  postgres::PgConnection db(store.url);
  auto before = postgres::migrate(db);
  if (!before) return before.status();
  std::string line = "posts in PostgreSQL at " + db.where() + ", schema version " +
                     std::to_string(postgres::schema_version());
  if (*before != postgres::schema_version())
    line += *before == 0 ? " (created)" : " (migrated from " + std::to_string(*before) + ")";
  return line;
}

std::unique_ptr<Store> open_room_store(const StoreConfig& store, const RoomConfig& room, const Clock& clock,
                                       std::string_view node) {
  if (!store.url.empty())
    return std::make_unique<postgres::PgStore>(store.url, room.slug, std::string(node), clock);
  return std::make_unique<FileStore>(room.data_dir);
}

std::shared_ptr<search::RoomIndex> open_search_index(const StoreConfig& store, const RoomConfig& room) {
  if (!store.url.empty()) return std::make_shared<postgres::PgSearchIndex>(store.url, room.slug);
  return std::make_shared<search::SearchIndex>(room.data_dir);
}

}  // namespace chaton::server
