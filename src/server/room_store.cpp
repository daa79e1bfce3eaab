// open_room_store: see room_store.h.
#include "server/room_store.h"

#include "store/file_store.h"

namespace chaton::server {

std::unique_ptr<Store> open_room_store(const RoomConfig& room) {
  return std::make_unique<FileStore>(room.data_dir);
}

std::shared_ptr<search::SearchIndex> open_search_index(const RoomConfig& room) {
  return std::make_shared<search::SearchIndex>(room.data_dir);
}

}  // namespace chaton::server
