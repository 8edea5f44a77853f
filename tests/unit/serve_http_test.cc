// encore serve's HTTP layer (serve/http_server.cc) in-process, with a fake handler and a
// raw socket client: keep-alive, the payload limit, malformed requests, a client that
// resets its connection (its request is cancelled) or half-closes it (it still gets its
// answer), the request timeout, and the graceful shutdown (a request half sent gets a short
// deadline; the drain timeout cuts off what is still in flight), the connection cap, and a
// client that does not read its answer (dropped after the write timeout).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "serve/http_server.h"

namespace encore::serve {
namespace {

using namespace std::chrono_literals;

// A blocking loopback client with a receive timeout, so that a bug cannot hang the test.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(); }
  bool connected() const { return connected_; }
  void send(const std::string& data) { ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL), ssize_t(data.size())); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (RST) rather than a FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  // One whole response (headers and Content-Length body), or what arrived before EOF.
  std::string response() {
    std::string out;
    char buf[4096];
    for (;;) {
      const size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t cl = out.find("Content-Length: ");
        const size_t len = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
        if (out.size() >= end + 4 + len) {
          std::string r = out.substr(0, end + 4 + len);
          pending_ = out.substr(end + 4 + len);
          return r;
        }
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string pending_;
};

std::string post(const std::string& path, const std::string& body, bool keep_alive = true) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n" + body;
}

struct ServeHttp : ::testing::Test {
  std::mutex mutex;
  Responder held;  // /hold requests wait here
  std::shared_ptr<const std::atomic<bool>> held_cancelled;
  std::unique_ptr<HttpServer> server;
  std::thread runner;
  std::atomic<bool> ran_out{false};  // run() has returned
  std::atomic<size_t> cut_off{0};    // what it returned
  std::vector<std::pair<std::string, int>> recorded;  // the ResponseHook's path and status
  std::function<void(HttpServerOptions&)> configure;  // set before start(): more options

  void start(std::chrono::milliseconds timeout = 30s, std::chrono::milliseconds drain = 10s) {
    HttpServerOptions o;
    o.port = 0;
    o.payload_limit = 1000;
    o.request_timeout = timeout;
    o.drain_timeout = drain;
    o.handle_signals = false;
    if (configure) configure(o);
    server = std::make_unique<HttpServer>(o, [this](HttpRequest r, Responder respond) {
      if (r.path == "/big") return respond(HttpResponse{200, std::string(std::stoul(r.body), 'x'), "text/plain", {}});
      if (r.path == "/hold") {
        std::lock_guard<std::mutex> lock(mutex);
        held = std::move(respond);
        held_cancelled = r.cancelled;
        return;
      }
      const std::string echo = r.method + " " + r.path + " " + r.body + (r.draining ? " (draining)" : "");
      respond(HttpResponse{200, echo, "text/plain", {{"x-test", "1"}}});
    }, [this](const std::string& path, int status, double) {
      std::lock_guard<std::mutex> lock(mutex);
      recorded.emplace_back(path, status);
    });
    runner = std::thread([this] {
      cut_off = server->run();
      ran_out = true;
    });
  }
  bool wait_for(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (done()) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  void TearDown() override {
    if (server) {
      server->shutdown();
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (held) held(HttpResponse{200, "late", "text/plain", {}});
        held = nullptr;
      }
      runner.join();
      server.reset();
    }
  }
};

TEST_F(ServeHttp, KeepAliveAndQueryStrings) {
  start();
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  c.send(post("/a?x=1", "one"));
  std::string r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("x-test: 1"), std::string::npos);
  EXPECT_NE(r.find("POST /a one"), std::string::npos);
  c.send(post("/b", "two"));  // same connection
  EXPECT_NE(c.response().find("POST /b two"), std::string::npos);
}

TEST_F(ServeHttp, PayloadLimitAndMalformedRequests) {
  start();
  {
    Client c(server->port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
    const std::string r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
    EXPECT_NE(r.find("\"error_type\":\"validation\""), std::string::npos);
    EXPECT_NE(r.find("payload too large"), std::string::npos);
  }
  {
    Client c(server->port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_NE(c.response().find("HTTP/1.1 400"), std::string::npos);
  }
  {
    Client c(server->port());  // chunked bodies are counted against the limit too
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + std::string(2000, 'b') + "\r\n0\r\n\r\n");
    EXPECT_NE(c.response().find("HTTP/1.1 413"), std::string::npos);
  }
  Client ok(server->port());
  ok.send(post("/still", "alive"));
  EXPECT_NE(ok.response().find("200"), std::string::npos);
}

// Beast reads a body of a transfer coding other than chunked as empty: such a request is
// refused, naming the coding. A 413 decided from Content-Length is recorded under its path.
TEST_F(ServeHttp, OnlyChunkedTransferCodingAndRejectionsKeepTheirPath) {
  start();
  for (const char* coding : {"gzip", "gzip, chunked", "chunked, gzip"}) {
    Client c(server->port());
    c.send(std::string("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + coding +
           "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    const std::string r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << coding << ": " << r;
    EXPECT_NE(r.find(std::string("Transfer-Encoding: ") + coding + " is not supported"), std::string::npos) << r;
  }
  {
    Client c(server->port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_NE(c.response().find("POST /x abc"), std::string::npos);
  }
  Client c(server->port());
  c.send("POST /embed?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_NE(c.response().find("HTTP/1.1 413"), std::string::npos);
  EXPECT_TRUE(wait_for([&] {
    return std::find(recorded.begin(), recorded.end(), std::make_pair(std::string("/embed"), 413)) != recorded.end();
  })) << "the 413 was not recorded under /embed";
}

TEST_F(ServeHttp, ResetCancelsTheRequest) {
  start();
  Client c(server->port());
  c.send(post("/hold", "x"));
  ASSERT_TRUE(wait_for([&] { return held_cancelled != nullptr; }));
  EXPECT_FALSE(held_cancelled->load());
  c.reset();
  EXPECT_TRUE(wait_for([&] { return held_cancelled->load(); })) << "a reset connection must cancel its request";
}

// shutdown(SHUT_WR) after the request ends the client's input, not the connection: the
// answer must still come (a FIN alone is no disconnect); a reset after it still cancels.
TEST_F(ServeHttp, HalfClosedClientGetsItsAnswer) {
  start();
  {
    Client c(server->port());
    c.send(post("/a", "now"));
    c.shutdown_send();
    const std::string r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
    EXPECT_NE(r.find("POST /a now"), std::string::npos) << r;
  }
  {
    Client c(server->port());
    c.send(post("/hold", "x"));
    c.shutdown_send();
    ASSERT_TRUE(wait_for([&] { return held != nullptr; }));
    std::this_thread::sleep_for(300ms);  // time for the server to see the FIN
    {
      std::lock_guard<std::mutex> lock(mutex);
      EXPECT_FALSE(held_cancelled->load()) << "a half-closed connection cancelled its request";
      held(HttpResponse{200, "done", "text/plain", {}});
      held = nullptr;
      held_cancelled = nullptr;
    }
    const std::string r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
    EXPECT_NE(r.find("done"), std::string::npos) << r;
  }
  Client c(server->port());
  c.send(post("/hold", "y"));
  c.shutdown_send();
  ASSERT_TRUE(wait_for([&] { return held_cancelled != nullptr; }));
  std::this_thread::sleep_for(100ms);
  c.reset();
  EXPECT_TRUE(wait_for([&] { return held_cancelled->load(); })) << "a reset after a half-close must cancel";
}

TEST_F(ServeHttp, RequestTimeout) {
  start(200ms);
  Client c(server->port());
  c.send(post("/hold", "x"));
  const std::string r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 503"), std::string::npos) << r;
  EXPECT_NE(r.find("\"error_type\":\"timeout\""), std::string::npos);
  EXPECT_TRUE(held_cancelled && held_cancelled->load());
  c.send(post("/after", "y"));  // the connection stays usable; the late answer is dropped
  std::lock_guard<std::mutex> lock(mutex);
  held(HttpResponse{200, "late", "text/plain", {}});
  held = nullptr;
}

TEST_F(ServeHttp, ShutdownFinishesRequestsInFlight) {
  start();
  Client idle(server->port());
  Client busy(server->port());
  ASSERT_TRUE(idle.connected() && busy.connected());
  busy.send(post("/hold", "x"));
  ASSERT_TRUE(wait_for([&] { return held != nullptr; }));
  server->shutdown();
  EXPECT_EQ(idle.response(), "");  // an idle connection is closed
  Client refused(server->port());
  EXPECT_FALSE(refused.connected()) << "no new connections while draining";
  {
    std::lock_guard<std::mutex> lock(mutex);
    held(HttpResponse{200, "done", "text/plain", {}});
    held = nullptr;
  }
  const std::string r = busy.response();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_NE(r.find("done"), std::string::npos);
  runner.join();  // run() returns once drained
  server.reset();
}

// The handler still holds the Responders of a request that timed out and of one whose client
// left (as the service does while their batch computes); nobody waits for those answers, so
// the shutdown does not either.
TEST_F(ServeHttp, ShutdownDoesNotWaitForAnswersNobodyAwaits) {
  start(200ms);
  Responder timed_out;
  {
    Client c(server->port());
    c.send(post("/hold", "x"));
    EXPECT_NE(c.response().find("HTTP/1.1 503"), std::string::npos);
    std::lock_guard<std::mutex> lock(mutex);
    timed_out = std::move(held);
    held = nullptr;
    held_cancelled = nullptr;
  }
  {
    Client c(server->port());
    c.send(post("/hold", "y"));
    ASSERT_TRUE(wait_for([&] { return held_cancelled != nullptr; }));
    c.reset();
    ASSERT_TRUE(wait_for([&] { return held_cancelled->load(); }));
  }
  const auto t0 = std::chrono::steady_clock::now();
  server->shutdown();
  ASSERT_TRUE(wait_for([&] { return ran_out.load(); })) << "run() waits for answers nobody awaits";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  timed_out(HttpResponse{200, "late", "text/plain", {}});  // after run(): dropped, as TearDown's
}

// A shutdown with requests half sent: such a connection gets drain_partial_timeout (2 s) to
// send the rest, not the 60 s idle timeout; a request completed within it is answered, and
// marked as arriving during the drain (/health answers 503 then).
TEST_F(ServeHttp, ShutdownGivesHalfSentRequestsAShortDeadline) {
  start();
  Client stalled(server->port());
  Client finishing(server->port());
  ASSERT_TRUE(stalled.connected() && finishing.connected());
  stalled.send("POST /embed HTTP/1.1\r\nHo");
  finishing.send("GET /health HTTP/1.1\r\nHo");
  std::this_thread::sleep_for(500ms);  // for the server to read them
  server->shutdown();
  ASSERT_TRUE(wait_for([&] { return !Client(server->port()).connected(); }));  // draining
  finishing.send("st: x\r\n\r\n");
  const std::string r = finishing.response();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /health  (draining)"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_TRUE(wait_for([&] { return ran_out.load(); })) << "a half-sent request held the shutdown for over 5 s";
  EXPECT_EQ(stalled.response(), "");
  EXPECT_EQ(cut_off.load(), 0u);
}

// The drain timeout bounds the shutdown: a request still in flight is cancelled and its
// connection closed unanswered; run() says how many.
TEST_F(ServeHttp, DrainTimeoutCutsOffRequestsInFlight) {
  start(30s, 300ms);
  Client c(server->port());
  c.send(post("/hold", "x"));
  ASSERT_TRUE(wait_for([&] { return held_cancelled != nullptr; }));
  server->shutdown();
  ASSERT_TRUE(wait_for([&] { return ran_out.load(); })) << "the drain outlasted --drain-timeout";
  EXPECT_EQ(cut_off.load(), 1u);
  EXPECT_TRUE(held_cancelled->load());
  EXPECT_EQ(c.response(), "");
}

}  // namespace
}  // namespace encore::serve

namespace encore::serve {
namespace {

TEST_F(ServeHttp, ConnectionsBeyondTheCapAre503) {
  configure = [](HttpServerOptions& o) { o.max_connections = 2; };
  start();
  auto a = std::make_unique<Client>(server->port());
  Client b(server->port());
  for (Client* c : {a.get(), &b}) {  // answered: both registered
    c->send(post("/x", "1"));
    EXPECT_NE(c->response().find("HTTP/1.1 200"), std::string::npos);
  }
  {
    Client c(server->port());
    c.send(post("/x", "2"));
    const std::string r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 503"), std::string::npos) << r;
    EXPECT_NE(r.find("too many connections: the server has 2 open (--max-connections)"), std::string::npos) << r;
    EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  }
  a.reset();  // a slot frees
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    Client c(server->port());
    c.send(post("/x", "3"));
    served = c.response().find("HTTP/1.1 200") != std::string::npos;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served) << "a closed connection's slot is given to the next one";
}

// A client that sends a request and never reads the answer: the answer (larger than the
// socket buffers) is dropped when the write timeout passes, not held for the idle timeout.
TEST_F(ServeHttp, AnAnswerNobodyReadsIsDroppedAfterTheWriteTimeout) {
  configure = [](HttpServerOptions& o) {
    o.write_timeout = 300ms;
    o.idle_timeout = 60s;
  };
  start();
  Client c(server->port());
  c.send(post("/big", std::to_string(64 << 20)));
  const auto t0 = std::chrono::steady_clock::now();
  const std::pair<std::string, int> dropped{"/big", 499};
  EXPECT_TRUE(wait_for([&] { return std::count(recorded.begin(), recorded.end(), dropped) == 1; }))
      << "the unread answer is still held";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
}  // namespace encore::serve
