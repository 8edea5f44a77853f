// The HTTP/1.1 front of encore serve: Boost.Beast on one Asio thread. It reads requests
// (keep-alive, payload limit, timeouts), hands each to the handler, writes the answer,
// and notices when a client goes away before its answer (a reset or a socket error: the
// request is then cancelled; a client that only half-closes still gets its answer). It
// knows no routes; see service.h. Connections beyond max_connections get a 503 and are
// closed; an answer the client does not read within write_timeout is dropped. Shutdown
// (SIGTERM, SIGINT or shutdown()) stops accepting, closes idle connections, gives a request
// still being received a short deadline, lets in-flight requests finish within the drain
// timeout, then run() returns; a request whose connection has closed (its client left, or it
// timed out and the client hung up) is not waited for, though the handler may still hold its
// Responder.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace encore::serve {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string body;
  std::string authorization;  // the Authorization header, "" when absent
  std::chrono::steady_clock::time_point received;
  // Set when the client disconnects (or the request times out) before the answer.
  std::shared_ptr<const std::atomic<bool>> cancelled;
  bool draining = false;  // the server is shutting down (a health check answers 503)
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers a request: call exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
// Called on the I/O thread for every complete request; must not block (hand work off).
using Handler = std::function<void(HttpRequest, Responder)>;
// Called on the I/O thread after every answer written (or dropped): for metrics.
using ResponseHook = std::function<void(const std::string& path, int status, double seconds)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;  // 0: any free port (see HttpServer::port)
  size_t payload_limit = 2 * 1024 * 1024;           // bytes of body; larger: 413
  std::chrono::milliseconds request_timeout{30000};  // from the request's arrival to its answer; then 503
  std::chrono::milliseconds read_timeout{30000};     // to receive a request once it has begun
  std::chrono::milliseconds write_timeout{30000};    // to write one answer (a client that does not
                                                     // read it is closed, its answer dropped: 499)
  std::chrono::milliseconds idle_timeout{60000};     // a keep-alive connection with no request
  size_t max_connections = 512;                      // open at once; beyond: 503 and close
  std::chrono::milliseconds drain_timeout{10000};    // shutdown: the longest wait for requests in flight
  std::chrono::milliseconds drain_partial_timeout{2000};  // shutdown: to finish sending a request begun
  bool handle_signals = true;                         // SIGTERM and SIGINT start the shutdown
};

class HttpServer {
 public:
  // Binds and listens (throws encore::Error when it cannot).
  HttpServer(HttpServerOptions options, Handler handler, ResponseHook on_response = {});
  ~HttpServer();  // only after whatever calls Responders has stopped (Service::stop())
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  // Serves on the calling thread until a shutdown has drained every connection. Returns the
  // number of requests in flight that the drain timeout cut off (closed unanswered).
  size_t run();
  // Thread-safe: starts the graceful shutdown.
  void shutdown();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace encore::serve
