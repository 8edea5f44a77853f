#include "io/pickle_vm.h"

#include <cstdio>
#include <cstring>

#include "encore/error.h"
#include "io/byte_reader.h"

namespace encore::pickle {

namespace {

// Bounds the arena: each opcode adds at most one value, so this caps a hostile pickle's
// memory at a few hundred MB; a state_dict needs about 15 values per tensor.
constexpr size_t kMaxValues = size_t{1} << 22;
constexpr int kHighestProtocol = 5;

std::string opcode_label(uint8_t op) {
  char buf[8];
  if (op >= 0x20 && op < 0x7f) std::snprintf(buf, sizeof buf, "'%c'", op);
  else std::snprintf(buf, sizeof buf, "0x%02x", op);
  return buf;
}

}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "big int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Host: return "object";
  }
  return "?";
}

Id Machine::add(Value v) {
  if (arena_.size() >= kMaxValues) fail(where_, ": pickle has more than ", kMaxValues, " values");
  arena_.push_back(std::move(v));
  return static_cast<Id>(arena_.size() - 1);
}

Id Machine::pop(size_t at, const char* op) {
  // Like CPython's unpickler, nothing below the innermost MARK may be popped.
  const size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail(where_, ": ", op, " at byte ", at, ": stack underflow");
  Id v = stack_.back();
  stack_.pop_back();
  return v;
}

std::vector<Id> Machine::pop_mark(size_t at, const char* op) {
  if (marks_.empty()) fail(where_, ": ", op, " at byte ", at, ": no MARK to pop to");
  const size_t m = marks_.back();
  marks_.pop_back();
  std::vector<Id> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

Id Machine::run(const unsigned char* data, size_t size, const Hooks& hooks, size_t* consumed) {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  io::ByteReader r(data, size, where_);

  auto push = [&](Value v) { stack_.push_back(add(std::move(v))); };
  auto push_int = [&](int64_t i) {
    Value v;
    v.kind = Kind::Int;
    v.i = i;
    push(std::move(v));
  };
  auto push_str = [&](Kind kind, uint64_t n, const char* what) {
    if (n > r.remaining()) r.error("truncated ", what, ": ", n, " bytes, ", r.remaining(), " left");
    Value v;
    v.kind = kind;
    v.s.assign(reinterpret_cast<const char*>(r.take(static_cast<size_t>(n), what)), static_cast<size_t>(n));
    push(std::move(v));
  };
  auto push_long = [&](uint64_t n) {
    if (n > r.remaining()) r.error("truncated LONG: ", n, " bytes, ", r.remaining(), " left");
    const unsigned char* p = r.take(static_cast<size_t>(n), "LONG");
    Value v;
    if (n <= 8) {  // fits int64: sign-extend the little-endian two's complement
      uint64_t u = n ? io::ByteReader::le(p, static_cast<int>(n)) : 0;
      if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);
      v.kind = Kind::Int;
      v.i = static_cast<int64_t>(u);
    } else {
      v.kind = Kind::BigInt;
      v.s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    }
    push(std::move(v));
  };
  auto push_seq = [&](Kind kind, std::vector<Id> items) {
    Value v;
    v.kind = kind;
    v.items = std::move(items);
    push(std::move(v));
  };
  auto top = [&](size_t at, const char* op) -> Id {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) fail(where_, ": ", op, " at byte ", at, ": stack underflow");
    return stack_.back();
  };
  auto memo_get = [&](uint32_t key, size_t at) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail(where_, ": GET at byte ", at, ": memo key ", key, " was never stored");
    stack_.push_back(it->second);
  };
  auto memo_put = [&](uint32_t key, size_t at) { memo_[key] = top(at, "PUT"); };
  auto global = [&](std::string module, std::string name) {
    hooks.global(module, name);
    Value v;
    v.kind = Kind::Global;
    v.s = module + "." + name;
    push(std::move(v));
  };
  auto read_line = [&](const char* what) {
    const void* nl = std::memchr(r.data() + r.pos(), '\n', r.remaining());
    if (!nl) r.error("truncated ", what, " (no newline)");
    const size_t n = static_cast<size_t>(static_cast<const unsigned char*>(nl) - (r.data() + r.pos()));
    std::string s(reinterpret_cast<const char*>(r.take(n, what)), n);
    r.take(1, what);
    return s;
  };
  auto need = [&](Id id, Kind kind, size_t at, const char* op) -> Value& {
    if (arena_[id].kind != kind)
      fail(where_, ": ", op, " at byte ", at, ": expected a ", kind_name(kind), ", found a ", kind_name(arena_[id].kind));
    return mut(id);
  };

  while (true) {
    const size_t at = r.pos();
    const uint8_t op = r.u8("opcode (no STOP)");
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t proto = r.u8();
        if (proto < 2 || proto > kHighestProtocol) r.error("unsupported pickle protocol ", int{proto});
        break;
      }
      case 0x95: {  // FRAME: a length hint; the data is read in place regardless
        const uint64_t n = r.u64();
        if (n > r.remaining()) r.error("FRAME of ", n, " bytes runs past the end");
        break;
      }
      case '.': {  // STOP
        const Id result = pop(at, "STOP");
        if (consumed) *consumed = r.pos();
        return result;
      }
      case '(': marks_.push_back(stack_.size()); break;                  // MARK
      case '0': pop(at, "POP"); break;                                    // POP
      case '1': pop_mark(at, "POP_MARK"); break;                          // POP_MARK
      case '2': stack_.push_back(top(at, "DUP")); break;                  // DUP
      case 'N': push(Value{}); break;                                     // NONE
      case 0x88: case 0x89: {                                             // NEWTRUE, NEWFALSE
        Value v;
        v.kind = Kind::Bool;
        v.i = op == 0x88;
        push(std::move(v));
        break;
      }
      case 'J': push_int(static_cast<int32_t>(r.u32())); break;           // BININT
      case 'K': push_int(r.u8()); break;                                  // BININT1
      case 'M': push_int(r.u16()); break;                                 // BININT2
      case 0x8a: push_long(r.u8()); break;                                // LONG1
      case 0x8b: {                                                        // LONG4
        const int32_t n = static_cast<int32_t>(r.u32());
        if (n < 0) r.error("LONG4 with negative length");
        push_long(static_cast<uint64_t>(n));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const unsigned char* p = r.take(8, "BINFLOAT");
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | p[k];
        Value v;
        v.kind = Kind::Float;
        std::memcpy(&v.f, &u, 8);
        push(std::move(v));
        break;
      }
      case 'X': push_str(Kind::Str, r.u32(), "BINUNICODE"); break;
      case 0x8c: push_str(Kind::Str, r.u8(), "SHORT_BINUNICODE"); break;
      case 0x8d: push_str(Kind::Str, r.u64(), "BINUNICODE8"); break;
      case 'T': {  // BINSTRING (protocol 1 str): signed length
        const int32_t n = static_cast<int32_t>(r.u32());
        if (n < 0) r.error("BINSTRING with negative length");
        push_str(Kind::Str, static_cast<uint64_t>(n), "BINSTRING");
        break;
      }
      case 'U': push_str(Kind::Str, r.u8(), "SHORT_BINSTRING"); break;
      case 'B': push_str(Kind::Bytes, r.u32(), "BINBYTES"); break;
      case 'C': push_str(Kind::Bytes, r.u8(), "SHORT_BINBYTES"); break;
      case 0x8e: push_str(Kind::Bytes, r.u64(), "BINBYTES8"); break;
      case ')': push_seq(Kind::Tuple, {}); break;                         // EMPTY_TUPLE
      case 't': push_seq(Kind::Tuple, pop_mark(at, "TUPLE")); break;      // TUPLE
      case 0x85: case 0x86: case 0x87: {                                  // TUPLE1..3
        std::vector<Id> items(static_cast<size_t>(op - 0x84));
        for (size_t k = items.size(); k-- > 0;) items[k] = pop(at, "TUPLEn");
        push_seq(Kind::Tuple, std::move(items));
        break;
      }
      case ']': push_seq(Kind::List, {}); break;                          // EMPTY_LIST
      case 'l': push_seq(Kind::List, pop_mark(at, "LIST")); break;        // LIST
      case 'a': {                                                         // APPEND
        const Id v = pop(at, "APPEND");
        need(top(at, "APPEND"), Kind::List, at, "APPEND").items.push_back(v);
        break;
      }
      case 'e': {                                                         // APPENDS
        std::vector<Id> items = pop_mark(at, "APPENDS");
        Value& list = need(top(at, "APPENDS"), Kind::List, at, "APPENDS");
        list.items.insert(list.items.end(), items.begin(), items.end());
        break;
      }
      case '}': push_seq(Kind::Dict, {}); break;                          // EMPTY_DICT
      case 'd': case 'u': {                                               // DICT, SETITEMS
        std::vector<Id> items = pop_mark(at, op == 'd' ? "DICT" : "SETITEMS");
        if (items.size() % 2) fail(where_, ": SETITEMS at byte ", at, ": odd number of items");
        if (op == 'd') {
          push_seq(Kind::Dict, std::move(items));
        } else {
          Value& dict = need(top(at, "SETITEMS"), Kind::Dict, at, "SETITEMS");
          dict.items.insert(dict.items.end(), items.begin(), items.end());
        }
        break;
      }
      case 's': {                                                         // SETITEM
        const Id value = pop(at, "SETITEM"), key = pop(at, "SETITEM");
        Value& dict = need(top(at, "SETITEM"), Kind::Dict, at, "SETITEM");
        dict.items.push_back(key);
        dict.items.push_back(value);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = read_line("GLOBAL module");
        std::string name = read_line("GLOBAL name");
        global(std::move(module), std::move(name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Id name = pop(at, "STACK_GLOBAL"), module = pop(at, "STACK_GLOBAL");
        need(name, Kind::Str, at, "STACK_GLOBAL");
        need(module, Kind::Str, at, "STACK_GLOBAL");
        global(arena_[module].s, arena_[name].s);
        break;
      }
      case 'R': {  // REDUCE
        const Id args = pop(at, "REDUCE"), callable = pop(at, "REDUCE");
        need(callable, Kind::Global, at, "REDUCE");
        need(args, Kind::Tuple, at, "REDUCE");
        push(hooks.reduce(*this, callable, args));
        break;
      }
      case 'b': {  // BUILD
        const Id state = pop(at, "BUILD");
        hooks.build(*this, top(at, "BUILD"), state);
        break;
      }
      case 'Q': {  // BINPERSID
        const Id pid = pop(at, "BINPERSID");
        push(hooks.persistent_load(*this, pid));
        break;
      }
      case 'q': memo_put(r.u8(), at); break;                              // BINPUT
      case 'r': memo_put(r.u32(), at); break;                             // LONG_BINPUT
      case 0x94: memo_put(static_cast<uint32_t>(memo_.size()), at); break;  // MEMOIZE
      case 'h': memo_get(r.u8(), at); break;                              // BINGET
      case 'j': memo_get(r.u32(), at); break;                             // LONG_BINGET
      default:
        fail(where_, ": unsupported pickle opcode ", opcode_label(op), " at byte ", at,
             " (a state_dict pickle never needs it)");
    }
  }
}

}  // namespace encore::pickle
