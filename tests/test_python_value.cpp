#include "crcr/python_value.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

// Every expected value below is what Python 3.11 prints for the same input.

using crcr::Json;

TEST_CASE("python_int: int() of strings as Python reads them") {
    struct Row {
        std::string text;
        std::string value;       // the integer, or ""
        std::string value_error; // or the ValueError
    };
    const std::vector<Row> rows = {
        {" 91_17 ", "9117", ""},
        {"91_17", "9117", ""},
        {"+5", "5", ""},
        {"-0", "0", ""},
        {"-0_0", "0", ""},
        {"00012", "12", ""},
        {"-42", "-42", ""},
        {"\v12\f", "12", ""},
        {"\u0661\u0662", "12", ""},   // Arabic-Indic digits
        {"\uff11\uff12", "12", ""},   // fullwidth digits
        {"\u00a012\u3000", "12", ""}, // Unicode spaces around
        {"99999999999999999999999", "99999999999999999999999", ""},
        {"1__2", "", "invalid literal for int() with base 10: '1__2'"},
        {"_1", "", "invalid literal for int() with base 10: '_1'"},
        {"1_", "", "invalid literal for int() with base 10: '1_'"},
        {"--1", "", "invalid literal for int() with base 10: '--1'"},
        {"0x10", "", "invalid literal for int() with base 10: '0x10'"},
        {"1.5", "", "invalid literal for int() with base 10: '1.5'"},
        {"1 2", "", "invalid literal for int() with base 10: '1 2'"},
        {"", "", "invalid literal for int() with base 10: ''"},
        {" ", "", "invalid literal for int() with base 10: ' '"},
        {"+", "", "invalid literal for int() with base 10: '+'"},
        {"\x1c"
         "12",
         "",
         "invalid literal for int() with base 10: '\\x1c12'"}, // str.isspace(), but not int()'s
        {"12\u00e9", "", "invalid literal for int() with base 10: '12\u00e9'"},
        {"it's", "", "invalid literal for int() with base 10: \"it's\""},
        {std::string(4301, '9'),
         "",
         "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; "
         "use sys.set_int_max_str_digits() to increase the limit"},
        {std::string(300, 'a'),
         "",
         "invalid literal for int() with base 10: '" + std::string(199, 'a')}, // "%.200R"
    };
    for (const Row& row : rows) {
        CAPTURE(row.text);
        const crcr::PythonInt result = crcr::python_int(Json(row.text));
        CHECK(result.value.value_or("") == row.value);
        CHECK(result.value_error == row.value_error);
        CHECK(result.type_error.empty());
    }
    CHECK(crcr::python_int(Json(std::string(4300, '9'))).value == std::string(4300, '9'));
}

TEST_CASE("python_int: int() of other JSON values") {
    struct Row {
        Json value;
        std::string expected; // the integer or the TypeError
    };
    const std::vector<Row> rows = {
        {42, "42"},
        {-7, "-7"},
        {Json(18446744073709551615ULL), "18446744073709551615"},
        {true, "1"},
        {false, "0"},
        {2.5, "2"},
        {-2.5, "-2"},
        {-0.0, "0"},
        {1e22, "10000000000000000000000"},
        {1e300,
         "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371"
         "3750804478640437044438328838781769425232353604305756447921847867069828483872009265758037"
         "3783023379478809005936895323497079994508111903896764088007465274278014249457925878882005"
         "6842838115669472196386865459400540160"},
        {nullptr,
         "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
        {Json::array(),
         "int() argument must be a string, a bytes-like object or a real number, not 'list'"},
        {Json::object(),
         "int() argument must be a string, a bytes-like object or a real number, not 'dict'"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.value.dump());
        const crcr::PythonInt result = crcr::python_int(row.value);
        CHECK((result.value ? *result.value : result.type_error) == row.expected);
        CHECK(result.value_error.empty());
    }
}

TEST_CASE("python_repr and python_str: the text of the relay's messages and keys") {
    struct Row {
        Json value;
        std::string repr;
    };
    const std::vector<Row> rows = {
        {nullptr, "None"},
        {true, "True"},
        {12, "12"},
        {1.0, "1.0"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {1e-4, "0.0001"},
        {1e-5, "1e-05"},
        {1.5e-7, "1.5e-07"},
        {123456789.125, "123456789.125"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {1.23e-18, "1.23e-18"},
        {"queued", "'queued'"},
        {"a'b", "\"a'b\""},
        {"a\"b", "'a\"b'"},
        {"a'\"b", "'a\\'\"b'"},
        {"\t\n\r\x01\x7f\\", "'\\t\\n\\r\\x01\\x7f\\\\'"},
        {"\u0085\u00a0\u200b\u2028\u00e9\U0001F600", "'\\x85\\xa0\\u200b\\u2028\u00e9\U0001F600'"},
        {Json::parse(R"([1, "a", null, true, {"k": 1.0, "a": []}])"),
         "[1, 'a', None, True, {'k': 1.0, 'a': []}]"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.value.dump());
        CHECK(crcr::python_repr(row.value) == row.repr);
        CHECK(crcr::python_str(row.value)
              == (row.value.is_string() ? row.value.get<std::string>() : row.repr));
    }
}

TEST_CASE("python_falsy and python_subscript_error") {
    for (const Json& value : {Json(nullptr),
                              Json(false),
                              Json(0),
                              Json(0.0),
                              Json(""),
                              Json::array(),
                              Json::object()}) {
        CAPTURE(value.dump());
        CHECK(crcr::python_falsy(value));
    }
    for (const Json& value :
         {Json(true), Json(1), Json(0.5), Json("0"), Json::array({0}), Json{{"a", nullptr}}}) {
        CAPTURE(value.dump());
        CHECK_FALSE(crcr::python_falsy(value));
    }
    CHECK(crcr::python_subscript_error(Json("x")) == "string indices must be integers, not 'str'");
    CHECK(crcr::python_subscript_error(Json::array())
          == "list indices must be integers or slices, not str");
    CHECK(crcr::python_subscript_error(Json(1)) == "'int' object is not subscriptable");
    CHECK(crcr::python_subscript_error(Json(nullptr)) == "'NoneType' object is not subscriptable");
}
