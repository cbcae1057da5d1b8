// Task exceptions that keep their type: a registered exception type is thrown
// again in the parent as itself, with its fields; any other stays a
// RemoteError that can still tell its type with is<T>().
//
//   build/examples/typed_errors
#include <multiproc/multiproc.hpp>

#include <cstddef>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mp = multiproc;

// An error with a field beyond its message. The constructor from a message
// and serialize() (its fields, not what()) let the parent rebuild it.
struct ParseError : std::runtime_error {
  ParseError() : std::runtime_error("") {}
  explicit ParseError(const std::string& message) : std::runtime_error(message) {}
  ParseError(const std::string& message, std::size_t at)
      : std::runtime_error(message), column(at) {}
  std::size_t column = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(column);
  }
};

// Registration belongs to the program: every worker knows ParseError,
// whatever the start method.
const bool registered = mp::register_exception<ParseError>();

int parse_line(std::string text) {
  if (text.empty()) throw std::out_of_range("empty line");
  if (std::size_t bad = text.find_first_not_of("0123456789"); bad != std::string::npos) {
    throw ParseError("not a number: '" + text + "'", bad);
  }
  return std::stoi(text);
}

int main(int argc, char** argv) {
  mp::init(argc, argv, {.forkserver = true});
  mp::Pool pool({.processes = 2, .start_method = mp::StartMethod::spawn});

  try {
    pool.map(parse_line, std::vector<std::string>{"1", "22", "x3", "4"});
  } catch (const ParseError& e) {
    std::cout << "ParseError at column " << e.column << ": " << e.what() << '\n';
  }

  try {
    pool.map(parse_line, std::vector<std::string>{"1", ""});
  } catch (const mp::RemoteError& e) {
    if (e.is<std::out_of_range>()) {
      std::cout << "std::out_of_range in item " << *e.item() << ": " << e.info().message << '\n';
    }
  }
  std::cout << "registered: " << std::boolalpha << registered << '\n';
}
