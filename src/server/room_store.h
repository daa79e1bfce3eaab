// open_room_store: the one place that names the store a room keeps its
// data in (today the files of docs/STORAGE.md, store/file_store.h). The
// server opens every room's store here, and so do the offline commands
// that work on a room's data (`chaton archive`, `chaton moderate`), so a
// second kind of store is chosen in this one function.
//
// `chaton check` is the exception: it verifies and repairs the files
// themselves (store/data_check.h), below any Store.
//
// Thread-safety: a free function; the Store it returns is used as
// store/store.h says.
#pragma once

#include <memory>

#include "config/config.h"
#include "search/search_index.h"
#include "store/store.h"

namespace chaton::server {

// The store of `room` (its data_dir). Nothing is read until Store::open().
std::unique_ptr<Store> open_room_store(const RoomConfig& room);

// The search index over that store's files (search/search_index.h); read
// and brought up to date by the room's first search.
std::shared_ptr<search::SearchIndex> open_search_index(const RoomConfig& room);

}  // namespace chaton::server
