// Test tool: prints what crcr's YAML loader makes of a file, as the JSON that Python's
// json.dumps(yaml.safe_load(file), default=str) prints, or "ERROR <rule>" when it rejects the
// file. tests/e2e/yaml_differential.py compares the two on a corpus.
#include "crcr/files.hpp"
#include "crcr/yaml.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>

namespace {

using crcr::yaml::Kind;
using crcr::yaml::Node;

std::string json_key(Node key) {
    switch (key.kind()) {
    case Kind::boolean:
        return crcr::yaml::python_str(key) == "True" ? "true" : "false";
    case Kind::null:
        return "null";
    default:
        return crcr::yaml::python_str(key);
    }
}

nlohmann::json to_json(Node node) {
    switch (node.kind()) {
    case Kind::null:
        return nullptr;
    case Kind::boolean:
        return crcr::yaml::python_str(node) == "True";
    case Kind::integer: {
        const std::string digits = crcr::yaml::python_str(node);
        return nlohmann::json::parse(digits);
    }
    case Kind::floating: { // PyYAML's construct_yaml_float, sexagesimal included
        std::string text(node.text());
        std::erase(text, '_');
        const double sign = text.starts_with('-') ? -1.0 : 1.0;
        if (text.starts_with('-') || text.starts_with('+')) {
            text.erase(0, 1);
        }
        double value = 0;
        std::size_t start = 0;
        for (std::size_t colon = text.find(':'); colon != std::string::npos;
             colon = text.find(':', start)) {
            value = (value + std::stod(text.substr(start, colon - start))) * 60;
            start = colon + 1;
        }
        return sign * (value + std::stod(text.substr(start)));
    }
    case Kind::sequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const Node item : node.items()) {
            out.push_back(to_json(item));
        }
        return out;
    }
    case Kind::mapping: {
        nlohmann::json out = nlohmann::json::object();
        for (const crcr::yaml::Entry entry : node.entries()) {
            out[json_key(entry.key)] = to_json(entry.value);
        }
        return out;
    }
    default:
        return std::string(node.text());
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        fmt::print(stderr, "usage: yaml_dump FILE\n");
        return 2;
    }
    const crcr::yaml::Document doc = crcr::yaml::load(crcr::read_file(argv[1]));
    if (!doc.errors.empty()) {
        fmt::print("ERROR {}\n", doc.errors.front().rule);
        return 0;
    }
    fmt::print("{}\n", doc.root ? to_json(doc.root).dump() : "null");
    return 0;
}
