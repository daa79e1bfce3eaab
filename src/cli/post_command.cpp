// `chaton post URL --nick NICK [TEXT]`: posts TEXT (or standard input) to a
// room through the client library, as any client program would, so it
// works against original Chaton servers too. Prints the permalink when the
// server gives one; on a refusal prints the server's reason.
#include <iterator>
#include <sstream>

#include "cli/commands.h"
#include "client/client.h"

namespace chaton::cli {

namespace {

constexpr std::string_view kPostWho = "chaton-post";

std::string read_all(std::istream& in) {
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int run_post(const PostOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  if (options.url.empty() || options.nick.empty()) {
    err << "chaton post: usage: chaton post URL --nick NICK [TEXT]"
        << (options.url.empty() ? " (the room URL is missing)" : " (--nick is missing)") << "\n";
    return kExitBadInput;
  }
  std::string text = options.text ? *options.text : read_all(in);
  auto client = Client::connect(options.url, std::string(kPostWho));
  if (!client) {
    err << "chaton post: " << client.status().message() << "\n";
    return kExitFailed;
  }
  auto ack = client->talk(options.nick, text);
  if (!ack) {
    err << "chaton post: " << ack.status().message() << "\n";
    return kExitFailed;
  }
  if (!ack->permalink.empty()) out << ack->permalink << "\n";
  return kExitOk;
}

}  // namespace chaton::cli
