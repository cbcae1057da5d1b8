// The README's first program: a Pool over a struct, with progress, Ctrl-C
// and errors. README.md shows this file as it is (a test checks that they
// match), and ctest runs it.
//
//   build/examples/first_program     (press Ctrl-C while it runs to see it stop)
#include <multiproc/multiproc.hpp>

#include <cstddef>
#include <iomanip>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mp = multiproc;

// What crosses to a worker and back: any type with a cereal serialize
// function (or trivially copyable, like int and POD structs).
struct Order {
  std::string customer;
  std::vector<double> prices;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(customer, prices);
  }
};

struct Invoice {
  std::string customer;
  double total = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(customer, total);
  }
};

// Runs in a worker process: a crash here costs one worker, not the program.
Invoice bill(const Order& order) {
  if (order.prices.empty()) throw std::invalid_argument(order.customer + " ordered nothing");
  Invoice invoice{order.customer, 0};
  for (double price : order.prices) invoice.total += price;
  return invoice;
}

int main(int argc, char** argv) {
  // First statement of main: starts the forkserver before any thread exists.
  // Code above this line runs again in every spawned child.
  mp::init(argc, argv, {.forkserver = true});
  mp::SignalBridge bridge;  // Ctrl-C, SIGTERM, SIGHUP: a stop request, not a kill

  std::vector<Order> orders;
  for (int i = 0; i < 10'000; ++i) {
    orders.push_back({"customer-" + std::to_string(i), {9.5, 0.25 * i}});
  }

  mp::Pool pool({.start_method = mp::StartMethod::forkserver});
  try {
    auto progress = [](std::size_t done, std::size_t total) {
      if (done == total) std::cout << "billed " << done << " of " << total << " orders\n";
    };
    std::vector<Invoice> invoices =
        pool.map(bill, orders, {.progress = progress, .stop = bridge.token()});
    double sum = 0;
    for (const Invoice& invoice : invoices) sum += invoice.total;
    std::cout << "total: " << std::fixed << std::setprecision(2) << sum << '\n';

    orders[42].prices.clear();  // one bad order fails the whole map, and says which
    pool.map(bill, orders, {.stop = bridge.token()});
  } catch (const mp::RemoteError& e) {
    std::cout << "order " << e.item().value_or(0) << " failed: " << e.info().message << '\n';
  } catch (const mp::Interrupted&) {
    std::cout << "stopped by a signal\n";
    return bridge.exit_code();  // 130 after Ctrl-C, 143 after SIGTERM
  }
}
