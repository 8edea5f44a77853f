// Helpers of the tests that drive encore serve's Service without sockets.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "serve/service.h"

namespace encore::testing {

using serve::HttpRequest;
using serve::HttpResponse;
using serve::Service;

// Sends a request as the HTTP layer does; the answer arrives on the future.
inline std::future<HttpResponse> send(Service& service, const std::string& method, const std::string& path,
                                      const std::string& body = "", const std::string& auth = "") {
  HttpRequest request;
  request.method = method;
  request.path = path;
  request.body = body;
  request.authorization = auth;
  request.received = std::chrono::steady_clock::now();
  auto answer = std::make_shared<std::promise<HttpResponse>>();
  std::future<HttpResponse> future = answer->get_future();
  service.handle(std::move(request), [answer](HttpResponse r) { answer->set_value(std::move(r)); });
  return future;
}

// Calls the service as the HTTP layer does and waits for the answer.
inline HttpResponse call(Service& service, const std::string& path, const std::string& body,
                         const std::string& auth = "", const std::string& method = "POST") {
  std::future<HttpResponse> future = send(service, method, path, body, auth);
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "no answer to " << path;
    return {};
  }
  return future.get();
}

// The largest |a[i] - b[i]|; infinity when the sizes differ.
inline double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  return d;
}

}  // namespace encore::testing
