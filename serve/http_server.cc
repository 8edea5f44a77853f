#include "serve/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <map>
#include <optional>

#include "encore/error.h"
#include "serve/api_error.h"
#include "serve/asio.h"

namespace encore::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
class Session;
}

struct HttpServer::State {
  HttpServerOptions options;
  Handler handler;
  ResponseHook hook;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::signal_set signals{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::map<const Session*, std::weak_ptr<Session>> sessions;  // I/O thread only
  bool draining = false;
  asio::steady_timer drain_timer{io};  // options.drain_timeout from the shutdown
  size_t cut_off = 0;                  // requests in flight that the drain timeout closed
  uint16_t port = 0;

  void accept(std::shared_ptr<State> self);
  void begin_shutdown();
  std::vector<std::shared_ptr<Session>> live_sessions();
  void session_closed(const Session* s);
  void record(const std::string& path, int status, Clock::time_point since) {
    if (hook) hook(path, status, std::chrono::duration<double>(Clock::now() - since).count());
  }
};

namespace {

// A Transfer-Encoding the server decodes: chunked alone (no compression).
bool is_chunked(beast::string_view coding) {
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
  return beast::iequals(coding, "chunked");
}

// One connection: requests one after another (keep-alive), one in flight at a time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::State> state)
      : stream_(std::move(socket)), state_(std::move(state)), deadline_(state_->io) {}

  ~Session() {
    // close() unregistered it, or it never was: a late erase could hit a newer session at this address
    if (closed_ || refused_) return;
    std::weak_ptr<HttpServer::State> weak = state_;
    const Session* me = this;
    if (state_->io.get_executor().running_in_this_thread())
      state_->session_closed(me);
    else
      asio::post(state_->io, [weak, me] {
        if (auto st = weak.lock()) st->session_closed(me);
      });
  }

  void start() {
    state_->sessions[this] = weak_from_this();
    read_header();
  }

  // Over max_connections: a 503 at once, without reading the request, then close. Not
  // registered, so it holds no slot.
  void refuse() {
    refused_ = true;
    reject(503, ApiError{503, ErrorType::Unhealthy,
                         "too many connections: the server has " + std::to_string(state_->options.max_connections) +
                             " open (--max-connections); retry shortly"});
  }

  // Shutdown: a connection waiting for its next request is closed; one with a request in
  // flight finishes it (its answer says Connection: close); one that has begun to send a
  // request gets drain_partial_timeout to send the rest, not the idle timeout.
  void drain() {
    if (busy_ || writing_) return;
    if (!(parser_ && parser_->got_some())) return close();
    deadline_.expires_after(state_->options.drain_partial_timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e && !self->busy_ && !self->writing_) self->close();
    });
  }

  // The drain timeout: the connection closes whatever it is doing; a request in flight is
  // cancelled (and counted: true).
  bool cut_off() {
    const bool in_flight = busy_ && !closed_;
    if (in_flight) cancelled_->store(true);
    close();
    return in_flight;
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(state_->options.payload_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(state_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    received_ = Clock::now();
    const auto& req = parser_->get();
    const beast::string_view coding = req[http::field::transfer_encoding];
    if (!coding.empty() && !is_chunked(coding))  // Beast would read the body as empty
      return reject(400, ApiError{400, ErrorType::Validation,
                                  "Transfer-Encoding: " + std::string(coding) +
                                      " is not supported; send the body as it is, or chunked"});
    if (req[http::field::expect] == "100-continue" && !parser_->is_done()) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue), [self = shared_from_this()](beast::error_code e, size_t) {
        if (e) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(state_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return reject(413, ApiError{413, ErrorType::Validation,
                                  "payload too large: the body exceeds " + std::to_string(state_->options.payload_limit) +
                                      " bytes (--payload-limit)"});
    if (ec == http::error::header_limit)
      return reject(431, ApiError{431, ErrorType::Validation, "request headers too large"});
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return reject(400, ApiError{400, ErrorType::Validation, "bad HTTP request: " + ec.message()});
    close();  // end of stream, timeout, reset, shutdown
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    const std::string_view target(req.target().data(), req.target().size());
    r.path = std::string(target.substr(0, target.find('?')));
    r.body = std::move(req.body());
    r.authorization = std::string(req[http::field::authorization]);
    r.received = received_;
    r.draining = state_->draining;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    path_ = r.path;
    cancelled_ = std::make_shared<std::atomic<bool>>(false);
    r.cancelled = cancelled_;
    busy_ = true;
    const uint64_t seq = ++seq_;
    stream_.expires_never();
    watch_disconnect(seq);
    deadline_.expires_after(state_->options.request_timeout);
    deadline_.async_wait([self = shared_from_this(), seq](beast::error_code e) {
      if (e || seq != self->seq_ || !self->busy_) return;
      self->cancelled_->store(true);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(self->state_->options.request_timeout);
      ApiError err = timed_out("request timed out after " + std::to_string(ms.count()) + " ms (--request-timeout)");
      self->respond(seq, HttpResponse{err.status, err.tei_json(), "application/json", {}});
    });
    auto self = shared_from_this();
    Responder responder = [self, seq](HttpResponse response) {
      asio::post(self->state_->io, [self, seq, response = std::move(response)]() mutable {
        self->respond(seq, std::move(response));
      });
    };
    state_->handler(std::move(r), std::move(responder));
  }

  // While a request is in flight, the socket is watched for the client going away: a reset
  // or another socket error cancels the request (queued work for it is dropped) and closes
  // the socket. The end of the client's input does not: a client may shut down its sending
  // side after the request (shutdown(SHUT_WR)) and still read the answer, and on the wire
  // that FIN is the same as a close; after it, only an error (the reset a closed socket
  // sends when data reaches it) cancels, and an answer that cannot be written counts as 499.
  void watch_disconnect(uint64_t seq) {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), seq](beast::error_code ec) {
      if (ec || seq != self->seq_ || !self->busy_ || self->closed_) return;
      const int fd = self->stream_.socket().native_handle();
      char c;
      const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // the next request, pipelined: the client is still there
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return self->watch_disconnect(seq);
      if (n == 0 && !socket_failed(fd)) return self->watch_error(seq);  // half-closed: keep going
      self->cancel_request();
    });
  }
  void watch_error(uint64_t seq) {
    stream_.socket().async_wait(tcp::socket::wait_error, [self = shared_from_this(), seq](beast::error_code ec) {
      if (ec || seq != self->seq_ || !self->busy_ || self->closed_) return;
      self->cancel_request();
    });
  }
  // A reset or error is pending on the socket (it also shows after a FIN, which recv reports first).
  static bool socket_failed(int fd) {
    pollfd p{fd, 0, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
  }
  void cancel_request() {
    cancelled_->store(true);
    close();
  }

  void respond(uint64_t seq, HttpResponse r) {
    if (seq != seq_ || !busy_) return;  // answered already (timeout), or a stale answer
    busy_ = false;
    deadline_.cancel();
    if (closed_) {
      state_->record(path_, 499, received_);  // the client closed the connection first
      return;
    }
    beast::error_code ignored;
    stream_.socket().cancel(ignored);  // ends the disconnect watch
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::server, "encore");
    response_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive_ && !state_->draining);
    response_.prepare_payload();
    stream_.expires_after(state_->options.write_timeout);
    writing_ = true;
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->state_->record(self->path_, ec ? 499 : self->response_.result_int(), self->received_);
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read_header();
    });
  }

  // An answer to a request that could not be read whole; then the connection closes.
  void reject(int status, const ApiError& err) {
    // The route, for the metrics: the target is known once the request line is read (a 413
    // decided from Content-Length comes before the headers are done).
    const auto target = parser_ ? parser_->get().target() : beast::string_view{};
    const std::string_view t(target.data(), target.size());
    path_ = std::string(t.substr(0, t.find('?')));
    if (received_ == Clock::time_point{}) received_ = Clock::now();
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(status));
    response_.set(http::field::server, "encore");
    response_.set(http::field::content_type, "application/json");
    response_.body() = err.tei_json();
    response_.keep_alive(false);
    response_.prepare_payload();
    state_->record(path_, status, received_);
    stream_.expires_after(state_->options.write_timeout);
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->linger();
    });
  }

  // Closing with unread input makes the kernel send RST, which can destroy the answer
  // before the client reads it: stop sending, then read and discard for a moment.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->linger_more();
    });
  }
  void linger_more() {
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->linger_more();
    });
  }

  // The shutdown waits for open connections only: a closed one may live on in the Responder
  // of a request that timed out or whose client left (held until its batch is computed, which
  // can take seconds), but nobody waits for that answer.
  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    deadline_.cancel();
    if (!refused_) state_->session_closed(this);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<HttpServer::State> state_;
  asio::steady_timer deadline_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::string path_;
  Clock::time_point received_{};
  uint64_t seq_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;     // a request is in flight
  bool writing_ = false;  // an answer is being written
  bool closed_ = false;
  bool refused_ = false;  // refused (over max_connections): never registered
  char discard_[4096];
};

}  // namespace

void HttpServer::State::accept(std::shared_ptr<State> self) {
  acceptor.async_accept([self](beast::error_code ec, tcp::socket socket) {
    if (self->draining || !self->acceptor.is_open()) return;
    if (ec) {  // e.g. out of file descriptors: try again shortly rather than spin
      auto pause = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      pause->async_wait([self, pause](beast::error_code) { self->accept(self); });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(std::move(socket), self);
    if (self->sessions.size() >= self->options.max_connections) session->refuse();
    else session->start();
    self->accept(self);
  });
}

void HttpServer::State::begin_shutdown() {
  if (draining) return;
  draining = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  for (auto& s : live_sessions()) s->drain();
  if (sessions.empty()) return guard.reset();
  drain_timer.expires_after(options.drain_timeout);
  drain_timer.async_wait([this](beast::error_code ec) {
    if (ec) return;
    for (auto& s : live_sessions()) cut_off += s->cut_off() ? 1 : 0;
  });
}

std::vector<std::shared_ptr<Session>> HttpServer::State::live_sessions() {
  std::vector<std::shared_ptr<Session>> live;
  for (auto& [ptr, weak] : sessions)
    if (auto s = weak.lock()) live.push_back(std::move(s));
  return live;
}

void HttpServer::State::session_closed(const Session* s) {
  sessions.erase(s);
  if (draining && sessions.empty()) {
    guard.reset();
    drain_timer.cancel();
  }
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler, ResponseHook on_response)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->handler = std::move(handler);
  state_->hook = std::move(on_response);
  const HttpServerOptions& o = state_->options;
  try {
    tcp::resolver resolver(state_->io);
    auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive);
    ENCORE_CHECK(!results.empty(), "cannot resolve --host ", o.host);
    const tcp::endpoint endpoint = results.begin()->endpoint();
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(asio::socket_base::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen(asio::socket_base::max_listen_connections);
    state_->port = state_->acceptor.local_endpoint().port();  // kept: the acceptor belongs to the I/O thread
  } catch (const boost::system::system_error& e) {
    fail("cannot listen on ", o.host, ":", o.port, ": ", e.code().message());
  }
}

HttpServer::~HttpServer() {
  // Answers posted after run() returned (a request that timed out while the server drained,
  // finishing later) hold their connection, which holds the state: run them (they only
  // record metrics now) so that nothing keeps the state alive.
  state_->io.restart();
  state_->io.poll();
}

uint16_t HttpServer::port() const { return state_->port; }

size_t HttpServer::run() {
  state_->guard.emplace(state_->io.get_executor());
  if (state_->options.handle_signals) {
    state_->signals.add(SIGTERM);
    state_->signals.add(SIGINT);
    state_->signals.async_wait([st = state_](beast::error_code ec, int) {
      if (!ec) st->begin_shutdown();
    });
  }
  if (state_->draining) state_->guard.reset();
  state_->accept(state_);
  state_->io.run();
  return state_->cut_off;
}

void HttpServer::shutdown() {
  std::weak_ptr<State> weak = state_;
  asio::post(state_->io, [weak] {
    if (auto st = weak.lock()) st->begin_shutdown();
  });
}

}  // namespace encore::serve
