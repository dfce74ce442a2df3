#pragma once

// What the relay's Python makes of a JSON value, for the emulator to answer as it does: the
// text of repr() and str() (which its messages and Redis keys print), truthiness, int() with its
// errors, and the TypeError of a subscript. Python 3.11's rules (Unicode 14 digits and spaces).
// Pure: no I/O.

#include "crcr/payload.hpp"

#include <optional>
#include <string>

namespace crcr {

// repr(value): 'text' (quoted and escaped as Python does), None, True, 1.5, 1e+16, [1, 'a'],
// {'k': 1}.
std::string python_repr(const Json& value);

// str(value), as an f-string prints it: a string as it is, anything else as repr().
std::string python_str(const Json& value);

// Python's type name: NoneType, dict, list, str, bool, int, float.
std::string python_type(const Json& value);

// Whether Python takes the value as false: None, False, 0, 0.0, "", [], {}.
bool python_falsy(const Json& value);

// The outcome of int(value): the integer in decimal (any size, no leading zeros), or the
// TypeError (a value that is not a string or a number) or the ValueError (a string that is not
// an integer literal, or one of more than 4300 digits) Python raises, with its message.
struct PythonInt {
    std::optional<std::string> value;
    std::string type_error;
    std::string value_error;
};
PythonInt python_int(const Json& value);

// The TypeError of `value["key"]` for a value that is not a dict ("string indices must be
// integers, not 'str'", "'int' object is not subscriptable", ...).
std::string python_subscript_error(const Json& value);

} // namespace crcr
