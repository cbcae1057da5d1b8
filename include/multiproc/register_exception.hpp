// multiproc/register_exception.hpp — Pool task exceptions that keep their type.
//
// By default an exception that escapes a Pool task reaches the parent as a
// RemoteError (its type name, what(), the worker's PID and the item's index);
// `e.is<T>()` tells its type without any registration. Register a type and
// the parent throws the type itself, with its fields:
//
//   struct ParseError : std::runtime_error {
//     using std::runtime_error::runtime_error;  // ParseError(std::string message)
//     ParseError() : std::runtime_error("") {}
//     int line = 0;
//     template <class A> void serialize(A& ar) { ar(line); }  // its fields; not what()
//   };
//   const bool registered = mp::register_exception<ParseError>();
//   ...
//   try { pool.map(parse, files); } catch (const ParseError& e) { e.line; e.what(); }
//
// What T needs: a class derived from std::exception, copy-constructible, and
// either a constructor from its message (std::string: what() in the parent is
// then the child's) or a default constructor. Fields beyond the message cross
// through T's cereal serialize (or save/load) function; a type without one
// crosses as its message alone.
//
// Registration belongs to the program, like the trampolines of tasks: the
// call anywhere in the program registers T in every process of it from
// start-up, so spawned children and the forkserver's know T whatever the
// start method and wherever the call is. The call returns true; it throws
// nothing (false only if more than 256 types are registered: then T stays a
// RemoteError).
//
// The match is on the thrown object's exact type: register each type you
// throw (a type derived from a registered one is not that one). A registered
// exception has no item(): catch RemoteError (do not register the type) when
// the index of the failing item matters. Fields that do not decode in the
// parent give the RemoteError instead. Thread-safe.
#pragma once

#include <concepts>
#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <typeinfo>
#include <utility>

#include "multiproc/detail/archive.hpp"
#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"

namespace multiproc {

namespace detail {

// How one registered type crosses: its fields written in the worker, the
// exception rebuilt in the parent.
struct ExceptionCodec {
  const std::type_info* type = nullptr;
  // The fields of the exception being handled (of type `type` exactly).
  void (*save)(std::string& out) = nullptr;
  // The exception rebuilt from its message and fields; throws DecodeError.
  std::exception_ptr (*load)(const std::string& message,
                             std::span<const std::byte> fields) = nullptr;
};

// Adds `codec` to the program's table (lock-free: it runs in static
// initialisers). False if the table is full.
bool add_exception_codec(const ExceptionCodec& codec) noexcept;

template <class T>
struct ExceptionCodecOf {
  static constexpr bool has_fields = CerealSerializable<T>;

  static void save(std::string& out) {
    if constexpr (has_fields) {
      try {
        throw;
      } catch (const T& e) {
        OutArchive archive(out);
        archive(e);
      }
    }
  }

  static std::exception_ptr load(const std::string& message, std::span<const std::byte> fields) {
    T value = make(message);
    if constexpr (has_fields) {
      try {
        InArchive archive(fields);
        archive(value);
        if (archive.remaining() != 0) {
          throw DecodeError("multiproc: registered exception with bytes left over");
        }
      } catch (const cereal::Exception& e) {
        throw DecodeError(std::string("multiproc: cannot decode a registered exception: ") +
                          e.what());
      }
    } else if (!fields.empty()) {
      throw DecodeError("multiproc: fields for a registered exception that has none");
    }
    return std::make_exception_ptr(std::move(value));
  }

  static T make(const std::string& message) {
    if constexpr (std::constructible_from<T, std::string>) {
      return T(message);
    } else {
      return T();
    }
  }

  // Once per program; from start-up (through `at_start_up`, instantiated by
  // register_exception<T>) or from the first call, whichever comes first:
  // static initialisers in different files run in no fixed order.
  static bool ensure() {
    static const bool added = add_exception_codec({&typeid(T), &save, &load});
    return added;
  }
  static inline const bool at_start_up = ensure();
};

}  // namespace detail

// Registers T so that a Pool task that throws T makes get(), map and the
// other calls throw T itself in the parent, with its fields. See the top of
// this header for what T needs and when registration takes effect.
template <class T>
bool register_exception() {
  static_assert(std::is_class_v<T> && std::derived_from<T, std::exception>,
                "multiproc: register_exception<T>: T must be a class derived from "
                "std::exception (a task's other throws stay RemoteError)");
  static_assert(std::copy_constructible<T>,
                "multiproc: register_exception<T>: T must be copy-constructible to be thrown "
                "again in the parent");
  static_assert(std::constructible_from<T, std::string> || std::default_initializable<T>,
                "multiproc: register_exception<T>: give T a constructor from its message "
                "(std::string) or a default constructor, so the parent can rebuild it");
  (void)detail::ExceptionCodecOf<T>::at_start_up;
  return detail::ExceptionCodecOf<T>::ensure();
}

}  // namespace multiproc
