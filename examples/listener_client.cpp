// A server and a client that did not start one another: the server listens
// on an abstract Unix socket with an authkey; a client program (here a spawned child,
// which knows only the address) connects, proves it knows the key, and asks
// for work; a client with the wrong key is refused. Then the server hands
// the client a Queue through the Connection, and the client answers on it.
//
// Python: multiprocessing.connection.Listener / Client with authkey.
#include <multiproc/multiproc.hpp>

#include <unistd.h>

#include <iostream>
#include <string>

namespace mp = multiproc;

void client(mp::Address server, std::string key) {
  try {
    mp::Connection c = mp::Client(server, {.authkey = key});
    c.send(std::string("ready"));
    auto answers = c.recv<mp::Queue<int>>();  // a shared object, through the Connection
    int n = c.recv<int>();
    answers.put(n * n);
  } catch (const mp::AuthenticationError& e) {
    std::cout << "client with key '" << key << "': refused (" << e.what() << ")\n";
  }
}

int main(int argc, char** argv) {
  mp::init(argc, argv);  // a spawned child starts here too
  // Unix, not TCP: descriptors (the Queue below) cross only a Unix socket.
  mp::Listener server(
      mp::UnixAddress{std::string(1, '\0') + "listener-example-" + std::to_string(::getpid())},
      {.authkey = "s3cret"});
  std::cout << "listening on " << mp::to_string(server.address()).substr(0, 10) << "..."
            << std::endl;

  auto spawn = mp::get_context(mp::StartMethod::spawn);
  mp::Process intruder = spawn.Process(client, server.address(), std::string("guess"));
  intruder.start();
  bool refused = false;
  try {
    (void)server.accept();
  } catch (const mp::AuthenticationError&) {
    refused = true;
  }
  intruder.join();  // its own line comes first
  if (refused) std::cout << "server: refused a client with the wrong key" << std::endl;

  mp::Process friendly = spawn.Process(client, server.address(), std::string("s3cret"));
  friendly.start();
  mp::Connection c = server.accept();
  std::cout << "server: client says " << c.recv<std::string>() << std::endl;
  mp::Queue<int> answers;
  c.send(answers);
  c.send(12);
  std::cout << "server: the client put " << answers.get() << " on our queue" << std::endl;
  friendly.join();
  std::cout << "client exit code " << *friendly.exitcode() << '\n';
}
