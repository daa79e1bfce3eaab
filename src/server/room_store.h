// open_room_store: the one place that names the store a room keeps its
// data in: the files of docs/STORAGE.md (store/file_store.h) by default,
// or PostgreSQL when the configuration has a [store] url
// (postgres/pg_store.h, docs/SCALING.md). The server opens every room's
// store here, and so do the offline commands that work on a room's data
// (`chaton archive`, `chaton moderate`), so the kind of store is chosen in
// this one function.
//
// `chaton check` is the exception: it verifies and repairs the files
// themselves (store/data_check.h), below any Store.
//
// Thread-safety: free functions; the Store returned is used as
// store/store.h says. Lifetime: the Clock must outlive the Store.
#pragma once

#include <memory>
#include <string_view>

#include "config/config.h"
#include "search/search_index.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace chaton::server {

// Makes the configured store ready before any room opens it: for
// PostgreSQL, checks the URL and creates or migrates the schema (several
// nodes starting at once migrate it once). Returns a line for the start-up
// report; the file store needs nothing.
[[nodiscard]] Result<std::string> prepare_store(const StoreConfig& store);

// The store of `room`. Nothing is read until Store::open(). `node` names
// this process among the nodes sharing a database (its chatters count).
std::unique_ptr<Store> open_room_store(const StoreConfig& store, const RoomConfig& room, const Clock& clock,
                                       std::string_view node);

// The search index of that store (search/search_index.h): over the
// room's files, read and brought up to date by the room's first search;
// for PostgreSQL, the database's own (postgres/pg_search.h).
std::shared_ptr<search::RoomIndex> open_search_index(const StoreConfig& store, const RoomConfig& room);

}  // namespace chaton::server
