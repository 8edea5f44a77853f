// Boost.Asio and Boost.Beast for encore serve, included in one place.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>, which
// GCC 12 in C++20 mode (coroutines on) does not pull in on its own.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
