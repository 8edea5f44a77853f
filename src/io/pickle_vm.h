// A restricted pickle machine: the opcodes of protocols 2-5 that torch.save emits for a
// state_dict (CPython Lib/pickletools.py documents each one), and nothing that can run code.
// GLOBAL, REDUCE, BUILD and BINPERSID are handed to the caller's Hooks, which allow a short
// list of names and build plain values; everything else is data. The machine never calls
// anything it finds in the pickle.
//
// Values live in an arena and refer to each other by index, so a pickle that makes a list
// contain itself costs nothing and leaks nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace encore::pickle {

using Id = uint32_t;  // a value's index in the machine's arena

enum class Kind : uint8_t {
  None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict,
  Global,  // a name the hooks allowed: s = "module.name"
  Host,    // an object the hooks made: tag and i are theirs
};
const char* kind_name(Kind k);

struct Value {
  Kind kind = Kind::None;
  int tag = 0;             // Host: the hook's object type
  int64_t i = 0;           // Bool, Int; Host: the hook's handle
  double f = 0;            // Float
  std::string s;           // Str, Bytes, Global; BigInt: little-endian two's complement bytes
  std::vector<Id> items;   // Tuple, List; Dict: key, value, key, value, ... in insertion order
};

class Machine;

struct Hooks {
  // GLOBAL / STACK_GLOBAL: return to allow the name, throw encore::Error to refuse.
  std::function<void(const std::string& module, const std::string& name)> global;
  // REDUCE: `callable` is an allowed Global, `args` a Tuple; returns the result.
  std::function<Value(Machine&, Id callable, Id args)> reduce;
  // BINPERSID: the persistent id object; returns what it stands for.
  std::function<Value(Machine&, Id pid)> persistent_load;
  // BUILD: set `state` on `object` (or refuse).
  std::function<void(Machine&, Id object, Id state)> build;
};

class Machine {
 public:
  // `where` prefixes every error: "<file>: data.pkl".
  explicit Machine(std::string where) : where_(std::move(where)) {}

  // Runs one pickle starting at data[0] up to its STOP; returns the result and sets
  // *consumed to the bytes read (several pickles can follow each other in one file).
  Id run(const unsigned char* data, size_t size, const Hooks& hooks, size_t* consumed = nullptr);

  const Value& at(Id id) const { return arena_[id]; }
  Id add(Value v);
  const std::string& where() const { return where_; }

 private:
  Value& mut(Id id) { return arena_[id]; }
  std::vector<Id> pop_mark(size_t at, const char* op);
  Id pop(size_t at, const char* op);

  std::string where_;
  std::deque<Value> arena_;  // stable references while values are added
  std::vector<Id> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Id> memo_;
};

}  // namespace encore::pickle
