#include "io/torch_pickle.h"

#include <map>
#include <set>

#include "encore/error.h"
#include "io/pickle_vm.h"

namespace encore::io {

namespace {

using pickle::Id;
using pickle::Kind;
using pickle::Machine;
using pickle::Value;

constexpr int kStorageRef = 1, kTensor = 2;  // Host object tags
constexpr size_t kMaxDims = 32;
constexpr size_t kMaxKeyLength = 4096;
constexpr int64_t kMaxNumel = int64_t{1} << 56;  // keeps byte counts far from overflow

// torch/storage.py's legacy typed storage classes, as persistent ids name them.
const std::map<std::string, DType>& storage_types() {
  static const std::map<std::string, DType> m = {
      {"torch.FloatStorage", DType::F32},   {"torch.HalfStorage", DType::F16},
      {"torch.BFloat16Storage", DType::BF16}, {"torch.DoubleStorage", DType::F64},
      {"torch.LongStorage", DType::I64},    {"torch.IntStorage", DType::I32},
      {"torch.ShortStorage", DType::I16},   {"torch.CharStorage", DType::I8},
      {"torch.ByteStorage", DType::U8},     {"torch.BoolStorage", DType::Bool},
  };
  return m;
}

// Callables (torch/_utils.py) and the one container class a state_dict pickle uses.
const std::set<std::string>& callables() {
  static const std::set<std::string> s = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",  // every tensor since torch 0.4
      "torch._utils._rebuild_tensor",     // torch 0.3
      "torch._utils._rebuild_parameter",  // an nn.Parameter (state_dict(keep_vars=True))
  };
  return s;
}

class Interpreter {
 public:
  Interpreter(std::string where, TorchPickleKind kind) : m_(where), where_(std::move(where)), kind_(kind) {}

  TorchStateDict run(const unsigned char* data, size_t size, size_t* consumed) {
    pickle::Hooks hooks;
    hooks.global = [this](const std::string& module, const std::string& name) { check_global(module, name); };
    hooks.reduce = [this](Machine&, Id callable, Id args) { return reduce(callable, args); };
    hooks.persistent_load = [this](Machine&, Id pid) { return persistent_load(pid); };
    hooks.build = [this](Machine&, Id object, Id state) { build(object, state); };
    const Id root = m_.run(data, size, hooks, consumed);
    collect(root);
    return std::move(out_);
  }

 private:
  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(where_, ": ", parts...);
  }

  const Value& at(Id id) const { return m_.at(id); }

  void check_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (callables().count(full) || storage_types().count(full)) return;
    error("the pickle asks for global '", full,
          "', which a state_dict never needs; refusing to load it (allowed: collections.OrderedDict, "
          "torch._utils._rebuild_tensor_v2, _rebuild_parameter and torch.*Storage)");
  }

  int64_t integer(Id id, const char* what) const {
    if (at(id).kind != Kind::Int) error(what, " must be an int, not a ", pickle::kind_name(at(id).kind));
    return at(id).i;
  }
  std::vector<int64_t> int_tuple(Id id, const char* what) const {
    const Value& v = at(id);
    if (v.kind != Kind::Tuple) error(what, " must be a tuple, not a ", pickle::kind_name(v.kind));
    if (v.items.size() > kMaxDims) error(what, " has ", v.items.size(), " dimensions (limit ", kMaxDims, ")");
    std::vector<int64_t> out;
    for (Id item : v.items) {
      const int64_t x = integer(item, what);
      if (x < 0) error(what, " has a negative entry ", x);
      out.push_back(x);
    }
    return out;
  }
  bool empty_dict(Id id) const { return at(id).kind == Kind::Dict && at(id).items.empty(); }

  Value host(int tag, size_t index) {
    Value v;
    v.kind = Kind::Host;
    v.tag = tag;
    v.i = static_cast<int64_t>(index);
    return v;
  }

  // ('storage', storage_type, key, location, numel[, view_metadata]):
  // torch/serialization.py persistent_id() in _save and _legacy_save.
  Value persistent_load(Id pid) {
    const Value& t = at(pid);
    const size_t fields = kind_ == TorchPickleKind::Zip ? 5 : 6;
    if (t.kind != Kind::Tuple || t.items.size() != fields)
      error("persistent id must be a tuple of ", fields, " fields ('storage', type, key, location, numel",
            fields == 6 ? ", view" : "", ")");
    const Value& tag = at(t.items[0]);
    if (tag.kind != Kind::Str || tag.s != "storage")
      error("persistent id of kind '", tag.kind == Kind::Str ? tag.s : pickle::kind_name(tag.kind),
            "' is not a storage");
    const Value& type = at(t.items[1]);
    auto st = type.kind == Kind::Global ? storage_types().find(type.s) : storage_types().end();
    if (st == storage_types().end())
      error("persistent id names storage type '", type.kind == Kind::Global ? type.s : pickle::kind_name(type.kind),
            "', not a typed storage class");
    const Value& key = at(t.items[2]);
    if (key.kind != Kind::Str || key.s.empty() || key.s.size() > kMaxKeyLength)
      error("persistent id has a bad storage key");
    if (at(t.items[3]).kind != Kind::Str) error("storage '", key.s, "': location must be a string");
    const int64_t numel = integer(t.items[4], "storage size");
    if (numel < 0 || numel > kMaxNumel) error("storage '", key.s, "': absurd size ", numel);
    if (fields == 6 && at(t.items[5]).kind != Kind::None)
      error("storage '", key.s, "': storage views (torch < 0.4) are not supported");

    auto [it, fresh] = storage_index_.emplace(key.s, out_.storages.size());
    if (fresh) {
      out_.storages.push_back({key.s, st->second, static_cast<uint64_t>(numel)});
    } else {
      const TorchStorage& s = out_.storages[it->second];
      if (static_cast<uint64_t>(numel) * dtype_size(st->second) != s.numel * dtype_size(s.dtype))
        error("storage '", key.s, "' is declared with two different sizes");
    }
    refs_.push_back({it->second, st->second});
    return host(kStorageRef, refs_.size() - 1);
  }

  Value reduce(Id callable, Id args_id) {
    const std::string& name = at(callable).s;
    const std::vector<Id>& args = at(args_id).items;
    if (name == "collections.OrderedDict") {
      if (!args.empty()) error("OrderedDict(...) with arguments is not supported");
      Value v;
      v.kind = Kind::Dict;
      return v;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      const bool v2 = name == "torch._utils._rebuild_tensor_v2";
      if (v2 ? args.size() != 6 && args.size() != 7 : args.size() != 4)
        error(name, " called with ", args.size(), " arguments");
      const Value& s = at(args[0]);
      if (s.kind != Kind::Host || s.tag != kStorageRef) error(name, ": first argument is not a storage");
      TorchTensorSpec t;
      t.storage = refs_[static_cast<size_t>(s.i)].first;
      t.dtype = refs_[static_cast<size_t>(s.i)].second;
      t.offset = integer(args[1], "storage offset");
      if (t.offset < 0) error("negative storage offset ", t.offset);
      t.sizes = int_tuple(args[2], "tensor size");
      t.strides = int_tuple(args[3], "tensor stride");
      if (t.sizes.size() != t.strides.size())
        error("tensor size has ", t.sizes.size(), " dimensions but stride has ", t.strides.size());
      if (v2) {
        if (at(args[4]).kind != Kind::Bool) error("requires_grad must be a bool");
        if (!empty_dict(args[5])) error("tensors with backward hooks are not supported");
        if (args.size() == 7 && at(args[6]).kind != Kind::None && !empty_dict(args[6]))
          error("tensor metadata (conjugate or negative bits) is not supported");
      }
      out_.tensors.push_back(std::move(t));
      return host(kTensor, out_.tensors.size() - 1);
    }
    if (name == "torch._utils._rebuild_parameter") {  // (data, requires_grad, backward_hooks)
      if (args.size() != 3) error(name, " called with ", args.size(), " arguments");
      const Value& data = at(args[0]);
      if (data.kind != Kind::Host || data.tag != kTensor) error(name, ": first argument is not a tensor");
      if (!empty_dict(args[2])) error("parameters with backward hooks are not supported");
      return data;
    }
    error("global '", name, "' cannot be called");
  }

  // OrderedDict's state is its __dict__: {'_metadata': ...} for a module's state_dict.
  void build(Id object, Id state) {
    if (at(object).kind != Kind::Dict) error("BUILD on a ", pickle::kind_name(at(object).kind), " is not supported");
    if (at(state).kind != Kind::Dict && at(state).kind != Kind::None)
      error("BUILD state of a dict must be a dict");
  }

  void collect(Id root) {
    const Value& d = at(root);
    if (d.kind != Kind::Dict)
      error("the pickle holds a ", pickle::kind_name(d.kind), ", not a state_dict (a dict of tensors)");
    for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
      const Value& key = at(d.items[k]);
      const Value& value = at(d.items[k + 1]);
      if (key.kind != Kind::Str) error("state_dict key is a ", pickle::kind_name(key.kind), ", not a string");
      if (key.s.size() > kMaxKeyLength) error("state_dict key of ", key.s.size(), " bytes");
      if (value.kind != Kind::Host || value.tag != kTensor)
        error("'", key.s, "' holds a ", pickle::kind_name(value.kind),
              ", not a tensor: not a state_dict (torch.save(model.state_dict()) writes one)");
      out_.entries.emplace_back(key.s, static_cast<size_t>(value.i));
    }
  }

  Machine m_;
  std::string where_;
  TorchPickleKind kind_;
  TorchStateDict out_;
  std::map<std::string, size_t> storage_index_;
  std::vector<std::pair<size_t, DType>> refs_;  // storage reference -> (storage, dtype)
};

}  // namespace

TorchStateDict parse_torch_state_dict(const unsigned char* data, size_t size, const std::string& where,
                                      TorchPickleKind kind, size_t* consumed) {
  return Interpreter(where, kind).run(data, size, consumed);
}

}  // namespace encore::io
