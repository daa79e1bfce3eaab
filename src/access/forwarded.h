// Which address a request comes from, behind reverse proxies.
//
// Only a peer inside `trusted` (site.trusted_proxies) is believed about
// X-Forwarded-For; the client is then the rightmost listed address that is
// not itself a trusted proxy. Nothing else ever changes the address, so a
// client cannot forge one to dodge a blacklist or a rate limit.
// Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "access/blacklist.h"

namespace chaton {

std::string client_address(std::string_view peer, std::string_view x_forwarded_for,
                           const AddressRanges& trusted);

// The client an address stands for when counting clients: an IPv6 address
// by its /64 (one subscriber usually holds a whole /64), an IPv4 address or
// anything else as it is.
std::string client_group(std::string_view address);

}  // namespace chaton
