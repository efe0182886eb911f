// Node-API addon over libtorch (ATen) for the `torch` TensorFlow.js backend.
//
// The JS side holds at::Tensor handles (Napi::External) and calls ATen operators by their schema name through
// c10's boxed dispatcher: each argument is converted from JS by the type the operator's schema declares, so one
// generic entry point serves every kernel. Every libtorch error becomes a JS Error that names the operator and
// the shapes of its tensor arguments; nothing aborts the process.

#include <malloc.h>
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::atomic<int64_t> g_live{0};

// A caching CPU allocator for tensor storage. TensorFlow.js never computes in place, so a training step allocates
// and frees hundreds of same-sized buffers; with glibc's malloc those came from a heap that its adaptive mmap
// threshold let grow to 3.6 GB for a 64 x 64 U-Net (0.4 GB live), while forcing mmap instead cost 40% of the
// speed in page faults. Freed blocks of 64 KiB and more are kept by exact size and handed out again, so a
// repeated step reuses its buffers: RSS stays at the live peak plus the cache, which is capped (STS_TORCH_CACHE_MB,
// default 2048) and can be emptied.
class CachingCpuAllocator;
// Never destroyed: tensors may be freed during process exit, after static destructors ran.
CachingCpuAllocator* g_allocator = nullptr;

class CachingCpuAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kMinCached = 64 * 1024;

  CachingCpuAllocator() {
    const char* mb = std::getenv("STS_TORCH_CACHE_MB");
    if (mb != nullptr && *mb != '\0') capBytes_ = static_cast<size_t>(std::strtoull(mb, nullptr, 10)) << 20;
  }

  // ATen's raw_allocate requires the context to be the data pointer itself, so each block carries its size in a
  // 64-byte header (which keeps the data 64-byte aligned, as c10's own allocator does).
  static constexpr size_t kHeader = 64;

  c10::DataPtr allocate(size_t n) const override {
    const size_t total = n + kHeader;
    void* base = nullptr;
    if (total >= kMinCached) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(total);
      if (it != free_.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
        cachedBytes_ -= total;
      }
    }
    if (base == nullptr) base = c10::alloc_cpu(total);
    liveBytes_ += total;
    *static_cast<size_t*>(base) = total;
    void* data = static_cast<char*>(base) + kHeader;
    return {data, data, &Release, at::Device(at::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

  size_t cachedBytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cachedBytes_;
  }

  // Bytes of tensor storage handed out and not yet released: what live tensors (and views' bases) hold.
  size_t liveBytes() const { return liveBytes_.load(); }

  void emptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, blocks] : free_) {
      for (void* b : blocks) c10::free_cpu(b);
      blocks.clear();
    }
    cachedBytes_ = 0;
  }

 private:
  static void Release(void* data) {
    if (data == nullptr) return;
    void* base = static_cast<char*>(data) - kHeader;
    const size_t n = *static_cast<size_t*>(base);
    g_allocator->liveBytes_ -= n;
    g_allocator->give(base, n);
  }

  void give(void* p, size_t n) {
    if (n >= kMinCached) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cachedBytes_ + n <= capBytes_) {
        free_[n].push_back(p);
        cachedBytes_ += n;
        return;
      }
    }
    c10::free_cpu(p);
  }

  mutable std::mutex mu_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable size_t cachedBytes_ = 0;
  mutable std::atomic<size_t> liveBytes_{0};
  size_t capBytes_ = size_t{2048} << 20;
};


struct TensorHolder {
  at::Tensor t;
  // g_live counts holders that still own a tensor (freed or finalized ones do not count).
  explicit TensorHolder(at::Tensor x) : t(std::move(x)) { if (t.defined()) g_live++; }
  ~TensorHolder() { if (t.defined()) g_live--; }
  void reset() {
    if (t.defined()) g_live--;
    t = at::Tensor();
  }
};

struct OpHolder {
  c10::OperatorHandle op;
  std::string name;
};

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  return Napi::External<TensorHolder>::New(env, new TensorHolder(std::move(t)),
                                           [](Napi::Env, TensorHolder* h) { delete h; });
}

TensorHolder* HolderOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) {
    throw std::invalid_argument(std::string(what) + ": expected a native tensor handle");
  }
  auto* h = v.As<Napi::External<TensorHolder>>().Data();
  if (h == nullptr || !h->t.defined()) {
    throw std::invalid_argument(std::string(what) + ": the tensor was already disposed");
  }
  return h;
}

// tfjs dtypes <-> ATen scalar types. Codes are ATen's own ScalarType numbers, exported to JS.
at::ScalarType DtypeOf(int code) { return static_cast<at::ScalarType>(code); }

std::string ShapeStr(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream s;
  s << c10::toString(t.scalar_type()) << "[";
  for (int64_t i = 0; i < t.dim(); i++) s << (i ? "," : "") << t.size(i);
  s << "]";
  return s.str();
}

std::string DescribeJs(const Napi::Value& v) {
  if (v.IsExternal()) {
    auto* h = v.As<Napi::External<TensorHolder>>().Data();
    return h && h->t.defined() ? ShapeStr(h->t) : "disposed tensor";
  }
  if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    std::string s = "[";
    for (uint32_t i = 0; i < a.Length(); i++) s += (i ? "," : "") + DescribeJs(a.Get(i));
    return s + "]";
  }
  if (v.IsNull() || v.IsUndefined()) return "None";
  if (v.IsNumber() || v.IsBoolean() || v.IsString()) return v.ToString().Utf8Value();
  return "?";
}

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& argName);

template <typename T, typename F>
std::vector<T> ToVector(const Napi::Value& v, const std::string& argName, F conv) {
  std::vector<T> out;
  if (v.IsNumber() || v.IsBoolean()) {  // a single value broadcast to an int[N]
    out.push_back(conv(v));
    return out;
  }
  if (!v.IsArray()) throw std::invalid_argument("argument '" + argName + "' must be a list");
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(conv(a.Get(i)));
  return out;
}

int64_t ToInt(const Napi::Value& v, const std::string& argName) {
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  throw std::invalid_argument("argument '" + argName + "' must be an integer");
}

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& argName) {
  using c10::TypeKind;
  switch (type->kind()) {
    case TypeKind::TensorType:
      return HolderOf(v, argName.c_str())->t;
    case TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return ToIValue(v, type->castRaw<c10::OptionalType>()->getElementType(), argName);
    case TypeKind::IntType:
    case TypeKind::SymIntType:
      return ToInt(v, argName);
    case TypeKind::FloatType:
      if (!v.IsNumber()) throw std::invalid_argument("argument '" + argName + "' must be a number");
      return v.As<Napi::Number>().DoubleValue();
    case TypeKind::BoolType:
      if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
      if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue() != 0;
      throw std::invalid_argument("argument '" + argName + "' must be a boolean");
    case TypeKind::NumberType:  // Scalar
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      if (v.IsBigInt()) return c10::Scalar(ToInt(v, argName));
      if (v.IsNumber()) return c10::Scalar(v.As<Napi::Number>().DoubleValue());
      throw std::invalid_argument("argument '" + argName + "' must be a number");
    case TypeKind::StringType:
      if (!v.IsString()) throw std::invalid_argument("argument '" + argName + "' must be a string");
      return v.As<Napi::String>().Utf8Value();
    case TypeKind::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      switch (elem->kind()) {
        case TypeKind::IntType:
        case TypeKind::SymIntType:
          return c10::IValue(ToVector<int64_t>(v, argName, [&](const Napi::Value& x) { return ToInt(x, argName); }));
        case TypeKind::FloatType:
          return c10::IValue(ToVector<double>(v, argName, [](const Napi::Value& x) {
            return x.As<Napi::Number>().DoubleValue();
          }));
        case TypeKind::BoolType: {
          c10::List<bool> l;
          for (bool b : ToVector<bool>(v, argName, [](const Napi::Value& x) { return x.ToBoolean().Value(); }))
            l.push_back(b);
          return l;
        }
        case TypeKind::TensorType: {
          c10::List<at::Tensor> l;
          if (!v.IsArray()) throw std::invalid_argument("argument '" + argName + "' must be a list of tensors");
          auto a = v.As<Napi::Array>();
          for (uint32_t i = 0; i < a.Length(); i++) l.push_back(HolderOf(a.Get(i), argName.c_str())->t);
          return l;
        }
        case TypeKind::OptionalType: {
          c10::List<c10::optional<at::Tensor>> l;
          if (!v.IsArray()) throw std::invalid_argument("argument '" + argName + "' must be a list of tensors");
          auto a = v.As<Napi::Array>();
          for (uint32_t i = 0; i < a.Length(); i++) {
            Napi::Value x = a.Get(i);
            if (x.IsNull() || x.IsUndefined()) l.push_back(c10::nullopt);
            else l.push_back(HolderOf(x, argName.c_str())->t);
          }
          return l;
        }
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  if (v.IsNull() || v.IsUndefined()) return c10::IValue();
  throw std::invalid_argument("argument '" + argName + "' has an unsupported type " + type->str());
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isTensorList()) {
    auto l = v.toTensorList();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(static_cast<uint32_t>(i), Wrap(env, l.get(i)));
    return a;
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isNone()) return env.Null();
  if (v.isIntList()) {
    auto l = v.toIntVector();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, double(l[i])));
    return a;
  }
  if (v.isTuple()) {
    auto& el = v.toTupleRef().elements();
    auto a = Napi::Array::New(env, el.size());
    for (size_t i = 0; i < el.size(); i++) a.Set(static_cast<uint32_t>(i), FromIValue(env, el[i]));
    return a;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw std::runtime_error("unsupported return type " + v.tagKind());
}

// ---- exported functions ----------------------------------------------------------------------------------

// fromArray(typedArray, shape: number[], dtypeCode) -> handle (copies the data)
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw std::invalid_argument("fromArray: expected a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = ToVector<int64_t>(info[1], "shape", [](const Napi::Value& x) { return ToInt(x, "shape"); });
  auto dtype = DtypeOf(info[2].As<Napi::Number>().Int32Value());
  c10::InferenceMode guard;
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t bytes = static_cast<size_t>(numel) * t.element_size();
  if (ta.ByteLength() != bytes) {
    std::ostringstream s;
    s << "fromArray: " << ta.ByteLength() << " bytes of data do not fill a tensor of " << ShapeStr(t) << " ("
      << bytes << " bytes)";
    throw std::invalid_argument(s.str());
  }
  if (bytes) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), bytes);
  return Wrap(env, t);
}

// toArray(handle) -> a new typed array holding a row-major copy
Napi::Value ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c10::InferenceMode guard;
  at::Tensor t = HolderOf(info[0], "toArray")->t.contiguous();
  size_t n = static_cast<size_t>(t.numel());
  auto copy = [&](auto arr, size_t bytes) {
    if (bytes) std::memcpy(arr.Data(), t.data_ptr(), bytes);
    return arr;
  };
  switch (t.scalar_type()) {
    case at::kFloat:
      return copy(Napi::Float32Array::New(env, n), n * 4);
    case at::kInt:
      return copy(Napi::Int32Array::New(env, n), n * 4);
    case at::kBool:
    case at::kByte:
      return copy(Napi::Uint8Array::New(env, n), n);
    case at::kComplexFloat:
      return copy(Napi::Float32Array::New(env, n * 2), n * 8);
    case at::kBFloat16:  // a float32 tensor stored in bfloat16 (an inference activation)
    case at::kDouble: {
      at::Tensor f = t.to(at::kFloat);
      auto arr = Napi::Float32Array::New(env, n);
      if (n) std::memcpy(arr.Data(), f.data_ptr(), n * 4);
      return arr;
    }
    case at::kLong: {
      at::Tensor f = t.to(at::kInt);
      auto arr = Napi::Int32Array::New(env, n);
      if (n) std::memcpy(arr.Data(), f.data_ptr(), n * 4);
      return arr;
    }
    default:
      throw std::invalid_argument("toArray: cannot read a tensor of " + ShapeStr(t));
  }
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) {
    auto* h = info[0].As<Napi::External<TensorHolder>>().Data();
    if (h) h->reset();
  }
  return info.Env().Undefined();
}

// finish(handle, dtypeCode) -> shape: makes the handle's tensor row-major contiguous and of the given dtype (in the
// handle itself), as the backend stores every tensor; the shape is returned for the tfjs side.
Napi::Value Finish(const Napi::CallbackInfo& info) {
  TensorHolder* h = HolderOf(info[0], "finish");
  auto dtype = DtypeOf(info[1].As<Napi::Number>().Int32Value());
  {
    c10::InferenceMode guard;
    if (h->t.scalar_type() != dtype) {
      if (h->t.is_complex() && !at::isComplexType(dtype)) h->t = at::real(h->t);
      h->t = h->t.to(dtype);
    }
    if (!h->t.is_contiguous()) h->t = h->t.contiguous();
  }
  const at::Tensor& t = h->t;
  auto a = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), double(t.size(i))));
  return a;
}

// view(handle, shape) -> a new handle on the same data with another shape (row-major)
Napi::Value View(const Napi::CallbackInfo& info) {
  TensorHolder* h = HolderOf(info[0], "view");
  auto shape = ToVector<int64_t>(info[1], "shape", [](const Napi::Value& x) { return ToInt(x, "shape"); });
  c10::InferenceMode guard;
  return Wrap(info.Env(), h->t.reshape(shape));
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = HolderOf(info[0], "shape")->t;
  auto a = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), double(t.size(i))));
  return a;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(HolderOf(info[0], "dtype")->t.scalar_type()));
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  std::ostringstream s;
  const at::Tensor& t = HolderOf(info[0], "describe")->t;
  s << ShapeStr(t) << " strides [";
  for (int64_t i = 0; i < t.dim(); i++) s << (i ? "," : "") << t.stride(i);
  s << "] contiguous=" << t.is_contiguous()
    << " channels_last=" << (t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast));
  return Napi::String::New(info.Env(), s.str());
}

// op(name, overload) -> operator handle
Napi::Value Op(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle.has_value()) {
    throw std::invalid_argument("no ATen operator " + name + (overload.empty() ? "" : "." + overload) +
                                " in this libtorch");
  }
  return Napi::External<OpHolder>::New(info.Env(), new OpHolder{*handle, name + (overload.empty() ? "" : "." + overload)},
                                       [](Napi::Env, OpHolder* h) { delete h; });
}

Napi::Value Schema(const Napi::CallbackInfo& info) {
  auto* op = info[0].As<Napi::External<OpHolder>>().Data();
  std::ostringstream s;
  s << op->op.schema();
  return Napi::String::New(info.Env(), s.str());
}

// call(op, ...args) -> value | value[]  (one value per schema return)
Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw std::invalid_argument("call: expected an operator handle");
  auto* op = info[0].As<Napi::External<OpHolder>>().Data();
  const auto& schema = op->op.schema();
  const auto& args = schema.arguments();
  size_t given = info.Length() - 1;
  try {
    if (given > args.size()) {
      throw std::invalid_argument("takes " + std::to_string(args.size()) + " arguments, got " +
                                  std::to_string(given));
    }
    c10::InferenceMode guard;
    torch::jit::Stack stack;
    stack.reserve(args.size());
    for (size_t i = 0; i < args.size(); i++) {
      if (i < given && !info[i + 1].IsUndefined()) {
        stack.emplace_back(ToIValue(info[i + 1], args[i].type(), args[i].name()));
      } else if (args[i].default_value().has_value()) {
        stack.emplace_back(*args[i].default_value());
      } else if (args[i].type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back(c10::IValue());
      } else {
        throw std::invalid_argument("missing argument '" + args[i].name() + "'");
      }
    }
    op->op.callBoxed(&stack);
    if (stack.size() == 1) return FromIValue(env, stack[0]);
    auto out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); i++) out.Set(static_cast<uint32_t>(i), FromIValue(env, stack[i]));
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what;
    if (auto* ce = dynamic_cast<const c10::Error*>(&e)) what = ce->what_without_backtrace();
    else what = e.what();
    // Keep the first line of libtorch's message (the rest is often a long C++ context).
    std::ostringstream s;
    s << "aten::" << op->name.substr(op->name.find("::") == std::string::npos ? 0 : op->name.find("::") + 2)
      << " failed on (";
    for (size_t i = 1; i < info.Length(); i++) s << (i > 1 ? ", " : "") << DescribeJs(info[i]);
    s << "): " << what;
    throw Napi::Error::New(env, s.str());
  }
}

// Branch-free selects over restrict pointers, so that the loop vectorises: ReLU inputs are positive about half the
// time, at random, which defeats a branch predictor.
static void stepLoop(const float* __restrict src, float* __restrict dst, int64_t n, const float alpha) {
  for (int64_t i = 0; i < n; i++) {
    const float v = src[i];
    const float s = v > 0 ? 1.0f : alpha;
    dst[i] = v != v ? v : s;
  }
}

// tfjs's Step (x > 0 ? 1 : alpha; NaN stays NaN) in one pass over float32. As ATen ops it takes six (isnan, gt,
// two fills, two wheres): a tenth of a U-Net training step, since ReLU's gradient is dy * step(x).
Napi::Value Step(const Napi::CallbackInfo& info) {
  const at::Tensor& in = HolderOf(info[0], "step")->t;
  if (!info[1].IsNumber()) throw std::invalid_argument("argument 'alpha' must be a number");
  const float alpha = static_cast<float>(info[1].As<Napi::Number>().DoubleValue());
  if (in.scalar_type() != at::kFloat) throw std::invalid_argument("step: expected a float32 tensor, got " + ShapeStr(in));
  c10::InferenceMode guard;
  at::Tensor x = in.contiguous();
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  const float* src = x.data_ptr<float>();
  float* dst = y.data_ptr<float>();
  at::parallel_for(0, x.numel(), 1 << 15, [=](int64_t begin, int64_t end) { stepLoop(src + begin, dst + begin, end - begin, alpha); });
  return Wrap(info.Env(), y);
}

static void adamLoop(const float* __restrict pv, const float* __restrict pm, const float* __restrict ps, const float* __restrict pg,
                     float* __restrict qv, float* __restrict qm, float* __restrict qs, int64_t n, const float negLr, const float b1,
                     const float omb1, const float b2, const float omb2, const float eps, const float c1, const float c2) {
  for (int64_t i = 0; i < n; i++) {
    const float gi = pg[i];
    const float mi = pm[i] * b1 + gi * omb1;
    const float si = ps[i] * b2 + (gi * gi) * omb2;
    qm[i] = mi;
    qs[i] = si;
    qv[i] = ((mi / c1) / (std::sqrt(si / c2) + eps)) * negLr + pv[i];
  }
}

// tfjs's Adam update of one variable (AdamOptimizer.applyGradients) in one pass: the same float32 operations in the
// same order, so the result equals tfjs's own to the bit, where tfjs runs a dozen kernels and as many passes over
// memory. Arguments: value, m, v, gradient, 1 - beta1^t and 1 - beta2^t (scalar tensors), then learning rate, beta1,
// beta2 and epsilon as numbers. Returns [value', m', v'].
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const at::Tensor* in[6];
  const char* names[6] = {"value", "m", "v", "gradient", "oneMinusAccBeta1", "oneMinusAccBeta2"};
  for (int k = 0; k < 6; k++) {
    in[k] = &HolderOf(info[k], "adamStep")->t;
    if (in[k]->scalar_type() != at::kFloat) throw std::invalid_argument(std::string("adamStep: ") + names[k] + " must be float32, got " + ShapeStr(*in[k]));
    if (k < 4 && in[k]->numel() != in[0]->numel()) throw std::invalid_argument(std::string("adamStep: ") + names[k] + " is " + ShapeStr(*in[k]) + " but the value is " + ShapeStr(*in[0]));
  }
  double num[4];
  for (int k = 0; k < 4; k++) {
    if (!info[6 + k].IsNumber()) throw std::invalid_argument("adamStep: learning rate, beta1, beta2 and epsilon must be numbers");
    num[k] = info[6 + k].As<Napi::Number>().DoubleValue();
  }
  // tfjs turns each JS number into a float32 scalar: 1 - beta is computed in double first, -lr negated first.
  const float negLr = static_cast<float>(-num[0]), b1 = static_cast<float>(num[1]), omb1 = static_cast<float>(1 - num[1]);
  const float b2 = static_cast<float>(num[2]), omb2 = static_cast<float>(1 - num[2]), eps = static_cast<float>(num[3]);
  c10::InferenceMode guard;
  const float c1 = in[4]->item<float>(), c2 = in[5]->item<float>();
  at::Tensor value = in[0]->contiguous(), m = in[1]->contiguous(), v = in[2]->contiguous(), g = in[3]->contiguous();
  at::Tensor nValue = at::empty_like(value, at::MemoryFormat::Contiguous);
  at::Tensor nM = at::empty_like(m, at::MemoryFormat::Contiguous), nV = at::empty_like(v, at::MemoryFormat::Contiguous);
  const float *pv = value.data_ptr<float>(), *pm = m.data_ptr<float>(), *ps = v.data_ptr<float>(), *pg = g.data_ptr<float>();
  float *qv = nValue.data_ptr<float>(), *qm = nM.data_ptr<float>(), *qs = nV.data_ptr<float>();
  at::parallel_for(0, value.numel(), 1 << 14, [=](int64_t begin, int64_t end) {
    // Copies and restrict pointers: the stores cannot alias the constants or the inputs, so the loop vectorises.
    adamLoop(pv + begin, pm + begin, ps + begin, pg + begin, qv + begin, qm + begin, qs + begin, end - begin, negLr, b1, omb1, b2, omb2, eps, c1, c2);
  });
  auto out = Napi::Array::New(info.Env(), 3);
  out.Set(0u, Wrap(info.Env(), nValue));
  out.Set(1u, Wrap(info.Env(), nM));
  out.Set(2u, Wrap(info.Env(), nV));
  return out;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw std::invalid_argument("setNumThreads: need at least 1 thread");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_live.load()));
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torchVersion", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                             std::to_string(TORCH_VERSION_PATCH));
  o.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
  o.Set("parallel", at::get_parallel_info());
  return o;
}

// Wrap every exported function so that C++ exceptions become JS Errors.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value CacheInfo(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_allocator ? g_allocator->cachedBytes() : 0));
}

Napi::Value LiveBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_allocator ? g_allocator->liveBytes() : 0));
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  if (g_allocator) g_allocator->emptyCache();
  return info.Env().Undefined();
}

// mallocInfo() -> glibc's mallinfo2 in bytes (in use, free inside the heap, heap from sbrk, mmapped), to tell a
// leak (in use grows) from fragmentation (free grows) in the memory benchmark; {} on other C libraries.
Napi::Value MallocInfo(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  o.Set("inUse", static_cast<double>(m.uordblks + m.hblkhd));
  o.Set("free", static_cast<double>(m.fordblks));
  o.Set("heap", static_cast<double>(m.arena));
  o.Set("mmapped", static_cast<double>(m.hblkhd));
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (g_allocator == nullptr && std::getenv("STS_TORCH_NO_CACHE") == nullptr) {
    g_allocator = new CachingCpuAllocator();
    // Priority above the default allocator's registration (0), so ATen's own allocations use it too.
    c10::SetCPUAllocator(g_allocator, /*priority=*/100);
  }
  exports.Set("cachedBytes", Napi::Function::New(env, Guarded<CacheInfo>, "cachedBytes"));
  exports.Set("liveBytes", Napi::Function::New(env, Guarded<LiveBytes>, "liveBytes"));
  exports.Set("mallocInfo", Napi::Function::New(env, Guarded<MallocInfo>, "mallocInfo"));
  exports.Set("emptyCache", Napi::Function::New(env, Guarded<EmptyCache>, "emptyCache"));
  exports.Set("fromArray", Napi::Function::New(env, Guarded<FromArray>, "fromArray"));
  exports.Set("toArray", Napi::Function::New(env, Guarded<ToArray>, "toArray"));
  exports.Set("free", Napi::Function::New(env, Guarded<Free>, "free"));
  exports.Set("finish", Napi::Function::New(env, Guarded<Finish>, "finish"));
  exports.Set("view", Napi::Function::New(env, Guarded<View>, "view"));
  exports.Set("shape", Napi::Function::New(env, Guarded<Shape>, "shape"));
  exports.Set("dtype", Napi::Function::New(env, Guarded<Dtype>, "dtype"));
  exports.Set("describe", Napi::Function::New(env, Guarded<Describe>, "describe"));
  exports.Set("op", Napi::Function::New(env, Guarded<Op>, "op"));
  exports.Set("schema", Napi::Function::New(env, Guarded<Schema>, "schema"));
  exports.Set("call", Napi::Function::New(env, Guarded<Call>, "call"));
  exports.Set("step", Napi::Function::New(env, Guarded<Step>, "step"));
  exports.Set("adamStep", Napi::Function::New(env, Guarded<AdamStep>, "adamStep"));
  exports.Set("setNumThreads", Napi::Function::New(env, Guarded<SetNumThreads>, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, Guarded<GetNumThreads>, "getNumThreads"));
  exports.Set("liveTensors", Napi::Function::New(env, Guarded<LiveTensors>, "liveTensors"));
  exports.Set("info", Napi::Function::New(env, Guarded<Info>, "info"));
  auto codes = Napi::Object::New(env);
  codes.Set("float32", static_cast<int>(at::kFloat));
  codes.Set("int32", static_cast<int>(at::kInt));
  codes.Set("bool", static_cast<int>(at::kBool));
  codes.Set("complex64", static_cast<int>(at::kComplexFloat));
  codes.Set("int64", static_cast<int>(at::kLong));
  codes.Set("uint8", static_cast<int>(at::kByte));
  codes.Set("float64", static_cast<int>(at::kDouble));
  codes.Set("bfloat16", static_cast<int>(at::kBFloat16));
  exports.Set("dtypes", codes);
  return exports;
}

}  // namespace

NODE_API_MODULE(sts_torch, Init)
