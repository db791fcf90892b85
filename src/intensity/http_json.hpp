// A GET whose answer must be a JSON object, with the one-line reason every provider gives when it
// is not (transport error, HTTP status, not JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "intensity/http.hpp"

namespace epochwatt::detail {

std::optional<nlohmann::json> get_json_object(HttpClient& http, const HttpRequest& request, std::string* why);

}  // namespace epochwatt::detail
