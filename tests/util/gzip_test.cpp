// Tests for gzip_compress: what it makes inflates (with zlib, as a client
// would) to the very bytes it was given.
#include "util/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace chaton {
namespace {

// Inflates one gzip member; *ok tells whether it was whole and valid.
std::string gunzip(const std::string& in, bool* ok) {
  z_stream z{};
  *ok = inflateInit2(&z, 15 + 16) == Z_OK;  // gzip only
  std::string out;
  if (!*ok) return out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[4096];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  *ok = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  return out;
}

TEST(Gzip, RoundTripsThroughZlibInflate) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "<li class=\"post\">line " + std::to_string(i) + " \xC3\xA9t\xC3\xA9</li>\n";
  auto z = gzip_compress(text);
  ASSERT_TRUE(z) << z.status().message();
  EXPECT_LT(z.value().size(), text.size() / 4) << "repetitive HTML compresses well";
  EXPECT_EQ(static_cast<unsigned char>(z.value()[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(z.value()[1]), 0x8b);
  bool ok = false;
  EXPECT_EQ(gunzip(z.value(), &ok), text);
  EXPECT_TRUE(ok);
}

TEST(Gzip, EmptyAndBinaryBodiesRoundTrip) {
  std::string binary;
  for (int i = 0; i < 70000; ++i) binary += static_cast<char>((i * 7919) % 251);
  for (const std::string& body : {std::string(), std::string("x"), binary}) {
    auto z = gzip_compress(body);
    ASSERT_TRUE(z);
    bool ok = false;
    EXPECT_EQ(gunzip(z.value(), &ok), body);
    EXPECT_TRUE(ok);
  }
}

}  // namespace
}  // namespace chaton
